"""Export a trained model for use outside Python: TorchScript and ONNX.

Both exports take beats ``(batch, 187)`` float32 (any batch size) and return class
probabilities ``(batch, k)`` float32 (the softmax is part of the graph), input named
``beats``, output ``probabilities``. A JSON file beside them (also stored inside both:
TorchScript extra file ``meta.json``, ONNX metadata ``ecgnet``) names the classes and
the beats the model expects.

* TorchScript: ``torch.jit.trace`` (deprecated in recent PyTorch, still the way to a
  file that C++/Java load with libtorch).
* ONNX: ``torch.onnx.export`` with the torch.export-based exporter (needs onnxscript),
  else the legacy TorchScript-based one; opset 18; checked with onnxruntime when it
  is installed (``pip install 'ecg-toolkit[export]'``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from torch import nn

from ecgseg.atomic import atomic_path, refuse_existing
from ecgseg.errors import InputError
from ecgseg.oserrors import writing
from ecgseg.labels import BEAT_SAMPLES
from ecgseg.rhythm import RR_FEATURES

from .data import RECORD_FEATURES
from .models import input_columns, median_columns, record_columns, rr_columns

OPSET = 18


class ProbabilityModel(nn.Module):
    """``(batch, 187 [+ r])`` inputs -> ``(batch, k)`` probabilities around a trained model.

    ``r`` is the model's number of RR features (``rhythm_features``, 0 for most models).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.rhythm_features = input_columns(model) - BEAT_SAMPLES  # RR + record columns

    def forward(self, beats: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.softmax(self.model(beats.unsqueeze(1)), dim=1)


@dataclass
class ExportResult:
    """Files written by :func:`export_model` and the check of each against PyTorch."""

    torchscript: Optional[Path] = None
    onnx: Optional[Path] = None
    meta: Optional[Path] = None
    max_abs_diff: dict = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def lines(self) -> List[str]:
        """Human summary."""
        out = []
        for kind, path in (("TorchScript", self.torchscript), ("ONNX", self.onnx)):
            if path is not None:
                diff = self.max_abs_diff.get(kind)
                out.append(f"{kind}: {path}" + (f" (largest probability difference vs "
                                                f"PyTorch on 256 beats: {diff:.1e})"
                                                if diff is not None else ""))
        if self.meta is not None:
            out.append(f"classes and input spec: {self.meta}")
        out += self.notes
        return out


def onnxruntime_missing() -> Optional[str]:
    """Why ONNX export cannot run here, or None when onnx and onnxruntime import."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return (f"ONNX skipped: {exc.name or exc} is not installed "
                "(pip install 'ecg-toolkit[export]')")
    return None


@contextlib.contextmanager
def _quiet():
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def check_beats(rng_seed: int = 0, n: int = 256, n_rr: int = 0) -> np.ndarray:
    """Beat-like test input: ``(n, 187 + n_rr)`` float32.

    The 187 beat samples are in [0, 1] with zero-padded tails; the ``n_rr`` RR features
    are plausible intervals (s) and ratios, uniform in [0.5, 1.5].
    """
    rng = np.random.default_rng(rng_seed)
    x = rng.random((n, BEAT_SAMPLES), dtype=np.float32)
    cut = rng.integers(60, BEAT_SAMPLES, size=n)
    x[np.arange(BEAT_SAMPLES)[None, :] >= cut[:, None]] = 0
    if n_rr:
        rr = rng.uniform(0.5, 1.5, (n, n_rr)).astype(np.float32)
        x = np.ascontiguousarray(np.concatenate([x, rr], axis=1))
    return x


def export_torchscript(wrapper: nn.Module, path: Path, meta_json: str) -> Path:
    """Trace ``wrapper`` and save it (atomically) with ``meta.json`` inside.

    The file is made in memory and written by Python: PyTorch's own file writer aborts
    the process (C++ ``abort``) on a full disk, where this raises
    :class:`~ecgseg.oserrors.DiskFullError`.
    """
    with _quiet():
        example = torch.from_numpy(check_beats(1, 8, wrapper.rhythm_features))
        traced = torch.jit.trace(wrapper, example)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={"meta.json": meta_json})
    with writing(path), atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return path


def export_onnx(wrapper: nn.Module, path: Path, meta_json: str) -> Path:
    """Export ``wrapper`` to ONNX with a dynamic batch axis (atomically)."""
    import onnx

    example = (torch.from_numpy(check_beats(1, 8, wrapper.rhythm_features)),)
    with _quiet(), writing(path), atomic_path(path) as tmp:
        try:
            import onnxscript  # noqa: F401
            program = torch.onnx.export(
                wrapper, example, dynamo=True, verbose=False, opset_version=OPSET,
                input_names=["beats"], output_names=["probabilities"],
                dynamic_shapes={"beats": {0: torch.export.Dim("batch")}})
            program.save(str(tmp))
        except ImportError:
            torch.onnx.export(
                wrapper, example, str(tmp), dynamo=False, opset_version=OPSET,
                input_names=["beats"], output_names=["probabilities"],
                dynamic_axes={"beats": {0: "batch"}, "probabilities": {0: "batch"}})
        proto = onnx.load(str(tmp))
        entry = proto.metadata_props.add()
        entry.key, entry.value = "ecgnet", meta_json
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return path


def onnx_proba(path: str | os.PathLike, beats: np.ndarray) -> np.ndarray:
    """Probabilities from an exported ONNX file, with onnxruntime on the CPU."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"beats": np.asarray(beats, np.float32)})[0]


def torchscript_proba(path: str | os.PathLike, beats: np.ndarray) -> np.ndarray:
    """Probabilities from an exported TorchScript file."""
    with _quiet():
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        return module(torch.from_numpy(np.asarray(beats, np.float32))).numpy()


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike | None = None, *,
                 onnx: bool = True, overwrite: bool = False) -> ExportResult:
    """Write ``<out>.ts.pt`` (TorchScript), ``<out>.onnx`` and ``<out>.json``.

    Parameters
    ----------
    checkpoint : path
        ``best.pt``/``last.pt`` of ``ecg train``.
    out : path, optional
        Prefix of the files (default: the checkpoint's path without ``.pt``).
    onnx : bool
        Also write ONNX (skipped with a note when onnx/onnxruntime are not installed).
    overwrite : bool
        Replace existing files.

    Returns
    -------
    ExportResult
        Each export is run on 256 beat-like inputs and compared with the PyTorch
        model; ``max_abs_diff`` holds the largest probability difference.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is False.
    InputError
        Not an ecgnet checkpoint; an export
        that disagrees with PyTorch by more than 1e-5.
    """
    from .checkpoint import load_model
    from .inference import predict_proba

    checkpoint = Path(checkpoint)
    model, meta = load_model(checkpoint)
    prefix = Path(out) if out is not None else checkpoint.with_suffix("")
    paths = {"ts": Path(f"{prefix}.ts.pt"), "onnx": Path(f"{prefix}.onnx"),
             "json": Path(f"{prefix}.json")}
    result = ExportResult()
    skip = onnxruntime_missing() if onnx else "ONNX skipped (--no-onnx)"
    wanted = [paths["ts"], paths["json"]] + ([paths["onnx"]] if skip is None else [])
    for path in wanted:
        refuse_existing(path, overwrite)
    n_rr = input_columns(model) - BEAT_SAMPLES  # RR features, then record-relative ones
    width = BEAT_SAMPLES + n_rr  # the beat's samples, then its RR features (s, ratios)
    info = {"format": "ecgnet-export", "version": 1, "model": meta["model"],
            "class_names": list(meta["class_names"]),
            "input": {"name": "beats", "shape": ["batch", width], "dtype": "float32",
                      "rr_features": list(RR_FEATURES[:rr_columns(model)])
                      + list(RECORD_FEATURES[:record_columns(model)]),
                      "median_beat_columns": median_columns(model)},
            "output": {"name": "probabilities", "shape": ["batch", meta["n_classes"]],
                       "dtype": "float32"},
            "data_sources": meta["training"].get("data_sources"),
            "checkpoint": str(checkpoint)}
    meta_json = json.dumps(info, indent=1, default=str)
    wrapper = ProbabilityModel(model).eval()
    beats = check_beats(n_rr=n_rr)
    reference = predict_proba(model, beats)

    def check(kind: str, got: np.ndarray) -> None:
        diff = float(np.abs(got - reference).max())
        result.max_abs_diff[kind] = diff
        if not diff <= 1e-5:
            raise InputError(f"the {kind} export differs from the PyTorch model by {diff:.1e}")

    written: list[Path] = []  # removed again if a later step fails: all files or none
    try:
        result.torchscript = export_torchscript(wrapper, paths["ts"], meta_json)
        written.append(result.torchscript)
        check("TorchScript", torchscript_proba(result.torchscript, beats))
        if skip is None:
            result.onnx = export_onnx(wrapper, paths["onnx"], meta_json)
            written.append(result.onnx)
            check("ONNX", onnx_proba(result.onnx, beats))
        else:
            result.notes.append(skip)
        with writing(paths["json"]), atomic_path(paths["json"]) as tmp:
            tmp.write_text(meta_json + "\n")
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    result.meta = paths["json"]
    return result
