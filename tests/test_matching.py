"""Peak-to-annotation matching."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from ecgseg.matching import nearest_within, score_detections


def test_nearest_within_hand_example():
    ref = np.array([100, 400, 700])
    det = np.array([95, 260, 405, 690, 1000])
    assert list(nearest_within(det, ref, 54)) == [0, -1, 1, 2, -1]
    assert list(nearest_within(det, np.array([], dtype=int), 54)) == [-1] * 5


def test_score_hand_example():
    ref = np.array([100, 400, 700, 1000])
    det = np.array([98, 102, 405, 1200])  # a double detection at 100, 700 missed, 1200 false
    s = score_detections(det, ref, 10)
    assert (s.reference, s.detected, s.matched) == (4, 4, 2)
    assert s.sensitivity == 0.5 and s.positive_predictivity == 0.5


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200, unique=True),
       st.integers(-20, 20))
def test_shifted_copy_matches_everything(positions, shift):
    ref = np.sort(np.array(positions)) * 100  # spaced far apart
    s = score_detections(ref + shift, ref, 20)
    assert s.matched == len(ref)
    s2 = score_detections(ref + shift, ref, abs(shift) - 1) if shift else None
    if s2 is not None:
        assert s2.matched == 0


@given(st.lists(st.integers(0, 5000), max_size=80), st.lists(st.integers(0, 5000), max_size=80),
       st.integers(0, 60))
@settings(deadline=None)  # the first example compiles the kernel
def test_match_flags_is_a_one_to_one_merge(det, ref, tol):
    from ecgseg.matching import _match_flags

    d = np.sort(np.array(det, dtype=np.int64))
    r = np.sort(np.array(ref, dtype=np.int64))
    flags = _match_flags(d, r, np.int64(tol))
    np.testing.assert_array_equal(flags, _match_flags.py_func(d, r, np.int64(tol)))
    # one to one: at most one detection per reference beat, each within tol of one
    assert int(flags.sum()) <= min(len(d), len(r))
    assert (nearest_within(d[flags == 1], r, tol) >= 0).all()
    assert score_detections(d, r, tol).matched == int(flags.sum())
    # without anything excluded, the EC57 path scores like the plain one
    plain = score_detections(d, r, tol)
    assert score_detections(d, r, tol, excluded=np.zeros((0, 2), dtype=np.int64)) == plain


def test_ec57_flutter_exclusion():
    from ecgseg.matching import ventricular_flutter_episodes

    symbols = ["N", "N", "[", "!", "!", "]", "N", "[", "!"]
    samples = np.array([100, 400, 500, 560, 640, 700, 1000, 1200, 1300])
    episodes = ventricular_flutter_episodes(samples, symbols)
    assert episodes[0].tolist() == [500, 700] and episodes[1, 0] == 1200
    assert episodes[1, 1] == np.iinfo(np.int64).max  # unterminated: to the end
    ref = np.array([100, 400, 1000])
    det = np.array([101, 402, 560, 640, 750, 1001, 1300])
    plain = score_detections(det, ref, 20)
    assert (plain.reference, plain.detected, plain.matched) == (3, 7, 3)
    ec57 = score_detections(det, ref, 20, excluded=episodes)
    # 560, 640 (first episode) and 1300 (second) are not counted; 750 is still a false positive
    assert (ec57.reference, ec57.detected, ec57.matched) == (3, 4, 3)
    # a reference beat inside an episode is dropped; a detection matching a beat still counts
    ec57 = score_detections(np.array([505]), np.array([498, 520]), 20, excluded=np.array([[510, 600]]))
    assert (ec57.reference, ec57.detected, ec57.matched) == (1, 1, 1)
