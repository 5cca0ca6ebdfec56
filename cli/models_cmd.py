"""``ecg models``: the pretrained models shipped with the toolkit and what each expects."""

from __future__ import annotations

import typer
from typing_extensions import Annotated


def models(
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also the data, split, licence and the commands that "
                                "trained each model.")] = False,
) -> None:
    """One block per shipped model: leads, recipe, detector, beat sampling rate, classes,
    parameters and headline metrics (`ecg predict --model NAME`, `ecg evaluate --model NAME`)."""
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
