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
#: ``ecg bench detectors [options]``: the R-peak detector table instead
#: (``benchmarks/detector_bench.py``, writes ``benchmarks/DETECTOR_RESULTS.md`` unless --out).
DETECTORS = "detectors"


def bench(ctx: typer.Context) -> None:
    """Segmentation speed benchmark (options: see --help; writes <data-dir>/bench/RESULTS.md unless --out); `ecg bench detectors` for the R-peak detector table."""
    if not SCRIPT.is_file():
        raise EcgError(f"ecg bench needs the source checkout: {SCRIPT} not found (clone "
                       "the repository and pip install -e '.[bench]')")
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    args = list(ctx.args)
    if args[:1] == [DETECTORS]:
        module = importlib.import_module("benchmarks.detector_bench")
        module.main(args[1:])
        return
    module = importlib.import_module("benchmarks.segment_speed")
    code = module.main(args, prog="ecg bench")
    if code:
        raise typer.Exit(code)


#: Typer settings: unknown options and --help go to the script's own parser.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
