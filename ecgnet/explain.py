"""Look inside a trained network: feature maps, attributions and probabilities of a beat.

:func:`explain_beat` runs one beat through a model and returns, as arrays, what the
network makes of it (:class:`Explanation`): the feature maps after the stem and after
each of its ``blocks`` (forward hooks), the class probabilities, and an attribution over
the input samples for one class (by default the predicted one):

* ``integrated-gradients`` (default; ``captum``, ``pip install "ecg-toolkit[explain]"``):
  the path integral of the gradient of the class *logit* from a baseline (a flat zero
  beat, what the zero padding looks like) to the beat. Completeness: the attributions sum
  to ``logit(beat) - logit(baseline)``, up to :attr:`Explanation.delta`.
* ``occlusion`` (plain PyTorch, no extra library): each sample's attribution is the mean
  drop of the class logit when a window of ``window`` samples around it is set to the
  baseline.

:func:`average_by_class` averages the attributions of many beats per class (each beat
attributed to its own labelled class). :func:`plot_explanation` and
:func:`plot_class_averages` draw them as PNG (atomic write).

Example
-------
>>> from ecgnet.models import build_model
>>> import numpy as np
>>> model = build_model("kachuee", 5).eval()
>>> e = explain_beat(model, np.zeros(187, np.float32) + 0.5, "NSVFQ", method="occlusion")
>>> e.attribution.shape, e.probabilities.shape, list(e.feature_maps)[:2]
((187,), (5,), ['stem', 'blocks.0'])
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ecgseg.errors import InputError

from .models import BEAT_LENGTH, input_columns

METHODS = ("integrated-gradients", "occlusion")
"""Attribution methods of :func:`explain_beat` and :func:`average_by_class`."""

FS_HZ = 125.0
"""Default sampling rate of the beats (Hz; 187 samples are 1.496 s): the paper's stated rate,
assumed for CSV rows. Beats of an HDF5 file carry their own (``fs``; 120 Hz for Kaggle-recipe
MIT-BIH beats): see :func:`beats_rate`."""


class ExplainError(InputError):
    """An explanation cannot be computed with these settings."""


@dataclass
class Explanation:
    """What a model makes of one input beat (see :func:`explain_beat`).

    Attributes
    ----------
    beat : np.ndarray
        ``(187,)`` float32, the input beat (normalised amplitude, at ``beat_fs``).
    extra : np.ndarray
        ``(r,)`` float32, the RR features the model took after the beat (empty for most models).
    feature_maps : dict of str -> np.ndarray
        Part name (``stem``, ``blocks.0`` ...) -> its output, ``(channels, length)`` float32.
    attribution : np.ndarray
        ``(187,)`` float32 attribution of each beat sample to the ``target`` class logit.
    attribution_extra : np.ndarray
        ``(r,)`` float32 attribution of the RR features.
    probabilities : np.ndarray
        ``(k,)`` float32 class probabilities (sum 1).
    logits : np.ndarray
        ``(k,)`` float32.
    target : int
        Class the attribution is for.
    predicted : int
        Most probable class.
    class_names : tuple of str
    method : str
        One of :data:`METHODS`.
    delta : float
        Integrated gradients: ``sum(attributions) - (logit(beat) - logit(baseline))``
        (numerical error of the path integral); NaN for occlusion.
    label : int, optional
        The beat's labelled class, when known.
    index : int, optional
        Row of the beat in its data file.
    beat_fs : float
        Sampling rate of the beat, Hz (the time axis of the figures).
    """

    beat: np.ndarray
    extra: np.ndarray
    feature_maps: Dict[str, np.ndarray]
    attribution: np.ndarray
    attribution_extra: np.ndarray
    probabilities: np.ndarray
    logits: np.ndarray
    target: int
    predicted: int
    class_names: Tuple[str, ...]
    method: str
    delta: float = float("nan")
    label: Optional[int] = None
    index: Optional[int] = None
    beat_fs: float = FS_HZ


@dataclass
class ClassAverages:
    """Mean beat and mean attribution per class (see :func:`average_by_class`).

    Attributes
    ----------
    class_names : tuple of str
    counts : np.ndarray
        ``(k,)`` int64, beats averaged per class.
    mean_beat : np.ndarray
        ``(k, 187)`` float32 (NaN rows for classes without beats).
    mean_attribution : np.ndarray
        ``(k, 187)`` float32, mean attribution to the beats' own class.
    method : str
    accuracy : np.ndarray
        ``(k,)`` float, share of the averaged beats the model classified correctly.
    beat_fs : float
        Sampling rate of the beats, Hz (the time axis of the figure).
    """

    class_names: Tuple[str, ...]
    counts: np.ndarray
    mean_beat: np.ndarray
    mean_attribution: np.ndarray
    method: str
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    beat_fs: float = FS_HZ


def feature_parts(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The parts whose outputs are feature maps: ``stem`` and each of ``blocks``.

    Models without these parts: every child that is not a Linear layer or an activation.
    """
    parts = []
    if isinstance(getattr(model, "stem", None), nn.Module):
        parts.append(("stem", model.stem))
    blocks = getattr(model, "blocks", None)
    if isinstance(blocks, nn.ModuleList):
        parts += [(f"blocks.{i}", b) for i, b in enumerate(blocks)]
    if not parts:
        parts = [(n, m) for n, m in model.named_children()
                 if not isinstance(m, (nn.Linear, nn.ReLU, nn.Dropout))]
    return parts


