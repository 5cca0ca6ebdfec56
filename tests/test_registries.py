"""Recipe, detector and database registries, and recipes composed with detectors."""

from __future__ import annotations

import numpy as np
import pytest

from ecgseg import kernels as K
from ecgseg.databases import DATABASES, get_database
from ecgseg.detectors import detector_names, get_detector
from ecgseg.errors import EcgError, RecordError
from ecgseg.labelling import label_by_annotations, label_by_diagnosis
from ecgseg.pipeline import default_output, segment_database, segment_record
from ecgseg.recipes import get_recipe, recipe_names
from ecgseg.recipes._common import window_bounds
from ecgseg.recipes.kaggle import KagglePtbParams, segment_kaggle_ptb
from ecgseg.recipes.params import KaggleMitdbParams
from ecgseg.recipes.paper import PaperParams, segment_paper
from ecgseg.records import Annotations, read_annotations, read_lead
from ecgseg.store import load_beats, read_attrs


def test_recipe_registry_resolves_names_and_per_database_facts():
    assert recipe_names() == ("paper", "kaggle")
    paper, kaggle = get_recipe("paper"), get_recipe("kaggle")
    assert paper.default_params("mitdb") == PaperParams()
    assert kaggle.default_params("mitdb") == KaggleMitdbParams()  # snap_peaks off: the published rows
    assert kaggle.default_params("ptbdb") == KagglePtbParams()
    assert (paper.fs("mitdb"), paper.fs("mitdb", PaperParams(fs=250.0))) == (125.0, 250.0)
    assert (kaggle.fs("mitdb"), kaggle.fs("ptbdb")) == (120.0, 125.0)
    assert (kaggle.default_detector("mitdb"), kaggle.default_detector("ptbdb")) == \
        ("reference", "paper")
    assert kaggle.note("ptbdb") and not kaggle.note("mitdb")
    with pytest.raises(EcgError, match=r"recipe must be one of paper, kaggle; got 'nope'"):
        get_recipe("nope")


def test_detector_registry_and_reference_detector():
    assert detector_names()[:2] == ("paper", "reference")
    with pytest.raises(EcgError, match=r"detector must be one of paper, reference.*'nope'"):
        get_detector("nope")
    ann = Annotations(np.array([5, 9, 20, 20]), np.array(["N", "+", "V", "V"]))
    ref = get_detector("reference")
    np.testing.assert_array_equal(ref.find_peaks(np.zeros(30), 360.0, annotations=ann), [5, 20])
    with pytest.raises(RecordError, match="record 7 has no reference beat annotations"):
        ref.find_peaks(np.zeros(30), 360.0, record="7")


def test_databases_carry_their_conventions():
    assert set(DATABASES) >= {"mitdb", "ptbdb"}
    mit, ptb = get_database("mitdb"), get_database("ptbdb")
    assert (mit.patient("202"), ptb.patient("patient001/s0010_re")) == ("201", "patient001")
    assert (mit.class_names, ptb.class_names) == (("N", "S", "V", "F", "Q"), ("normal", "MI"))
    assert mit.annotation_extension == "atr" and ptb.annotation_extension is None
    assert not hasattr(mit, "title") and not hasattr(mit, "fs")
    ann = Annotations(np.array([100, 200, 460]), np.array(["N", "+", "V"]))
    lab = label_by_annotations("x", np.array([102, 455, 900]), 360.0, ann, 0.15)
    np.testing.assert_array_equal(lab.labels, [0, 2, -1])
    assert (lab.score.reference, lab.score.matched) == (2, 2)
    assert list(label_by_diagnosis(3, "Myocarditis").labels) == [-2, -2, -2]
    assert default_output("mitdb", "paper", "d", detector="reference").name == "mitdb-reference.h5"
    assert default_output("mitdb", "kaggle", "d", detector="reference").name == "mitdb-kaggle.h5"
    # a snapping run never takes the plain recipe's default file name
    snap = KaggleMitdbParams(snap_peaks=True)
    assert default_output("mitdb", "kaggle", "d", params=snap).name == "mitdb-kaggle-snap.h5"
    assert (default_output("mitdb", "kaggle", "d", detector="qrs", params=snap).name
            == "mitdb-kaggle-qrs-snap.h5")
    assert default_output("mitdb", "kaggle", "d", params=KaggleMitdbParams()).name == "mitdb-kaggle.h5"


