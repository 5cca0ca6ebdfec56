"""Premature ectopic beat or irregular rhythm: ``ecgseg.rhythm.ectopy_features``, the
``kachuee-wide-ectopy`` model that takes them and the ``capped`` class weights (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest

from ecgnet.augment import CLASS_WEIGHTS, class_weights
from ecgnet.data import RECORD_FEATURES, record_features
from ecgnet.models import MODELS, build_model, count_parameters, input_columns, record_columns
from ecgseg.rhythm import ECTOPY_FEATURES, REGULARITY_SCALE, RR_LIMITS_S, ectopy_features

BEAT_SYMBOLS = list("NLRejAaJSVEFfQ/")


def _reference(times: np.ndarray, half: int) -> np.ndarray:
    """Plain per-beat loop of the same algorithm, for one record in time order."""
    iv = np.clip(np.diff(times), *RR_LIMITS_S)
    pre = np.r_[iv[0], iv]
    n = len(pre)
    change = [np.nan] + [abs(pre[j] - pre[j - 1]) for j in range(1, n)]
    out = np.zeros((n, 2))
    for i in range(n):
        window = [j for j in range(i - half, i + half + 1) if 0 <= j < n]
        around = [pre[j] for j in window if j not in (i, i + 1)]
        changes = [change[j] for j in window if j not in (i, i + 1, i + 2) and j > 0]
        rhythm = np.median(around) if around else np.median(pre)
        steadiness = np.median(changes) if changes else np.median(change[1:])
        post = pre[i + 1] if i + 1 < n else pre[-1]
        prem = max(0.0, 1 - pre[i] / rhythm)
        out[i] = post / pre[i], prem * np.exp(-steadiness / rhythm / REGULARITY_SCALE)
    return out


def _sinus_with_one_premature_beat():
    """1 s sinus rhythm, beat 15 comes 0.4 s early, then a full compensatory pause."""
    intervals = np.ones(30)
    intervals[14], intervals[15] = 0.6, 1.4
    return np.r_[0, np.cumsum(intervals)]


def _atrial_fibrillation(seed=0):
    """Every interval drawn anew between 0.5 and 1.3 s."""
    return np.r_[0, np.cumsum(np.random.default_rng(seed).uniform(0.5, 1.3, 60))]


def _two_to_one_block_then_one_to_one():
    """20 beats conducted 2:1 (1.6 s apart), then conduction returns 1:1 (0.8 s)."""
    return np.r_[0, np.cumsum(np.r_[np.full(20, 1.6), np.full(30, 0.8)])]


def test_a_premature_beat_in_sinus_rhythm_is_early_steady_and_followed_by_a_pause():
    t = _sinus_with_one_premature_beat()
    out = ectopy_features(t, np.zeros(len(t)))
    assert out.shape == (len(t), len(ECTOPY_FEATURES)) == (31, 2) and out.dtype == np.float32
    assert ECTOPY_FEATURES == ("post_pre_ratio", "regular_prematurity")
    assert out[15, 0] == pytest.approx(1.4 / 0.6, rel=1e-6)  # the pause after it
    assert out[15, 1] == pytest.approx(0.4, rel=1e-6)  # 40 % early, steady rhythm around
    others = np.delete(np.arange(31), 15)
    np.testing.assert_array_equal(out[others, 1], 0)  # the others are on time or late
    assert out[16, 0] == pytest.approx(1 / 1.4, rel=1e-6)  # the beat after the pause


def test_in_atrial_fibrillation_early_beats_are_not_premature_in_a_steady_rhythm():
    t = _atrial_fibrillation()
    out = ectopy_features(t, np.zeros(len(t)))
    pre = np.diff(t, prepend=t[0] - (t[1] - t[0]))
    early = pre < 0.7  # as early as the premature beat above, or earlier
    assert early.sum() >= 5
    assert out[early, 1].max() < 0.1 < 0.4  # the sinus premature beat keeps 0.4
    assert out[:, 0].std() > 0.3  # the ratio of successive intervals varies at random


def test_after_2_to_1_block_the_one_to_one_run_is_on_time_for_its_neighbours():
    """When conduction returns 1:1 the interval halves and stays short: the first short
    interval is early against the block, the run after it is on time again."""
    t = _two_to_one_block_then_one_to_one()
    out = ectopy_features(t, np.zeros(len(t)))
    run = np.arange(24, 51)  # the 1:1 beats from the fourth on
    np.testing.assert_array_equal(out[run, 1], 0)
    np.testing.assert_allclose(out[run[:-1], 0], 1, rtol=1e-6)  # no pause after them
    assert out[21, 0] == pytest.approx(1.0, rel=1e-6)  # the first 1:1 beat: no pause either


@pytest.mark.parametrize("make", [_sinus_with_one_premature_beat, _atrial_fibrillation,
                                  _two_to_one_block_then_one_to_one])
@pytest.mark.parametrize("half", [1, 2, 10])
def test_ectopy_features_match_a_per_beat_loop(make, half):
    t = make()
    np.testing.assert_allclose(ectopy_features(t, np.zeros(len(t)), local_beats=half),
                               _reference(t, half), rtol=1e-5, atol=1e-6)


def test_ectopy_features_by_record_in_any_order_and_short_records():
    a, b = _sinus_with_one_premature_beat(), _atrial_fibrillation(1) * 0.5 + 3
    one_a, one_b = (ectopy_features(t, np.zeros(len(t))) for t in (a, b))
    times, groups = np.r_[a, b], np.r_[np.full(len(a), "a"), np.full(len(b), "b")]
    order = np.random.default_rng(2).permutation(len(times))
    mixed = ectopy_features(times[order], groups[order])[np.argsort(order)]
    np.testing.assert_allclose(mixed[:len(a)], one_a, rtol=1e-6)
    np.testing.assert_allclose(mixed[len(a):], one_b, rtol=1e-6)
    # the pace cancels: the same rhythm twice as slow gives the same features
    np.testing.assert_allclose(ectopy_features(a * 1.5, np.zeros(len(a))), one_a, rtol=1e-5)
    np.testing.assert_array_equal(ectopy_features(np.array([0.0, 1.0]), np.zeros(2)),
                                  [[1, 0], [1, 0]])
    assert ectopy_features(np.zeros(0), np.zeros(0)).shape == (0, 2)


def test_atrial_premature_beats_of_sinus_rhythm_against_early_beats_of_fibrillation(mitdb_dir):
    """Real records: record 100's atrial premature beats (sinus rhythm; 1 in the shipped
    first 150 s, 33 in the full record) against record 201's normal beats that come early
    (atrial fibrillation), measured 0.18-0.19 against 0.03-0.04."""
    import wfdb

    from ecgseg.rhythm import rr_features

    def features(name):
        ann = wfdb.rdann(str(mitdb_dir / name), "atr")
        sym = np.array(ann.symbol)
        beat = np.isin(sym, BEAT_SYMBOLS)
        times = ann.sample[beat] / 360.0
        zeros = np.zeros(len(times))
        return sym[beat], ectopy_features(times, zeros), rr_features(times, zeros)

    sym, ect, _ = features("100")
    assert (sym == "A").sum() >= 1 and ect[sym == "A", 1].min() > 0.1
    assert np.median(ect[sym == "A", 0]) > 1.3  # the pause after them
    sym, ect, rr = features("201")
    early_n = (sym == "N") & (rr[:, 3] < 0.85)
    assert early_n.sum() >= 40 and np.median(ect[early_n, 1]) < 0.06


def test_record_features_end_with_the_ectopy_columns():
    rng = np.random.default_rng(4)
    beats = rng.random((12, 187), dtype=np.float32)
    times, groups = np.cumsum(rng.uniform(0.5, 1.2, 12)), np.zeros(12)
    out = record_features(beats, times, groups)
    assert out.shape == (12, len(RECORD_FEATURES)) == (12, 10)
    assert RECORD_FEATURES[-2:] == ECTOPY_FEATURES
    np.testing.assert_array_equal(out[:, 8:], ectopy_features(times, groups))


def test_the_ectopy_model_is_registered_and_takes_all_ten_record_columns():
    torch = pytest.importorskip("torch")
    assert "kachuee-wide-ectopy" in MODELS
    model = build_model("kachuee-wide-ectopy", 5).eval()
    wide = build_model("kachuee-wide", 5)
    assert record_columns(model) == 10 and record_columns(wide) == 8  # shipped layouts kept
    assert input_columns(model) == input_columns(wide) + 2 == 389
    assert count_parameters(model) == 55_637 == count_parameters(wide) + 2 * 32 + 2 * 5
    assert tuple(model.wide.weight.shape) == (5, 15)
    x = torch.rand(6, 389, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base = model(x)
        for col in (200, 201):  # the two ectopy columns reach the logits
            moved = x.clone()
            moved[:, col] += 0.5
            assert not torch.equal(model(moved), base), col


def test_the_ectopy_model_trains_a_step_with_capped_weights(kaggle_dir, tmp_path):
    from ecgnet.checkpoint import load_model
    from ecgnet.data import data_inputs, load_data
    from ecgnet.inference import predict_proba
    from ecgnet.train import TrainConfig, train

    from .net_helpers import small_rows, write_h5

    data = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(data.beats, data.labels, 30)
    h5 = write_h5(tmp_path / "b.h5", data.beats[idx], data.labels[idx], ["100", "101", "102"])
    result = train(TrainConfig(data=[str(h5)], model="kachuee-wide-ectopy", out=str(tmp_path),
                               name="e", batch_size=16, max_iters=3, class_weights="capped",
                               progress=False, threads=1))
    model, _ = load_model(result.run_dir / "best.pt")
    assert type(model).model_name == "kachuee-wide-ectopy"
    beats = load_data(h5)
    x = data_inputs(model, beats)
    assert x.shape == (len(idx), 389)
    np.testing.assert_array_equal(x[:, 200:202], beats.record_features[:, 8:10])
    assert predict_proba(model, x).shape == (len(idx), 5)


def test_capped_class_weights_bring_the_rarest_classes_down_to_the_median_class():
    # MIT-BIH DS1-like counts: N, S, V, F, Q
    labels = np.repeat(np.arange(5), [45_000, 940, 3_800, 415, 8])
    assert "capped" in CLASS_WEIGHTS
    bal = class_weights(labels, 5, "balanced")
    cap = class_weights(labels, 5, "capped")
    assert cap.shape == (5,) and cap.dtype == np.float32
    assert cap.mean() == pytest.approx(1.0)
    # N, S, V keep balanced weights' proportions; F and Q weigh as much as S (the median)
    np.testing.assert_allclose(cap[:3] / cap[0], bal[:3] / bal[0], rtol=1e-5)
    np.testing.assert_allclose(cap[3:], cap[1], rtol=1e-6)
    assert bal[3] / bal[0] > 100 and cap[3] / cap[0] == pytest.approx(45_000 / 940, rel=1e-5)
    # an absent class gets 0; with two classes the median is their mean
    two = class_weights(np.repeat([0, 2], [90, 10]), 3, "capped")
    assert two[1] == 0 and two[2] / two[0] == pytest.approx((90 / 10 + 1) / 2, rel=1e-5)


def test_select_classes_picks_best_pt_by_the_mean_f1_of_those_classes(kaggle_dir, tmp_path):
    import json

    from ecgnet.train import TrainConfig, train
    from ecgnet.train_config import ConfigError

    from .net_helpers import known_rows_h5

    h5 = known_rows_h5(kaggle_dir, tmp_path / "b.h5", 30, ["100", "101", "102"])
    common = dict(data=[str(h5)], model="kachuee", out=str(tmp_path), batch_size=16,
                  epochs=4, patience=4, progress=False, threads=1)
    with pytest.raises(ConfigError, match="^select_classes names X, not classes"):
        train(TrainConfig(**common, name="bad", select_classes="N,X"))
    result = train(TrainConfig(**common, name="nsv", select_classes="N, S,V", lr=0.01))
    history = [json.loads(line) for line in
               (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(history) == 4
    for h in history:
        assert h["val_select_f1"] == pytest.approx(np.mean([h["val_f1"][c] for c in "NSV"]))
    scores = [h["val_select_f1"] for h in history]
    assert scores != [h["val_macro_f1"] for h in history]  # F and Q count in macro-F1 only
    assert result.best_epoch == 1 + int(np.argmax(scores))
    assert result.best_val_macro_f1 == pytest.approx(max(scores))
