"""Classification metrics in plain numpy: confusion matrix, P/R/F1, ROC AUC, AAMI Se/+P.

Conventions
-----------
- Confusion matrix ``cm[i, j]``: beats of true class ``i`` predicted as class ``j``.
- A ratio with a zero denominator (a class never predicted, or absent) is 0 for
  precision/recall/F1 and NaN in the AAMI table and for ROC AUC (undefined, not zero).
- Macro averages run over the classes that occur in the true or the predicted labels
  (as scikit-learn does by default), so a class absent from a small validation set
  does not count as a failure.
- AAMI EC57 figures: sensitivity ``Se = TP / (TP + FN)`` and positive predictivity
  ``+P = TP / (TP + FP)`` of each of N, S, V, F, one class against the rest, over every
  beat of the 5-class confusion matrix (Q beats included). The standard's special
  cases (e.g. not counting F beats called V as false V) are not applied.
- Two classes (PTB normal / MI): class 1 is the positive one; sensitivity
  ``TP / (TP + FN)``, specificity ``TN / (TN + FP)``, precision ``TP / (TP + FP)`` and F1
  of that class (:func:`binary_table`).
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

AAMI_REPORTED = ("N", "S", "V", "F")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (true, predicted) class pairs.

    Parameters
    ----------
    y_true, y_pred : np.ndarray
        ``(n,)`` integer class ids in ``0 .. n_classes - 1``.
    n_classes : int

    Returns
    -------
    np.ndarray
        ``(n_classes, n_classes)`` int64; rows true class, columns predicted class.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    flat = y_true * n_classes + y_pred
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(num.shape, empty)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(cm: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support of a confusion matrix.

    Parameters
    ----------
    cm : np.ndarray
        ``(k, k)`` confusion matrix (rows true).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``: ``(k,)`` float64 (0 where undefined);
        ``support``: ``(k,)`` int64 true beats per class;
        ``predicted``: ``(k,)`` int64 beats predicted as each class.
    """
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _ratio(tp, predicted, 0.0)
    recall = _ratio(tp, support, 0.0)
    f1 = _ratio(2 * tp, support + predicted, 0.0)  # = 2PR / (P + R)
    return {"precision": precision, "recall": recall, "f1": f1,
            "support": support, "predicted": predicted}


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over the classes present in the true or predicted labels of ``cm``."""
    prf = precision_recall_f1(cm)
    present = (prf["support"] + prf["predicted"]) > 0
    return float(prf["f1"][present].mean()) if present.any() else 0.0


def roc_auc_ovr(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """One-vs-rest ROC AUC of every class (Mann-Whitney U, ties counted one half).

    Parameters
    ----------
    y_true : np.ndarray
        ``(n,)`` class ids.
    scores : np.ndarray
        ``(n, k)`` scores (e.g. probabilities) of each class.

    Returns
    -------
    np.ndarray
        ``(k,)`` float64 AUC of class ``c`` against the rest; NaN for a class without
        positive or without negative beats.
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    n, k = scores.shape
    aucs = np.full(k, np.nan)
    for c in range(k):
        pos = y_true == c
        n_pos = int(pos.sum())
        n_neg = n - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        ranks = _average_ranks(scores[:, c])
        aucs[c] = (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return aucs


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, tied values sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(x)]
    mean_rank = (first + last + 1) / 2.0  # ranks first+1 .. last, averaged
    ranks = np.empty(len(x))
    ranks[order] = mean_rank[group]
    return ranks


