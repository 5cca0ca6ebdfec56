"""Regenerate ``tests/data/`` from the full PhysioNet mirror and the Kaggle rows.

Run from the checkout root, with ``../shared`` beside it (or ``ECG_SHARED_DIR``)::

    PYTHONPATH=. python tests/data/make_test_data.py

What it writes (see ``tests/data/README.md``):

- ``physionet/mitdb/1.0.0/``: the first ``MITDB_SECONDS`` s of each record of
  ``MITDB_RECORDS``, format 212 with the original gains, baselines, ADC zero,
  resolution, signal names and header comments (exact ADC values), and the ``atr``
  annotations that fall inside that stretch (same samples, symbols, subtypes, channels,
  numbers and aux notes); ``RECORDS``, ``ANNOTATORS`` and ``SHA256SUMS.txt`` of the
  shipped files.
- ``physionet/ptbdb/1.0.0/``: a stretch (``PTB_STRETCHES``) of both PTB records of the
  mirror, all 15 leads in their two files (``.dat`` and ``.xyz``), format 16;
  ``RECORDS`` and ``SHA256SUMS.txt`` (record files only, as on the mirror).
- ``kaggle/known_rows.npz``: every row of the three ``*_known_rows.csv`` files as
  float32 (n, 188) (values then label); the test fixtures print them back with
  ``%.18e`` and check the result against ``kaggle/SHA256SUMS.txt`` (the SHA-256 of the
  original files), so the CSV text is byte-identical.
- ``kaggle/ptbdb_s0323lre_first60s_lossy.npz``: lead ``ii`` only of the lossy 60 s.

The script is deterministic: running it twice gives identical files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import wfdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = Path(os.environ.get("ECG_SHARED_DIR", ROOT.parent / "shared"))
MIRROR = SHARED / "physionet" / "files"
KAGGLE = SHARED / "kaggle"

#: Records and why: 100 normal sinus rhythm; 101, 103 (truncated / no-atr copies in the
#: pipeline tests); 102 paced, no MLII (V5 + V2); 105 noisy; 114 MLII is signal 1;
#: 119 ventricular bigeminy; 201 (download test); 207 many non-beat annotations;
#: 208 many V and F beats; 232 many S beats, long pauses.
MITDB_RECORDS = ["100", "101", "102", "103", "105", "114", "119", "201", "207", "208", "232"]
MITDB_SECONDS = 150
#: PTB stretches, seconds (start, end): s0322lre's first windows hold only 2 R peaks above
#: the paper recipe's threshold, 40-60 s holds 8.
PTB_STRETCHES = {"patient001/s0010_re": (0, 12), "patient165/s0322lre": (40, 60)}
KAGGLE_FILES = ["mitbih_test_known_rows.csv", "ptbdb_normal_known_rows.csv",
                "ptbdb_abnormal_known_rows.csv"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cut_record(src: Path, dst_dir: Path, start_s: float, end_s: float) -> int:
    """Write seconds ``[start_s, end_s)`` of record ``src`` (no suffix) into ``dst_dir``.

    Returns the number of samples written.
    """
    full = wfdb.rdheader(str(src))
    a, b = int(round(start_s * full.fs)), int(round(end_s * full.fs))
    n = b - a
    full = wfdb.rdrecord(str(src), physical=False, sampfrom=a, sampto=b, return_res=16)
    rec = wfdb.rdrecord(str(src), physical=False, sampfrom=a, sampto=b, return_res=16)
    rec.d_signal = np.ascontiguousarray(rec.d_signal)
    rec.sig_len = n
    rec.init_value = [int(v) for v in rec.d_signal[0]]
    rec.checksum = [int(v) for v in (rec.d_signal.astype(np.int64).sum(axis=0) % 65536)]
    rec.checksum = [c - 65536 if c > 32767 else c for c in rec.checksum]
    rec.wrsamp(write_dir=str(dst_dir))
    back = wfdb.rdrecord(str(dst_dir / src.name), physical=False, return_res=16)
    assert np.array_equal(back.d_signal, rec.d_signal), src
    assert back.sig_name == full.sig_name and back.adc_gain == full.adc_gain, src
    assert back.baseline == full.baseline and back.fmt == full.fmt, src
    assert back.comments == full.comments, src
    return n


def cut_annotations(src: Path, dst_dir: Path, n: int) -> None:
    """Write the ``atr`` annotations of ``src`` lying in samples ``[0, n)``."""
    ann = wfdb.rdann(str(src), "atr")
    keep = ann.sample < n
    aux = [ann.aux_note[i] for i in np.flatnonzero(keep)]
    wfdb.wrann(src.name, "atr", ann.sample[keep], symbol=[ann.symbol[i] for i in np.flatnonzero(keep)],
               subtype=ann.subtype[keep], chan=ann.chan[keep], num=ann.num[keep], aux_note=aux,
               fs=ann.fs, write_dir=str(dst_dir))
    back = wfdb.rdann(str(dst_dir / src.name), "atr")
    assert np.array_equal(back.sample, ann.sample[keep]), src
    assert back.symbol == [ann.symbol[i] for i in np.flatnonzero(keep)], src
    assert back.aux_note == aux, src


def write_sums(folder: Path, names: list[str]) -> None:
    lines = [f"{sha256(folder / name)} {name}\n" for name in sorted(names)]
    (folder / "SHA256SUMS.txt").write_text("".join(lines))


def make_mitdb(out: Path) -> None:
    src = MIRROR / "mitdb" / "1.0.0"
    dst = out / "mitdb" / "1.0.0"
    dst.mkdir(parents=True)
    for name in MITDB_RECORDS:
        n = cut_record(src / name, dst, 0, MITDB_SECONDS)
        cut_annotations(src / name, dst, n)
    (dst / "RECORDS").write_text("".join(f"{r}\n" for r in MITDB_RECORDS))
    shutil.copy(src / "ANNOTATORS", dst / "ANNOTATORS")
    write_sums(dst, ["RECORDS", "ANNOTATORS"] + [f"{r}.{ext}" for r in MITDB_RECORDS
                                                  for ext in ("hea", "dat", "atr")])


def make_ptbdb(out: Path) -> None:
    src = MIRROR / "ptbdb" / "1.0.0"
    dst = out / "ptbdb" / "1.0.0"
    records = (src / "RECORDS").read_text().split()
    files = []
    for name in records:
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        cut_record(src / name, (dst / name).parent, *PTB_STRETCHES[name])
        files += [f"{name}.{ext}" for ext in ("dat", "hea", "xyz")]
    (dst / "RECORDS").write_text((src / "RECORDS").read_text())
    write_sums(dst, files)  # the mirror's sums list the record files only


def known_rows_in_shipped_records(known: np.ndarray) -> list[int]:
    """1-based lines of the known MIT-BIH rows that the shipped stretches rebuild.

    Found on the full records: row ``k`` (from annotation ``k`` to 20 % past
    annotation ``k + 1``) is the same on the cut record when annotation ``k + 2`` lies
    inside the stretch.
    """
    from ecgseg.labels import aami_label
    from ecgseg.recipes.kaggle import segment_kaggle_mitdb

    where = {row.tobytes(): i + 1 for i, row in enumerate(known)}
    lines = []
    for name in MITDB_RECORDS:
        path = str(MIRROR / "mitdb" / "1.0.0" / name)
        adc = wfdb.rdrecord(path, physical=False, channels=[0], return_res=16).d_signal[:, 0]
        ann = wfdb.rdann(path, "atr")
        segs, symbols = segment_kaggle_mitdb(np.ascontiguousarray(adc), ann.sample.astype(np.int64),
                                             list(ann.symbol))
        rows = np.column_stack([segs.beats, aami_label(symbols).astype(np.float32)])
        n = MITDB_SECONDS * 360
        for row, start in zip(rows.astype(np.float32), segs.sample):
            k = int(np.searchsorted(ann.sample, start))
            if row.tobytes() in where and k + 2 < ann.sample.size and ann.sample[k + 2] < n:
                lines.append(where[row.tobytes()])
    return sorted(lines)


def make_kaggle(out: Path) -> None:
    from ecgseg.kaggle_csv import format_rows

    out.mkdir(parents=True)
    arrays, sums = {}, []
    for name in KAGGLE_FILES:
        raw = (KAGGLE / name).read_bytes()
        rows = np.loadtxt(KAGGLE / name, delimiter=",", dtype=np.float64).astype(np.float32)
        assert format_rows(rows[:, :187], rows[:, 187].astype(np.int64)) == raw, name
        arrays[name.removesuffix(".csv")] = rows
        sums.append(f"{hashlib.sha256(raw).hexdigest()} {name}\n")
    np.savez_compressed(out / "known_rows.npz", **arrays)
    lines = known_rows_in_shipped_records(arrays["mitbih_test_known_rows"])
    (out / "mitbih_known_rows_in_shipped_records.txt").write_text(
        "".join(f"{line}\n" for line in lines))
    (out / "SHA256SUMS.txt").write_text("".join(sums))
    z = np.load(KAGGLE / "ptbdb_s0323lre_first60s_lossy.npz")
    ii = list(z["leads"]).index("ii")
    np.savez_compressed(out / "ptbdb_s0323lre_first60s_lossy.npz",
                        adc=np.ascontiguousarray(z["adc"][:, ii:ii + 1]),
                        leads=z["leads"][ii:ii + 1], fs=z["fs"], gain_adu_per_mV=z["gain_adu_per_mV"])


def main() -> int:
    if not MIRROR.is_dir() or not KAGGLE.is_dir():
        print(f"error: the full mirror is needed: {MIRROR} and {KAGGLE}", file=sys.stderr)
        return 1
    for part in ("physionet", "kaggle"):
        shutil.rmtree(HERE / part, ignore_errors=True)
    make_mitdb(HERE / "physionet")
    make_ptbdb(HERE / "physionet")
    make_kaggle(HERE / "kaggle")
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"tests/data: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
