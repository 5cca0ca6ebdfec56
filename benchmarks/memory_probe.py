"""Where a process's memory is at one moment: RSS, glibc's heap, and (optionally) Python's.

Used by ``benchmarks/dask_scaling.py --probe`` to split the client's memory at the end
of a ``--shards`` run (all records received, the index not yet finished) into
what Python allocated (``tracemalloc``) and native memory (HDF5, numpy, malloc's free
but unreturned pages), at several numbers of records: what grows per record shows as
a slope in one of them.

Examples
--------
>>> p = snapshot()
>>> p["rss_mb"] > 0 and "heap_in_use_mb" in p
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tracemalloc


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        return libc
    except (OSError, AttributeError):  # not glibc >= 2.33
        return None


_LIBC = _libc()
MB = 2 ** 20


def rss_mb() -> float:
    """Resident set size of this process now, MB (``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def pymalloc_stats() -> dict:
    """Python's small-object allocator (pymalloc, objects up to 512 bytes, kept in arenas
    of its own mmap, which glibc's figures do not count), MB: ``pymalloc_arenas_mb``
    (mapped), ``pymalloc_in_use_mb`` (allocated blocks) and ``pymalloc_free_mb``
    (available blocks and unused pools: its fragmentation). Parsed from
    ``sys._debugmallocstats()`` (CPython; {} elsewhere)."""
    import sys
    import tempfile

    if not hasattr(sys, "_debugmallocstats"):
        return {}
    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    figures: dict = {}
    for line in text.splitlines():
        head, _, value = line.partition("=")
        try:
            n = int(value.strip().replace(",", ""))
        except ValueError:
            continue
        if "bytes/arena" in head:
            figures["pymalloc_arenas_mb"] = round(n / MB, 2)
        elif "bytes in allocated blocks" in head:
            figures["pymalloc_in_use_mb"] = round(n / MB, 2)
        elif "bytes in available blocks" in head or "unused pools" in head:
            figures["pymalloc_free_mb"] = round(figures.get("pymalloc_free_mb", 0) + n / MB, 2)
    return figures


def snapshot(top: int = 0) -> dict:
    """RSS, peak RSS so far (``ru_maxrss``), glibc heap figures (all arenas, MB) and, while ``tracemalloc`` traces, the
    traced total and the ``top`` biggest allocation sites (file:line, KB, count).

    ``heap_in_use_mb``: malloc'ed and not freed (``uordblks``, main + thread arenas);
    ``heap_free_mb``: free but kept by malloc (``fordblks``: fragmentation, arenas);
    ``mmapped_mb``: blocks of their own mmap (``hblkhd``, large arrays);
    ``pymalloc_*``: :func:`pymalloc_stats`.
    """
    import resource

    out = {"rss_mb": round(rss_mb(), 2),
           "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 2)}
    if _LIBC is not None:
        m = _LIBC.mallinfo2()
        out.update(heap_in_use_mb=round(m.uordblks / MB, 2),
                   heap_free_mb=round(m.fordblks / MB, 2),
                   mmapped_mb=round(m.hblkhd / MB, 2),
                   heap_arena_mb=round(m.arena / MB, 2))
    out.update(pymalloc_stats())
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()
        out.update(traced_mb=round(current / MB, 2), traced_peak_mb=round(peak / MB, 2))
        if top:
            snap = tracemalloc.take_snapshot()
            stats = snap.statistics("lineno")
            out["top"] = [(f"{s.traceback[0].filename.split('site-packages/')[-1]}:"
                           f"{s.traceback[0].lineno}", round(s.size / 1024, 1), s.count)
                          for s in stats[:top]]
            if tracemalloc.get_traceback_limit() > 1:  # where the biggest sites come from
                out["tracebacks"] = [
                    (round(s.size / 1024, 1), s.count, s.traceback.format(limit=12))
                    for s in snap.statistics("traceback")[:top]]
    return out


def probe_shard_index_end(store: dict, top: int = 25) -> None:
    """Record :func:`snapshot` in ``store["end_of_records"]`` when a
    :class:`ecgseg.shards.ShardIndexWriter` starts finishing its index (every record
    received and appended), by wrapping its ``_write_virtual``; and in
    ``store["parts"]``, for each index part, ``[records so far, RSS, peak RSS before the
    part, RSS, peak RSS after it, glibc heap in use, free, arena, anonymous mappings,
    their resident total, pymalloc arenas, mmapped blocks]`` (MB; count),
    ``store["maps"]`` each anonymous mapping's resident KB after each part, and, while
    ``tracemalloc`` traces, ``store["traced_between"]`` / ``store["traced"]`` Python's
    peak between the parts / current and peak in the part (``ECG_PROBE_DUMP``: a
    snapshot before each part).

    ``ECG_PROBE_PART_CANDIDATE`` switches one candidate on, for before/after runs
    (docs/scaling.md, "Where the rise is"): ``h5-garbage-collect`` (HDF5's
    ``H5garbage_collect`` and ``malloc_trim`` after each part), ``h5-free-list-limits``
    (HDF5 keeps no freed block), ``flush-hashes-at-part`` (the ``/source_sha256`` rows
    written at each part), ``collect-every-N`` (``gc.collect()`` every N records)."""
    from ecgseg.shards import ShardIndexWriter

    original = ShardIndexWriter._write_virtual

    def wrapped(self):
        store["end_of_records"] = snapshot(top)
        dump_snapshot(f"{self.shards}-end-of-records")
        return original(self)

    ShardIndexWriter._write_virtual = wrapped

    part = ShardIndexWriter._write_part
    store["parts"] = []

    candidate = os.environ.get("ECG_PROBE_PART_CANDIDATE", "")
    hdf5 = _hdf5() if candidate.startswith("h5") else None
    if candidate == "h5-free-list-limits" and hdf5 is not None:
        hdf5.H5set_free_list_limits(*[ctypes.c_int(0)] * 6)  # keep no freed block
    store["candidate"] = candidate
    if candidate.startswith("collect-every-"):  # Python's cycles freed between the parts
        import gc

        every = int(candidate.rsplit("-", 1)[1])
        append = ShardIndexWriter.append_shard

        def append_and_collect(self, *a, **k):
            append(self, *a, **k)
            if self.shards % every == 0:
                gc.collect()

        ShardIndexWriter.append_shard = append_and_collect

    def wrapped_part(self):  # [records so far, RSS and peak before, RSS and peak after,
        import resource  # heap in use, free, arena (MB), anonymous mappings (n, MB)]

        row = [self.shards, round(rss_mb(), 2),
               round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 2)]
        if tracemalloc.is_tracing():  # Python's peak between the parts, then in the part
            store.setdefault("traced_between", []).append(
                [self.shards, round(tracemalloc.get_traced_memory()[1] / MB, 3)])
            tracemalloc.reset_peak()
            dump_snapshot(f"{self.shards}-before-part")  # with ECG_PROBE_DUMP
        try:
            if candidate == "flush-hashes-at-part" and self.sources.added:
                self.sources.flush(self._f)  # the hash rows' sawtooth in step with parts
            return part(self)
        finally:
            if candidate == "h5-garbage-collect" and hdf5 is not None:
                hdf5.H5garbage_collect()
                from ecgseg.heap_trim import release_free_heap

                release_free_heap()
            heap = []
            if _LIBC is not None:
                m = _LIBC.mallinfo2()
                heap = [round(m.uordblks / MB, 3), round(m.fordblks / MB, 3),
                        round(m.arena / MB, 3)]
            store["parts"].append(row + [round(rss_mb(), 3), round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 2)]
                + heap + list(anonymous_mappings()) + [pymalloc_stats().get(
                    "pymalloc_arenas_mb"), _LIBC.mallinfo2().hblkhd / MB if _LIBC else None])
            store.setdefault("maps", {})[self.shards] = anonymous_mapping_sizes()
            if tracemalloc.is_tracing():  # Python's memory now and its peak in the part
                now, peak = tracemalloc.get_traced_memory()
                store.setdefault("traced", []).append(
                    [self.shards, round(now / MB, 3), round(peak / MB, 3)])
                tracemalloc.reset_peak()
            fresh = [float(i) + 0.5 for i in range(64)]  # pymalloc blocks: which mapping
            store.setdefault("pymalloc_at", {})[self.shards] = [hex(id(x)) for x in fresh[::16]]
            del fresh

    ShardIndexWriter._write_part = wrapped_part


