"""Loading beats (CSV and HDF5 alike), bad inputs, splits and augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from ecgnet.augment import (augment_minority, class_weights, jitter, shift_cut, stretch,
                            valid_lengths)
from ecgnet.data import beat_hashes, load_data
from ecgnet.splits import DS1, DS2, PACED, make_split
from ecgseg.errors import InputError

from .net_helpers import write_csv, write_h5


@pytest.fixture(scope="module")
def mitbih(kaggle_dir):
    return load_data(kaggle_dir / "mitbih_test_known_rows.csv")


def test_real_csv_rows(mitbih, kaggle_dir):
    assert mitbih.beats.shape == (1496, 187) and mitbih.beats.dtype == np.float32
    assert mitbih.beats.flags.c_contiguous
    assert mitbih.class_names == ("N", "S", "V", "F", "Q")
    assert mitbih.counts().tolist() == [1096, 100, 100, 100, 100]
    assert mitbih.records is None
    ptb = load_data([kaggle_dir / "ptbdb_normal_known_rows.csv",
                     kaggle_dir / "ptbdb_abnormal_known_rows.csv"])
    assert ptb.class_names == ("normal", "MI") and ptb.counts().tolist() == [809, 2101]


def test_csv_and_hdf5_give_the_same_tensors(mitbih, tmp_path):
    idx = np.arange(0, 1496, 5)
    beats, labels = mitbih.beats[idx], mitbih.labels[idx]
    from_csv = load_data(write_csv(tmp_path / "rows.csv", beats, labels))
    from_h5 = load_data(write_h5(tmp_path / "rows.h5", beats, labels, ["100", "101", "103"]))
    np.testing.assert_array_equal(from_csv.beats, from_h5.beats)
    np.testing.assert_array_equal(from_csv.labels, from_h5.labels)
    assert from_csv.beats.dtype == from_h5.beats.dtype and from_csv.labels.dtype == from_h5.labels.dtype
    assert from_csv.class_names == from_h5.class_names and from_csv.fingerprint() == from_h5.fingerprint()
    assert from_h5.records.tolist() == ["100"] * 100 + ["101"] * 100 + ["103"] * 100
    only = load_data(tmp_path / "rows.h5", records=["101"])
    np.testing.assert_array_equal(only.beats, from_csv.beats[100:200])


def test_hdf5_unlabelled_beats_are_left_out(mitbih, tmp_path):
    labels = mitbih.labels[:20].copy()
    labels[[3, 7]] = -1
    data = load_data(write_h5(tmp_path / "b.h5", mitbih.beats[:20], labels, ["100"]))
    assert len(data) == 18


def test_bad_inputs_give_clear_errors(mitbih, tmp_path):
    short = tmp_path / "short.csv"
    write_csv(short, mitbih.beats[:3, :186], mitbih.labels[:3])
    with pytest.raises(InputError, match=r"short.csv:1: 187 columns, expected 188"):
        load_data(short)
    labels = mitbih.labels[:5].copy()
    labels[3] = 7
    with pytest.raises(InputError, match=r"bad_label.csv:4: label 7 is not a class id 0..4"):
        load_data(write_csv(tmp_path / "bad_label.csv", mitbih.beats[:5], labels))
    labels[3] = -1
    with pytest.raises(InputError, match=r"neg.csv:4: label -1"):
        load_data(write_csv(tmp_path / "neg.csv", mitbih.beats[:5], labels))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        load_data(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="no such file"):
        load_data(tmp_path / "missing.h5")
    two = load_data(write_csv(tmp_path / "ptb_like.csv", mitbih.beats[:4], np.array([0, 1, 0, 1])),
                    class_names=["normal", "MI"])
    assert two.n_classes == 2
    with pytest.raises(InputError, match=r"five.csv:1: label 4 is not a class id 0..1"):
        load_data(write_csv(tmp_path / "five.csv", mitbih.beats[:4], np.array([4, 1, 0, 1])),
                  class_names=["normal", "MI"])
    with pytest.raises(InputError, match="needs HDF5"):
        load_data(short, records=["100"])


def test_beat_hashes_identify_exact_beats(mitbih):
    h = beat_hashes(mitbih.beats)
    assert h.dtype == np.int64 and len(np.unique(h)) == len(np.unique(mitbih.beats, axis=0))
    changed = mitbih.beats[:1].copy()
    changed[0, 100] = np.nextafter(changed[0, 100], 2)
    assert beat_hashes(changed)[0] != h[0]


def test_random_split_is_stratified_disjoint_and_seeded(mitbih):
    s = make_split(mitbih, "random", test_fraction=0.2, val_fraction=0.1, seed=3)
    parts = [set(s.train), set(s.val), set(s.test)]
    assert sum(map(len, parts)) == len(mitbih) and not (parts[0] & parts[1] or parts[0] & parts[2]
                                                         or parts[1] & parts[2])
    assert np.bincount(mitbih.labels[s.test]).tolist() == [219, 20, 20, 20, 20]
    again = make_split(mitbih, "random", seed=3)
    np.testing.assert_array_equal(s.test, again.test)
    assert not np.array_equal(s.test, make_split(mitbih, "random", seed=4).test)
    with pytest.raises(InputError, match="interpatient needs record ids"):
        make_split(mitbih, "interpatient")
    with pytest.raises(InputError, match="patient needs patient ids"):
        make_split(mitbih, "patient")
    with pytest.raises(InputError, match="unknown split"):
        make_split(mitbih, "kfold")


def test_interpatient_and_patient_splits_keep_patients_apart(mitbih, tmp_path):
    records = list(DS1[:6]) + list(DS2[:4]) + list(PACED[:2])
    data = load_data(write_h5(tmp_path / "b.h5", mitbih.beats, mitbih.labels, records))
    s = make_split(data, "interpatient", seed=0)
    assert set(data.records[s.test]) == set(DS2[:4])
    assert set(data.records[s.train]) | set(data.records[s.val]) == set(DS1[:6])
    assert not set(data.records[s.train]) & set(data.records[s.val])
    assert not set(data.records[np.r_[s.train, s.val, s.test]]) & set(PACED)
    p = make_split(data, "patient", test_fraction=0.25, val_fraction=0.2, seed=1)
    groups = [set(data.patients[i]) for i in (p.train, p.val, p.test)]
    assert all(g for g in groups) and not (groups[0] & groups[1] or groups[0] & groups[2]
                                           or groups[1] & groups[2])
    assert len(p.train) + len(p.val) + len(p.test) == len(data)


def test_validation_by_beat_inside_the_interpatient_training_side(mitbih, tmp_path):
    records = list(DS1[:6]) + list(DS2[:4])
    data = load_data(write_h5(tmp_path / "b.h5", mitbih.beats, mitbih.labels, records))
    by_patient = make_split(data, "interpatient", seed=0)
    by_beat = make_split(data, "interpatient", val_fraction=0.2, seed=0, val_by="beat")
    assert np.array_equal(by_beat.test, by_patient.test)  # DS2, whatever the validation
    assert set(data.records[by_beat.val]) == set(DS1[:6])  # every DS1 record lends beats
    side = np.r_[by_beat.train, by_beat.val]
    assert not np.intersect1d(by_beat.train, by_beat.val).size
    assert np.array_equal(np.sort(side), np.sort(np.r_[by_patient.train, by_patient.val]))
    expected = np.round(0.2 * np.bincount(data.labels[side], minlength=5))
    assert np.bincount(data.labels[by_beat.val], minlength=5).tolist() == expected.tolist()
    assert "validation by beat" in by_beat.describe()
    assert np.array_equal(make_split(mitbih, "random", val_by="beat").val,
                          make_split(mitbih, "random").val)
    with pytest.raises(InputError, match="validation part by patient needs patient ids"):
        make_split(mitbih, "random", val_by="patient")
    with pytest.raises(InputError, match="unknown validation split 'record'"):
        make_split(data, "interpatient", val_by="record")


def test_augmentation_and_class_weights(mitbih):
    beats = mitbih.beats[:50]
    np.testing.assert_allclose(stretch(beats, np.ones(50)), beats, atol=1e-7)
    longer = stretch(beats, np.full(50, 2.0))
    np.testing.assert_allclose(longer[:, ::2][:, :90], beats[:, :90], atol=1e-6)
    rng = np.random.default_rng(0)
    x, y = augment_minority(mitbih.beats, mitbih.labels, 0.5, rng)
    assert x.shape == (4 * (548 - 100), 187) and np.bincount(y, minlength=5).tolist() == [0] + [448] * 4
    assert augment_minority(mitbih.beats, mitbih.labels, 0.0, rng)[0].shape == (0, 187)
    assert jitter(mitbih.beats, 0.0, rng) is mitbih.beats
    before = mitbih.beats.copy()
    half = jitter(mitbih.beats, 0.5, np.random.default_rng(1))
    changed = (half != mitbih.beats).any(axis=1).mean()
    assert np.array_equal(mitbih.beats, before) and 0.4 < changed < 0.6
    assert np.array_equal(half, jitter(mitbih.beats, 0.5, np.random.default_rng(1)))
    assert (jitter(mitbih.beats, 1.0, rng) != mitbih.beats).any(axis=1).all()
    w = class_weights(mitbih.labels, 5, "balanced")
    assert w[1] / w[0] == pytest.approx(1096 / 100) and w.mean() == pytest.approx(1)
    assert class_weights(mitbih.labels, 5, "none") is None
    assert class_weights(np.array([0, 0, 1]), 3, "sqrt")[2] == 0


def test_shift_cuts_real_beats_later_and_keeps_the_other_inputs(mitbih):
    beats = mitbih.beats[:200]
    extra = np.random.default_rng(2).random((200, 197)).astype(np.float32)  # RR, median beat
    inputs = np.concatenate([beats, extra], axis=1)
    assert shift_cut(inputs, 0.0, np.random.default_rng(0)) is inputs
    one = shift_cut(inputs, 1.0, np.random.default_rng(0), offsets=(1, 1))
    n = valid_lengths(inputs)
    for i in range(200):  # drop the first sample, renormalise the rest of the signal
        rest = beats[i, 1:n[i]].astype(np.float64)
        want = (rest - rest.min()) / (rest.max() - rest.min())
        np.testing.assert_allclose(one[i, :n[i] - 1], want, atol=1e-6)
        assert (one[i, n[i] - 1:187] == 0).all()
    assert np.array_equal(one[:, 187:], extra) and one.dtype == np.float32
    half = shift_cut(inputs, 0.5, np.random.default_rng(1))
    moved = (half[:, :187] != beats).any(axis=1)
    assert 0.35 < moved.mean() < 0.65 and np.array_equal(half[~moved], inputs[~moved])
    assert np.array_equal(half, shift_cut(inputs, 0.5, np.random.default_rng(1)))
    # a beat moved by s >= 1 (default 1-6 later): its zero-padded tail is at least 1 long
    assert all((half[i, 187 - 1:187] == 0).all() for i in np.flatnonzero(moved))


def test_symmetric_shift_cuts_earlier_and_later_keeps_rr_and_is_seeded(mitbih):
    beats = mitbih.beats[:300]
    rr = np.random.default_rng(3).random((300, 10)).astype(np.float32)  # RR, record features
    inputs = np.concatenate([beats, rr], axis=1)
    n = valid_lengths(inputs)
    # earlier by 2: the beat moves 2 samples right, mirrored about its first sample
    early = shift_cut(inputs, 1.0, np.random.default_rng(0), offsets=(-2, -2))
    short = n < 185
    np.testing.assert_array_equal(early[short, 2:187], inputs[short, :185])
    np.testing.assert_array_equal(early[:, :2], inputs[:, [2, 1]])
    assert np.array_equal(early[:, 187:], rr)
    # a third of a sample (one sample at 360 Hz): between the row and its neighbour
    third = shift_cut(inputs, 1.0, np.random.default_rng(0), offsets=(1 / 3, 1 / 3))
    for i in range(300):
        m = n[i] - 1  # signal samples left: the last one's neighbour is padding
        lin = (2 / 3) * beats[i, :m].astype(np.float64) + (1 / 3) * beats[i, 1:m + 1]
        want = (lin - lin.min()) / (lin.max() - lin.min())
        np.testing.assert_allclose(third[i, :m], want, atol=1e-6)
        assert (third[i, m:187] == 0).all()
    # symmetric range: both directions drawn, seeded, RR columns untouched, [0, 1] kept
    a = shift_cut(inputs, 1.0, np.random.default_rng(5), offsets=(-3, 3))
    assert np.array_equal(a, shift_cut(inputs, 1.0, np.random.default_rng(5), offsets=(-3, 3)))
    assert not np.array_equal(a, shift_cut(inputs, 1.0, np.random.default_rng(6),
                                           offsets=(-3, 3)))
    assert a.shape == inputs.shape and a.dtype == np.float32
    assert np.array_equal(a[:, 187:], rr) and a[:, :187].min() >= 0 and a[:, :187].max() <= 1
    longer = (valid_lengths(a) > n).sum()
    shorter = (valid_lengths(a) < n).sum()
    assert longer > 80 and shorter > 80  # about half cut earlier, half later


def test_interpatient_split_groups_records_across_files_cut_two_ways(session_data_dir, tmp_path):
    # The shipped inter-patient model trains on DS1 beats cut at the reference annotations
    # AND at the qrs detector's peaks (two HDF5 files): a record's beats of both files must
    # land on one side, and no DS2 beat, nor a validation record's, in training.
    from ecgseg.pipeline import segment_database

    records = ["100", "101", "102", "103", "114", "119", "201", "207", "208", "232"]
    files = [tmp_path / "reference.h5", tmp_path / "qrs.h5"]
    for detector, out in zip(("reference", "qrs"), files):
        segment_database("mitdb", data_dir=session_data_dir, out=out, recipe="kaggle",
                         detector=detector, records=records, workers=1, progress=False)
    data = load_data(files)
    n_ref = len(load_data(files[0]))
    from_file = np.where(np.arange(len(data)) < n_ref, "reference", "qrs")
    for seed in (0, 1, 2):
        s = make_split(data, "interpatient", val_fraction=0.3, seed=seed)
        train, val, test = (set(data.records[p]) for p in (s.train, s.val, s.test))
        assert test == {"100", "103", "232"} and train | val == {"101", "114", "119", "201",
                                                                  "207", "208"}
        assert val and not train & val
        for part in (s.train, s.val, s.test):  # each record's beats of both files, together
            for name in set(data.records[part]):
                mine = data.records == name
                assert set(np.flatnonzero(mine)) <= set(part)
                assert set(from_file[mine]) == {"reference", "qrs"}
        # beats cut identically in both files (peak at the annotation) are one record's
        seen = beat_hashes(data.beats[np.r_[s.train]])
        assert not np.isin(beat_hashes(data.beats[np.r_[s.val, s.test]]), seen).any()
