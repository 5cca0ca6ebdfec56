"""One fiducial for every peak source: ``KaggleMitdbParams.snap_peaks`` and
:func:`ecgseg.detectors.qrs.snap_peaks` (issue #15: detection must not cost accuracy)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from ecgseg.databases import get_database
from ecgseg.detectors.qrs import QrsInputError, detect_qrs, snap_peaks
from ecgseg.detectors.reference import detect_reference
from ecgseg.errors import InputError
from ecgseg.pipeline import segment_database, segment_record
from ecgseg.records import read_lead
from ecgseg.recipes import get_recipe
from ecgseg.recipes.kaggle_record import snapped_unique
from ecgseg.recipes.params import KaggleMitdbParams

from .conftest import run_ecg

FS = 360.0


def synthetic_ecg(polarity: float, fs: float = FS, seconds: float = 20.0, seed: int = 0):
    """R peaks every 0.8 s (a QRS-like triphasic complex, then a T wave), noise, wander."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    r = np.arange(int(0.6 * fs), t.size - int(0.6 * fs), int(0.8 * fs))
    x = np.zeros_like(t)
    for p in r:
        c = p / fs
        x += np.exp(-0.5 * ((t - c) / 0.010) ** 2)                      # R
        x -= 0.25 * np.exp(-0.5 * ((t - c + 0.025) / 0.008) ** 2)       # Q
        x -= 0.3 * np.exp(-0.5 * ((t - c - 0.028) / 0.010) ** 2)        # S
        x += 0.3 * np.exp(-0.5 * ((t - c - 0.25) / 0.04) ** 2)          # T
    x = polarity * x + 0.2 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 0.005, t.size)
    return x, r


@pytest.mark.parametrize("polarity", [1.0, -1.0])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_snap_moves_peaks_1_to_3_samples_off_onto_the_r_peak(polarity, backend):
    x, r = synthetic_ecg(polarity)
    # the R peak as the signal has it (noise and wander move it by at most a sample)
    truth = snap_peaks(x, FS, r, backend=backend)
    assert np.all(np.abs(truth - r) <= 1)
    for offset in (-3, -2, -1, 1, 2, 3):
        moved = snap_peaks(x, FS, r + offset, backend=backend)
        assert np.array_equal(moved, truth), offset
    mixed = r + np.resize([-3, 2, -1, 3, 1, -2], r.size)
    assert np.array_equal(snap_peaks(x, FS, mixed, backend=backend), truth)


@pytest.mark.parametrize("polarity", [1.0, -1.0])
def test_snapping_is_idempotent(polarity):
    x, r = synthetic_ecg(polarity, seed=3)
    once = snap_peaks(x, FS, r + 2)
    assert np.array_equal(snap_peaks(x, FS, once), once)


def test_snap_kernel_matches_its_numpy_reference_on_a_real_record(mitdb_dir):
    """The numba refinement kernel (shared with the detector) and its NumPy reference."""
    db = get_database("mitdb")
    for name in ("119", "207"):  # inverted PVCs, flutter
        lead = read_lead(mitdb_dir / name, db, channel=0)
        ann = db.read_reference(mitdb_dir / name)
        for peaks in (detect_reference(lead.signal, FS, annotations=ann),
                      detect_qrs(lead.signal, FS)):
            fast = snap_peaks(lead.signal, FS, peaks)
            assert np.array_equal(fast, snap_peaks(lead.signal, FS, peaks, backend="numpy"))
            assert np.array_equal(snap_peaks(lead.signal, FS, fast), fast)  # idempotent