def _hdf5():
    """h5py's own HDF5 library (ctypes; the same handle as h5py's), or None."""
    import glob

    import h5py

    found = glob.glob(os.path.join(os.path.dirname(h5py.__file__), os.pardir,
                                   "h5py.libs", "libhdf5-*"))
    try:
        return ctypes.CDLL(found[0] if found else "libhdf5.so")
    except OSError:
        return None


def anonymous_mappings() -> tuple[int, float]:
    """Anonymous private mappings of this process (``/proc/self/smaps``): how many and
    their resident total, MB (a new malloc arena shows as one more mapping)."""
    n, rss_kb, anon = 0, 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                anon = len(head) == 5 or head[5] in ("[heap]",)
                n += anon
            elif anon and head and head[0] == "Rss:":
                rss_kb += int(head[1])
    return n, round(rss_kb / 1024, 3)


def anonymous_mapping_sizes() -> dict:
    """Resident KB of each anonymous private mapping (``/proc/self/smaps``), by its
    ``start-end`` address range."""
    out, key = {}, None
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                key = head[0] if (len(head) == 5 or head[5] == "[heap]") else None
            elif key and head and head[0] == "Rss:":
                out[key] = int(head[1])
    return out


def dump_snapshot(label: str) -> str | None:
    """While ``tracemalloc`` traces and ``ECG_PROBE_DUMP`` names a folder, write a
    snapshot there as ``<label>.tracemalloc`` (for ``Snapshot.load`` and
    ``compare_to`` between runs of two sizes); returns its path."""
    folder = os.environ.get("ECG_PROBE_DUMP")
    if not folder or not tracemalloc.is_tracing():
        return None
    path = os.path.join(folder, f"{label}.tracemalloc")
    tracemalloc.take_snapshot().dump(path)
    return path
