"""Model cards of the pretrained models: one TOML file per model, read and written here.

A card says what a shipped model is and what it expects, in machine-readable keys:

``name``, ``summary``, ``weights`` (file beside the card), ``sha256`` (of that file),
``model`` (registry name), ``parameters``, ``classes``, ``task``;
what it expects: ``leads``, ``recipe``, ``detector``, ``beat_fs_hz``, ``beat_samples``,
``inputs``; where it comes from: ``data``, ``split``, ``commands`` (the exact commands
that trained it), ``build_command``, ``date``, ``notes``, ``licence``, ``citations``;
``[metrics]`` (the headline figures: ``part``, ``n``, ``accuracy`` and ``macro_f1`` in
%, ``command``, and per class ``se``/``ppv`` in % under ``[metrics.per_class]``); and
``[check]``: the accuracy on a small set of real beats shipped with the tests, which the
test suite reproduces (``description``, ``n``, ``accuracy`` in %, ``tolerance`` in points).

Example
-------
>>> card = ModelCard(name="x", summary="s", weights="x.pt", sha256="0", model="kachuee",
...                  parameters=55013, classes=("N", "S"), task="t")
>>> read_card_text(card_text(card)).classes
('N', 'S')
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, Dict, Tuple

from ecgseg.atomic import atomic_path
from ecgseg.errors import InputError
from ecgseg.oserrors import writing

from ..toml_text import toml_key, toml_value, tomllib



@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a pretrained model is, what it expects and how well it does (see the module)."""

    name: str
    summary: str
    weights: str
    sha256: str
    model: str
    parameters: int
    classes: Tuple[str, ...]
    task: str
    leads: Tuple[str, ...] = ()
    recipe: str = ""
    detector: str = ""
    beat_fs_hz: float = 0.0
    beat_samples: int = 187
    inputs: str = ""
    data: str = ""
    split: str = ""
    commands: Tuple[str, ...] = ()
    build_command: str = ""
    date: str = ""
    notes: str = ""
    licence: str = ""
    citations: Tuple[str, ...] = ()
    metrics: Dict[str, Any] = dataclasses.field(default_factory=dict)
    check: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def headline(self) -> str:
        """One line of the headline metrics, e.g. ``accuracy 86.6 % on DS2 (49690 beats)``."""
        m = self.metrics
        if not m:
            return "no metrics"
        text = f"accuracy {m['accuracy']:.2f} %, macro-F1 {m['macro_f1'] / 100:.3f}"
        per_class = m.get("per_class", {})
        if per_class:
            text += "; Se/+P " + ", ".join(f"{c} {v['se']:.1f}/{v['ppv']:.1f}"
                                           for c, v in per_class.items())
        return f"{text} ({m.get('part', '')}, {m.get('n', '?')} beats)"

    def to_dict(self) -> Dict[str, Any]:
        """The card as a plain dict (lists for tuples), as written to TOML."""
        return {f.name: (list(v) if isinstance(v, tuple) else v)
                for f in dataclasses.fields(self) for v in [getattr(self, f.name)]}


_TUPLES = {f.name for f in dataclasses.fields(ModelCard) if "Tuple" in str(f.type)}


def _toml_value(value: Any) -> str:
    if not _finite(value):
        raise ValueError("a model card holds finite numbers only")
    try:
        return toml_value(value)
    except TypeError as exc:
        raise TypeError(f"model card: {exc}") from None


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _table(prefix: str, values: Dict[str, Any]) -> list[str]:
    plain = {k: v for k, v in values.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix else []
    lines += [f"{toml_key(k)} = {_toml_value(v)}" for k, v in plain.items()]
    for k, v in nested.items():
        inline = all(not isinstance(x, dict) for x in v.values())
        if prefix and inline:
            lines.append(f"{toml_key(k)} = {_toml_value(v)}")
        else:
            lines += [""] + _table(f"{prefix}.{toml_key(k)}" if prefix else toml_key(k), v)
    return lines


def card_text(card: ModelCard) -> str:
    """The card as TOML text (top-level keys, then ``[metrics]`` and ``[check]``)."""
    values = card.to_dict()
    return "\n".join(_table("", values)) + "\n"


def format_card(card: ModelCard, default: bool = False, verbose: bool = False) -> str:
    """A card as the lines ``ecg models`` prints: what the model expects and how it does."""
    lines = [f"{card.name}{'  (default of ecg predict)' if default else ''}: {card.summary}",
             f"  expects: leads {', '.join(card.leads) or 'any'}; recipe {card.recipe}; "
             f"detector {card.detector}; beats of {card.beat_samples} samples at "
             f"{card.beat_fs_hz:g} Hz",
             f"  inputs: {card.inputs}",
             f"  classes: {' '.join(card.classes)}; model {card.model}, "
             f"{card.parameters} parameters",
             f"  metrics: {card.headline()}"]
    if verbose:
        lines += [f"  data: {card.data}", f"  split: {card.split}",
                  *[f"  trained with: {c}" for c in card.commands],
                  f"  metrics command: {card.metrics.get('command', '')}",
                  f"  rebuild: {card.build_command}", f"  date: {card.date}",
                  f"  licence: {card.licence}"]
        if card.notes:
            lines.append(f"  notes: {card.notes}")
    return "\n".join(lines)


def read_card_text(text: str, where: str = "model card") -> ModelCard:
    """Parse a card's TOML text.

    Raises
    ------
    InputError
        Not TOML, or a key missing or unknown.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: not a readable TOML model card ({exc})") from None
    known = {f.name for f in dataclasses.fields(ModelCard)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"{where}: unknown keys {', '.join(unknown)}")
    values = {k: tuple(v) if k in _TUPLES else v for k, v in raw.items()}
    try:
        return ModelCard(**values)
    except TypeError as exc:
        raise InputError(f"{where}: {exc}") from None


def read_card(path: str | os.PathLike) -> ModelCard:
    """Read a card file (see :func:`read_card_text`)."""
    path = Path(path)
    return read_card_text(path.read_text(encoding="utf-8"), str(path))


def write_card(card: ModelCard, path: str | os.PathLike) -> Path:
    """Write ``card`` to ``path`` atomically (TOML, UTF-8)."""
    path = Path(path)
    with writing(path), atomic_path(path) as tmp:
        tmp.write_text(card_text(card), encoding="utf-8")
    return path
