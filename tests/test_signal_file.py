"""The NumPy WFDB reader (:mod:`ecgseg.signal_file`) gives exactly what wfdb gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecgseg import signal_file
from ecgseg.databases import get_database
from ecgseg.records import read_header, read_lead

HEADER_FIELDS = ["record_name", "n_sig", "fs", "sig_len", "file_name", "fmt", "adc_gain",
                 "baseline", "units", "sig_name", "comments"]


def _records(base: Path) -> list[Path]:
    return [base / n for n in (base / "RECORDS").read_text().split()]


def _same_as_wfdb(path: Path, db) -> None:
    ours = signal_file.read_header(path)
    assert ours is not None, f"{path}: not read by the fast path"
    ref = wfdb.rdheader(str(path))
    for f in HEADER_FIELDS:
        a, b = getattr(ours, f), getattr(ref, f)
        assert a == b and type(a) is type(b), f"{path.name}: {f} {a!r} != {b!r}"
        if isinstance(a, list):
            assert [type(x) for x in a] == [type(x) for x in b], f"{path.name}: {f} types"
    for ch in range(ref.n_sig):
        d = wfdb.rdrecord(str(path), channels=[ch], physical=False, return_res=64)
        p = wfdb.rdrecord(str(path), channels=[ch], return_res=64)
        digital = read_lead(path, db, physical=False, channel=ch).signal
        physical = read_lead(path, db, channel=ch).signal
        assert digital.dtype == np.int64 and physical.dtype == np.float64
        assert digital.tobytes() == d.d_signal[:, 0].astype(np.int64).tobytes(), \
            f"{path.name} channel {ch} digital"
        assert physical.tobytes() == np.ascontiguousarray(p.p_signal[:, 0]).tobytes(), \
            f"{path.name} channel {ch} physical"


def test_every_mitdb_record_and_channel_equals_wfdb(mirror_dir):
    db = get_database("mitdb")
    records = _records(mirror_dir / "mitdb" / "1.0.0")
    for path in records:
        _same_as_wfdb(path, db)


def test_ptb_records_equal_wfdb(mirror_dir):
    base = mirror_dir / "ptbdb" / "1.0.0"
    if not (base / "RECORDS").exists():
        pytest.skip("no PTB records in the mirror")
    db = get_database("ptbdb")
    for path in _records(base):
        _same_as_wfdb(path, db)


def test_format_212_invalid_samples_are_nan_and_odd_lengths_decode(tmp_path):
    # wfdb writes the samples; the header is rewritten the way MIT-BIH writes it (baseline
    # = ADC zero, no units), which is the fast path
    for n_sig, d in [(2, np.array([[-2048, 5], [2047, -2048], [-1, 0]])),
                     (1, np.array([[-2048], [2047], [-7]]))]:  # 3 samples: odd
        folder = tmp_path / str(n_sig)
        folder.mkdir()
        names = ["MLII", "V5"][:n_sig]
        wfdb.wrsamp("rec", fs=360, units=["mV"] * n_sig, sig_name=names,
                    d_signal=d.astype(np.int64), fmt=["212"] * n_sig,
                    adc_gain=[200.0] * n_sig, baseline=[1024] * n_sig,
                    write_dir=str(folder))
        (folder / "rec.hea").write_text(f"rec {n_sig} 360 3\n" + "".join(
            f"rec.dat 212 200 11 1024 0 0 0 {n}\n" for n in names))
        path = folder / "rec"
        _same_as_wfdb(path, get_database("mitdb"))
        p = read_lead(path, get_database("mitdb")).signal
        assert np.isnan(p[0]) and p[1] == (2047 - 1024) / 200.0


def test_wfdb_written_headers_with_baseline_and_units(tmp_path):
    # format 16, ``gain(baseline)/units`` as wfdb.wrsamp writes them, a fractional fs
    d = np.array([[1, -32768], [300, 7], [-5, 32767]], dtype=np.int64)
    wfdb.wrsamp("rec", fs=250.5, units=["uV", "mV"], sig_name=["ii", "v1"], d_signal=d,
                fmt=["16", "16"], adc_gain=[2.0, 1000.0], baseline=[5, -3],
                write_dir=str(tmp_path))
    _same_as_wfdb(tmp_path / "rec", get_database("ptbdb"))


def test_unusual_headers_fall_back_to_wfdb(tmp_path):
    # format 80 (8 bits): not the fast path, same result through wfdb
    d = np.array([[1, -128], [100, 7]], dtype=np.int64)
    wfdb.wrsamp("rec", fs=250.5, units=["uV", "mV"], sig_name=["ii", "v1"], d_signal=d,
                fmt=["80", "80"], adc_gain=[2.0, 1000.0], baseline=[5, 0],
                write_dir=str(tmp_path))
    path = tmp_path / "rec"
    assert signal_file.read_header(path) is None
    header = read_header(path)
    assert header.sig_name == ["ii", "v1"] and header.fs == 250.5
    p = read_lead(path, get_database("ptbdb"), lead="v1").signal
    ref = wfdb.rdrecord(str(path), channels=[1]).p_signal[:, 0]
    assert p.tobytes() == ref.tobytes()


def test_segment_start_up_and_reading_import_no_wfdb_pandas_torch():
    """A fresh process that imports the ``ecg`` CLI and the pipeline and reads a record's
    lead imports neither wfdb nor pandas (~0.25 s) nor torch."""
    import subprocess
    import sys

    rec = Path(__file__).parent / "data" / "physionet" / "mitdb" / "1.0.0"
    name = (rec / "RECORDS").read_text().split()[0]
    code = ("import sys, ecg_cli.main, ecgseg.pipeline; from ecgseg.databases import "
            "get_database; from ecgseg.records import read_lead; "
            f"x = read_lead({str(rec / name)!r}, get_database('mitdb')).signal; "
            "assert x.shape[0] > 0; "
            "bad = [m for m in ('wfdb', 'pandas', 'torch') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
