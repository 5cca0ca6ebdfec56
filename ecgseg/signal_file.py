"""A fast reader of plain WFDB records (header and format 212 or 16 signal files).

``import wfdb`` costs a fresh ``ecg segment`` process ~0.25 s before any record is read
(it imports pandas and pyarrow), and ``wfdb.rdrecord`` decodes every signal of a file
through several copies. The records segmentation reads are plain: one header line per
signal, formats 212 (MIT-BIH) or 16 (PTB), one sample per frame, no skew, no byte
offset. This module reads exactly those, with NumPy, and returns None for anything
else so that the caller falls back to wfdb:

* header (``.hea``): ``name n_sig fs sig_len`` then per signal
  ``file fmt gain[(baseline)][/units] adc_res adc_zero init_value checksum block_size
  description`` (the baseline is ``adc_zero`` when the gain carries none, the units
  ``mV``); ``#`` lines are comments;
* format 16: little-endian int16, the file's signals interleaved per frame;
* format 212: 12-bit two's complement, two samples in three bytes
  (``s0 = b0 | (b1 & 0x0F) << 8``, ``s1 = b2 | (b1 & 0xF0) << 4``);
* physical values as wfdb computes them: ``(float64(d) - baseline) / gain``, NaN where
  ``d`` is the format's invalid-sample value (-2048 for 212, -32768 for 16).

Every field and sample equals ``wfdb.rdheader`` / ``wfdb.rdrecord(..., return_res=64)``
(tests compare all MIT-BIH records, every channel, digital and physical, and the PTB
records of the mirror).

Examples
--------
>>> h = parse_header("100 2 360 650000\\n100.dat 212 200 11 1024 995 -22131 0 MLII\\n"
...                  "100.dat 212 200 11 1024 1011 20052 0 V5\\n# 69 M\\n")
>>> h.sig_name, h.fs, h.baseline, h.comments
(['MLII', 'V5'], 360, [1024, 1024], ['69 M'])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Digital value wfdb reads as NaN, per storage format.
INVALID_SAMPLE = {"212": -2048, "16": -32768}
_BYTES_PER_SAMPLE = {"212": 1.5, "16": 2.0}
_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
#: ``gain[(baseline)][/units]``, the third field of a signal line.
_GAIN = re.compile(r"(?P<gain>[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)"
                   r"(\((?P<baseline>[+-]?\d+)\))?(/(?P<units>[\w^?%/-]+))?\Z")


@dataclass
class Header:
    """The fields of a WFDB header that segmentation uses (names as in ``wfdb.Record``).

    Attributes
    ----------
    record_name : str
        As the header's first line names it.
    n_sig : int
    fs : int or float
        Sampling frequency, Hz (int when the header writes an integer, as wfdb).
    sig_len : int
        Samples per signal.
    file_name, fmt, sig_name, units : list of str
        Per signal.
    adc_gain : list of float
        ADC units per physical unit.
    baseline : list of int
        ADC value of 0 physical units.
    comments : list of str
        Comment lines without ``#`` and surrounding blanks.
    """

    record_name: str
    n_sig: int
    fs: int | float
    sig_len: int
    file_name: list = field(default_factory=list)
    fmt: list = field(default_factory=list)
    adc_gain: list = field(default_factory=list)
    baseline: list = field(default_factory=list)
    units: list = field(default_factory=list)
    sig_name: list = field(default_factory=list)
    comments: list = field(default_factory=list)


def parse_header(text: str) -> Header | None:
    """Parse a plain single-segment header, or None when it is not one (use wfdb)."""
    lines, comments = [], []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            comments.append(line.strip(" \t#"))
        elif line:
            lines.append(line)
    if not lines:
        return None
    rec = lines[0].split()
    if (len(rec) != 4 or "/" in rec[0] or not _INT.match(rec[1]) or not _NUMBER.match(rec[2])
            or not _INT.match(rec[3])):
        return None
    n_sig, sig_len = int(rec[1]), int(rec[3])
    fs = int(rec[2]) if _INT.match(rec[2]) else float(rec[2])
    if n_sig < 1 or len(lines) != 1 + n_sig or sig_len < 1 or not fs > 0:
        return None
    h = Header(record_name=rec[0], n_sig=n_sig, fs=fs, sig_len=sig_len,
               comments=comments)
    for line in lines[1:]:
        tok = line.split()
        g = _GAIN.match(tok[2]) if len(tok) == 9 else None
        if (g is None or tok[1] not in INVALID_SAMPLE
                or not all(_INT.match(t) for t in tok[3:8])):
            return None
        gain = float(g["gain"])
        if not gain > 0 or not math.isfinite(gain):
            return None
        h.file_name.append(tok[0])
        h.fmt.append(tok[1])
        h.adc_gain.append(gain)
        h.baseline.append(int(g["baseline"] if g["baseline"] is not None else tok[4]))
        h.units.append(g["units"] or "mV")
        h.sig_name.append(tok[8])
    return h


def read_header(path: str | Path) -> Header | None:
    """Read ``<path>.hea`` if it is a plain header (None otherwise, or when unreadable)."""
    path = Path(path)
    try:
        text = Path(f"{path}.hea").read_text(encoding="latin-1")
    except (OSError, UnicodeError):
        return None
    return parse_header(text)


def _slot_212(groups: np.ndarray, slot: int) -> np.ndarray:
    """Sample ``slot`` (0 or 1) of each 3-byte group (uint8 (k, 3)) as int64 (k,)."""
    if slot == 0:
        v = groups[:, 0].astype(np.int16) | ((groups[:, 1] & 0x0F).astype(np.int16) << 8)
    else:
        v = groups[:, 2].astype(np.int16) | ((groups[:, 1] & 0xF0).astype(np.int16) << 4)
    v <<= 4  # the 12-bit sign to bit 15, then an arithmetic shift back: sign extension
    v >>= 4
    return v.astype(np.int64)


def _decode_212(raw: np.ndarray, sig_len: int, width: int, col: int) -> np.ndarray:
    """Signal ``col`` of ``width`` interleaved format-212 signals in bytes ``raw`` (uint8),
    int64 (sig_len,). With an even ``width`` a signal's samples sit in the same half of
    every ``width / 2``-th group, so only those are decoded."""
    n = sig_len * width
    groups = (n + 1) // 2
    if raw.shape[0] < groups * 3:  # an odd sample count ends with a 2-byte half group
        raw = np.concatenate([raw, np.zeros(groups * 3 - raw.shape[0], np.uint8)])
    b = raw[: groups * 3].reshape(groups, 3)
    if width % 2 == 0:
        return _slot_212(b[col // 2:: width // 2], col % 2)
    both = np.empty((groups, 2), dtype=np.int64)
    both[:, 0], both[:, 1] = _slot_212(b, 0), _slot_212(b, 1)
    return both.reshape(-1)[:n].reshape(sig_len, width)[:, col].copy()


def read_digital(path: str | Path, header: Header, channel: int) -> np.ndarray | None:
    """Signal ``channel`` in ADC units, int64 (sig_len,), or None when the record's
    signal file is not one this module reads (a format other than 212 and 16, mixed
    formats in one file)."""
    path = Path(path)
    fname = header.file_name[channel]
    members = [i for i, f in enumerate(header.file_name) if f == fname]
    fmt = header.fmt[channel]
    if fmt not in INVALID_SAMPLE:
        return None
    if any(header.fmt[i] != fmt for i in members) or members != list(
            range(members[0], members[0] + len(members))):
        return None
    width, col = len(members), members.index(channel)
    n = header.sig_len * width
    count = math.ceil(n * _BYTES_PER_SAMPLE[fmt])
    raw = np.fromfile(path.parent / fname, dtype=np.uint8, count=count)
    if raw.shape[0] < count:
        return None
    if fmt == "212":
        return _decode_212(raw, header.sig_len, width, col)
    return raw.view("<i2").reshape(header.sig_len, width)[:, col].astype(np.int64)


def to_physical(digital: np.ndarray, header: Header, channel: int) -> np.ndarray:
    """Physical values (float64, same shape) of ``digital`` as wfdb's ``dac`` gives them."""
    p = digital.astype(np.float64)
    np.subtract(p, header.baseline[channel], p)
    np.divide(p, header.adc_gain[channel], p)
    p[digital == INVALID_SAMPLE[header.fmt[channel]]] = np.nan
    return p
