"""A fast reader of WFDB annotation files in MIT format (``.atr``).

``wfdb.rdann`` parses annotation files one byte pair at a time in Python and builds
several lists and a pandas table per file; on MIT-BIH that is two thirds of the time it
takes to read a record and its annotations. Segmentation needs only each annotation's
sample and symbol, so this module decodes the same format in one numba pass:

* each annotation is a 16-bit little-endian word: code ``A = word >> 10`` (6 bits) and
  time increment ``I = word & 1023`` (samples);
* ``A == 59`` (SKIP): the next two words hold a 32-bit signed increment, high word
  first (PDP-11 order);
* ``A == 60, 61, 62`` (NUM, SUB, CHN): one word of extra data for the annotation before;
* ``A == 63`` (AUX): ``I`` bytes of text follow, padded to an even length;
* a zero word ends the file.

The result equals ``wfdb.rdann(path, ext)``'s ``sample`` and ``symbol`` (a test checks
every MIT-BIH record); anything this reader does not expect falls back to wfdb.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

_SKIP, _NUM, _SUB, _CHN, _AUX = 59, 60, 61, 62, 63


@njit(cache=True)
def decode_mit_annotations(words):
    """Sample positions and annotation codes of an MIT-format annotation file.

    Parameters
    ----------
    words : np.ndarray
        uint16, shape (m,): the file's bytes as little-endian 16-bit words.

    Returns
    -------
    sample : np.ndarray
        int64, shape (k,): annotation positions, samples from the record's start.
    code : np.ndarray
        int64, shape (k,): annotation codes (wfdb ``label_store``, 1..49).
    ok : bool
        False if the file holds something this decoder does not handle.
    """
    m = words.shape[0]
    sample = np.empty(m, np.int64)
    code = np.empty(m, np.int64)
    k = 0
    t = np.int64(0)
    i = 0
    while i < m:
        w = np.int64(words[i])
        a = w >> 10
        inc = w & 1023
        if a == 0 and inc == 0:
            return sample[:k].copy(), code[:k].copy(), True
        if a == _SKIP:
            if i + 2 >= m:
                return sample[:k].copy(), code[:k].copy(), False
            d = (np.int64(words[i + 1]) << 16) | np.int64(words[i + 2])
            if d > 2147483647:
                d -= 4294967296
            t += d
            i += 3
        elif a == _NUM or a == _SUB or a == _CHN:
            i += 1
        elif a == _AUX:
            i += 1 + (inc + 1) // 2
        else:
            t += inc
            sample[k] = t
            code[k] = a
            k += 1
            i += 1
    return sample[:k].copy(), code[:k].copy(), True


#: Symbol of each MIT annotation code 0..41 (the WFDB standard codes, ``ecgcodes.h``;
#: '' for the unused codes 15 and 17; a test checks it against wfdb's
#: ``ann_label_table``). Codes 42..49 are user-defined: such files go to wfdb.
MIT_CODE_SYMBOLS = (" NLRaVFJASEj/Q~", "", "|", "", "s", "T", "*", "D", '"', "=", "p", "B",
                    "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@", "x", "f", "(",
                    ")", "r")


@functools.cache
def _symbols() -> np.ndarray:
    """``MIT_CODE_SYMBOLS`` as a lookup table of 64 entries ('' where undefined)."""
    codes = list(MIT_CODE_SYMBOLS[0]) + list(MIT_CODE_SYMBOLS[1:])
    table = np.full(64, "", dtype="U2")
    table[: len(codes)] = codes
    return table


def read_mit_annotations(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Read an MIT-format annotation file: ``(sample int64 (k,), symbol str (k,))``.

    Returns None when the file is not plain MIT format (the caller then uses wfdb).
    """
    raw = np.fromfile(path, dtype="<u2")
    sample, code, ok = decode_mit_annotations(np.ascontiguousarray(raw))
    if not ok or (code >= 50).any() or (code <= 0).any():
        return None
    symbol = _symbols()[code]
    if (symbol == "").any():
        return None
    return sample, symbol