def aami_table(cm: np.ndarray, class_names: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """AAMI EC57 sensitivity and positive predictivity of N, S, V, F (percent).

    Parameters
    ----------
    cm : np.ndarray
        ``(k, k)`` confusion matrix whose classes include N, S, V, F.
    class_names : sequence of str
        Names of the ``k`` classes.

    Returns
    -------
    dict
        ``{"N": {"Se": %, "+P": %, "TP": int, "FN": int, "FP": int}, ...}``; empty when
        the classes are not the AAMI ones. Se/+P are NaN where undefined.
    """
    names = list(class_names)
    if not all(c in names for c in AAMI_REPORTED):
        return {}
    table = {}
    for name in AAMI_REPORTED:
        c = names.index(name)
        tp = int(cm[c, c])
        fn = int(cm[c].sum() - tp)
        fp = int(cm[:, c].sum() - tp)
        table[name] = {"Se": float(_ratio(100.0 * tp, tp + fn, np.nan)),
                       "+P": float(_ratio(100.0 * tp, tp + fp, np.nan)),
                       "TP": tp, "FN": fn, "FP": fp}
    return table


def binary_table(cm: np.ndarray, class_names: Sequence[str], positive: int = 1
                 ) -> Dict[str, float | str | None]:
    """Sensitivity, specificity, precision and F1 of a 2-class confusion matrix.

    Parameters
    ----------
    cm : np.ndarray
        ``(2, 2)`` confusion matrix (rows true).
    class_names : sequence of str
    positive : int
        The positive class (1: ``MI`` for PTB).

    Returns
    -------
    dict
        ``positive`` (name), ``sensitivity``, ``specificity``, ``precision``, ``f1``
        (fractions; None where undefined), ``TP``, ``FN``, ``FP``, ``TN``.
    """
    neg = 1 - positive
    tp, fn = int(cm[positive, positive]), int(cm[positive, neg])
    fp, tn = int(cm[neg, positive]), int(cm[neg, neg])

    def frac(a, b):
        return float(a / b) if b else None

    return {"positive": str(class_names[positive]), "sensitivity": frac(tp, tp + fn),
            "specificity": frac(tn, tn + fp), "precision": frac(tp, tp + fp),
            "f1": frac(2 * tp, 2 * tp + fp + fn), "TP": tp, "FN": fn, "FP": fp, "TN": tn}


def classification_report(y_true: np.ndarray, proba: np.ndarray,
                          class_names: Sequence[str]) -> dict:
    """Every figure ``ecg evaluate`` reports, as a JSON-ready dict.

    Parameters
    ----------
    y_true : np.ndarray
        ``(n,)`` true class ids.
    proba : np.ndarray
        ``(n, k)`` class probabilities; the prediction is their argmax.
    class_names : sequence of str
        ``k`` class names.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro`` (precision, recall, f1, roc_auc), ``per_class``
        (name -> precision, recall, f1, support, roc_auc), ``confusion_matrix``
        (list of rows, true x predicted), ``class_names``, ``aami`` (see
        :func:`aami_table`), ``binary`` (see :func:`binary_table`; two classes only,
        else None).
    """
    k = len(class_names)
    y_pred = np.argmax(proba, axis=1)
    cm = confusion_matrix(y_true, y_pred, k)
    prf = precision_recall_f1(cm)
    present = (prf["support"] + prf["predicted"]) > 0
    auc = roc_auc_ovr(y_true, proba)
    n = int(cm.sum())

    def clean(v: float):
        return None if np.isnan(v) else float(v)

    return {
        "n": n,
        "accuracy": float(np.trace(cm) / n) if n else 0.0,
        "macro": {"precision": float(prf["precision"][present].mean()),
                  "recall": float(prf["recall"][present].mean()),
                  "f1": macro_f1(cm),
                  "roc_auc": clean(np.nanmean(auc)) if np.isfinite(auc).any() else None},
        "per_class": {name: {"precision": float(prf["precision"][c]),
                             "recall": float(prf["recall"][c]),
                             "f1": float(prf["f1"][c]),
                             "support": int(prf["support"][c]),
                             "roc_auc": clean(auc[c])}
                      for c, name in enumerate(class_names)},
        "confusion_matrix": cm.tolist(),
        "class_names": list(class_names),
        "aami": {name: {key: (clean(v) if isinstance(v, float) else v)
                        for key, v in row.items()}
                 for name, row in aami_table(cm, class_names).items()},
        "binary": binary_table(cm, class_names) if k == 2 else None,
    }