def test_own_peaks_as_detector_peaks_give_identical_beats(session_data_dir):
    # The detector path of each recipe, fed the recipe's own peaks, must cut the same beats.
    path = session_data_dir / "physionet" / "mitdb" / "1.0.0" / "100"
    lead = read_lead(path, get_database("mitdb"))
    own = segment_paper(lead.signal, lead.fs)
    peaks = get_detector("paper").find_peaks(lead.signal, lead.fs)
    via = segment_paper(lead.signal, lead.fs, PaperParams(), peaks)
    np.testing.assert_array_equal(own.beats, via.beats)
    np.testing.assert_array_equal(own.sample, via.sample)
    np.testing.assert_array_equal(own.window, via.window)
    t = np.arange(1000 * 30) / 1000.0
    adc = (np.sin(2 * np.pi * 1.1 * t) ** 41 * 1000).astype(np.int64)
    ptb_own = segment_kaggle_ptb(adc)
    xd = np.ascontiguousarray(adc[::8], dtype=np.float64)  # the recipe's own run starts
    starts, ends = window_bounds(xd.shape[0], 625, "drop")
    mn, mx = K.window_minmax(xd, starts, ends)
    xn = np.zeros_like(xd)
    K.normalise_windows(xd, starts, ends, mn, mx, xn)
    runs, _ = K.run_starts_above(xn, starts, ends, mx > mn, 0.9, False, True)
    ptb_via = segment_kaggle_ptb(adc, KagglePtbParams(), 8 * runs)
    assert len(ptb_own) > 20
    np.testing.assert_array_equal(ptb_own.beats, ptb_via.beats)
    np.testing.assert_array_equal(ptb_own.sample, ptb_via.sample)


def test_paper_recipe_with_reference_detector_finds_nearly_every_beat(on_full_mirror,
                                                                      session_data_dir, tmp_path):
    out = tmp_path / "ref.h5"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, records=["100", "208"],
                         detector="reference", tolerance_s=0.1, workers=1, progress=False)
    assert s.detector.sensitivity > 0.99 and s.detector.positive_predictivity == 1.0
    assert "reference detector" in s.lines()[0]
    # the tolerance actually used (the shipped first 150 s: 443 of 443 beats found)
    assert ("(100 ms): Se 99." if on_full_mirror else "(100 ms): Se 100.00 %") in s.lines()[2]
    t = load_beats(out, labelled=False)
    assert (t.labels >= 0).all()  # every beat sits on an annotation
    ann = read_annotations(session_data_dir / "physionet" / "mitdb" / "1.0.0" / "100")
    assert np.isin(t.meta.loc[t.meta["record"] == "100", "sample"], ann.sample).all()
    attrs = read_attrs(out)
    assert attrs["detector"]["name"] == "reference" and attrs["recipe"] == "paper"
    assert attrs["detector"]["sensitivity"] > 0.99
    recs = t.records.set_index("name")
    assert recs.loc["208", "sensitivity"] > 0.98


def test_kaggle_recipe_with_paper_detector_and_errors(on_full_mirror, session_data_dir, tmp_path):
    path = session_data_dir / "physionet" / "mitdb" / "1.0.0" / "100"
    res = segment_record(path, "mitdb", None, recipe="kaggle", detector="paper")
    low, high = (900, 1300) if on_full_mirror else (90, 130)  # the shipped 150 s: 104 beats
    assert res.beats.shape[1] == 187 and low < len(res.labels) < high
    assert res.detector.positive_predictivity > 0.97  # labelled and scored like the paper's
    with pytest.raises(EcgError, match="detector must be one of"):
        segment_record(path, "mitdb", None, detector="nope")
    with pytest.raises(EcgError, match="no record could be segmented.*no reference beat"):
        segment_database("ptbdb", data_dir=session_data_dir, out=tmp_path / "p.h5",
                         recipe="kaggle", detector="reference", progress=False)
    assert not (tmp_path / "p.h5").exists()


def test_numpy_backend_gives_the_same_beats_and_bad_backend_is_named():
    t = np.arange(360 * 40) / 360.0
    x = np.sin(2 * np.pi * 1.2 * t) ** 63 + 0.01 * np.sin(2 * np.pi * 0.3 * t)
    fast = segment_paper(x, 360.0)
    slow = segment_paper(x, 360.0, backend="numpy")
    assert len(fast) > 30
    np.testing.assert_array_equal(fast.beats, slow.beats)
    np.testing.assert_array_equal(fast.sample, slow.sample)
    with pytest.raises(EcgError, match="backend must be one of numba, numpy; got 'cuda'"):
        segment_paper(x, 360.0, backend="cuda")
