"""Metrics against a hand-computed confusion matrix, and ROC AUC against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgnet.metrics import (aami_table, classification_report, confusion_matrix, macro_f1,
                            precision_recall_f1, roc_auc_ovr)

# 12 beats, classes N S V F Q; hand-made predictions.
Y_TRUE = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4])
Y_PRED = np.array([0, 0, 0, 1, 2, 1, 1, 0, 2, 3, 0, 4])
# Counted by hand: rows true, columns predicted.
CM = np.array([[3, 1, 1, 0, 0],
               [1, 2, 0, 0, 0],
               [0, 0, 1, 1, 0],
               [1, 0, 0, 0, 0],
               [0, 0, 0, 0, 1]])


def test_confusion_matrix_and_prf_match_hand_counts():
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED, 5), CM)
    prf = precision_recall_f1(CM)
    # N: TP 3, predicted 5, support 5; S: TP 2, pred 3, sup 3; V: 1, 2, 2; F: 0, 1, 1; Q: 1, 1, 1
    np.testing.assert_allclose(prf["precision"], [3 / 5, 2 / 3, 1 / 2, 0, 1])
    np.testing.assert_allclose(prf["recall"], [3 / 5, 2 / 3, 1 / 2, 0, 1])
    np.testing.assert_allclose(prf["f1"], [3 / 5, 2 / 3, 1 / 2, 0, 1])
    assert macro_f1(CM) == pytest.approx((3 / 5 + 2 / 3 + 1 / 2 + 0 + 1) / 5)
    aami = aami_table(CM, ["N", "S", "V", "F", "Q"])
    assert list(aami) == ["N", "S", "V", "F"]
    assert aami["N"]["Se"] == pytest.approx(60.0) and aami["N"]["+P"] == pytest.approx(60.0)
    assert aami["V"] == {"Se": 50.0, "+P": 50.0, "TP": 1, "FN": 1, "FP": 1}
    assert aami["F"]["Se"] == 0.0 and aami["F"]["+P"] == 0.0
    assert aami_table(np.eye(2), ["normal", "MI"]) == {}


def test_report_of_one_hot_scores_and_absent_classes():
    proba = np.eye(5)[Y_PRED]
    report = classification_report(Y_TRUE, proba, ["N", "S", "V", "F", "Q"])
    assert report["n"] == 12 and report["accuracy"] == pytest.approx(7 / 12)
    assert report["confusion_matrix"] == CM.tolist()
    assert report["per_class"]["S"]["support"] == 3
    # A class neither true nor predicted is left out of the macro average.
    cm = confusion_matrix([0, 0, 1], [0, 0, 1], 5)
    assert macro_f1(cm) == 1.0
    assert np.isnan(aami_table(cm, "NSVFQ")["V"]["Se"])


def test_roc_auc_handles_ties_and_missing_classes():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([[0.9, 0.1], [0.5, 0.5], [0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    # class 1: positives 0.5, 0.8, 0.9 against negatives 0.1, 0.5 -> (1.5 + 2 + 2) / 6
    assert roc_auc_ovr(y, s)[1] == pytest.approx(5.5 / 6)
    assert np.isnan(roc_auc_ovr(np.zeros(4, int), np.random.rand(4, 2))).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4)), min_size=2, max_size=40))
def test_roc_auc_equals_pairwise_count(pairs):
    y = np.array([p[0] for p in pairs])
    score = np.array([p[1] for p in pairs], float)
    scores = np.stack([score, -score, score % 2], axis=1)
    got = roc_auc_ovr(y, scores)
    for c in range(3):
        pos, neg = scores[y == c, c], scores[y != c, c]
        if len(pos) == 0 or len(neg) == 0:
            assert np.isnan(got[c])
            continue
        wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
        assert got[c] == pytest.approx(wins / (len(pos) * len(neg)))
