"""RR-interval features and the model that takes them (``kachuee-rr``)."""

from __future__ import annotations

import numpy as np
import pytest

from ecgnet.augment import perturb
from ecgnet.checkpoint import load_model
from ecgnet.inference import predict_proba
from ecgnet.data import load_data, model_inputs
from ecgnet.evaluate import evaluate
from ecgnet.model_export import export_model
from ecgnet.models import build_model, count_parameters
from ecgnet.predict import predict
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError
from ecgseg.rhythm import RR_FEATURES, rr_features

from .net_helpers import small_rows, write_csv, write_h5


@pytest.fixture(scope="module")
def mitbih(kaggle_dir):
    """1 496 real rows of the Kaggle MIT-BIH test CSV."""
    return load_data(kaggle_dir / "mitbih_test_known_rows.csv")


def test_record_119_has_444_pvcs(full_mirror):
    import wfdb

    ann = wfdb.rdann(str(full_mirror / "mitdb" / "1.0.0" / "119"), "atr")
    assert (np.array(ann.symbol) == "V").sum() == 444


def test_premature_ventricular_beats_come_early_on_a_real_record(mitdb_dir):
    """Record 119 (MIT-BIH, ventricular bigeminy): its PVCs come early, then a pause."""
    import wfdb

    ann = wfdb.rdann(str(mitdb_dir / "119"), "atr")
    symbols = np.array(ann.symbol)
    beat = np.isin(symbols, list("NLRejAaJSVEFfQ/"))
    rr = rr_features(ann.sample[beat] / 360.0, np.zeros(beat.sum()))
    sym = symbols[beat]
    pre_ratio, post_ratio = rr[:, 3], rr[:, 4]
    assert rr.shape == (beat.sum(), len(RR_FEATURES)) and rr.dtype == np.float32
    assert (sym == "V").sum() >= 30  # 444 in the whole record, 33 in its first 150 s
    assert np.median(pre_ratio[sym == "V"]) < 0.7 and np.median(post_ratio[sym == "V"]) > 1.3
    assert 0.95 < np.median(pre_ratio[sym == "N"]) < 1.05
    assert 0.6 < np.median(rr[:, 2]) < 1.2  # local rhythm, s (50-100 beats per minute)


def test_rr_features_by_record_in_any_order():
    times = np.array([0.0, 1.0, 2.0, 2.5, 4.0, 5.0])  # beat 3 early, beat 4 late
    one = rr_features(times, np.zeros(6), local_beats=2)
    np.testing.assert_allclose(one[:, 0], [1, 1, 1, 0.5, 1.5, 1])  # first takes its next
    np.testing.assert_allclose(one[:, 1], [1, 1, 0.5, 1.5, 1, 1])  # last takes its previous
    np.testing.assert_allclose(one[3, 3], 0.5) and np.testing.assert_allclose(one[3, 4], 1.5)
    # Two records interleaved and shuffled give each record's own features.
    rng = np.random.default_rng(0)
    both_t = np.r_[times, times * 2 + 7]
    both_g = np.r_[np.full(6, "a"), np.full(6, "b")]
    order = rng.permutation(12)
    mixed = rr_features(both_t[order], both_g[order], local_beats=2)
    np.testing.assert_allclose(mixed[np.argsort(order)][:6], one, rtol=1e-6)
    np.testing.assert_allclose(mixed[np.argsort(order)][6:, :2], one[:, :2] * 2, rtol=1e-6)
    # Gaps and double detections are clipped; a lone beat gets 1 s intervals.
    gap = rr_features(np.array([0.0, 100.0, 100.05]), np.zeros(3))
    assert gap[:, :2].max() == pytest.approx(3.0) and gap[:, :2].min() == pytest.approx(0.2)
    np.testing.assert_allclose(rr_features(np.array([5.0]), np.array([1]))[0], [1, 1, 1, 1, 1])
    assert rr_features(np.zeros(0), np.zeros(0)).shape == (0, 5)


def test_perturbation_leaves_the_rr_columns_alone(mitbih):
    inputs = np.concatenate([mitbih.beats[:20], np.full((20, 5), 0.7, np.float32)], axis=1)
    out = perturb(inputs, np.random.default_rng(0))
    assert out.shape == (20, 192) and (out[:, 187:] == 0.7).all()
    np.testing.assert_array_equal(out[:, :187], perturb(mitbih.beats[:20], np.random.default_rng(0)))


def test_the_rr_model_trains_evaluates_predicts_and_exports_from_hdf5(on_full_mirror, mitbih, tmp_path,
                                                                     mirror_url):
    idx = small_rows(mitbih.beats, mitbih.labels, 60)
    beats, labels = mitbih.beats[idx], mitbih.labels[idx]
    h5 = write_h5(tmp_path / "b.h5", beats, labels, ["100", "101", "102", "103"])
    data = load_data(h5)
    assert data.rhythm.shape == (len(idx), 5)
    np.testing.assert_allclose(data.rhythm[:, 0], 300 / 360.0, rtol=1e-6)  # beats 300 samples apart
    model = build_model("kachuee-rr", 5)
    assert count_parameters(model) == 55_173 and model.fc1.in_features == 69
    assert model_inputs(model, data.beats, data.rhythm).shape == (len(idx), 192)
    assert model_inputs(build_model("kachuee", 5), data.beats, None) is data.beats
    # CSV rows carry no RR intervals: a clear error, before any run folder is made.
    csv = write_csv(tmp_path / "b.csv", beats, labels)
    with pytest.raises(InputError, match="model kachuee-rr uses RR intervals.*HDF5"):
        train(TrainConfig(data=[str(csv)], model="kachuee-rr", out=str(tmp_path), name="csv",
                          progress=False, threads=1))
    assert not (tmp_path / "csv").exists()
    result = train(TrainConfig(data=[str(h5)], model="kachuee-rr", out=str(tmp_path), name="rr",
                               batch_size=32, max_iters=6, jitter=0.5, augment=0.5,
                               progress=False, threads=1))
    ckpt = result.run_dir / "best.pt"
    report = evaluate(ckpt, h5).report
    assert report["n"] == result.test["n"] == 60  # the run's test part, RR features and all
    assert report["accuracy"] == result.test["accuracy"]
    with pytest.raises(InputError, match="RR intervals"):
        evaluate(ckpt, csv)
    pred = predict(ckpt, h5)
    model, _ = load_model(ckpt)
    np.testing.assert_allclose(pred.proba, predict_proba(model, model_inputs(
        model, data.beats, data.rhythm)), atol=1e-6)
    # On a raw record the intervals come from the detector's peaks: the output says so for
    # the paper's detector (it misses beats), not for qrs (the default) or reference.
    pred = predict(ckpt, "mitdb/1.0.0/100", data_dir=tmp_path / "data", mirror=mirror_url,
                   detector="paper")
    assert pred.proba.shape == (len(pred.sample), 5) and len(pred.sample) > 100
    assert any("RR intervals are measured here between the detected peaks" in n
               for n in pred.notes)
    pred = predict(ckpt, "mitdb/1.0.0/100", data_dir=tmp_path / "data", mirror=mirror_url)
    beats = 2000 if on_full_mirror else 180  # the shipped first 150 s of record 100: 185
    assert pred.proba.shape == (len(pred.sample), 5) and len(pred.sample) > beats
    assert not any("RR intervals are measured" in n for n in pred.notes)
    exported = export_model(ckpt, tmp_path / "rr")
    assert max(exported.max_abs_diff.values()) <= 1e-5
