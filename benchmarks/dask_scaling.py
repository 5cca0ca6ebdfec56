"""Dask segmentation on one machine: overhead against the process pool, client memory.

Usage (from the source checkout, ``pip install -e ".[distributed]"``)::

    python benchmarks/dask_scaling.py [--copies 10] [--rounds 3] [--workers 2]
        [--memory-copies 1,5,10] [--memory-methods M:shards|file,...] [--unbatched]
        [--before] [--alt-env JSON] [--throughput-shards]
        [--memory-repeats N] [--probe rss|trace] [--slope-from RECORDS] [--stub]
        [--names-as stream|list] [--source DIR] [--out FILE]

A synthetic database of ``--copies`` x 48 records is made of the real MIT-BIH records
of ``--source`` (a ``mitdb/1.0.0`` folder) repeated under new names ``rep000/100``,
``rep001/100``, ... (a temporary data folder of symlinks: 10 copies = 480 records,
240.7 h of ECG). Then, each in a fresh Python process so that nothing is shared:

1. Throughput, rounds of interleaved runs (pool, LocalCluster, scheduler + workers,
   pool, ...) of the paper recipe into one HDF5 file, ``--workers`` processes each:
   ``segment_database`` wall time (the LocalCluster's start and stop included; the
   ``dask scheduler`` / ``dask worker`` processes already running, as a service would),
   hours of ECG per second, and the CPU seconds of every process involved (client,
   pool or LocalCluster workers, or the scheduler, nannies and workers), which a
   busy machine distorts less than wall time; medians, with the 1-minute load average
   at each run. ``--unbatched`` adds the two Dask methods with one record per Dask task
   (``ecgseg.distributed.MAX_BATCH = 1``) to the same rounds: the cost of Dask's
   per-task messages that batching saves. ``--before`` adds a second scheduler + workers
   cluster configured as before 2026-11-29 (Dask's worker profiler on, workers without
   ``ecgseg.dask_preload``, Dask's ``MALLOC_TRIM_THRESHOLD_``) to the same rounds;
   ``--alt-env JSON`` one whose processes get these environment variables on top. ``--throughput-shards``: these runs write
   shards (the workers write the beats; only small results reach the client).
2. The client's peak RSS (``ru_maxrss`` of the process calling ``segment_database``;
   the scheduler and the workers are other processes) against the number of records,
   with and without ``--shards``, on the scheduler + workers cluster, and with
   ``--shards`` on the process pool (what grows without Dask); ``--memory-methods``
   chooses among these (e.g. ``dask-processes:shards,pool:shards``). ``--memory-repeats``
   runs the series of sizes again (interleaved); then the least-squares slope of the
   peak against records (KB per record, from ``--slope-from`` records) is printed with
   its standard error: docs/scaling.md defines "no growth" with it. ``--probe rss``
   also records RSS and glibc's heap at the last record (before the index is finished)
   and ``--probe trace`` Python's allocations (``tracemalloc``; ``ECG_PROBE_FRAMES=N``
   keeps N frames, the biggest sites' tracebacks in the ``--out`` JSON):
   :mod:`benchmarks.memory_probe`. ``--stub``: in the ``--shards`` memory runs the
   workers segment each MIT-BIH record once and send the same light result again for
   every copy (:mod:`benchmarks.stub_shard_task`): the client's side alone, ~8x faster.

Every run gives ``segment_database`` its record names as a stream read from a text file
as the run goes (what ``ecg segment --records-from`` does; since 2026-11-29 20:00), or,
with ``--names-as list``, as a list the calling process holds (as before: ~70 bytes a
record of the caller's memory, which the client's peak RSS includes).

Nothing is asserted; the figures are what the machine measured. The machine may be
shared: look at the load averages before reading the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "physionet" / "files" / "mitdb" / "1.0.0"
METHODS = ("pool", "dask-local", "dask-processes")
#: ``--before``: the scheduler + workers cluster as it was configured before 2026-11-29
#: 08:00 (Dask's worker profiler on, no ``ecgseg.dask_preload``, the nanny's
#: ``MALLOC_TRIM_THRESHOLD_=65536``), a second cluster run in the same rounds, to measure
#: what these changes save side by side.
BEFORE = ("dask-processes-before",)
#: ``--alt-env JSON``: a second scheduler + workers cluster with these environment
#: variables on top (e.g. another ``distributed.nanny.pre-spawn-environ``), same rounds.
ALT = ("dask-processes-alt",)
#: Environment of the ``--before`` cluster's processes (on top of ``DASK_ENV``).
BEFORE_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "True",
              "DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON": "{'MALLOC_TRIM_THRESHOLD_': 65536}"}
#: The Dask methods again with one record per Dask task (``--unbatched``): the cost of
#: Dask's per-task messages, measured side by side with the batched default.
UNBATCHED = ("dask-local-1", "dask-processes-1")


def make_repeated_data_dir(source: Path, copies: int, folder: Path) -> list[str]:
    """A data folder whose ``mitdb/1.0.0`` holds ``copies`` symlinks to ``source``.

    Returns the record names ``rep000/100`` ... in order (copies x RECORDS).
    """
    base = folder / "physionet" / "mitdb" / "1.0.0"
    base.mkdir(parents=True, exist_ok=True)
    names = (source / "RECORDS").read_text().split()
    out = []
    for i in range(copies):
        link = base / f"rep{i:03d}"
        if not link.exists():
            link.symlink_to(source.resolve(), target_is_directory=True)
        out += [f"rep{i:03d}/{n}" for n in names]
    return out


def _one(args) -> None:
    """Child process: one ``segment_database`` run; prints a JSON line."""
    import resource

    import h5py

    from ecgseg.pipeline import segment_database

    from ecgseg.record_names import read_record_names

    # streamed (read as the run goes, as `ecg segment --records-from` does), or a list
    names = read_record_names(args.names_file)
    if args.names_as == "list":
        names = list(names)
    kw = dict(data_dir=args.data_dir, out=args.out_h5, records=names, workers=args.workers,
              progress=False, download=False, overwrite=True)
    method = args.method
    if method.endswith("-1"):  # one record per Dask task
        import ecgseg.distributed

        ecgseg.distributed.MAX_BATCH = 1
        method = method[:-2]
    if method == "dask-local":
        kw["scheduler"] = "local"
    elif method.startswith("dask-processes"):
        kw["scheduler"] = args.address
    if args.shards:
        kw["shards"] = args.shards
    if args.stub:  # the workers answer from one real result per base record
        import ecgseg.shards

        from benchmarks.stub_shard_task import cached_record_to_shard

        ecgseg.shards.process_record_to_shard = cached_record_to_shard
    probe: dict = {}
    if args.probe:
        import tracemalloc

        from benchmarks.memory_probe import probe_shard_index_end, snapshot

        probe_shard_index_end(probe)
        if args.probe == "trace":  # ECG_PROBE_FRAMES: frames per allocation (default 1)
            tracemalloc.start(int(os.environ.get("ECG_PROBE_FRAMES", "1")))
        probe["start"] = snapshot()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    s = segment_database("mitdb", **kw)
    seconds = time.perf_counter() - t0
    if args.probe:
        probe["end"] = snapshot()
    ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(r.ru_utime + r.ru_stime for r in ru)
    with h5py.File(args.out_h5, "r") as f:
        hours = float((f["records/samples"][()] / f["records/fs_in"][()]).sum() / 3600)
    print(json.dumps({"method": args.method, "records": s.n_records, "beats": s.beats,
                      "names_as": args.names_as,
                      "seconds": seconds, "hours": hours, "load": load,
                      "shards": bool(args.shards), "cpu_s": cpu,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      **({"probe": probe} if probe else {})}))


def _cluster_cpu(cluster) -> float:
    """CPU seconds (user + system) used so far by the scheduler, nannies and workers."""
    import psutil

    total = 0.0
    for p in [cluster.scheduler, *cluster.workers]:
        try:
            proc = psutil.Process(p.pid)
            for q in [proc, *proc.children(recursive=True)]:
                t = q.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _run_child(method: str, names: list[str], data_dir: Path, work: Path, workers: int,
               address: str | None, shards: bool, cluster=None, probe: str | None = None,
               stub: bool = False, names_as: str = "stream") -> dict:
    names_file = work / f"names-{len(names)}.txt"
    names_file.write_text("".join(f"{n}\n" for n in names))
    out_h5 = work / "out.h5"
    cmd = [sys.executable, __file__, "--one", method, "--names-file", str(names_file),
           "--data-dir", str(data_dir), "--out-h5", str(out_h5), "--workers", str(workers)]
    if address:
        cmd += ["--address", address]
    if shards:
        shard_dir = work / "shards"
        cmd += ["--shards", str(shard_dir)]
    if probe:
        cmd += ["--probe", probe]
    if stub:
        cmd += ["--stub"]
    cmd += ["--names-as", names_as]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    remote = method.startswith("dask-processes")
    before = _cluster_cpu(cluster) if remote else 0.0
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-3000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    if remote:
        res["cpu_s"] += _cluster_cpu(cluster) - before
    return res


def _probe_line(probe: dict | None) -> str:
    """The probe's figures at the end of the records, one line (empty without a probe)."""
    if not probe or "end_of_records" not in probe:
        return ""
    e, s = probe["end_of_records"], probe["start"]
    line = (f"\n    at the last record: RSS {e['rss_mb']:.1f} MB (+{e['rss_mb'] - s['rss_mb']:.1f}"
            f" over the start; peak so far {e['max_rss_mb']:.1f} MB), heap in use {e.get('heap_in_use_mb', 0):.1f} MB, "
            f"free in heap {e.get('heap_free_mb', 0):.1f} MB, mmapped "
            f"{e.get('mmapped_mb', 0):.1f} MB")
    if "traced_mb" in e:
        line += f", Python traced {e['traced_mb']:.2f} MB"
        for site, kb, count in e.get("top", [])[:12]:
            line += f"\n      {kb:9.1f} KB {count:7d}  {site}"
    return line


