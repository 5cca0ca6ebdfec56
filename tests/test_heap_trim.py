"""ecgseg.heap_trim: the C heap's free pages given back (glibc), a no-op elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ecgseg import heap_trim


def test_release_free_heap_is_a_no_op_without_malloc_trim(monkeypatch):
    monkeypatch.setattr(heap_trim, "_TRIM", None)
    assert heap_trim.release_free_heap() is False


@pytest.mark.skipif(heap_trim._TRIM is None, reason="glibc's malloc_trim only")
def test_release_free_heap_returns_freed_pages_to_the_system():
    # in a fresh process: 40 MB of 64 KB blocks (below the mmap threshold: on the heap),
    # every other one freed (holes glibc keeps), then trimmed: RSS drops by ~20 MB
    code = """
import os, numpy as np
from ecgseg.heap_trim import release_free_heap
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
blocks = [np.ones(8192) for _ in range(640)]
del blocks[::2]
before = rss()
print(release_free_heap(), before - rss())
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}  # defaults
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    released, dropped_mb = out.split()
    assert released == "True"
    assert float(dropped_mb) > 10


def test_release_free_heap_collects_reference_cycles_first(monkeypatch):
    import gc
    import weakref

    class Node:
        pass

    monkeypatch.setattr(heap_trim, "_TRIM", None)  # the collection runs without glibc too
    gc.disable()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: freed only by the garbage collector
        alive = weakref.ref(a)
        del a, b
        heap_trim.release_free_heap()
        assert alive() is not None  # no collection unless asked
        heap_trim.release_free_heap(collect=True)
        assert alive() is None
    finally:
        gc.enable()