def _check_width(model: nn.Module, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    width = input_columns(model)
    if x.ndim != 2 or x.shape[1] != width:
        raise InputError(f"beats have shape {x.shape}, expected (n, {width}) for this model")
    return x


def _baseline(x: torch.Tensor) -> torch.Tensor:
    """A flat zero beat; RR features (if any) are kept, only the beat is explained away."""
    base = torch.zeros_like(x)
    base[:, BEAT_LENGTH:] = x[:, BEAT_LENGTH:]
    return base


def _forward(model: nn.Module):
    return lambda inputs: model(inputs.unsqueeze(1))


def integrated_gradients(model: nn.Module, x: np.ndarray, target: np.ndarray, steps: int = 64,
                         batch_size: int = 256) -> Tuple[np.ndarray, np.ndarray]:
    """Integrated gradients of the ``target`` logits (captum), baseline a flat zero beat.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    x : np.ndarray
        ``(n, 187 + r)`` float32 model inputs.
    target : np.ndarray
        ``(n,)`` class per input.
    steps : int
        Points of the path integral (Gauss-Legendre).
    batch_size : int
        Inputs per forward pass (``steps`` points each).

    Returns
    -------
    attributions : np.ndarray
        ``(n, 187 + r)`` float32, in logit units.
    delta : np.ndarray
        ``(n,)`` completeness error ``sum(attr) - (logit(x) - logit(baseline))``.

    Raises
    ------
    ExplainError
        ``captum`` is not installed.
    """
    try:
        from captum.attr import IntegratedGradients
    except ImportError:
        raise ExplainError('method integrated-gradients needs captum: pip install '
                           '"ecg-toolkit[explain]" (or use method occlusion)') from None
    ig = IntegratedGradients(_forward(model))
    attrs, deltas = [], []
    batch_size = max(1, min(batch_size, 4096 // steps))  # inputs x steps rows per pass
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[start:start + batch_size]).requires_grad_(True)
        tb = torch.as_tensor(target[start:start + batch_size], dtype=torch.long)
        a, d = ig.attribute(xb, baselines=_baseline(xb.detach()), target=tb, n_steps=steps,
                            return_convergence_delta=True)
        attrs.append(a.detach().numpy().astype(np.float32))
        deltas.append(d.detach().numpy())
    return np.concatenate(attrs), np.concatenate(deltas)


@torch.no_grad()
def occlusion(model: nn.Module, x: np.ndarray, target: np.ndarray, window: int = 9,
              batch_size: int = 256) -> np.ndarray:
    """Occlusion attribution of the ``target`` logits over the 187 beat samples.

    For each start ``s``, samples ``s .. s + window - 1`` are set to 0 (the baseline);
    a sample's attribution is the mean logit drop over the windows that cover it.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    x : np.ndarray
        ``(n, 187 + r)`` float32 model inputs.
    target : np.ndarray
        ``(n,)`` class per input.
    window : int
        Samples occluded at once (9 samples = 72 ms at 125 Hz).
    batch_size : int
        Occluded copies per forward pass.

    Returns
    -------
    np.ndarray
        ``(n, 187 + r)`` float32 (RR columns 0: not occluded).
    """
    if window < 1 or window > BEAT_LENGTH:
        raise ExplainError(f"window must be between 1 and {BEAT_LENGTH} samples, got {window}")
    forward = _forward(model)
    starts = np.arange(BEAT_LENGTH - window + 1)
    cover = np.zeros(BEAT_LENGTH)
    for s in starts:
        cover[s:s + window] += 1
    out = np.zeros(x.shape, np.float32)
    for i in range(len(x)):
        xi = torch.from_numpy(x[i:i + 1])
        ref = float(forward(xi)[0, target[i]])
        copies = xi.repeat(len(starts), 1)
        for j, s in enumerate(starts):
            copies[j, s:s + window] = 0
        drops = np.concatenate([ref - forward(copies[b:b + batch_size])[:, target[i]].numpy()
                                for b in range(0, len(copies), batch_size)])
        acc = np.zeros(BEAT_LENGTH)
        for s, d in zip(starts, drops):
            acc[s:s + window] += d
        out[i, :BEAT_LENGTH] = acc / cover
    return out


def attribute(model: nn.Module, x: np.ndarray, target: np.ndarray,
              method: str = "integrated-gradients", steps: int = 64, window: int = 9
              ) -> Tuple[np.ndarray, np.ndarray]:
    """Attributions ``(n, 187 + r)`` and completeness errors ``(n,)`` (NaN for occlusion)
    with one of :data:`METHODS`; see :func:`integrated_gradients` and :func:`occlusion`."""
    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    x = _check_width(model, x)
    target = np.asarray(target, dtype=np.int64)
    model.eval()
    if method == "occlusion":
        return occlusion(model, x, target, window), np.full(len(x), np.nan)
    return integrated_gradients(model, x, target, steps)


def explain_beat(model: nn.Module, beat: np.ndarray, class_names: Sequence[str],
                 target: Optional[int] = None, method: str = "integrated-gradients",
                 steps: int = 64, window: int = 9, label: Optional[int] = None,
                 index: Optional[int] = None, beat_fs: float = FS_HZ) -> Explanation:
    """Feature maps, attribution and probabilities of one beat.

    Parameters
    ----------
    model : nn.Module
        A trained model (:func:`ecgnet.checkpoint.load_model`); put in eval mode.
    beat : np.ndarray
        ``(187,)`` float32 beat (min-max normalised), or ``(187 + r,)`` with the
        RR features of a model that takes them (:func:`ecgnet.data.model_inputs`).
    class_names : sequence of str
        The model's classes.
    target : int, optional
        Class to attribute to (default: the predicted class).
    method : {"integrated-gradients", "occlusion"}
    steps : int
        Integrated gradients: points of the path integral.
    window : int
        Occlusion: samples occluded at once.
    label, index : int, optional
        Stored in the result (the beat's labelled class and row), for the figure.
    beat_fs : float
        The beat's sampling rate, Hz, stored for the figure's time axis.

    Returns
    -------
    Explanation

    Raises
    ------
    InputError
        Wrong beat shape, ``target`` out of range, unknown ``method``, or captum missing
        for integrated gradients.
    """
    x = _check_width(model, np.asarray(beat, np.float32).reshape(1, -1))
    class_names = tuple(class_names)
    model.eval()
    maps: Dict[str, np.ndarray] = {}
    hooks = [module.register_forward_hook(
        lambda _m, _i, out, name=name: maps.__setitem__(name, out.detach()[0].numpy().copy()))
        for name, module in feature_parts(model)]
    try:
        with torch.no_grad():
            logits = model(torch.from_numpy(x).unsqueeze(1))[0]
    finally:
        for h in hooks:
            h.remove()
    if logits.shape[0] != len(class_names):
        raise InputError(f"class_names has {len(class_names)} names, the model "
                         f"{logits.shape[0]} outputs")
    proba = torch.softmax(logits, 0).numpy().astype(np.float32)
    predicted = int(proba.argmax())
    target = predicted if target is None else int(target)
    if not 0 <= target < len(class_names):
        raise InputError(f"target must be a class id 0 .. {len(class_names) - 1}, got {target}")
    attr, delta = attribute(model, x, np.array([target]), method, steps, window)
    return Explanation(beat=x[0, :BEAT_LENGTH].copy(), extra=x[0, BEAT_LENGTH:].copy(),
                       feature_maps=maps, attribution=attr[0, :BEAT_LENGTH],
                       attribution_extra=attr[0, BEAT_LENGTH:], probabilities=proba,
                       logits=logits.numpy().astype(np.float32), target=target,
                       predicted=predicted, class_names=class_names, method=method,
                       delta=float(delta[0]), label=label, index=index, beat_fs=float(beat_fs))


def average_by_class(model: nn.Module, inputs: np.ndarray, labels: np.ndarray,
                     class_names: Sequence[str], method: str = "integrated-gradients",
                     per_class: int = 100, seed: int = 0, steps: int = 32,
                     window: int = 9, beat_fs: float = FS_HZ) -> ClassAverages:
    """Mean beat and mean attribution to its own class, per class, over a data set.

    Parameters
    ----------
    model : nn.Module
        A trained model of the classes ``class_names``.
    inputs : np.ndarray
        ``(n, 187 + r)`` float32 model inputs.
    labels : np.ndarray
        ``(n,)`` class ids of the model's classes.
    class_names : sequence of str
    method : {"integrated-gradients", "occlusion"}
    per_class : int
        At most this many beats per class, drawn at random with ``seed`` (all when fewer).
    seed : int
    steps, window : int
        See :func:`attribute`.
    beat_fs : float
        The beats' sampling rate, Hz, stored for the figure's time axis.

    Returns
    -------
    ClassAverages
    """
    if per_class < 1:
        raise InputError("per_class must be at least 1")
    inputs = _check_width(model, inputs)
    labels = np.asarray(labels, np.int64)
    class_names = tuple(class_names)
    k = len(class_names)
    rng = np.random.default_rng(seed)
    chosen = [np.sort(rng.permutation(np.flatnonzero(labels == c))[:per_class]) for c in range(k)]
    idx = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
    if len(idx) == 0:
        raise InputError("average_by_class: no beats of the model's classes in the data")
    attr, _ = attribute(model, inputs[idx], labels[idx], method, steps, window)
    with torch.no_grad():
        predicted = model(torch.from_numpy(inputs[idx]).unsqueeze(1)).argmax(1).numpy()
    mean_beat = np.full((k, BEAT_LENGTH), np.nan, np.float32)
    mean_attr = np.full((k, BEAT_LENGTH), np.nan, np.float32)
    accuracy = np.full(k, np.nan)
    counts = np.array([len(c) for c in chosen], np.int64)
    for c in range(k):
        sel = labels[idx] == c
        if sel.any():
            mean_beat[c] = inputs[idx][sel, :BEAT_LENGTH].mean(0)
            mean_attr[c] = attr[sel, :BEAT_LENGTH].mean(0)
            accuracy[c] = float((predicted[sel] == c).mean())
    return ClassAverages(class_names=class_names, counts=counts, mean_beat=mean_beat,
                         mean_attribution=mean_attr, method=method, accuracy=accuracy,
                         beat_fs=float(beat_fs))


@dataclass
class ExplainInputs:
    """A checkpoint's model and the model inputs of a data file (:func:`load_inputs`).

    Attributes
    ----------
    model : nn.Module
        In eval mode, on the CPU.
    class_names : tuple of str
        The model's classes.
    inputs : np.ndarray
        ``(n, 187 + r)`` float32 model inputs.
    labels : np.ndarray or None
        ``(n,)`` labels as class ids of the model, or None when the data's classes are not
        the model's (e.g. PTB beats given to an arrhythmia model).
    sources : list of str
    beat_fs : float
        Sampling rate of the beats, Hz (:func:`beats_rate`).
    """

    model: nn.Module
    class_names: Tuple[str, ...]
    inputs: np.ndarray
    labels: Optional[np.ndarray]
    sources: List[str]
    beat_fs: float = FS_HZ


def beats_rate(source_info: Sequence[dict]) -> float:
    """Sampling rate of loaded beats, Hz: their HDF5 files' ``fs`` when all agree, else
    :data:`FS_HZ` (CSV rows do not say theirs; the paper states 125 Hz).

    Parameters
    ----------
    source_info : sequence of dict
        ``BeatData.source_info`` (:func:`ecgnet.data.load_data`).

    Examples
    --------
    >>> beats_rate([{"format": "hdf5", "fs": 120.0}])
    120.0
    >>> beats_rate([{"format": "csv"}])
    125.0
    """
    rates = {float(s["fs"]) for s in source_info if s.get("fs") is not None}
    return rates.pop() if len(rates) == 1 and all("fs" in s for s in source_info) else FS_HZ


def load_inputs(checkpoint: str | os.PathLike, data: Sequence[str | os.PathLike] | str
                ) -> ExplainInputs:
    """Load a checkpoint and the beats of ``data`` (CSV/HDF5) as that model's inputs.

    Raises
    ------
    InputError
        Unreadable checkpoint or data; a model with RR features and data without them.
    """
    from .checkpoint import load_model
    from .data import data_inputs, load_data

    model, meta = load_model(checkpoint)
    beats = load_data(data)
    inputs = data_inputs(model, beats, ", ".join(beats.sources))
    same = tuple(beats.class_names) == tuple(meta["class_names"])
    return ExplainInputs(model=model, class_names=tuple(meta["class_names"]), inputs=inputs,
                         labels=beats.labels if same else None, sources=list(beats.sources),
                         beat_fs=beats_rate(beats.source_info))


def explain_row(loaded: ExplainInputs, beat: int, **kwargs) -> Explanation:
    """:func:`explain_beat` of row ``beat`` (0-based) of loaded data.

    Raises
    ------
    InputError
        ``beat`` is not a row of the data.
    """
    n = len(loaded.inputs)
    if not 0 <= beat < n:
        raise InputError(f"beat must be a row 0 .. {n - 1} of {', '.join(loaded.sources)}, "
                         f"got {beat}")
    label = None if loaded.labels is None else int(loaded.labels[beat])
    return explain_beat(loaded.model, loaded.inputs[beat], loaded.class_names, label=label,
                        index=beat, beat_fs=loaded.beat_fs, **kwargs)


def average_rows(loaded: ExplainInputs, **kwargs) -> ClassAverages:
    """:func:`average_by_class` over loaded data.

    Raises
    ------
    InputError
        The data's classes are not the model's.
    """
    if loaded.labels is None:
        raise InputError(f"average_by_class: the classes of {', '.join(loaded.sources)} are "
                         f"not those of the model ({', '.join(loaded.class_names)})")
    return average_by_class(loaded.model, loaded.inputs, loaded.labels, loaded.class_names,
                            beat_fs=loaded.beat_fs, **kwargs)


# --------------------------------------------------------------------------- figures

def _time_s(fs: float, n: int = BEAT_LENGTH) -> np.ndarray:
    return np.arange(n) / fs


def _beat_with_attribution(ax, beat: np.ndarray, attr: np.ndarray, plt, fs: float, cax=None):
    """The beat (sampled at ``fs`` Hz) as a line, each sample's attribution as a coloured
    background bar."""
    t = _time_s(fs)
    scale = float(np.nanmax(np.abs(attr))) or 1.0
    ax.bar(t, np.ones_like(t) * 1.1, width=1 / fs, bottom=-0.05,
           color=plt.cm.RdBu_r(0.5 + 0.5 * attr / scale), alpha=0.85, linewidth=0)
    ax.plot(t, beat, color="black", lw=1.3)
    ax.set_xlim(0, BEAT_LENGTH / fs)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("amplitude\n(normalised)", fontsize=8)
    sm = plt.cm.ScalarMappable(cmap="RdBu_r", norm=plt.Normalize(-scale, scale))
    cb = plt.colorbar(sm, cax=cax) if cax is not None else plt.colorbar(sm, ax=ax, pad=0.01,
                                                                        fraction=0.04)
    cb.set_label("attribution (logit)", fontsize=7)


def plot_explanation(e: Explanation, path: str | os.PathLike, title: str = "") -> Path:
    """Draw an :class:`Explanation` as PNG: beat + attribution, probabilities, feature maps.

    Parameters
    ----------
    e : Explanation
    path : str or PathLike
        PNG file (written atomically).
    title : str
        Figure title (e.g. checkpoint and data file).
    """
    from .plots import _pyplot

    plt = _pyplot()
    n_maps = len(e.feature_maps)
    fig = plt.figure(figsize=(11, 3.6 + 0.95 * n_maps))
    # Columns: panels over time | their colour bars | the class probabilities.
    grid = fig.add_gridspec(2 + n_maps, 3, width_ratios=[4.2, 0.08, 1.1],
                            height_ratios=[2.2, 1.2] + [1] * n_maps, wspace=0.3, hspace=0.45,
                            left=0.08, right=0.95, bottom=0.45 / fig.get_figheight(),
                            top=1 - 0.75 / fig.get_figheight())
    ax = fig.add_subplot(grid[0, 0])
    _beat_with_attribution(ax, e.beat, e.attribution, plt, e.beat_fs,
                           cax=fig.add_subplot(grid[0, 1]))
    what = f"beat {e.index}" if e.index is not None else "beat"
    if e.label is not None:
        what += f", labelled {e.class_names[e.label]}"
    method = ("integrated gradients" if e.method == "integrated-gradients" else e.method)
    ax.set_title(f"{what}: predicted {e.class_names[e.predicted]} "
                 f"({100 * e.probabilities[e.predicted]:.1f} %); colour: {method} "
                 f"for class {e.class_names[e.target]} (red: for, blue: against)", fontsize=9)
    plt.setp(ax.get_xticklabels(), visible=False)
    ax_a = fig.add_subplot(grid[1, 0], sharex=ax)
    t = _time_s(e.beat_fs)
    ax_a.fill_between(t, e.attribution, where=e.attribution >= 0, color="tab:red", step="mid")
    ax_a.fill_between(t, e.attribution, where=e.attribution < 0, color="tab:blue", step="mid")
    ax_a.axhline(0, color="gray", lw=0.5)
    ax_a.set_ylabel("attribution\n(logit)", fontsize=8)
    note = (f"sum {e.attribution.sum() + e.attribution_extra.sum():+.2f} = change of the "
            f"{e.class_names[e.target]} logit from a flat beat (error {e.delta:+.1e})"
            if np.isfinite(e.delta) else "mean logit drop when the samples around are zeroed")
    ax_a.set_title(note, fontsize=8, loc="left")
    ax_p = fig.add_subplot(grid[0:2, 2])
    k = len(e.class_names)
    colors = ["tab:orange" if i == e.predicted else "tab:gray" for i in range(k)]
    ax_p.barh(range(k), e.probabilities, color=colors)
    for i, p in enumerate(e.probabilities):
        ax_p.text(min(p, 0.62) + 0.02, i, f"{100 * p:.1f} %", va="center", fontsize=8)
    ax_p.set_yticks(range(k), e.class_names)
    ax_p.invert_yaxis()
    ax_p.set_xlim(0, 1)
    ax_p.set_xlabel("probability")
    ax_p.set_title("classes", fontsize=9)
    ax_p.yaxis.tick_right()
    duration = BEAT_LENGTH / e.beat_fs
    axm = ax_a
    for row, (name, fmap) in enumerate(e.feature_maps.items()):
        plt.setp(axm.get_xticklabels(), visible=False)
        axm = fig.add_subplot(grid[2 + row, 0], sharex=ax)
        fmap = np.atleast_2d(fmap)
        im = axm.imshow(fmap, aspect="auto", cmap="viridis", interpolation="nearest",
                        extent=[0, duration, fmap.shape[0] - 0.5, -0.5],
                        vmin=min(0.0, float(fmap.min())), vmax=float(fmap.max()) or 1.0)
        axm.set_ylabel(f"{name}\n{fmap.shape[0]} ch x {fmap.shape[1]}", fontsize=8)
        axm.set_yticks([])
        plt.colorbar(im, cax=fig.add_subplot(grid[2 + row, 1]))
    axm.set_xlabel(f"time from the R peak (s; beat at {e.beat_fs:g} Hz)" + ("; feature maps: channels (rows) over "
                                                 "time, stretched to the beat" if n_maps else ""))
    if title:
        fig.suptitle(title, fontsize=10)
    return _save_as_laid_out(plt, fig, path)


def _save_as_laid_out(plt, fig, path: str | os.PathLike) -> Path:
    """Write a figure whose grid is laid out by hand (no tight_layout) atomically as PNG."""
    from ecgseg.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)


def plot_class_averages(avg: ClassAverages, path: str | os.PathLike, title: str = "") -> Path:
    """Draw :class:`ClassAverages` as PNG: one panel per class, mean beat coloured by the
    mean attribution to that class.

    Parameters
    ----------
    avg : ClassAverages
    path : str or PathLike
        PNG file (written atomically).
    title : str
    """
    from .plots import _pyplot, _save

    plt = _pyplot()
    present = [c for c in range(len(avg.class_names)) if avg.counts[c] > 0]
    fig, axes = plt.subplots(len(present), 1, figsize=(10, 1.9 * len(present) + 0.8),
                             sharex=True, squeeze=False)
    for ax, c in zip(axes[:, 0], present):
        _beat_with_attribution(ax, avg.mean_beat[c], avg.mean_attribution[c], plt, avg.beat_fs)
        ax.set_title(f"class {avg.class_names[c]}: mean of {avg.counts[c]} beats "
                     f"({100 * avg.accuracy[c]:.0f} % classified {avg.class_names[c]}), "
                     f"colour: mean attribution to {avg.class_names[c]}", fontsize=9)
    axes[-1, 0].set_xlabel(f"time from the R peak (s; beats at {avg.beat_fs:g} Hz)")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(plt, fig, path)