def _memory_slopes(runs: list[dict], slope_from: int) -> None:
    """Least-squares slope of the client's peak RSS against records, KB per record, for
    each method (and of each probe figure), over every size from ``slope_from`` records
    and every repeat, with its standard error (the noise of the runs about the line).

    Sizes below two index parts (``2 * ecgseg.shards.PART_RECORDS``) are left out by
    default: the first part's virtual datasets are built once a run has 256 records, a
    step of a few MB that is fixed, not a slope.
    """
    import numpy as np

    keys = sorted({(r["method"], r["shards"]) for r in runs})
    for method, shards in keys:
        xs = [r for r in runs if (r["method"], r["shards"]) == (method, shards)
              and r["records"] >= slope_from]
        n = np.array([r["records"] for r in xs], dtype=float)
        if len(set(n)) < 2:
            continue
        figures = {"peak RSS": [r["max_rss_mb"] for r in xs]}
        if all("end_of_records" in r.get("probe", {}) for r in xs):
            for k in ("max_rss_mb", "rss_mb", "heap_in_use_mb", "heap_free_mb", "mmapped_mb", "traced_mb",
                      "pymalloc_arenas_mb", "pymalloc_in_use_mb", "pymalloc_free_mb"):
                if all(k in r["probe"]["end_of_records"] for r in xs):
                    figures[f"end-of-records {k}"] = [r["probe"]["end_of_records"][k]
                                                      for r in xs]
        out = []
        for name, ys in figures.items():
            slope, icpt = np.polyfit(n, np.array(ys), 1)
            resid = np.array(ys) - (slope * n + icpt)
            se = (np.sqrt((resid ** 2).sum() / max(1, len(n) - 2))
                  / np.sqrt(((n - n.mean()) ** 2).sum())) if len(n) > 2 else float("nan")
            out.append(f"{name} {1024 * slope:+.2f} +- {1024 * se:.2f} KB/record")
        print(f"slope {method} shards={shards} ({len(xs)} runs of {int(n.min())}-"
              f"{int(n.max())} records): " + "; ".join(out), flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-copies", default="1,5,10")
    p.add_argument("--memory-methods", default="dask-processes:shards,dask-processes:file,"
                   "pool:shards", help="the client-memory runs: method:shards|file, ...")
    p.add_argument("--throughput-shards", action="store_true",
                   help="throughput runs write shards (--shards) instead of one file")
    p.add_argument("--unbatched", action="store_true",
                   help="also run the Dask methods with one record per task")
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    p.add_argument("--out", type=Path, default=None, help="JSON file of every run")
    # child-process mode
    p.add_argument("--before", action="store_true",
                   help="also run a second scheduler + workers cluster configured as before "
                        "(profiler on, no preload, Dask's malloc trim) in the same rounds")
    p.add_argument("--alt-env", type=json.loads, default=None,
                   help="JSON object of environment variables of a second scheduler + "
                        "workers cluster run in the same rounds (method dask-processes-alt)")
    p.add_argument("--one", choices=METHODS + UNBATCHED + BEFORE + ALT)
    p.add_argument("--names-file")
    p.add_argument("--data-dir")
    p.add_argument("--out-h5")
    p.add_argument("--address")
    p.add_argument("--shards")
    p.add_argument("--probe", choices=("rss", "trace"), default=None,
                   help="memory runs: also record RSS and glibc's heap (rss), and Python's "
                        "allocations (trace: tracemalloc, slower) at the end of the records "
                        "and of the run (benchmarks/memory_probe.py)")
    p.add_argument("--slope-from", type=int, default=480,
                   help="memory runs: fit the slopes over sizes from this many records")
    p.add_argument("--stub", action="store_true",
                   help="memory runs with --shards: the workers segment each base record "
                        "once and return its result again for every copy "
                        "(benchmarks/stub_shard_task.py): the client's side alone, fast")
    p.add_argument("--names-as", choices=("stream", "list"), default="stream",
                   help="the records given to segment_database as a stream read from a "
                        "file as the run goes (ecgseg.record_names.read_record_names, as "
                        "`ecg segment --records-from`), or as a list the caller holds")
    p.add_argument("--memory-repeats", type=int, default=1,
                   help="memory runs: repeat the whole series of sizes this many times "
                        "(interleaved), for the noise of the slope")
    args = p.parse_args(argv)
    if args.one:
        args.method = args.one
        _one(args)
        return

    from ecgseg.distributed import loopback_cluster

    methods = (METHODS + (UNBATCHED if args.unbatched else ()) + (BEFORE if args.before else ())
               + (ALT if args.alt_env else ()))
    runs = []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [q for q in os.environ.get("PYTHONPATH", "").split(os.pathsep) if q]))
    with tempfile.TemporaryDirectory(prefix="dask-scaling-") as tmp:
        tmp = Path(tmp)
        data_dir = tmp / "data"
        names = make_repeated_data_dir(args.source, args.copies, data_dir)
        with contextlib.ExitStack() as stack:
            cluster = stack.enter_context(loopback_cluster(args.workers, env=env))
            before = (stack.enter_context(loopback_cluster(
                args.workers, env=dict(env, **BEFORE_ENV), preload=False))
                if args.before else None)
            alt = (stack.enter_context(loopback_cluster(args.workers,
                                                        env=dict(env, **args.alt_env)))
                   if args.alt_env else None)
            for r in range(args.rounds):
                for method in methods:
                    c = before if method in BEFORE else alt if method in ALT else cluster
                    res = _run_child(method, names, data_dir, tmp, args.workers,
                                     c.address, shards=args.throughput_shards,
                                     cluster=c, names_as=args.names_as)
                    res["round"] = r
                    runs.append(res)
                    print(f"round {r} {method:15s} {res['records']} records "
                          f"{res['hours']:.1f} h  {res['seconds']:6.2f} s  "
                          f"{res['hours'] / res['seconds']:6.2f} h/s  "
                          f"CPU {res['cpu_s']:6.1f} s  load {res['load']:.1f}", flush=True)
            sizes = [int(c) for c in args.memory_copies.split(",") if c]
            for repeat in range(args.memory_repeats if sizes else 0):
                for copies in sizes:
                    subset = names[: copies * 48]
                    for method, out in (m.split(":") for m in args.memory_methods.split(",")
                                        if m):
                        shards = out == "shards"
                        res = _run_child(method, subset, data_dir, tmp, args.workers,
                                         cluster.address, shards=shards, cluster=cluster,
                                         probe=args.probe, stub=args.stub and shards,
                                         names_as=args.names_as)
                        res["memory"] = True
                        res["repeat"] = repeat
                        runs.append(res)
                        print(f"memory {method:15s} {res['records']:4d} records "
                              f"shards={shards!s:5s} "
                              f"client peak RSS {res['max_rss_mb']:.1f} MB "
                              f"({res['seconds']:.1f} s, load {res['load']:.1f})"
                              + _probe_line(res.get("probe")), flush=True)
                _memory_slopes([x for x in runs if x.get("memory")], args.slope_from)
    print("\nmedians (throughput runs):")
    base = None
    for method in methods if args.rounds else ():
        xs = [x for x in runs if x["method"] == method and not x.get("memory")]
        sec = statistics.median(x["seconds"] for x in xs)
        cpu = statistics.median(x["cpu_s"] for x in xs)
        base = (sec, cpu) if base is None else base
        print(f"  {method:15s} {sec:6.2f} s  {xs[0]['hours'] / sec:6.2f} h of ECG/s  "
              f"{100 * (sec / base[0] - 1):+5.1f} % vs pool;  CPU {cpu:6.1f} s "
              f"({1000 * cpu / xs[0]['hours']:.0f} ms per hour of ECG, "
              f"{100 * (cpu / base[1] - 1):+5.1f} % vs pool);  "
              f"load {statistics.median(x['load'] for x in xs):.1f}")
    if args.out:
        args.out.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
