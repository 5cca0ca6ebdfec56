"""``ecg predict``: classify every beat of a recording; ``ecg export-model``: TorchScript + ONNX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ecgseg.detectors import detectors_help

from .options import DataDir, Mirror, Quiet, stops_cleanly


@stops_cleanly
def predict(
    paths: Annotated[List[str], typer.Argument(
        metavar="[CHECKPOINT] INPUT",
        help="CHECKPOINT: best.pt or last.pt of `ecg train` (optional: without it, --model "
             "NAME or the default pretrained model). INPUT: a WFDB record (path/to/208, with "
             "or without .hea/.dat, or mitdb/1.0.0/208, fetched into the data folder), a "
             "beats HDF5, or a Kaggle-format CSV (label column optional).",
        show_default=False)],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="A pretrained model shipped with the toolkit (`ecg models`) "
                              "instead of a CHECKPOINT \\[default without CHECKPOINT: "
                              "mitbih-interpatient].")] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", "-o", help="Output file, '-' for stdout \\[default: "
                            "./<record>.predictions.csv, or .jsonl].")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl (JSON lines).")] = "csv",
    plot: Annotated[bool, typer.Option(
        "--plot", help="Also write a PNG of the signal with each beat's predicted class "
                       "(<out stem>.png) for the window --start/--seconds.")] = False,
    start: Annotated[float, typer.Option("--start", help="Plot window start, s.")] = 0.0,
    seconds: Annotated[float, typer.Option("--seconds", help="Plot window length, s.")] = 10.0,
    lead: Annotated[Optional[str], typer.Option(
        help="Signal name to use \\[default: lead II: MLII or ii].")] = None,
    detector: Annotated[str, typer.Option(
        help=f"R-peak detector for a raw record: {detectors_help()}.")] = "qrs",
    recipe: Annotated[Optional[str], typer.Option(
        help="Cut a raw record's beats with this recipe (paper or kaggle) \\[default: the one "
             "the checkpoint's training beats were made with].")] = None,
    fs: Annotated[Optional[float], typer.Option(
        help="Paper recipe: sampling rate of the beats, Hz \\[default: the checkpoint's "
             "training recipe, else 125].")] = None,
    threshold: Annotated[Optional[float], typer.Option(
        help="R-peak threshold on the normalised window \\[default: as trained, else 0.9].")] = None,
    window: Annotated[Optional[float], typer.Option(
        help="Paper recipe: window length, s \\[default: as trained, else 10].")] = None,
    tolerance: Annotated[float, typer.Option(
        help="Peak-to-annotation match tolerance for the reference classes and Se/+P, s.")] = 0.15,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 512,
    precision: Annotated[str, typer.Option(
        help="float32, or bfloat16 (faster on CPUs with AVX-512 BF16, probabilities "
             "within ~1e-2).")] = "float32",
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "cpu",
    threads: Annotated[Optional[int], typer.Option("--threads")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    data_dir: DataDir = None,
    mirror: Mirror = None,
    quiet: Quiet = False,
) -> None:
    """Classify every beat of a raw recording (or of a beats file) and write one row a beat.

    `ecg predict RECORD` uses the pretrained inter-patient model; `ecg predict CHECKPOINT
    RECORD` a model of yours; `ecg predict --model NAME RECORD` another shipped one.

    Columns: record, sample (R peak, in the record's samples), time_s, predicted,
    probability, reference (class of the matched reference annotation, if any), then
    p_<class> for every class. With reference annotations, prints the AAMI Se/+P summary.
    """
    from ecgnet.device import setup_device
    from ecgnet.predict import predict as run_predict
    from ecgnet.predict_output import (FORMATS, check_plot, check_plot_window,
                                       default_prediction_path, format_predictions,
                                       plot_predictions, write_predictions)
    from ecgseg.atomic import refuse_existing
    from ecgseg.errors import InputError

    checkpoint, input = checkpoint_and_input(paths, model)
    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}: choose csv or jsonl")
    if plot:
        check_plot_window(start, seconds)  # every option is checked before any output
    if out is not None and out != "-":
        refuse_existing(out, overwrite)
    to_stdout = out == "-"
    say = (lambda m: typer.echo(m, err=True)) if to_stdout else typer.echo
    dev = setup_device(device, threads)
    pred = run_predict(checkpoint, input, data_dir=data_dir, mirror=mirror, lead=lead,
                       overrides={"fs": fs, "threshold": threshold, "window_s": window},
                       tolerance_s=tolerance, batch_size=batch_size, precision=precision,
                       device=str(dev), progress=not quiet, detector=detector, recipe=recipe)
    for note in pred.notes:
        typer.echo(f"warning: {note}", err=True)
    target = None if to_stdout else Path(out) if out else default_prediction_path(pred, fmt)
    png = None
    if target is not None:
        refuse_existing(target, overwrite)
    if plot:
        png = refuse_existing(target.with_suffix(".png") if target is not None
                              else default_prediction_path(pred, "png"), overwrite)
        check_plot(pred, start, seconds)
    if target is None:
        sys.stdout.write(format_predictions(pred, fmt))
        sys.stdout.flush()
    else:
        write_predictions(pred, target, fmt, overwrite=overwrite)
    if png is not None:
        plot_predictions(pred, png, start, seconds)
    for line in pred.summary_lines():
        say(line)
    t = pred.seconds
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in (("segment", t.get("segment")),
                                                      ("model", t.get("model"))) if v is not None)
    say(f"{len(pred)} rows -> {target or 'stdout'}" + (f", plot -> {png}" if png else "")
        + f" ({timing})")


def checkpoint_and_input(paths: List[str], model: Optional[str]) -> tuple[Path, str]:
    """``ecg predict``'s positional arguments: ``[CHECKPOINT] INPUT``, by their count.

    One argument is the INPUT (the model: ``--model`` or the default pretrained one); two
    are CHECKPOINT and INPUT (then ``--model`` is an error).
    """
    from ecgnet.pretrained import DEFAULT_MODEL, resolve_checkpoint
    from ecgseg.errors import InputError

    if len(paths) == 1:
        return resolve_checkpoint(None, model, default=DEFAULT_MODEL), paths[0]
    if len(paths) == 2:
        return resolve_checkpoint(paths[0], model), paths[1]
    raise InputError(f"give [CHECKPOINT] INPUT: one or two arguments, not {len(paths)}")


@stops_cleanly
def export_model(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt of `ecg train`.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Prefix of the files written: <out>.ts.pt, <out>.onnx, <out>.json "
                            "\\[default: the checkpoint's path without .pt].")] = None,
    onnx: Annotated[bool, typer.Option("--onnx/--no-onnx", help="Also write ONNX.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """Write TorchScript and ONNX versions of a model: beats (batch, 187) in, probabilities out."""
    from ecgnet.model_export import export_model as run_export

    result = run_export(checkpoint, out, onnx=onnx, overwrite=overwrite)
    for line in result.lines():
        typer.echo(line)
