"""Features of each beat relative to its own record (issue #16) and the models taking them."""

from __future__ import annotations

import numpy as np
import pytest

from ecgnet.checkpoint import load_model
from ecgnet.data import RECORD_FEATURES, data_inputs, load_data, model_inputs, record_features
from ecgnet.evaluate import evaluate
from ecgnet.inference import predict_proba
from ecgnet.model_export import export_model
from ecgnet.models import build_model, count_parameters, input_columns, record_columns
from ecgnet.predict import predict
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError
from ecgseg.labels import aami_label
from ecgseg.morphology import (MORPHOLOGY_FEATURES, QRS_SAMPLES, morphology_features,
                               record_median_beats)
from ecgseg.recipes.kaggle import segment_kaggle_mitdb
from ecgseg.rhythm import RECORD_RR_FEATURES, record_rr_features, rr_features, rr_irregularity

from .net_helpers import small_rows, write_csv, write_h5

BEAT_SYMBOLS = list("NLRejAaJSVEFfQ/")


def _beats_of(mitdb_dir, name: str):
    """Reference beat times (s) and symbols of an MIT-BIH record."""
    import wfdb

    ann = wfdb.rdann(str(mitdb_dir / name), "atr")
    symbols = np.array(ann.symbol)
    beat = np.isin(symbols, BEAT_SYMBOLS)
    return ann.sample[beat] / 360.0, symbols[beat]


def test_atrial_premature_beats_of_record_232_come_early_for_the_record_only(mitdb_dir,
                                                                           on_full_mirror):
    """Record 232: the atrial premature beats are the prevailing rhythm, the normal beats
    follow long pauses. Against the local rhythm the A beats look on time; against the
    record's mean interval they come early and the N beats late."""
    times, sym = _beats_of(mitdb_dir, "232")
    local = rr_features(times, np.zeros(len(times)))
    record = record_rr_features(times, np.zeros(len(times)))
    assert record.shape == (len(times), len(RECORD_RR_FEATURES)) and record.dtype == np.float32
    a, n = sym == "A", aami_label(sym) == 0  # its N-class beats are R (bundle branch block)
    # the shipped first 150 s: 107 A and 40 N beats
    assert a.sum() > (1000 if on_full_mirror else 100) and n.sum() > (300 if on_full_mirror else 35)
    assert 0.9 < np.median(local[a, 3]) < 1.1  # previous interval / local rhythm: "on time"
    assert np.median(record[a, 0]) < 0.85 and np.median(record[n, 0]) > 1.5


def test_record_rr_features_by_record_in_any_order():
    times = np.array([0.0, 1.0, 2.0, 2.5, 4.0, 5.0])
    one = record_rr_features(times, np.zeros(6), local_beats=2)
    rr = rr_features(times, np.zeros(6), local_beats=2)
    np.testing.assert_allclose(one, rr[:, :3] / 1.0)  # mean interval 1 s
    rng = np.random.default_rng(0)
    both_t = np.r_[times, times * 2 + 7]  # the second record twice as slow
    both_g = np.r_[np.full(6, "a"), np.full(6, "b")]
    order = rng.permutation(12)
    mixed = record_rr_features(both_t[order], both_g[order], local_beats=2)[np.argsort(order)]
    np.testing.assert_allclose(mixed[:6], one, rtol=1e-6)
    np.testing.assert_allclose(mixed[6:], one, rtol=1e-6)  # relative: the pace cancels
    np.testing.assert_allclose(record_rr_features(np.array([3.0]), np.array([0])), [[1, 1, 1]])
    assert record_rr_features(np.zeros(0), np.zeros(0)).shape == (0, 3)


def test_ventricular_beats_differ_from_their_record_median_beat_on_a_real_record(mitdb_dir):
    """Record 119 (ventricular bigeminy), Kaggle-recipe beats: the PVCs correlate poorly
    with the record's median beat, the normal beats closely."""
    import wfdb

    rec = wfdb.rdrecord(str(mitdb_dir / "119"), physical=False, channels=[0], return_res=16)
    ann = wfdb.rdann(str(mitdb_dir / "119"), "atr")
    segs, symbols = segment_kaggle_mitdb(np.ascontiguousarray(rec.d_signal[:, 0]),
                                         ann.sample.astype(np.int64), list(ann.symbol))
    labels = aami_label(symbols)
    feats = morphology_features(segs.beats, np.zeros(len(labels)))
    assert feats.shape == (len(labels), len(MORPHOLOGY_FEATURES)) and feats.dtype == np.float32
    n, v = labels == 0, labels == 2
    assert v.sum() >= 30 and n.sum() >= 30
    assert np.median(feats[n, 0]) > 0.9 and np.median(feats[v, 0]) < 0.6
    assert np.median(feats[v, 1]) > 2 * np.median(feats[n, 1])


