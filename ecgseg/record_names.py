"""The record names a run takes: a list, or a stream read lazily.

:func:`ecgseg.segment_database` takes ``records`` as any iterable of names. A
sequence (list, tuple) is used as given; an iterable without a length (a generator, an
open file, :func:`read_record_names`) is *streamed*: each name is read when its task
is made, so that the running process never holds the whole list (docs/scaling.md:
the client's memory with ``--shards``; 5 x 10^5 Icentia11k names are ~35 MB as a
Python list). :func:`is_streamed` is the one test of which is which.

Examples
--------
>>> import io
>>> names = read_record_names(io.StringIO("100\\n  101 \\n\\n# a comment\\n102\\n"))
>>> is_streamed(names), is_streamed(["100"]), list(names)
(True, False, ['100', '101', '102'])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence, Sized
from itertools import islice
from typing import IO, Callable


def is_streamed(records: Iterable[str] | None) -> bool:
    """Whether ``records`` is read lazily, once (an iterable without a length).

    None (every record) and sized collections (list, tuple, set, numpy array) are not.
    """
    return records is not None and not isinstance(records, Sized)


def as_names(records: Iterable[str] | None) -> Sequence[str] | Iterator[str] | None:
    """``records`` as :func:`ecgseg.segment_database` uses it: None, a sequence (as
    given, not copied), a list (from a set or another sized collection), or an iterator
    (:func:`is_streamed`)."""
    if records is None or isinstance(records, Sequence):
        return records
    if isinstance(records, Sized):
        return list(records)
    return iter(records)


def read_record_names(source: str | os.PathLike | IO[str]) -> Iterator[str]:
    """Yield the record names of a text file, one per line, read lazily.

    Blank lines and lines starting with ``#`` are skipped; surrounding spaces are
    stripped. ``source`` is a path (``"-"``: standard input) or an open text file.

    Parameters
    ----------
    source : path or text file
        E.g. a PhysioNet ``RECORDS`` file, or ``grep '^p00/' RECORDS > p00.txt``.

    Yields
    ------
    str
        The names, in file order.
    """
    import sys

    if hasattr(source, "read"):
        yield from _names(source)
        return
    if os.fspath(source) == "-":
        yield from _names(sys.stdin)
        return
    with open(source, encoding="utf-8") as f:
        yield from _names(f)


def _names(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        name = line.strip()
        if name and not name.startswith("#"):
            yield name


#: Names of a stream checked (and downloaded) together by :func:`in_blocks`.
CHECK_BLOCK = 256


def in_blocks(names: Iterable[str], check: Callable[[list[str]], None],
              block: int | None = None) -> Iterator[str]:
    """Yield ``names``, calling ``check(block_of_names)`` before each block is yielded.

    How a streamed run checks (and downloads) its records a block at a time instead of
    all first: at most ``block`` names are held (default :data:`CHECK_BLOCK`).

    Examples
    --------
    >>> seen = []
    >>> list(in_blocks(iter("abcde"), seen.append, block=2)), seen
    (['a', 'b', 'c', 'd', 'e'], [['a', 'b'], ['c', 'd'], ['e']])
    """
    it = iter(names)
    block = max(1, int(CHECK_BLOCK if block is None else block))
    while True:
        chunk = list(islice(it, block))
        if not chunk:
            return
        check(chunk)
        yield from chunk
