"""``ecg explain``: what a trained network sees in a beat (feature maps, attributions)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import stops_cleanly


@stops_cleanly
def explain(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt of `ecg train`.")],
    data: Annotated[List[Path], typer.Argument(help="Beats: HDF5 and/or Kaggle-format CSV.")],
    beat: Annotated[int, typer.Option("--beat", help="Row of the beat to explain (0-based).")] = 0,
    average_by_class: Annotated[bool, typer.Option(
        "--average-by-class", help="Mean beat and mean attribution to its own class, per "
                                   "class (the data must have the model's classes).")] = False,
    method: Annotated[str, typer.Option(
        "--method", help="integrated-gradients (needs captum) | occlusion."
    )] = "integrated-gradients",
    per_class: Annotated[int, typer.Option(
        "--per-class", help="--average-by-class: at most this many beats per class.")] = 100,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="PNG to write (default: CHECKPOINT's folder/explain-DATA "
                            "stem-beatI.png or -by-class.png).")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace an existing PNG.")] = False,
    threads: Annotated[Optional[int], typer.Option("--threads")] = None,
) -> None:
    """Show what a trained network sees in a beat: feature maps, attribution, class probabilities.

    Draws the beat, its feature maps after each block, the attribution over its 187 samples for the predicted class, and the class probabilities.
    With --average-by-class: the mean attribution per class over the data.
    """
    from ecgnet import explain as ex
    from ecgnet.device import setup_device
    from ecgseg.atomic import refuse_existing

    setup_device("cpu", threads)
    if out is None:
        what = "by-class" if average_by_class else f"beat{beat}"
        out = checkpoint.parent / f"explain-{data[0].stem}-{what}.png"
    refuse_existing(out, overwrite)
    loaded = ex.load_inputs(checkpoint, [str(p) for p in data])
    title = f"{checkpoint} on {', '.join(p.name for p in data)}"
    if average_by_class:
        avg = ex.average_rows(loaded, method=method, per_class=per_class)
        ex.plot_class_averages(avg, out, title=title)
        for name, n, acc in zip(avg.class_names, avg.counts, avg.accuracy):
            if n:
                typer.echo(f"{name}: {n} beats, {100 * acc:.1f} % classified {name}")
    else:
        e = ex.explain_row(loaded, beat, method=method)
        ex.plot_explanation(e, out, title=title)
        names = e.class_names
        label = f" (labelled {names[e.label]})" if e.label is not None else ""
        typer.echo(f"beat {beat}{label}: predicted {names[e.predicted]}, "
                   + ", ".join(f"{n} {100 * p:.1f} %" for n, p in zip(names, e.probabilities)))
        top = int(abs(e.attribution).argmax())
        typer.echo(f"largest attribution to {names[e.target]}: sample {top} "
                   f"({top / e.beat_fs:.3f} s), {e.attribution[top]:+.3f}")
    typer.echo(f"saved {out}")