def test_median_beats_and_morphology_by_record():
    rng = np.random.default_rng(1)
    beats = rng.random((9, 187), dtype=np.float32)
    groups = np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])
    med = record_median_beats(beats, groups)
    np.testing.assert_array_equal(med[0], np.median(beats[groups == 2], axis=0))
    np.testing.assert_array_equal(med[1], np.median(beats[groups == 1], axis=0))
    feats = morphology_features(beats, groups)
    same = morphology_features(np.r_[beats[groups == 2]], np.zeros(5))
    np.testing.assert_allclose(feats[groups == 2], same, rtol=1e-6)
    flat = morphology_features(np.zeros((3, 187), np.float32), np.zeros(3))
    np.testing.assert_array_equal(flat, np.zeros((3, 2)))  # flat beats: no correlation, no difference
    # Only the first `samples` are compared: a change after them changes nothing.
    later = beats.copy()
    later[:, 100:] += 5
    np.testing.assert_array_equal(morphology_features(later, groups, samples=60), feats)
    with pytest.raises(InputError, match="samples must be at least 1"):
        morphology_features(beats, groups, samples=0)


def test_record_features_are_record_rr_morphology_qrs_then_irregularity():
    rng = np.random.default_rng(2)
    beats = rng.random((8, 187), dtype=np.float32)
    times, groups = np.cumsum(rng.uniform(0.5, 1.2, 8)), np.zeros(8)
    out = record_features(beats, times, groups)
    assert out.shape == (8, len(RECORD_FEATURES)) == (8, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, :3], record_rr_features(times, groups))
    np.testing.assert_array_equal(out[:, 3:5], morphology_features(beats, groups))
    np.testing.assert_array_equal(out[:, 5:7],
                                  morphology_features(beats, groups, samples=QRS_SAMPLES))
    np.testing.assert_array_equal(out[:, 7], rr_irregularity(times, groups))
    assert RECORD_FEATURES[:5] == RECORD_RR_FEATURES + MORPHOLOGY_FEATURES  # only appended


def test_rhythm_irregularity_tells_atrial_fibrillation_from_sinus_rhythm(mitdb_dir):
    """Record 201 (its shipped first 150 s are atrial fibrillation) against record 100
    (sinus rhythm) and record 232, whose atrial premature beats come early for the record
    but in a steady pattern."""
    irr = {}
    for name in ("100", "201", "232"):
        times, sym = _beats_of(mitdb_dir, name)
        irr[name] = rr_irregularity(times, np.zeros(len(times)))
        assert irr[name].shape == (len(times),) and irr[name].dtype == np.float32
    assert np.median(irr["201"]) > 0.15 > 0.1 > np.median(irr["232"])
    assert np.median(irr["100"]) < 0.04


def test_rr_irregularity_by_record_in_any_order():
    rng = np.random.default_rng(3)
    steady = np.arange(30.0)
    irregular = np.cumsum(rng.uniform(0.4, 1.4, 30))
    one = rr_irregularity(irregular, np.zeros(30), local_beats=3)
    np.testing.assert_array_equal(rr_irregularity(steady, np.zeros(30)), np.zeros(30))
    both_t, both_g = np.r_[steady, irregular], np.r_[np.zeros(30), np.ones(30)]
    order = rng.permutation(60)
    mixed = rr_irregularity(both_t[order], both_g[order], local_beats=3)[np.argsort(order)]
    np.testing.assert_array_equal(mixed[:30], 0)
    np.testing.assert_allclose(mixed[30:], one, rtol=1e-6)
    # A single premature beat in a steady rhythm changes two differences: the median ignores it.
    one_early = steady.copy()
    one_early[15] -= 0.3
    assert rr_irregularity(one_early, np.zeros(30)).max() == 0
    np.testing.assert_allclose(rr_irregularity(steady * 2, np.zeros(30)), 0)
    assert rr_irregularity(np.zeros(0), np.zeros(0)).shape == (0,)


def test_qrs_window_stays_clear_of_the_next_beat(mitdb_dir):
    """Kaggle-recipe beats run on to the next R peak: at fast rates the 60-sample comparison
    holds the next QRS too, the 30-sample one does not. Beats of record 232 (shipped),
    each compared with the record's median beat over 60 and 30 samples after the beat's
    samples from 30 on are replaced by a copy of the beat's own QRS (a next beat 0.25 s
    later)."""
    import wfdb

    rec = wfdb.rdrecord(str(mitdb_dir / "232"), physical=False, channels=[0], return_res=16)
    ann = wfdb.rdann(str(mitdb_dir / "232"), "atr")
    segs, _ = segment_kaggle_mitdb(np.ascontiguousarray(rec.d_signal[:, 0]),
                                   ann.sample.astype(np.int64), list(ann.symbol))
    beats = segs.beats.copy()
    fast = beats.copy()
    fast[::2, QRS_SAMPLES:2 * QRS_SAMPLES] = fast[::2, :QRS_SAMPLES]  # every other beat
    groups = np.zeros(len(beats))
    long_, qrs = (morphology_features(fast, groups, samples=k) for k in (60, QRS_SAMPLES))
    np.testing.assert_array_equal(qrs, morphology_features(beats, groups, samples=QRS_SAMPLES))
    assert np.median(qrs[::2, 0]) > 0.95
    assert np.median(long_[::2, 0]) < np.median(qrs[::2, 0]) - 0.1


