"""``ecg predict`` and ``ecg export-model`` on a real mirror record with a small trained model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ecgnet.checkpoint import load_model
from ecgnet.inference import predict_proba
from ecgnet.data import load_data
from ecgnet.predict import predict, recipe_params
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError
from ecgseg.pipeline import segment_database, segment_record
from ecgseg.store import load_beats

from .conftest import run_ecg
from .net_helpers import small_rows, write_csv, write_h5

RECORD = "208"
N_SAMPLES = 650_000


@pytest.fixture(scope="module")
def kaggle_rows(kaggle_dir):
    return load_data(kaggle_dir / "mitbih_test_known_rows.csv")


@pytest.fixture(scope="module")
def checkpoint(kaggle_rows, tmp_path_factory):
    """A small model: a few iterations on 400 real MIT-BIH Kaggle beats."""
    idx = small_rows(kaggle_rows.beats, kaggle_rows.labels, 80)
    folder = tmp_path_factory.mktemp("predict-model")
    csv = write_csv(folder / "small.csv", kaggle_rows.beats[idx], kaggle_rows.labels[idx])
    result = train(TrainConfig(data=[str(csv)], out=str(folder), name="run", batch_size=32,
                               max_iters=20, progress=False, threads=1))
    return result.run_dir / "best.pt"


@pytest.fixture(scope="module")
def predicted(checkpoint, mirror_url, tmp_path_factory):
    """``ecg predict`` of mitdb/1.0.0/208 (fetched from the mirror) as CSV and JSON lines."""
    work = tmp_path_factory.mktemp("predict")
    data = work / "data"
    common = ["--data-dir", str(data), "--mirror", mirror_url, "--threads", "1", "-q"]
    assert run_ecg(["predict", str(checkpoint), f"mitdb/1.0.0/{RECORD}", "--out",
                    str(work / "p.csv"), "--plot", "--start", "60", *common]) == 0
    assert run_ecg(["predict", str(checkpoint), f"mitdb/1.0.0/{RECORD}", "--format", "jsonl",
                    "--out", str(work / "p.jsonl"), *common]) == 0
    return {"work": work, "path": data / "physionet" / "mitdb" / "1.0.0" / RECORD,
            "csv": pd.read_csv(work / "p.csv", dtype={"record": str}, keep_default_na=False),
            "jsonl": [json.loads(line) for line in (work / "p.jsonl").read_text().splitlines()]}


def test_whole_record_gives_over_500_beats(on_full_mirror, predicted):
    assert len(predicted["csv"]) > (500 if on_full_mirror else 200)  # the shipped 150 s: 255


def test_one_row_per_detected_beat(predicted, checkpoint):
    # a raw record: qrs peaks, beats cut with the recipe of the checkpoint (Kaggle-format CSV
    # training data: the Kaggle recipe)
    rows = predicted["csv"]
    seg = segment_record(predicted["path"], "mitdb", name=RECORD, recipe="kaggle",
                         detector="qrs")
    assert len(rows) == len(seg.sample) > 0  # > 500 on the whole record
    assert rows["record"].eq(RECORD).all()
    np.testing.assert_array_equal(rows["sample"].to_numpy(), seg.sample)
    sample = rows["sample"].to_numpy()
    assert (np.diff(sample) > 0).all() and sample[0] >= 0 and sample[-1] < N_SAMPLES
    np.testing.assert_allclose(rows["time_s"], sample / 360.0, atol=5e-7)
    p = rows[[f"p_{c}" for c in "NSVFQ"]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=5e-6)
    assert (rows["predicted"].to_numpy() == np.array(list("NSVFQ"))[p.argmax(axis=1)]).all()
    np.testing.assert_allclose(rows["probability"], p.max(axis=1), atol=1e-6)
    # The same probabilities as the model on the same beats.
    model, _ = load_model(checkpoint)
    np.testing.assert_allclose(p, predict_proba(model, seg.beats), atol=5e-7)
    # Reference classes: those the pipeline gives (nearest atr beat within 150 ms).
    ref = np.where(seg.labels >= 0, np.array(list("NSVFQ"))[np.maximum(seg.labels, 0)], "")
    assert (rows["reference"].to_numpy() == ref).all()


def test_csv_and_json_lines_agree(predicted):
    rows, objs = predicted["csv"], predicted["jsonl"]
    assert len(objs) == len(rows)
    assert list(objs[0]) == list(rows.columns)
    frame = pd.DataFrame(objs)
    for col in rows.columns:
        if rows[col].dtype.kind == "f":
            np.testing.assert_allclose(frame[col], rows[col], atol=1e-6, err_msg=col)
        else:
            assert (frame[col].astype(str) == rows[col].astype(str)).all(), col


def test_plot_and_summary(predicted, checkpoint, mirror_url, capsys, tmp_path):
    png = predicted["work"] / "p.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    # Summary: the detector's and the classifier's Se/+P against the atr annotations.
    assert run_ecg(["predict", str(checkpoint), str(predicted["path"]) + ".hea", "--out", "-",
                    "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("record,sample,time_s,predicted,probability,reference,p_N")
    assert "R-peak detector vs reference beats (150 ms): Se" in captured.err
    for line in ("AAMI    Se %    +P %", "\n     V "):
        assert line in captured.err
    assert "does not record how its training beats were made" not in captured.err
    assert "Kaggle-format CSV" in captured.err  # the model's recipe is unknown: said so


def test_segment_record_is_what_the_pipeline_stores(predicted, tmp_path):
    data = predicted["path"].parents[3]
    out = tmp_path / "one.h5"
    segment_database("mitdb", data_dir=data, out=out, records=[RECORD], workers=1,
                     progress=False, download=False)
    table = load_beats(out, labelled=False)
    seg = segment_record(predicted["path"], "mitdb", name=RECORD)
    np.testing.assert_array_equal(table.beats, seg.beats)
    np.testing.assert_array_equal(table.labels, seg.labels)
    np.testing.assert_array_equal(table.meta["sample"], seg.sample)


def test_beats_files_as_input(checkpoint, kaggle_rows, tmp_path):
    beats, labels = kaggle_rows.beats[:60], kaggle_rows.labels[:60]
    h5 = write_h5(tmp_path / "b.h5", beats, labels, ["100", "101"])
    pred = predict(checkpoint, h5)
    model, _ = load_model(checkpoint)
    np.testing.assert_allclose(pred.proba, predict_proba(model, beats), atol=1e-6)
    assert list(pred.table()["record"].unique()) == ["100", "101"]
    # CSV without the label column.
    path = tmp_path / "nolabel.csv"
    np.savetxt(path, beats, fmt="%.18e", delimiter=",")
    pred = predict(checkpoint, path)
    assert len(pred) == 60 and (pred.reference == -1).all() and "compared" not in pred.summary()
    with pytest.raises(InputError, match="recipe options apply to raw records only"):
        predict(checkpoint, path, overrides={"threshold": 0.8})


def test_recipe_parameters_from_the_checkpoint():
    paper = {"training": {"data_sources": [{"format": "hdf5", "recipe": "paper", "fs": 125.0,
                                            "params": {"fs": 125.0, "threshold": 0.85,
                                                       "lead": None, "tolerance_s": 0.15}}]}}
    params, note = recipe_params(paper)
    assert params.threshold == 0.85 and note == ""
    params, _ = recipe_params(paper, {"threshold": 0.95, "fs": None})
    assert params.threshold == 0.95
    kaggle = {"training": {"data_sources": [{"format": "hdf5", "recipe": "kaggle", "fs": 120.0}]}}
    params, note = recipe_params(kaggle)
    assert params.fs == 125.0 and "Kaggle-recipe beats (120 Hz" in note
    _, note = recipe_params({"training": {}})
    assert "does not record" in note


def test_bad_input_one_line_errors(checkpoint, predicted, mirror_url, mitdb_names, tmp_path,
                                   capsys):
    src = predicted["path"]
    bad_fs = tmp_path / "badfs"
    (tmp_path / "badfs.dat").write_bytes(src.with_suffix(".dat").read_bytes())
    header = src.with_suffix(".hea").read_text().splitlines()
    first = header[0].split()
    header[0] = " ".join([bad_fs.name, first[1], "360.123456789", *first[3:]])
    header[1:] = [line.replace(f"{RECORD}.dat", "badfs.dat") for line in header[1:]]
    (tmp_path / "badfs.hea").write_text("\n".join(header) + "\n")
    no_lead = tmp_path / "nolead"
    (tmp_path / "nolead.dat").write_bytes(src.with_suffix(".dat").read_bytes())
    (tmp_path / "nolead.hea").write_text(
        src.with_suffix(".hea").read_text().replace(RECORD, "nolead").replace("MLII", "V2"))
    short = tmp_path / "short.csv"
    np.savetxt(short, np.zeros((3, 120)), delimiter=",")
    out = ["--out", str(tmp_path / "x.csv"), "-q"]
    cases = [
        ([str(checkpoint), str(tmp_path / "nosuch"), *out], "no record"),
        ([str(checkpoint), "mitdb/1.0.0/999", "--data-dir", str(tmp_path), "--mirror",
          mirror_url, *out], f"not in mitdb/1.0.0: 999 ({len(mitdb_names)} records"),
        ([str(checkpoint), str(no_lead), *out], "has no lead II (MLII or ii)"),
        ([str(checkpoint), str(src), "--lead", "V9", *out], "has no lead 'V9'"),
        ([str(checkpoint), str(bad_fs), "--recipe", "paper", *out],
         "no exact rational ratio for 360.123456789 Hz"),
        ([str(checkpoint), str(bad_fs), *out], "record badfs is sampled at 360.123 Hz"),
        ([str(checkpoint), str(src), "--detector", "nope", *out], "detector must be one of"),
        ([str(checkpoint), str(src), "--threshold", "0.8", *out],
         "threshold applies to the paper recipe only"),
        ([str(src) + ".hea", str(src), *out], "not a readable checkpoint"),
        ([str(checkpoint), str(short), *out], "120 columns, expected 187 beat values"),
        ([str(checkpoint), str(src), "--format", "xml", *out], "unknown --format"),
    ]
    for argv, message in cases:
        assert run_ecg(["predict", *argv]) == 1, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, (argv, err)
    assert not (tmp_path / "x.csv").exists()


def test_export_model_agrees_with_pytorch(checkpoint, kaggle_rows, tmp_path, capsys,
                                          monkeypatch):
    from ecgnet.model_export import onnx_proba, torchscript_proba

    prefix = tmp_path / "model"
    assert run_ecg(["export-model", str(checkpoint), "--out", str(prefix)]) == 0
    assert "ONNX: " in capsys.readouterr().out
    model, _ = load_model(checkpoint)
    beats = kaggle_rows.beats[:300]  # real beats; not a multiple of the traced batch size
    want = predict_proba(model, beats)
    np.testing.assert_allclose(torchscript_proba(f"{prefix}.ts.pt", beats), want, atol=1e-5, rtol=0)
    np.testing.assert_allclose(onnx_proba(f"{prefix}.onnx", beats), want, atol=1e-5, rtol=0)
    info = json.loads((tmp_path / "model.json").read_text())
    assert info["class_names"] == list("NSVFQ") and info["input"]["shape"] == ["batch", 187]
    assert run_ecg(["export-model", str(checkpoint), "--out", str(prefix)]) == 1  # exists
    # Without onnxruntime: TorchScript only, and why ONNX was skipped.
    monkeypatch.setattr("ecgnet.model_export.onnxruntime_missing",
                        lambda: "ONNX skipped: onnxruntime is not installed")
    capsys.readouterr()
    assert run_ecg(["export-model", str(checkpoint), "--out", str(tmp_path / "ts")]) == 0
    assert "ONNX skipped: onnxruntime" in capsys.readouterr().out
    assert (tmp_path / "ts.ts.pt").is_file() and not (tmp_path / "ts.onnx").exists()


def test_record_without_lead_ii_uses_the_segment_rule(checkpoint, mirror_url, mirror_dir,
                                                      tmp_path):
    """MIT-BIH 102 has no MLII: ecg segment uses signal 0 (V5) with a warning, and so does
    ecg predict (one channel-choice rule, ecgseg.records.choose_channel), without --lead."""
    pred = predict(checkpoint, "mitdb/1.0.0/102", data_dir=tmp_path / "data", mirror=mirror_url)
    seg = segment_record(tmp_path / "data" / "physionet" / "mitdb" / "1.0.0" / "102", "mitdb",
                         name="102", recipe="kaggle", detector="qrs")
    assert pred.lead == "V5" and len(pred) == len(seg.sample) > 100
    np.testing.assert_array_equal(pred.sample, seg.sample)
    assert any("has no MLII; using signal 0 (V5)" in n for n in pred.notes)
    # The same from the mirror's folder: the database is known from the path.
    local = predict(checkpoint, mirror_dir / "mitdb" / "1.0.0" / "102")
    np.testing.assert_array_equal(local.proba, pred.proba)
    assert (local.reference >= 0).sum() > 100  # MIT-BIH labels from its atr annotations


def test_predict_finds_99_percent_of_the_beats_of_208(on_full_mirror, predicted, capsys,
                                                      checkpoint):
    # issue 15's goal: qrs peaks by default, >= 99 % of record 208's 2 955 beats
    # (measured: 2 938 rows matched to a reference beat, Se 99.46 %; in the shipped first
    # 150 s: 255 of 257, Se 99.22 %)
    rows = predicted["csv"]
    assert (rows["reference"] != "").sum() >= 0.99 * (2955 if on_full_mirror else 257)
    assert run_ecg(["predict", str(checkpoint), str(predicted["path"]), "--out", "-",
                    "--threads", "1"]) == 0
    err = capsys.readouterr().err
    se = float(err.split("R-peak detector vs reference beats (150 ms): Se ")[1].split(" %")[0])
    assert se >= 99.0
