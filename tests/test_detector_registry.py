"""The detector registry's ``qrs`` and external entries, and recipes cutting from their peaks."""

from __future__ import annotations

import numpy as np
import pytest

from ecgseg.detectors import (DetectorInputError, DetectorUnavailableError, Detector,
                              detector_names, detectors_help, get_detector)
from ecgseg.detectors.qrs import QrsInputError, QrsParams, QrsWarning
from ecgseg.pipeline import segment_database, segment_record
from ecgseg.store import load_beats, read_attrs


def _ecg(fs: float = 360.0, seconds: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * fs)) / fs
    beats = np.arange(0.5, seconds - 0.5, 0.8)
    return sum(np.exp(-0.5 * ((t - b) / 0.01) ** 2) for b in beats), np.rint(beats * fs)


def test_registry_lists_qrs_and_external_detectors():
    assert detector_names() == ("paper", "reference", "reference-jitter", "qrs", "sleepecg", "neurokit2", "xqrs")
    qrs = get_detector("qrs")
    assert qrs.params_type is QrsParams and qrs.default_params(360.0) == QrsParams()
    assert qrs.default_params(100.0).high_hz < 50.0
    help_text = detectors_help()
    assert all(name in help_text for name in detector_names())
    assert QrsInputError is DetectorInputError and issubclass(QrsWarning, UserWarning)


def test_qrs_and_external_entries_find_the_beats():
    ecg, truth = _ecg()
    for name in ("qrs", "sleepecg", "neurokit2", "xqrs"):
        det = get_detector(name)
        if not det.available():
            continue
        peaks = det.find_peaks(ecg, 360.0)
        assert len(peaks) == len(truth), name
        tolerance_s = 0.02 if name == "qrs" else 0.15  # neurokit2's peaks lag by ~0.1 s here
        assert np.all(np.abs(peaks - truth) <= tolerance_s * 360), name


def test_unavailable_detector_names_itself_and_the_bench_extra():
    missing = Detector(name="ghost", description="", params_type=None,
                       default_params=lambda fs: None, detect=lambda *a, **k: np.arange(3),
                       available=lambda: False)
    with pytest.raises(DetectorUnavailableError, match=r"detector 'ghost'.*install the bench extra"):
        missing.find_peaks(np.zeros(10), 360.0)


def test_qrs_errors_name_the_record_and_warnings_become_notes():
    qrs = get_detector("qrs")
    with pytest.raises(DetectorInputError, match=r"record 7: fs must be between"):
        qrs.find_peaks(np.zeros(1000), 50.0, record="7")
    ecg, _ = _ecg(seconds=3.0)
    peaks, notes = qrs.find_peaks_noting(ecg, 360.0, record="7")
    assert len(peaks) >= 3 and notes and notes[0].startswith("record 7: signal is only")


def test_kaggle_recipe_with_qrs_detector_on_real_records(on_full_mirror, session_data_dir,
                                                         tmp_path):
    # Kaggle-style beats (this peak to the next, 120 Hz, per-beat min-max) from qrs peaks.
    out = tmp_path / "k.h5"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, recipe="kaggle",
                         detector="qrs", records=["100", "208"], workers=1, progress=False)
    assert s.detector.sensitivity > 0.99 and s.detector.positive_predictivity > 0.99
    t = load_beats(out, labelled=False)
    assert t.beats.shape[1] == 187 and t.attrs["fs"] == 120.0
    # per-beat min-max: every row peaks at 1; a row cut to 187 values may miss its minimum
    assert np.all(t.beats.max(axis=1) == 1.0) and np.mean(t.beats.min(axis=1) == 0.0) > 0.99
    assert (t.records["sensitivity"] > 0.99).all() and (t.records["positive_predictivity"] > 0.99).all()
    assert read_attrs(out)["detector"]["name"] == "qrs"
    # ... cut the same way as the rows cut at the annotations: the same beat, the same row
    ref = segment_record(session_data_dir / "physionet/mitdb/1.0.0/100", "mitdb", recipe="kaggle")
    qrs = segment_record(session_data_dir / "physionet/mitdb/1.0.0/100", "mitdb", recipe="kaggle",
                         detector="qrs")
    # record 100 (measured): all 2 272 rows, 1 118 at the annotation's sample, the rest 1-3 off
    # (its shipped first 150 s: 185 rows, 35 of them with the next two at the annotations)
    assert len(qrs.sample) == len(ref.sample)
    assert np.all(np.abs(qrs.sample - ref.sample) <= 3)
    eq = qrs.sample == ref.sample
    same = np.flatnonzero(eq[:-2] & eq[1:-1] & eq[2:])
    # this peak and the next two where the annotations are: the same row
    assert len(same) > (100 if on_full_mirror else 30)
    np.testing.assert_array_equal(qrs.beats[same], ref.beats[same])