@pytest.fixture(scope="module")
def mitbih(kaggle_dir):
    """1 496 real rows of the Kaggle MIT-BIH test CSV."""
    return load_data(kaggle_dir / "mitbih_test_known_rows.csv")


@pytest.mark.parametrize("name,params,extra", [("kachuee-rr2", 55_269, 8),
                                               ("kachuee-rrm", 55_333, 10),
                                               ("kachuee-rrmd", 55_493, 10 + 187),
                                               ("kachuee-rel", 55_493, 13 + 187),
                                               ("kachuee-wide", 55_563, 13 + 187),
                                               ("kachuee-wide-ectopy", 55_637, 15 + 187)])
def test_record_models_take_rr_and_record_columns(mitbih, tmp_path, name, params, extra):
    idx = small_rows(mitbih.beats, mitbih.labels, 20)
    h5 = write_h5(tmp_path / "b.h5", mitbih.beats[idx], mitbih.labels[idx], ["100", "101"])
    data = load_data(h5)
    assert data.record_features.shape == (len(idx), len(RECORD_FEATURES))
    model = build_model(name, 5)
    assert count_parameters(model) == params and input_columns(model) == 187 + extra
    x = data_inputs(model, data)
    assert x.shape == (len(idx), 187 + extra)
    np.testing.assert_array_equal(x[:, 187:192], data.rhythm)
    n_record = record_columns(model)
    np.testing.assert_array_equal(x[:, 192:192 + n_record], data.record_features[:, :n_record])
    if extra > 187:  # then the record's median beat
        np.testing.assert_array_equal(x[:, 192 + n_record:], data.median_beats)
        first = np.flatnonzero(data.records == data.records[0])
        np.testing.assert_array_equal(data.median_beats[0],
                                      np.median(data.beats[first], axis=0))
    assert data_inputs(build_model("kachuee-rr", 5), data).shape == (len(idx), 192)
    assert predict_proba(model, x).shape == (len(idx), 5)
    with pytest.raises(InputError, match=f"model {name} uses RR intervals"):
        model_inputs(model, data.beats, data.rhythm, "b.h5")  # no record features given
    sub = data.subset(np.arange(5))
    np.testing.assert_array_equal(sub.record_features, data.record_features[:5])
    np.testing.assert_array_equal(sub.median_beats, data.median_beats[:5])


@pytest.mark.parametrize("name", ["kachuee-rrm", "kachuee-rrmd", "kachuee-rel",
                                  "kachuee-wide", "kachuee-wide-ectopy"])
def test_the_record_model_trains_evaluates_predicts_and_exports(mitbih, tmp_path, mirror_url,
                                                                on_full_mirror, name):
    idx = small_rows(mitbih.beats, mitbih.labels, 60)
    beats, labels = mitbih.beats[idx], mitbih.labels[idx]
    h5 = write_h5(tmp_path / "b.h5", beats, labels, ["100", "101", "102", "103"])
    csv = write_csv(tmp_path / "b.csv", beats, labels)
    with pytest.raises(InputError, match=f"model {name} uses RR intervals.*HDF5"):
        train(TrainConfig(data=[str(csv)], model=name, out=str(tmp_path), name="csv",
                          progress=False, threads=1))
    result = train(TrainConfig(data=[str(h5)], model=name, out=str(tmp_path),
                               name="rrm", batch_size=32, max_iters=6, jitter=0.5,
                               augment=0.5, progress=False, threads=1))
    ckpt = result.run_dir / "best.pt"
    report = evaluate(ckpt, h5).report
    assert report["n"] == result.test["n"] == 60
    assert report["accuracy"] == result.test["accuracy"]
    data = load_data(h5)
    model, _ = load_model(ckpt)
    np.testing.assert_allclose(predict(ckpt, h5).proba,
                               predict_proba(model, data_inputs(model, data)), atol=1e-6)
    pred = predict(ckpt, "mitdb/1.0.0/100", data_dir=tmp_path / "data", mirror=mirror_url)
    beats = 2000 if on_full_mirror else 180  # the shipped first 150 s of record 100: 185
    assert pred.proba.shape == (len(pred.sample), 5) and len(pred.sample) > beats
    exported = export_model(ckpt, tmp_path / "rrm")
    assert max(exported.max_abs_diff.values()) <= 1e-5


def test_the_relative_model_ignores_intervals_in_seconds():
    """kachuee-rel leaves out the previous, next and local intervals in seconds (RR columns
    0-2) and uses everything else it takes."""
    torch = pytest.importorskip("torch")
    model = build_model("kachuee-rel", 5).eval()
    x = torch.rand(4, input_columns(model), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base = model(x)
        seconds = x.clone()
        seconds[:, 187:190] += 0.5
        np.testing.assert_array_equal(model(seconds).numpy(), base.numpy())
        for col in (190, 191, 192, 199, 200, 250):  # ratios, record features, median beat
            moved = x.clone()
            moved[:, col] += 0.5
            assert not torch.equal(model(moved), base), col
