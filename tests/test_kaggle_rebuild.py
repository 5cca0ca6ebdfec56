"""The Kaggle rebuild through the whole toolkit: segment -> HDF5 -> verify / export."""

from __future__ import annotations

import numpy as np
import pytest

from ecgseg.export import PUBLISHED_TEST, PUBLISHED_TRAIN, export_csv
from ecgseg.kaggle_csv import read_kaggle_csv
from ecgseg.pipeline import segment_database
from ecgseg.store import load_beats

from .conftest import run_ecg
from ecgseg.verify import verify_kaggle_files


@pytest.fixture(scope="module")
def kaggle_h5(session_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("kaggle") / "mitdb-kaggle.h5"
    summary = segment_database("mitdb", data_dir=session_data_dir, out=out, recipe="kaggle",
                               workers=2, progress=False)
    return out, summary


def test_class_totals_are_the_published_ones(full_mirror, kaggle_h5):
    _, s = kaggle_h5
    assert s.per_class == {"N": 90589, "S": 2779, "V": 7236, "F": 803, "Q": 8039}
    assert s.beats == 109446 and not s.failed


def test_every_known_row_is_bit_exact_and_text_identical(kaggle_h5, rebuildable_known_lines,
                                                         on_full_mirror, tmp_path):
    out, _ = kaggle_h5
    known = tmp_path / "known.csv"  # on the full mirror: the whole file, byte for byte
    known.write_bytes(b"".join(rebuildable_known_lines))
    [report] = verify_kaggle_files([known], load_beats(out))
    n = 1496 if on_full_mirror else 28  # the rows whose beats the shipped stretches hold
    assert report.rows == n
    assert report.exact == n and report.text_identical == n and report.unmatched == 0
    # provenance: the first known row comes from a real record and annotation
    first = report.details.iloc[0]
    assert first["record"] in {f"{r}" for r in range(100, 235)} and first["sample"] >= 0


def test_verify_cli_reports_unmatched_and_exit_status(kaggle_h5, rebuildable_known_lines,
                                                      tmp_path, capsys):
    out, _ = kaggle_h5
    lines = rebuildable_known_lines  # on the full mirror: every line of the known rows
    sample = tmp_path / "some.csv"
    sample.write_bytes(b"".join(lines[:20]))
    assert run_ecg(["verify-kaggle", str(sample), "--rebuild", str(out)]) == 0
    assert "20 rows, 20 bit-exact (20 text-identical), 0 within 1e-06, 0 unmatched" in \
        capsys.readouterr().out
    rows = read_kaggle_csv(sample)
    rows.beats[3, 10] += np.float32(1e-7)  # near
    rows.beats[5, 10] += np.float32(0.01)  # unmatched
    from ecgseg.kaggle_csv import write_kaggle_csv
    edited = write_kaggle_csv(tmp_path / "edited.csv", rows.beats, rows.labels)
    details = tmp_path / "details.csv"
    assert run_ecg(["verify-kaggle", str(edited), "--rebuild", str(out), "--details", str(details)]) == 1
    text = capsys.readouterr().out
    assert "18 bit-exact" in text and "1 within 1e-06, 1 unmatched" in text
    assert "line 6: unmatched; nearest: record" in text and "max error 0.01" in text
    assert details.read_text().count("\n") == 21


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"1,2,3\n", ":1: 3 columns, expected 188"),
    (b",".join([b"c%d" % i for i in range(188)]) + b"\n", ":1: column 1 is 'c0' (a header line)"),
    (b",".join([b"0.5"] * 187 + [b"7"]) + b"\n", ":1: label 7 is not a class id 0..4"),
    (b",".join([b"0.5"] * 188) + b"\n" + b",".join([b"0.5"] * 100 + [b"x"] * 88) + b"\n",
     ":2: "),
])
def test_verify_bad_input(kaggle_h5, tmp_path, capsys, content, message):
    out, _ = kaggle_h5
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert run_ecg(["verify-kaggle", str(bad), "--rebuild", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_export_published_split(full_mirror, kaggle_h5, tmp_path):
    out, _ = kaggle_h5
    written = export_csv(out, tmp_path, seed=1)
    train = read_kaggle_csv(tmp_path / "mitbih_train.csv")
    test = read_kaggle_csv(tmp_path / "mitbih_test.csv")
    assert tuple(np.bincount(train.labels)) == PUBLISHED_TRAIN
    assert tuple(np.bincount(test.labels)) == PUBLISHED_TEST
    assert (np.diff(train.labels) >= 0).all()  # sorted by label like the originals
    raw = (tmp_path / "mitbih_test.csv").read_bytes()
    assert raw.count(b"\n") == 21892 and len(raw) == 102892400  # 4 700 bytes a line
    assert written[str(tmp_path / "mitbih_train.csv")] == 87554


def test_ptb_kaggle_recipe_end_to_end(session_data_dir, tmp_path):
    out = tmp_path / "ptb-kaggle.h5"
    s = segment_database("ptbdb", data_dir=session_data_dir, out=out, recipe="kaggle",
                         progress=False)
    # on the mirror each patient has one record, so "last record per patient" keeps both
    assert s.records == ["patient001/s0010_re", "patient165/s0322lre"]
    assert any("not yet bit-exact" in line for line in s.lines())
    written = export_csv(out, tmp_path)
    normal = read_kaggle_csv(tmp_path / "ptbdb_normal.csv", n_classes=2)
    abnormal = read_kaggle_csv(tmp_path / "ptbdb_abnormal.csv", n_classes=2)
    assert set(normal.labels) == {0} and set(abnormal.labels) == {1}
    assert len(normal.labels) == s.per_class["normal"] > 0
    assert len(abnormal.labels) == s.per_class["MI"] > 0
    assert sum(written.values()) == s.beats
    # Kaggle PTB rows never hold more than 186 values (the recipe drops longer segments)
    assert (normal.beats[:, 186] == 0).all() and (abnormal.beats[:, 186] == 0).all()


def test_csv_values_are_read_exactly_and_without_warnings(kaggle_dir):
    """Every value of the published rows comes back as Python's own float() of its text
    (then float32), and pandas says nothing (no deprecated parser options)."""
    import warnings

    path = kaggle_dir / "mitbih_test_known_rows.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = read_kaggle_csv(path)
    exact = np.array([[float(v) for v in line.split(b",")] for line in path.read_bytes().split()])
    np.testing.assert_array_equal(rows.beats, exact[:, :187].astype(np.float32))
    np.testing.assert_array_equal(rows.labels, exact[:, 187].astype(np.int64))
