"""``ecg bench``: the segmentation speed benchmark (:mod:`ecgseg.bench.segment_speed`).

Part of the installed package; every option is passed through to the benchmark's own
parser (``ecg bench --help`` shows them). Writes ``<data-dir>/bench/RESULTS.md`` and
``segment_speed.png`` unless ``--out``; the tracked ``benchmarks/RESULTS.md`` is only
replaced when asked (``--out benchmarks`` or ``python benchmarks/segment_speed.py``).
"""

from __future__ import annotations

import typer

#: The module that is ``ecg`` (fresh ``ecg segment`` processes run ``python -m`` of it).
CLI_MODULE = f"{__package__}.main"


def bench(ctx: typer.Context) -> None:
    """Segmentation speed benchmark (options: see --help; writes <data-dir>/bench/RESULTS.md unless --out)."""
    from ecgseg.bench.segment_speed import main

    code = main(list(ctx.args), prog="ecg bench", cli_module=CLI_MODULE)
    if code:
        raise typer.Exit(code)


#: Typer settings: unknown options and --help go to the benchmark's own parser.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
