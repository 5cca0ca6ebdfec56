"""``ecg bench``: run ``benchmarks/segment_speed.py`` of the source checkout.

The benchmark is not part of the installed package (it needs the NumPy reference and
the peers of the ``bench`` extra), so this command only works from a source checkout
installed in editable mode; every option is passed through to the script
(``ecg bench --help`` shows them).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from ecgseg.errors import EcgError

CHECKOUT = Path(__file__).resolve().parents[1]
SCRIPT = CHECKOUT / "benchmarks" / "segment_speed.py"


def bench(ctx: typer.Context) -> None:
    """Segmentation speed benchmark (options: see --help; writes <data-dir>/bench/RESULTS.md unless --out)."""
    if not SCRIPT.is_file():
        raise EcgError(f"ecg bench needs the source checkout: {SCRIPT} not found (clone "
                       "the repository and pip install -e '.[bench]')")
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    module = importlib.import_module("benchmarks.segment_speed")
    code = module.main(list(ctx.args), prog="ecg bench")
    if code:
        raise typer.Exit(code)


#: Typer settings: unknown options and --help go to the script's own parser.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
