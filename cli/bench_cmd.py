"""``ecg bench``: the segmentation speed benchmark (:mod:`ecgseg.bench.segment_speed`).

Part of the installed package; every option is passed through to the benchmark's own
parser (``ecg bench --help`` shows them). Writes ``<data-dir>/bench/RESULTS.md`` and
``segment_speed.png`` unless ``--out``; the tracked ``benchmarks/RESULTS.md`` is only
replaced when asked (``--out benchmarks`` or ``python benchmarks/segment_speed.py``).
"""

from __future__ import annotations

import typer

from .options import stops_cleanly

#: The module that is ``ecg`` (fresh ``ecg segment`` processes run ``python -m`` of it).
CLI_MODULE = f"{__package__}.main"
#: ``ecg bench detectors [options]``: the R-peak detector table instead
#: (:mod:`ecgseg.bench.detectors`; writes <data-dir>/bench/DETECTOR_RESULTS.md unless --out).
DETECTORS = "detectors"


@stops_cleanly
def bench(ctx: typer.Context) -> None:
    """Segmentation speed benchmark (options: see --help; writes <data-dir>/bench/RESULTS.md unless --out); `ecg bench detectors` for the R-peak detector table."""
    args = list(ctx.args)
    if args[:1] == [DETECTORS]:
        from ecgseg.bench.detectors import main as detectors_main

        detectors_main(args[1:], prog="ecg bench detectors")
        return
    from ecgseg.bench.segment_speed import main

    code = main(args, prog="ecg bench", cli_module=CLI_MODULE)
    if code:
        raise typer.Exit(code)


#: Typer settings: unknown options and --help go to the benchmark's own parser.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
