"""``ecg evaluate-records``: a model scored end to end on several raw records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgnet.evaluate_records import evaluate_records, expand_records
from ecgnet.predict import predict
from ecgnet.train import TrainConfig, train
from ecgseg.errors import EcgError

from .conftest import run_ecg
from .net_helpers import known_rows_csv

RECORDS = ["100", "mitdb/1.0.0/208"]


@pytest.fixture(scope="module")
def checkpoint(kaggle_dir, tmp_path_factory):
    """A small model: a few iterations on real MIT-BIH Kaggle beats."""
    folder = tmp_path_factory.mktemp("records-model")
    csv = known_rows_csv(kaggle_dir, folder / "small.csv", 60)
    result = train(TrainConfig(data=[str(csv)], out=str(folder), name="run", batch_size=32,
                               max_iters=10, progress=False, threads=1))
    return result.run_dir / "best.pt"


def test_expand_records_knows_the_splits():
    assert len(expand_records(["DS2"])) == 22 and expand_records(["ds1"])[0] == "mitdb/1.0.0/101"
    with pytest.raises(EcgError, match="records must name at least one"):
        expand_records([])


def test_pooled_table_is_the_sum_of_the_records(on_full_mirror, checkpoint, session_data_dir,
                                                tmp_path, capsys):
    ev = evaluate_records(checkpoint, RECORDS, data_dir=session_data_dir)
    preds = [predict(checkpoint, spec, data_dir=session_data_dir)
             for spec in ("mitdb/1.0.0/100", "mitdb/1.0.0/208")]
    assert [r["beats"] for r in ev.records] == [len(p) for p in preds]
    compared = sum(int((p.reference >= 0).sum()) for p in preds)
    assert ev.confusion.sum() == compared
    assert ev.detection.detected == sum(p.detector.detected for p in preds)
    assert ev.detection.sensitivity > 0.99 and ev.detector == "qrs" and ev.recipe == "kaggle"
    agree = sum(int((p.predicted == p.reference)[p.reference >= 0].sum()) for p in preds)
    assert ev.accuracy == pytest.approx(agree / compared)
    # per record, its own confusion matrix: what a record adds to the pooled table
    per_record = [np.array(r["confusion"]) for r in ev.records]
    assert np.array_equal(sum(per_record), ev.confusion)
    assert [int(m.sum()) for m in per_record] == [r["compared"] for r in ev.records]
    # reference positions: the Kaggle rows of record 100 (2 272: all beats but the last; 185
    # in the shipped first 150 s), each compared with its own class
    ref = evaluate_records(checkpoint, ["100"], data_dir=session_data_dir, detector="reference")
    assert ref.records[0]["beats"] == ref.confusion.sum() == (2272 if on_full_mirror else 185)
    # the CLI: one table, JSON written atomically, refused when it exists
    out = tmp_path / "ev.json"
    argv = ["evaluate-records", str(checkpoint), *RECORDS, "--data-dir", str(session_data_dir),
            "--out", str(out), "--threads", "1", "-q"]
    assert run_ecg(argv) == 0
    text = capsys.readouterr().out
    assert "R-peak detector vs reference beats (150 ms): Se" in text and "AAMI" in text
    saved = json.loads(out.read_text())
    assert saved["confusion"] == ev.confusion.tolist() and len(saved["records"]) == 2
    assert saved["detection"]["detected"] == ev.detection.detected
    assert run_ecg(argv) == 1 and "exists" in capsys.readouterr().err
    assert np.isclose(saved["accuracy"], ev.accuracy)
