"""Peak memory of writing a ``--shards`` database file (the client's part) against records.

Usage::

    python benchmarks/shard_index_memory.py [--records 48,480,4800]

For each number of records R, in a fresh Python process each: a
:class:`ecgseg.shards.ShardIndexWriter` is given R records of 1 420 beats (the MIT-BIH
mean), each in its own shard (the shards need not exist: a virtual dataset only names
them), and writes the file. Printed: the process's RSS before, after the R
``append_shard`` calls, and its peak (``ru_maxrss``), in MB. ``--one-session``: plain
h5py creating the six virtual datasets (R mappings each) in one session of an
in-memory file, as the writer did before 2026-11-29, for comparison.

Each record's ``/records`` row has the 22 columns of a paper-recipe MIT-BIH record;
``--sources 3`` also adds its three source files' hashes (``add_sources``), which make
the ``source_sha256`` attribute written at the end.
No segmentation and no Dask: this isolates what the client's memory does with R, which
``benchmarks/dask_scaling.py`` measures end to end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _one_session(path: str, n: int, beats: int = 1420) -> None:
    """The six virtual datasets of R mappings each, created in one session of an
    in-memory file (how :class:`~ecgseg.shards.ShardIndexWriter` did it before)."""
    import io

    import h5py
    import numpy as np

    from ecgseg.shards import VIRTUAL
    from ecgseg.store import _PER_BEAT

    image = io.BytesIO()
    dtypes = dict(_PER_BEAT, beats=np.float32, symbol="S1")
    with h5py.File(image, "w") as f:
        for key in VIRTUAL:
            tail = (187,) if key == "beats" else ()
            layout = h5py.VirtualLayout(shape=(n * beats, *tail), dtype=dtypes[key])
            for i in range(n):
                layout[i * beats:(i + 1) * beats] = h5py.VirtualSource(
                    f"shards/{i}.h5", key, shape=(beats, *tail))
            f.create_virtual_dataset(key, layout)
    with open(path, "wb") as out:
        out.write(image.getvalue())


def _one(n: int, one_session: bool, sources: int = 0) -> dict:
    from ecgseg.shards import ShardIndexWriter

    # the /records row of MIT-BIH record 100 with the paper recipe (22 columns)
    stats = {"beats_cut_length": 277, "beats_cut_window": 150, "fs_in": 360.0,
             "label_source": "atr", "lead": "MLII", "local_maxima": 68182,
             "matched_beats": 1060, "peaks": 1066, "positive_predictivity": 0.999057,
             "reference_beats": 2273, "samples": 650000, "samples_dropped": 695,
             "samples_in": 650000, "samples_resampled": 225695, "sensitivity": 0.46634,
             "unmatched_peaks": 1, "windows": 180, "windows_flat": 0, "windows_skipped": 5}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.h5")
        before = _rss_mb()
        if one_session:
            _one_session(path, n)
            appended = before
        else:
            with ShardIndexWriter(path, length=187, attrs={"a": 1}) as w:
                for i in range(n):
                    row = {k: (v + i % 7 if isinstance(v, (int, float)) else str(v))
                           for k, v in stats.items()}  # new objects, as unpickled
                    name = f"rep{i // 48:03d}/{100 + i % 48}"
                    w.append_shard(name, f"p{i}",
                                   os.path.join(tmp, "shards", f"{i}.h5"), 1420, stats=row)
                    if sources:  # as a run adds them: relative path -> sha256 hex
                        w.add_sources({f"{name}.{ext}": hashlib.sha256(
                            f"{name}.{ext}".encode()).hexdigest()
                            for ext in ("hea", "dat", "atr", "xws", "x5", "x6")[:sources]})
                appended = _rss_mb()
        size = os.path.getsize(path)
    return {"records": n, "one_session": one_session, "sources": sources,
            "rss_before_mb": round(before, 1),
            "rss_after_appends_mb": round(appended, 1), "file_kb": size // 1024,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--records", default="48,480,4800")
    p.add_argument("--one-session", action="store_true")
    p.add_argument("--sources", type=int, default=0,
                   help="source files hashed per record (a run of MIT-BIH: 3), written "
                        "as the source_sha256 attribute at the end")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one is not None:
        print(json.dumps(_one(args.one, args.one_session, args.sources)))
        return
    for n in (int(x) for x in args.records.split(",")):
        cmd = [sys.executable, __file__, "--one", str(n), "--sources", str(args.sources)]
        if args.one_session:
            cmd.append("--one-session")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{r['records']:6d} records: RSS {r['rss_before_mb']:.0f} MB before, "
              f"{r['rss_after_appends_mb']:.1f} MB after the appends, peak {r['peak_mb']:.1f} MB "
              f"(+{r['peak_mb'] - r['rss_before_mb']:.1f} MB; file {r['file_kb']} KB)",
              flush=True)


if __name__ == "__main__":
    main()
