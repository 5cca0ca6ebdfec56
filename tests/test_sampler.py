"""Epochs drawn with replacement, balanced by class or by class and record (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest

from ecgnet.augment import sampling_weights
from ecgnet.data import load_data
from ecgnet.train import TrainConfig, epoch_beats, prepare, train
from ecgnet.train_config import ConfigError
from ecgseg.errors import InputError

from .net_helpers import small_rows, write_csv, write_h5


def test_record_class_weights_share_each_class_equally_among_its_records():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(900, int), np.ones(90, int), np.full(10, 2)]
    records = np.r_[rng.integers(0, 5, 900), np.zeros(80, int), np.ones(10, int),
                    np.full(10, 3)]  # class 1: 80 beats in record 0, 10 in record 1
    p = sampling_weights(labels, records, "record-class")
    assert p.shape == (1000,) and abs(p.sum() - 1) < 1e-12
    for c in range(3):
        assert abs(p[labels == c].sum() - 1 / 3) < 1e-12  # each class a third of the draws
    s = labels == 1
    assert abs(p[s & (records == 0)].sum() - p[s & (records == 1)].sum()) < 1e-12
    by_class = sampling_weights(labels, None, "class")
    assert abs(by_class[s & (records == 0)].sum() - 8 * by_class[s & (records == 1)].sum()) < 1e-12
    assert sampling_weights(labels, records, "shuffle") is None
    with pytest.raises(InputError, match="sampler record-class needs the beats' records"):
        sampling_weights(labels, None, "record-class")
    with pytest.raises(InputError, match="unknown sampler"):
        sampling_weights(labels, records, "records")


@pytest.fixture(scope="module")
def rows(kaggle_dir):
    data = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(data.beats, data.labels, 40)
    return data.beats[idx], data.labels[idx]


def test_an_epoch_draws_by_class_and_record(rows, tmp_path):
    beats, labels = rows
    h5 = write_h5(tmp_path / "b.h5", beats, labels, ["100", "101", "103", "105"])
    config = TrainConfig(data=[str(h5)], model="kachuee-rel", sampler="record-class",
                         out=str(tmp_path), name="draw", split="patient", progress=False,
                         threads=1)
    run = prepare(config)
    _, y, order = epoch_beats(run, 0)
    assert len(order) == len(run.train_set)
    drawn = np.bincount(y.numpy()[order.numpy()], minlength=5)
    present = np.bincount(run.train_set.labels, minlength=5) > 0
    expected = len(order) / present.sum()
    assert np.all(np.abs(drawn[present] - expected) < 0.35 * expected), drawn
    shuffled = epoch_beats(prepare(TrainConfig(**{**config.to_dict(), "sampler": "shuffle",
                                                  "name": "shuffle"})), 0)[2]
    np.testing.assert_array_equal(np.sort(shuffled.numpy()), np.arange(len(order)))
    assert len(np.unique(order.numpy())) < len(order)  # drawn with replacement
    result = train(TrainConfig(**{**config.to_dict(), "name": "trained", "max_iters": 3}))
    assert result.test["n"] > 0


def test_sampler_settings_are_checked(rows, tmp_path):
    beats, labels = rows
    csv = write_csv(tmp_path / "b.csv", beats, labels)
    with pytest.raises(ConfigError, match="^sampler must be one of"):
        TrainConfig(data=[str(csv)], sampler="records")
    with pytest.raises(ConfigError, match="^sampler draws beats with replacement.*augment"):
        TrainConfig(data=[str(csv)], sampler="class", augment=0.25)
    with pytest.raises(InputError, match="sampler record-class needs the beats' records"):
        train(TrainConfig(data=[str(csv)], sampler="record-class", out=str(tmp_path),
                          progress=False, threads=1))