def test_paper_recipe_with_qrs_detector(session_data_dir):
    res = segment_record(session_data_dir / "physionet/mitdb/1.0.0/208", "mitdb",
                         detector="qrs")
    assert res.detector.sensitivity > 0.98 and res.beats.shape[1] == 187


def test_reference_jitter_moves_each_annotation_both_ways_seeded():
    from ecgseg.detectors.reference import JitterParams, jittered_positions
    from ecgseg.records import Annotations

    samples = np.arange(200, 200 + 300 * 500, 300)
    ann = Annotations(samples, np.array(["N"] * len(samples)))
    det = get_detector("reference-jitter")
    assert det.needs_annotations and det.default_params(360.0) == JitterParams()
    moved = det.detect(np.zeros(samples[-1] + 100), 360.0, None, annotations=ann)
    offsets = moved - samples
    # 0.05 s at 360 Hz: 18 samples either way, earlier as well as later, reproducible
    assert offsets.min() == -18 and offsets.max() == 18 and abs(offsets.mean()) < 2
    np.testing.assert_array_equal(moved, jittered_positions(samples, 360.0, JitterParams()))
    other = jittered_positions(samples, 360.0, JitterParams(seed=1))
    assert not np.array_equal(other, moved)
    at_125 = jittered_positions(samples, 125.0, JitterParams(jitter_s=0.04))
    assert np.abs(at_125 - samples).max() == 5
    np.testing.assert_array_equal(jittered_positions(samples, 360.0, JitterParams(jitter_s=0)),
                                  samples)
    for bad in ({"jitter_s": -0.01}, {"jitter_s": float("nan")}, {"seed": -1}, {"seed": 1.5}):
        with pytest.raises(DetectorInputError, match=next(iter(bad))):
            JitterParams(**bad)


def test_kaggle_recipe_with_jittered_reference_records_its_params(session_data_dir, tmp_path):
    # a training file of beats cut around the annotations: each labelled by its
    # annotation, the offsets' parameters in the file's provenance
    out = tmp_path / "j.h5"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, recipe="kaggle",
                         detector="reference-jitter", records=["100"], workers=1,
                         progress=False)
    assert s.detector.sensitivity > 0.99 and s.detector.positive_predictivity == 1.0
    attrs = read_attrs(out)["detector"]
    assert attrs["name"] == "reference-jitter"
    assert attrs["params"] == {"jitter_s": 0.05, "seed": 0}
    ref = segment_record(session_data_dir / "physionet/mitdb/1.0.0/100", "mitdb", recipe="kaggle")
    jit = segment_record(session_data_dir / "physionet/mitdb/1.0.0/100", "mitdb", recipe="kaggle",
                         detector="reference-jitter")
    n = min(len(ref.sample), len(jit.sample))
    offsets = jit.sample[:n] - ref.sample[:n]
    assert np.abs(offsets).max() <= 18 and (offsets < -5).any() and (offsets > 5).any()
    np.testing.assert_array_equal(jit.labels[:n], ref.labels[:n])
