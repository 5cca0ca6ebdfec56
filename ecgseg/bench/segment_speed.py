"""Segmentation speed: ours against the I/O floor, the NumPy reference and the peers.

Usage (``ecg bench`` from an installed package; from a source checkout also
``python benchmarks/segment_speed.py``, a thin script over this module)::

    ecg bench [--records N] [--repeat K] [--skip-peers]
        [--peer-records M] [--peer-seconds S] [--quick] [--data-dir DIR]
        [--mirror URL] [--workers W] [--out DIR]

On the MIT-BIH records of the data folder (downloaded first when missing), in one
process, rounds of interleaved runs (median of ``--repeat`` rounds reported):

1. I/O floor: wfdb ``rdrecord`` (the lead) + ``rdann`` (``atr``) of every record,
   nothing else; also split into its two halves, and spread over all cores.
2-3. ``segment_database`` (what ``ecg segment`` runs), paper recipe with 1 worker
   and with all cores, Kaggle recipe with all cores, end to end to HDF5, in this
   process (workers fork from it); and a fresh ``ecg segment`` process (all cores,
   interpreter and imports included), interleaved with the rest, to compare with
   the I/O floor measured in this already-running process. The bare interpreter
   start-up is timed separately.
4. The paper recipe on the leads in memory (resampling included): ours and the NumPy
   reference (:mod:`ecgseg.kernels_numpy`), checked identical first.
5. The kernels alone on signals already at 125 Hz, and the Kaggle MIT-BIH recipe:
   numba vs NumPy, input samples per second (one core).
6. Peers (``pip install -e .[bench]``), one run each, first round only: neurokit2
   ``ecg_peaks`` + ``ecg_segment``, and wfdb ``xqrs_detect`` + cropping, each reading
   the lead with wfdb first, on ``--peer-records`` records (default all).
7. Scale: the paper recipe, 1 worker, on 1, 4, 16 and all records and on one
   synthetic ``--long-hours`` record (the records' leads concatenated).
8. Peak RSS of a fresh ``ecg segment`` process tree on 4 and on all records.

Writes ``RESULTS.md`` and ``segment_speed.png`` to ``--out`` (default:
``<data-dir>/bench``; the checkout's script passes its own folder). Figures are
whatever the machine measured; nothing here asserts a speed. The peers need the
``bench`` extra (``pip install 'ecg-toolkit[bench]'``: neurokit2, psutil).
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import kernels_numpy as ref
from ..errors import EcgError
from . import cases as sc
from . import report

SCALE_POINTS = (1, 4, 16)
#: The CLI module a fresh ``ecg segment`` process runs (``python -m <module>``).
DEFAULT_CLI_MODULE = "ecg_cli.main"


def parse_args(argv: list[str] | None, prog: str | None = None,
               default_out: Path | None = None) -> argparse.Namespace:
    """Command-line options (``--quick`` applied).

    ``default_out`` is the folder used without ``--out`` (None: ``<data-dir>/bench``).

    Examples
    --------
    >>> parse_args(["--quick"]).records
    4
    """
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=None,
                   help="Use the first N records of RECORDS [default: all 48].")
    p.add_argument("--repeat", type=int, default=3, help="Rounds of our runs [3].")
    p.add_argument("--skip-peers", action="store_true", help="Do not run the peers.")
    p.add_argument("--peer-records", type=int, default=None,
                   help="Run the peers on the first M records [default: all used].")
    p.add_argument("--peer-seconds", type=float, default=None,
                   help="Run the peers on the first S seconds of each record [whole].")
    p.add_argument("--long-hours", type=float, default=24.0,
                   help="Length of the synthetic long record, hours (0: none) [24].")
    p.add_argument("--quick", action="store_true",
                   help="4 records, 1 round, peers on 2 records, a 2-hour long record.")
    p.add_argument("--workers", type=int, default=None, help="All cores = [os.cpu_count()].")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="Data folder (physionet/mitdb/1.0.0 inside) [ECG_DATA_DIR or ./data].")
    p.add_argument("--mirror", default=None, help="PhysioNet mirror URL for missing records.")
    p.add_argument("--out", type=Path, default=None,
                   help="Folder for RESULTS.md and segment_speed.png [<data-dir>/bench, so "
                        "that the tracked benchmarks/RESULTS.md is only replaced when "
                        "asked].")
    args = p.parse_args(argv)
    if args.out is None:
        if default_out is not None:
            args.out = Path(default_out)
        else:
            from ..config import data_dir as default_data_dir

            args.out = default_data_dir(args.data_dir) / "bench"
    if args.quick:
        args.records = min(args.records or 4, 4)
        args.repeat = 1
        args.peer_records = min(args.peer_records or 2, 2)
        args.long_hours = min(args.long_hours, 2.0)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


def prepare_data(args) -> tuple[Path, list[str]]:
    """The data folder and the record names, downloading missing records."""
    from ..config import data_dir as default_data_dir
    from ..download import download_database, missing_records, record_list

    data_dir = default_data_dir(args.data_dir)
    names = record_list("mitdb", data_dir, args.mirror)
    names = names[: args.records] if args.records else names
    missing = missing_records("mitdb", names, data_dir)
    if missing:
        download_database("mitdb", data_dir=data_dir, records=missing, mirror=args.mirror,
                          progress=True)
    return data_dir, names


def check_identical(recs: sc.Records) -> dict[str, str]:
    """Compare ours with the NumPy reference on every record (outside the timing)."""
    from ..recipes.kaggle import segment_kaggle_mitdb
    from ..recipes.paper import segment_paper

    def same(a, b) -> bool:
        return (a.beats.tobytes() == b.beats.tobytes() and np.array_equal(a.sample, b.sample)
                and np.array_equal(a.n_values, b.n_values) and a.stats == b.stats)

    paper = all(same(segment_paper(x, sc.FS), ref.segment_paper(x, sc.FS)) for x in recs.mlii)
    kaggle = all(same(segment_kaggle_mitdb(a, s, y)[0], ref.segment_kaggle_mitdb(a, s, y)[0])
                 for a, (s, y) in zip(recs.adc0, recs.ann))
    return {"paper": "identical" if paper else "DIFFERENT",
            "kaggle": "identical" if kaggle else "DIFFERENT"}


def _require_extras(skip_peers: bool) -> None:
    """Fail early, naming the package, when an optional peer of the benchmark is absent."""
    need = ["psutil"] + ([] if skip_peers else ["neurokit2"])
    missing = [m for m in need if importlib.util.find_spec(m) is None]
    if missing:
        raise EcgError(f"the benchmark needs {', '.join(missing)} (pip install "
                       f"'ecg-toolkit[bench]'{'' if skip_peers else ', or pass --skip-peers'})")


def build_cases(args, recs: sc.Records, data_dir: Path, tmp: Path, workers: int,
                long_rec: tuple[Path, str, int] | None,
                launcher: "sc.Launcher") -> tuple[list[sc.Case], list]:
    """The timed cases in run order, and the scale points ``(records, samples, key)``."""
    from ..pipeline import segment_database
    from ..recipes.kaggle import segment_kaggle_mitdb
    from ..recipes.paper import segment_paper
    from ..resample import resample

    n, names, samples = len(recs.names), recs.names, recs.samples

    def e2e(recipe: str, w: int, subset: list[str], ddir: Path = data_dir):
        out = tmp / f"{recipe}-{w}-{len(subset)}-{subset[0]}.h5"
        return lambda: segment_database("mitdb", data_dir=ddir, out=out, recipe=recipe,
                                        records=subset, workers=w, overwrite=True,
                                        download=False, progress=False)

    x125 = [resample(x, sc.FS, 125.0) for x in recs.mlii]
    n125 = int(sum(x.shape[0] for x in x125))
    floor = sc.Case("floor", "I/O floor: wfdb rdrecord (lead) + rdann (atr), 1 process",
                    None, samples, n, group="I/O floor")
    floor.run = lambda: sc.read_floor(recs, floor.parts)
    cases = [
        floor,
        sc.Case("floor-par", f"I/O floor spread over {workers} processes",
                lambda: sc.read_floor_parallel(recs, workers), samples, n, group="I/O floor"),
        sc.Case("paper-1", "ecg segment --recipe paper, 1 worker", e2e("paper", 1, names),
                samples, n, group="ours, end to end to HDF5 (in-process)"),
        sc.Case("paper-all", f"ecg segment --recipe paper, {workers} workers",
                e2e("paper", workers, names), samples, n,
                group="ours, end to end to HDF5 (in-process)"),
        sc.Case("kaggle-all", f"ecg segment --recipe kaggle, {workers} workers",
                e2e("kaggle", workers, names), samples, n,
                group="ours, end to end to HDF5 (in-process)"),
        sc.Case("cli-fresh", f"ecg segment --recipe paper, {workers} workers, fresh process "
                "(interpreter + imports)",
                lambda: launcher.run_segment(data_dir, names, tmp / "cli-fresh.h5", workers,
                                             watch=False),
                samples, n, group="ours, fresh process"),
        sc.Case("mem-ours", "paper recipe on leads in memory (resample + kernels), numba",
                lambda: [segment_paper(x, sc.FS) for x in recs.mlii], samples, n,
                group="in memory, 1 core"),
        sc.Case("mem-ref", "paper recipe on leads in memory, NumPy reference",
                lambda: [ref.segment_paper(x, sc.FS) for x in recs.mlii], samples, n,
                group="in memory, 1 core"),
        sc.Case("kern-ours", "kernels only (normalise, peaks, crop; 125 Hz in), numba",
                lambda: [segment_paper(x, 125.0) for x in x125], n125, n,
                group="in memory, 1 core"),
        sc.Case("kern-ref", "kernels only (125 Hz in), NumPy reference",
                lambda: [ref.segment_paper(x, 125.0) for x in x125], n125, n,
                group="in memory, 1 core"),
        sc.Case("kaggle-ours", "Kaggle MIT-BIH recipe in memory, numba",
                lambda: [segment_kaggle_mitdb(a, s, y) for a, (s, y) in zip(recs.adc0, recs.ann)],
                samples, n, group="in memory, 1 core"),
        sc.Case("kaggle-ref", "Kaggle MIT-BIH recipe in memory, NumPy reference",
                lambda: [ref.segment_kaggle_mitdb(a, s, y)
                         for a, (s, y) in zip(recs.adc0, recs.ann)],
                samples, n, group="in memory, 1 core"),
    ]
    if not args.skip_peers:
        m = min(args.peer_records or n, n)
        per = min(recs.mlii[0].shape[0], int(args.peer_seconds * sc.FS)) \
            if args.peer_seconds else None
        peer_samples = int(sum(min(x.shape[0], per or x.shape[0]) for x in recs.mlii[:m]))
        cases += [
            sc.Case("nk2", "neurokit2 ecg_peaks + ecg_segment (wfdb read first), 1 process",
                    lambda: sc.peer_neurokit(recs, m, args.peer_seconds), peer_samples, m,
                    once=True, group="peers (1 run)"),
            sc.Case("xqrs", "wfdb xqrs_detect + crop (wfdb read first), 1 process",
                    lambda: sc.peer_xqrs(recs, m, args.peer_seconds), peer_samples, m,
                    once=True, group="peers (1 run)"),
        ]
    scale = []
    for k in SCALE_POINTS:
        if k < n:
            key = f"scale-{k}"
            cases.append(sc.Case(key, f"scale: paper, 1 worker, {k} record(s)",
                                 e2e("paper", 1, names[:k]),
                                 int(sum(x.shape[0] for x in recs.mlii[:k])), k, group="scale"))
            scale.append((k, cases[-1].samples, key))
    scale.append((n, samples, "paper-1"))
    if long_rec is not None:
        ddir, name, long_samples = long_rec
        cases.append(sc.Case("scale-long", f"scale: paper, 1 worker, one {name} record",
                             e2e("paper", 1, [name], ddir), long_samples, 1, group="scale"))
        scale.append((name, long_samples, "scale-long"))
    return cases, scale


def run_rounds(cases: list[sc.Case], repeat: int, log) -> None:
    """Run every case once per round, interleaved; ``once`` cases in round 1 only."""
    for r in range(repeat):
        for case in cases:
            if case.once and r > 0:
                continue
            t0, c0 = time.perf_counter(), sc.cpu_now()
            case.run()
            case.times.append(time.perf_counter() - t0)
            case.cpu.append(sc.cpu_now() - c0)
            log(f"round {r + 1}/{repeat}  {case.times[-1]:8.3f} s  {case.label}")


def main(argv: list[str] | None = None, prog: str = "ecg bench",
         default_out: Path | None = None, cli_module: str = DEFAULT_CLI_MODULE) -> int:
    """Run the benchmark; write RESULTS.md and the chart. Returns 0.

    Parameters
    ----------
    argv : list of str, optional
        Options (see :func:`parse_args`; default ``sys.argv[1:]``).
    prog : str
        Program name shown in the usage and recorded in RESULTS.md.
    default_out : path, optional
        Output folder without ``--out`` (default ``<data-dir>/bench``).
    cli_module : str
        Module whose ``python -m`` is ``ecg`` (the fresh-process rows run it).

    Raises
    ------
    EcgError
        A package the chosen cases need is missing (neurokit2 for the peers, psutil
        for the memory rows).
    """
    import os

    from ..pipeline import warm_up
    from ..recipes.paper import segment_paper

    args = parse_args(argv, prog, default_out)
    _require_extras(args.skip_peers)
    launcher = sc.Launcher.for_module(cli_module)
    command = " ".join([prog] + [shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                                          else argv)])

    def log(msg: str) -> None:
        print(msg, flush=True)

    workers = args.workers or os.cpu_count() or 1
    load_before = os.getloadavg()
    data_dir, names = prepare_data(args)
    log(f"{len(names)} records in {data_dir}; reading them into memory")
    recs = sc.load_records(data_dir, names)
    identical = check_identical(recs)
    log(f"ours vs NumPy reference: paper {identical['paper']}, kaggle {identical['kaggle']}")
    warm_up("paper")
    warm_up("kaggle")
    segment_paper(recs.mlii[0][:20000], 125.0)
    if not args.skip_peers:
        sc.warm_peers()
    with tempfile.TemporaryDirectory(prefix="ecg-bench-") as td:
        tmp = Path(td)
        long_rec = (sc.write_long_record(recs, args.long_hours, tmp / "long")
                    if args.long_hours > 0 else None)
        cases, scale = build_cases(args, recs, data_dir, tmp, workers, long_rec, launcher)
        run_rounds(cases, args.repeat, log)
        log("fresh processes: start-up and peak RSS")
        startup = [launcher.startup_seconds() for _ in range(args.repeat)]
        sizes = sorted({min(4, len(names)), len(names)})
        memory = [launcher.run_segment(data_dir, names[:k], tmp / f"cli-{k}.h5", workers)
                  for k in sizes]
    load_after = os.getloadavg()
    result = report.Result(
        cases=cases, scale=scale, memory=memory, startup=float(np.median(startup)),
        workers=workers, records=len(names), repeat=args.repeat, identical=identical,
        command=command, load=(load_before, load_after),
        peer_note=(f"first {args.peer_seconds:g} s of each record"
                   if args.peer_seconds else "whole records"))
    md, png = report.write(result, args.out)
    log(f"wrote {md} and {png}")
    for line in report.headline(result):
        log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