def test_snapped_annotations_and_detected_peaks_coincide(mitdb_dir):
    """The point of snapping: annotations and qrs peaks 1-2 samples apart land on one sample."""
    db = get_database("mitdb")
    lead = read_lead(mitdb_dir / "100", db, channel=0)
    ann = detect_reference(lead.signal, FS, annotations=db.read_reference(mitdb_dir / "100"))
    qrs = detect_qrs(lead.signal, FS)
    near = np.abs(qrs[:, None] - ann[None, :]).argmin(axis=0)
    matched = np.abs(qrs[near] - ann) <= 54
    assert np.mean(qrs[near][matched] == ann[matched]) < 0.8  # apart before
    sa, sq = snap_peaks(lead.signal, FS, ann), snap_peaks(lead.signal, FS, qrs)
    assert np.mean(sq[near][matched] == sa[matched]) > 0.99  # together after


def test_snap_refuses_peaks_outside_the_signal():
    x, r = synthetic_ecg(1.0)
    with pytest.raises(QrsInputError, match="peaks must lie inside the signal"):
        snap_peaks(x, FS, np.array([5, x.size]))
    with pytest.raises(QrsInputError, match="peaks must be a 1-D array"):
        snap_peaks(x, FS, np.array([1.5, 2.0]))
    assert snap_peaks(x, FS, np.zeros(0, np.int64)).size == 0
    with pytest.raises(QrsInputError, match="polarity_ratio must be at least 1"):
        snap_peaks(x, FS, r, polarity_ratio=0.5)


def test_snapped_unique_drops_peaks_that_snap_together():
    x, r = synthetic_ecg(1.0)
    peaks = np.sort(np.concatenate([r, r[:3] + 2]))
    snapped, kept = snapped_unique(x, FS, peaks)
    assert np.all(np.diff(snapped) > 0) and snapped.size == r.size
    assert np.array_equal(snapped, snap_peaks(x, FS, peaks)[kept])


def test_params_validate_and_default_off():
    assert get_recipe("kaggle").default_params("mitdb") == KaggleMitdbParams(snap_peaks=False)
    with pytest.raises(InputError, match="snap_peaks"):
        KaggleMitdbParams(snap_peaks=1)


def test_default_leaves_the_kaggle_rows_byte_identical(mitdb_dir):
    """``snap_peaks`` off: the published recipe, whatever way the parameters are given."""
    for name in ("100", "207"):
        off = segment_record(mitdb_dir / name, "mitdb", KaggleMitdbParams(), recipe="kaggle")
        bare = segment_record(mitdb_dir / name, "mitdb", None, recipe="kaggle")
        assert off.beats.tobytes() == bare.beats.tobytes()
        assert np.array_equal(off.sample, bare.sample) and np.array_equal(off.labels, bare.labels)
        on = segment_record(mitdb_dir / name, "mitdb", KaggleMitdbParams(snap_peaks=True),
                            recipe="kaggle")
        assert on.stats["peaks_moved"] > 0 and not np.array_equal(on.sample[:50], off.sample[:50])


def test_snapped_rows_keep_the_label_of_the_moved_peak(mitdb_dir, on_full_mirror):
    db = get_database("mitdb")
    lead = read_lead(mitdb_dir / "119", db, physical=False, channel=0)
    ann = db.read_reference(mitdb_dir / "119")
    beats = detect_reference(lead.signal, FS, annotations=ann)
    symbols = np.asarray(ann.symbol)[np.isin(ann.sample, beats)]
    snapped, kept = snapped_unique(lead.signal, FS, beats)
    res = segment_record(mitdb_dir / "119", "mitdb", KaggleMitdbParams(snap_peaks=True),
                         recipe="kaggle")
    rows = kept[:len(res.sample)]
    assert np.array_equal(res.sample, snapped[:len(res.sample)])
    assert list(res.symbols) == list(symbols[rows])
    # 119's PVCs, labelled V after the move (the shipped record's 5 minutes hold 33)
    assert (res.symbols == "V").sum() > (100 if on_full_mirror else 30)
    # a detector's peaks: labelled from the detected (unsnapped) peak, same detector score
    qrs_on = segment_record(mitdb_dir / "119", "mitdb", KaggleMitdbParams(snap_peaks=True),
                            recipe="kaggle", detector="qrs")
    qrs_off = segment_record(mitdb_dir / "119", "mitdb", KaggleMitdbParams(), recipe="kaggle",
                             detector="qrs")
    assert qrs_on.detector == qrs_off.detector
    assert np.array_equal(qrs_on.labels, qrs_off.labels)


