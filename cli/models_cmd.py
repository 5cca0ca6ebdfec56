"""``ecg models``: the pretrained models shipped with the toolkit and what each expects;
``--architectures``: the registered architectures ``ecg train --model`` accepts."""

from __future__ import annotations

import typer
from typing_extensions import Annotated


def models(
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also the data, split, licence and the commands that "
                                "trained each model.")] = False,
    architectures: Annotated[bool, typer.Option(
        "--architectures", help="List the registered architectures (`ecg train --model "
                                "NAME`) instead: parameters, extra inputs, one line each.")] = False,
) -> None:
    """List the shipped pretrained models and what each expects (`ecg predict --model NAME`).

    One block per model: leads, recipe, detector, beat sampling rate, classes, parameters
    and headline metrics; `ecg evaluate --model NAME` scores one on your beats.
    """
    if architectures:
        _list_architectures()
        return
    from ecgnet.pretrained import DEFAULT_MODEL, list_models
    from ecgnet.pretrained.card import format_card

    cards = list_models()
    if not cards:
        typer.echo("no pretrained models are shipped with this installation")
        return
    for i, card in enumerate(cards):
        if i:
            typer.echo("")
        typer.echo(format_card(card, default=card.name == DEFAULT_MODEL, verbose=verbose))


def _list_architectures() -> None:
    from ecgnet.models import describe_models

    for entry in describe_models():
        inputs = entry["inputs"] or "the beat alone"
        typer.echo(f"{entry['name']:<14} {entry['parameters']:>7,d} parameters (5 classes); "
                   f"takes {inputs}\n{'':<15}{entry['summary']}")
