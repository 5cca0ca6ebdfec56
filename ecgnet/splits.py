"""Train / validation / test splits of labelled beats, none of which share a beat.

- ``random``: stratified by class, beat by beat (the Kaggle way; beats of one patient
  land on both sides, so it says little about unseen patients);
- ``interpatient``: MIT-BIH records DS1 for training, DS2 for testing (de Chazal et al.
  2004; the paced records 102, 104, 107, 217 are in neither);
- ``patient``: whole patients on each side (PTB, where a patient has several records);
- ``auto``: ``patient`` when the data have patient ids (HDF5) of at least 3 patients,
  else ``random``; the split's ``note`` says which and why.

The validation part, for early stopping, is carved from the training side the same way
(by beat for ``random``, by patient otherwise) unless ``val_by`` says otherwise. By beat
inside the inter-patient training side (DS1) gives a larger, steadier validation part than
a few whole records, but an optimistic one: it scores patients the model trains on
(measured: 96 % validation accuracy for a checkpoint with 65 % on DS2, see
``benchmarks/TRAIN_ACCURACY.md``); a larger ``val_fraction`` by patient keeps the
validation figures about new patients. Every split is a pure function of the data and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ecgseg.errors import InputError
from ecgseg.record_splits import DS1, DS2, PACED  # noqa: F401  (re-exported)

from .data import BeatData

SPLIT_KINDS = ("random", "interpatient", "patient", "auto")
VAL_BY = ("auto", "beat", "patient")
MIN_PATIENTS = 3
"""Patients a patient split needs: test, training and validation each get one."""


@dataclass(frozen=True)
class Split:
    """Indices ``(k,)`` int64 into a :class:`~ecgnet.data.BeatData`; disjoint parts."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    kind: str
    note: str = ""

    def describe(self) -> str:
        """One line: the kind (and why, for ``auto``) and the beats of each part."""
        why = f" ({self.note})" if self.note else ""
        return (f"{self.kind} split{why}: {len(self.train)} train, {len(self.val)} validation, "
                f"{len(self.test)} test beats")


def stratified_split(labels: np.ndarray, fraction: float, rng: np.random.Generator
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Split indices ``0..n-1`` class by class: ``round(fraction * n_c)`` of each class aside.

    Parameters
    ----------
    labels : np.ndarray
        ``(n,)`` class ids.
    fraction : float
        Share of each class put aside, in [0, 1).
    rng : np.random.Generator
        Source of the shuffling.

    Returns
    -------
    keep, aside : np.ndarray
        Sorted int64 indices.
    """
    aside = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        aside.append(idx[:int(round(fraction * len(idx)))])
    aside = np.sort(np.concatenate(aside)) if aside else np.zeros(0, np.int64)
    keep = np.setdiff1d(np.arange(len(labels)), aside)
    return keep.astype(np.int64), aside.astype(np.int64)


def grouped_split(groups: np.ndarray, fraction: float, rng: np.random.Generator
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """Put whole groups (patients) aside until they hold ``fraction`` of the beats.

    Parameters
    ----------
    groups : np.ndarray
        ``(n,)`` group id of every beat.
    fraction : float
        Target share of beats put aside (at least one group, at least one kept).

    Returns
    -------
    keep, aside : np.ndarray
        Sorted int64 indices; no group is on both sides.
    """
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    if len(names) < 2:
        raise InputError(f"a split by patient needs at least 2 patients, the data has {len(names)}")
    order = rng.permutation(len(names))
    target = fraction * len(groups)
    chosen, total = [], 0
    for g in order[:-1]:
        if chosen and total + sizes[g] / 2 > target:
            break
        chosen.append(g)
        total += sizes[g]
    mask = np.isin(inverse, chosen)
    return np.flatnonzero(~mask).astype(np.int64), np.flatnonzero(mask).astype(np.int64)


def make_split(data: BeatData, kind: str = "random", test_fraction: float = 0.2,
               val_fraction: float = 0.1, seed: int = 0, val_by: str = "auto") -> Split:
    """Split ``data`` into train, validation and test parts that share no beat.

    Parameters
    ----------
    data : BeatData
        The labelled beats.
    kind : {"random", "interpatient", "patient", "auto"}
        See the module docstring.
    test_fraction : float
        Share of the beats (random) or about of the beats (patient) held out for
        testing; unused by ``interpatient`` (DS2 is the test set).
    val_fraction : float
        Share of the training side held out for early stopping.
    seed : int
        Seed of the shuffling.
    val_by : {"auto", "beat", "patient"}
        How the validation part is carved from the training side: ``beat`` (stratified),
        ``patient`` (whole patients), ``auto`` (by beat for ``random``, by patient
        otherwise).

    Returns
    -------
    Split

    Raises
    ------
    InputError
        Unknown kind, or data without the record/patient ids the kind needs.
    """
    if val_by not in VAL_BY:
        raise InputError(f"unknown validation split {val_by!r}; choose one of: {', '.join(VAL_BY)}")
    rng = np.random.default_rng([seed, 7])
    everything = np.arange(len(data))
    note = ""
    if kind == "auto":
        kind, note = _auto_kind(data)
    if kind == "random":
        train_side, test = stratified_split(data.labels, test_fraction, rng)
    elif kind == "interpatient":
        if data.records is None:
            raise InputError("--split interpatient needs record ids: give the MIT-BIH beats "
                             "as HDF5 (ecg segment), not CSV")
        in_ds1 = np.isin(data.records, DS1)
        test = everything[np.isin(data.records, DS2)]
        if not in_ds1.any() or len(test) == 0:
            raise InputError("--split interpatient: the data holds no beats of MIT-BIH "
                             "DS1 or of DS2 records")
        train_side = everything[in_ds1]
    elif kind == "patient":
        if data.patients is None:
            raise InputError("--split patient needs patient ids: give the beats as HDF5 "
                             "(ecg segment), not CSV")
        keep, test = grouped_split(data.patients, test_fraction, rng)
        train_side = everything[keep]
    else:
        raise InputError(f"unknown split {kind!r}; choose one of: {', '.join(SPLIT_KINDS)}")
    by = val_by if val_by != "auto" else ("beat" if kind == "random" else "patient")
    if by == "beat":
        keep, val = stratified_split(data.labels[train_side], val_fraction, rng)
    else:
        if data.patients is None:
            raise InputError("a validation part by patient needs patient ids: give the beats "
                             "as HDF5 (ecg segment), or validate by beat")
        keep, val = grouped_split(data.patients[train_side], val_fraction, rng)
    if val_by != "auto":
        note = "; ".join(filter(None, [note, f"validation by {by}"]))
    return Split(train_side[keep], train_side[val], test, kind, note)


def _auto_kind(data: BeatData) -> Tuple[str, str]:
    """``("patient" | "random", why)`` for ``make_split(kind="auto")``."""
    if data.patients is None:
        return "random", ("auto: the data have no patient ids (CSV), so stratified by beat; "
                          "beats of one patient can be on both sides")
    n = len(np.unique(data.patients))
    if n < MIN_PATIENTS:
        return "random", (f"auto: only {n} patient(s), a patient split needs {MIN_PATIENTS}, "
                          f"so stratified by beat; beats of one patient are on both sides")
    return "patient", f"auto: by patient, {n} patients"
