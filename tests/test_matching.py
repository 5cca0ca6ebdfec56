"""Peak-to-annotation matching."""

from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

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