@pytest.fixture(scope="module")
def snapped_h5(linked_mitdb_data):
    """``ecg segment --recipe kaggle --snap-peaks`` of records 100 and 119 (the CLI)."""
    folder = linked_mitdb_data("snap").parent
    out = folder / "snap.h5"
    code = run_ecg(["segment", "--db", "mitdb", "--recipe", "kaggle", "--snap-peaks",
                    "--records", "100,119", "--data-dir", str(folder / "data"),
                    "--out", str(out), "-q", "-j", "1"])
    assert code == 0
    return out


def test_provenance_records_the_option(snapped_h5, capsys):
    with h5py.File(snapped_h5, "r") as h:
        assert json.loads(h.attrs["params"])["snap_peaks"] is True
    data = snapped_h5.parent / "data"
    plain = snapped_h5.parent / "plain.h5"
    segment_database("mitdb", data_dir=data, out=plain, recipe="kaggle", records=["100"],
                     workers=1, progress=False)
    with h5py.File(plain, "r") as h:
        assert json.loads(h.attrs["params"])["snap_peaks"] is False
    # the option is the Kaggle MIT-BIH recipe's: refused elsewhere, naming the option
    assert run_ecg(["segment", "--db", "mitdb", "--recipe", "paper", "--snap-peaks",
                    "--records", "100", "--data-dir", str(data),
                    "--out", str(snapped_h5.parent / "p.h5"), "-q"]) == 1
    assert "--snap-peaks does not apply" in capsys.readouterr().err


@pytest.fixture(scope="module")
def snapping_checkpoint(snapped_h5):
    """A small kachuee-rr model trained on snapped beats (a few iterations)."""
    from ecgnet.train import TrainConfig, train

    result = train(TrainConfig(data=[str(snapped_h5)], out=str(snapped_h5.parent), name="run",
                               model="kachuee-rr", batch_size=32, max_iters=5,
                               progress=False, threads=1))
    return result.run_dir / "best.pt"


def test_checkpoint_carries_the_option_and_predict_cuts_with_it(snapping_checkpoint, mitdb_dir):
    from ecgnet.checkpoint import load_model
    from ecgnet.predict import predict
    from ecgnet.predict_input import choose_recipe

    _, meta = load_model(snapping_checkpoint)
    sources = meta["training"]["data_sources"]
    assert sources[0]["params"]["snap_peaks"] is True
    assert choose_recipe(meta, "mitdb").params == KaggleMitdbParams(snap_peaks=True)
    db = get_database("mitdb")
    lead = read_lead(mitdb_dir / "119", db, physical=False, channel=0)
    ann = db.read_reference(mitdb_dir / "119")
    annotated = detect_reference(lead.signal, FS, annotations=ann)
    snapped, _ = snapped_unique(lead.signal, FS, annotated)
    # both peak sources are snapped: the annotations ...
    ref = predict(snapping_checkpoint, str(mitdb_dir / "119"), detector="reference")
    assert np.array_equal(ref.sample, snapped[:-1])
    assert not np.array_equal(ref.sample, annotated[:len(ref.sample)])
    # ... and the detector's peaks
    qrs = predict(snapping_checkpoint, str(mitdb_dir / "119"))
    detected = detect_qrs(read_lead(mitdb_dir / "119", db, channel=0).signal, FS)
    moved, _ = snapped_unique(lead.signal, FS, detected)
    assert np.array_equal(qrs.sample, moved[:-1])
    assert np.allclose(qrs.proba.sum(axis=1), 1, atol=1e-5)
