"""Class-imbalance remedies and regularisers for the training part.

- class weights for the loss;
- augmented copies: the augmentation the community uses on the Kaggle beats, random
  amplitude scaling and random time stretching of beats of the minority classes;
- jitter: the same perturbation applied in place to a share of all training beats;
- shift: a share of all training beats cut a little earlier or later than their R peak,
  the RR inputs kept (where a detector puts a beat's R peak differs from where an
  annotator did by a few samples, more on ventricular beats: the model should not depend
  on it).

They touch the training part only; the copies and the jitter are redrawn every epoch.
"""

from __future__ import annotations

import numpy as np

from ecgseg.errors import InputError
from ecgseg.labels import BEAT_SAMPLES


CLASS_WEIGHTS = ("none", "balanced", "sqrt", "capped")

SAMPLERS = ("shuffle", "class", "record-class")
"""How an epoch draws its training beats (:func:`sampling_weights`)."""


def class_weights(labels: np.ndarray, n_classes: int, mode: str = "balanced") -> np.ndarray | None:
    """Loss weight of each class.

    Parameters
    ----------
    labels : np.ndarray
        ``(n,)`` class ids of the training beats.
    n_classes : int
        Number of classes.
    mode : {"none", "balanced", "sqrt", "capped"}
        ``balanced``: ``n / (k * n_c)`` (each class weighs as much in total);
        ``sqrt``: its square root (a milder remedy); ``capped``: ``balanced`` with no
        class above the median of the present classes' balanced weights, so the
        rarest classes weigh no more than a middle one (MIT-BIH DS1: F and Q come down
        to S's weight instead of about 110 and 5 000 times N's, which made a
        balanced-weight network call normal beats F); ``none``: no weights.

    Returns
    -------
    np.ndarray or None
        ``(n_classes,)`` float32, mean 1 over the classes present; classes without a
        training beat get 0. None for ``mode="none"``.
    """
    if mode == "none":
        return None
    if mode not in CLASS_WEIGHTS:
        raise InputError(f"unknown class weighting {mode!r}; choose one of: {', '.join(CLASS_WEIGHTS)}")
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    if mode == "sqrt":
        w = np.sqrt(w)
    elif mode == "capped":
        w = np.minimum(w, np.median(w[present]))
    w[present] /= w[present].mean()
    return w.astype(np.float32)


def sampling_weights(labels: np.ndarray, groups: np.ndarray | None,
                     mode: str = "record-class") -> np.ndarray | None:
    """Probability of drawing each training beat, for epochs drawn with replacement.

    ``class`` gives every class present the same share of the draws (balanced batches);
    ``record-class`` also shares each class's draws equally among the records that hold
    it, so one record with many beats of a rare class cannot stand for the class (in
    MIT-BIH DS1, 383 of the 943 supraventricular beats are the tachycardia runs of record
    209). ``shuffle`` (each beat once an epoch) returns None.

    Parameters
    ----------
    labels : np.ndarray
        ``(n,)`` class ids of the training beats.
    groups : np.ndarray or None
        ``(n,)`` record of each beat (any comparable ids); needed for ``record-class``.
    mode : {"shuffle", "class", "record-class"}

    Returns
    -------
    np.ndarray or None
        ``(n,)`` float64 probabilities summing to 1; None for ``shuffle``.

    Raises
    ------
    InputError
        Unknown mode, or ``record-class`` without the beats' records (Kaggle CSV rows).

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 0, 1, 1, 1])
    >>> sampling_weights(labels, None, "class").round(3).tolist()
    [0.125, 0.125, 0.125, 0.125, 0.167, 0.167, 0.167]
    >>> sampling_weights(labels, np.array(["a", "a", "a", "b", "a", "a", "b"])).round(3).tolist()
    [0.083, 0.083, 0.083, 0.25, 0.125, 0.125, 0.25]
    """
    if mode == "shuffle":
        return None
    if mode not in SAMPLERS:
        raise InputError(f"unknown sampler {mode!r}; choose one of: {', '.join(SAMPLERS)}")
    labels = np.asarray(labels)
    if mode == "class":
        cell = labels
    elif groups is None:
        raise InputError("sampler record-class needs the beats' records (the HDF5 of "
                         "ecg segment); Kaggle CSV rows carry none: use sampler class")
    else:
        codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
        cell = labels.astype(np.int64) * (codes.max() + 1) + codes
    cells, cell_index = np.unique(cell, return_inverse=True)
    classes = np.unique(labels)
    cells_per_class = np.array([len(np.unique(cell[labels == c])) for c in classes])
    share = 1.0 / (len(classes) * cells_per_class[np.searchsorted(classes, labels)])
    weights = share / np.bincount(cell_index)[cell_index]
    return weights / weights.sum()


def stretch(beats: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Stretch beats in time by linear interpolation, keeping their length.

    Parameters
    ----------
    beats : np.ndarray
        ``(m, L)`` float32.
    factors : np.ndarray
        ``(m,)`` stretch factor of each beat: > 1 makes it longer (its end is cut),
        < 1 shorter (zero-padded, like the beats themselves).

    Returns
    -------
    np.ndarray
        ``(m, L)`` float32: ``out[i, j] = beats[i, j / factors[i]]`` (interpolated).
    """
    m, length = beats.shape
    pos = np.arange(length)[None, :] / np.asarray(factors, dtype=np.float64)[:, None]
    left = np.floor(pos).astype(np.int64)
    frac = (pos - left).astype(np.float32)
    padded = np.concatenate([beats, np.zeros((m, 2), np.float32)], axis=1)
    left = np.minimum(left, length)
    rows = np.arange(m)[:, None]
    out = padded[rows, left] * (1 - frac) + padded[rows, left + 1] * frac
    return out.astype(np.float32)


def perturb(beats: np.ndarray, rng: np.random.Generator, scale: float = 0.2,
            max_stretch: float = 0.15, offsets: tuple = (0,)) -> np.ndarray:
    """Randomly scaled and stretched copies of beats.

    Parameters
    ----------
    beats : np.ndarray
        ``(m, L)`` float32. Columns outside the beats at ``offsets`` (a model's RR
        features, median beats, see :func:`ecgnet.data.model_inputs`) are copied
        unchanged.
    rng : np.random.Generator
        Source of the draws.
    scale : float
        Amplitudes are multiplied by a factor uniform in ``[1 - scale, 1 + scale]``.
    max_stretch : float
        Time stretch factor uniform in ``[1 - max_stretch, 1 + max_stretch]`` (see
        :func:`stretch`).
    offsets : tuple of int
        First column of each 187-sample beat of a row (``(0,)``; a 2-lead model's
        :func:`ecgnet.models.lead_offsets`): all the beats of a row get the same stretch
        and scale, as one heartbeat seen on several leads.

    Returns
    -------
    np.ndarray
        ``(m, L)`` float32.
    """
    factors = rng.uniform(1 - max_stretch, 1 + max_stretch, size=len(beats))
    amps = rng.uniform(1 - scale, 1 + scale, size=(len(beats), 1)).astype(np.float32)
    out = np.array(beats, dtype=np.float32, copy=True)
    for start in offsets:
        cols = slice(start, start + BEAT_SAMPLES)
        out[:, cols] = stretch(beats[:, cols], factors) * amps
    return out


def jitter(beats: np.ndarray, share: float, rng: np.random.Generator,
           offsets: tuple = (0,)) -> np.ndarray:
    """Replace a random ``share`` of the beats by perturbed versions (see :func:`perturb`).

    Parameters
    ----------
    beats : np.ndarray
        ``(n, L)`` float32 training beats (not modified).
    share : float
        Probability, per beat, of being perturbed; 0 returns ``beats`` itself.
    rng : np.random.Generator
    offsets : tuple of int
        First column of each beat of a row (see :func:`perturb`).

    Returns
    -------
    np.ndarray
        ``(n, L)`` float32, labels unchanged.
    """
    if share <= 0:
        return beats
    pick = np.flatnonzero(rng.random(len(beats)) < share)
    out = beats.copy()
    out[pick] = perturb(beats[pick], rng, offsets=offsets)
    return out


SHIFT_RANGE = (1.0, 6.0)
"""Default cut offsets of :func:`shift_cut`, samples of the beat at 120 Hz (later cuts of
1-6 samples, up to 50 ms): ``ecg train --shift-min/--shift-max``."""


def valid_lengths(beats: np.ndarray) -> np.ndarray:
    """Samples of each recipe row that come from the signal (before its zero padding).

    Parameters
    ----------
    beats : np.ndarray
        ``(n, L)`` rows, ``L >= 187``; only the first 187 columns are read.

    Returns
    -------
    np.ndarray
        ``(n,)`` int64: one past the last non-zero value of the first 187 (at least 1).

    Examples
    --------
    >>> valid_lengths(np.array([[1.0, 0.0, 0.5] + [0.0] * 184], np.float32)).tolist()
    [3]
    """
    nonzero = beats[:, :BEAT_SAMPLES] != 0
    last = BEAT_SAMPLES - np.argmax(nonzero[:, ::-1], axis=1)
    return np.where(nonzero.any(axis=1), last, 1).astype(np.int64)


def shift_cut(beats: np.ndarray, share: float, rng: np.random.Generator,
              offsets: tuple = SHIFT_RANGE) -> np.ndarray:
    """Move the cut point of a random ``share`` of the beats, as a detector might.

    A beat (a row of a recipe: it starts at its R peak) is cut ``d`` samples later
    (``d > 0``) or earlier (``d < 0``), ``d`` drawn uniformly in ``offsets`` (a real
    number: a detector's peak one sample away at 360 Hz is a third of a sample here). New
    sample ``i`` is the row at ``i + d``, linearly interpolated; before the first sample
    the row is mirrored about it (``x[-t] = x[t]``: the rising edge of an R peak taken as
    the mirror of its falling edge); past the row's last signal sample
    (:func:`valid_lengths`) it is zero (the recipes' padding), so a later cut shortens
    the beat and an earlier one lengthens it, as cutting the record there would. A later
    cut's signal part is min-max normalised again (each beat spans [0, 1], as the recipes
    make them); an earlier cut adds mirrored values only, within the row's range, and is
    left as it is. Columns after the first 187 (a model's RR and record features, the record's
    median beat: :func:`ecgnet.data.model_inputs`) are kept: only where the beat is cut
    moves, not the beat positions the RR intervals come from.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, L)`` float32 training inputs, ``L >= 187`` (not modified).
    share : float
        Probability, per beat, of being moved; 0 returns ``beats`` itself.
    rng : np.random.Generator
    offsets : (float, float)
        ``(low, high)``, samples at the beat's rate (120 Hz for the Kaggle recipe),
        ``low <= high``; negative cuts earlier. ``(1, 6)`` cuts 1-6 samples later.

    Returns
    -------
    np.ndarray
        ``(n, L)`` float32, labels unchanged.

    Examples
    --------
    >>> b = np.zeros((1, 187), np.float32); b[0, :4] = [1.0, 0.5, 0.0, 0.25]
    >>> shift_cut(b, 1.0, np.random.default_rng(0), offsets=(1, 1))[0, :4].tolist()
    [1.0, 0.0, 0.5, 0.0]
    >>> shift_cut(b, 1.0, np.random.default_rng(0), offsets=(-1, -1))[0, :5].tolist()
    [0.5, 1.0, 0.5, 0.0, 0.25]
    """
    if share <= 0:
        return beats
    low, high = float(offsets[0]), float(offsets[1])
    pick = np.flatnonzero(rng.random(len(beats)) < share)
    shifts = rng.uniform(low, high, size=len(pick)) if high > low else np.full(len(pick), low)
    rows = beats[pick, :BEAT_SAMPLES].astype(np.float64)
    n_valid = valid_lengths(beats[pick])
    src = np.abs(np.arange(BEAT_SAMPLES)[None, :] + shifts[:, None])  # (m, 187), mirrored
    inside = src <= (n_valid - 1)[:, None] + 1e-9
    left = np.minimum(np.floor(src).astype(np.int64), BEAT_SAMPLES - 1)
    right = np.minimum(left + 1, (n_valid - 1)[:, None])
    frac = src - left
    r = np.arange(len(pick))[:, None]
    moved = np.where(inside, (1 - frac) * rows[r, left] + frac * rows[r, right], 0.0)
    later = (shifts > 0)[:, None]  # an earlier cut only adds mirrored values: same range
    lo = np.where(inside & later, moved, np.inf).min(axis=1, keepdims=True)
    hi = np.where(inside & later, moved, -np.inf).max(axis=1, keepdims=True)
    lo, hi = np.where(later, lo, 0.0), np.where(later, hi, 1.0)
    span = hi - lo
    scaled = np.where(span > 0, (moved - lo) / np.where(span > 0, span, 1.0), 0.0)
    out = beats.copy()
    out[pick, :BEAT_SAMPLES] = np.where(inside, scaled, 0.0).astype(np.float32)
    return out


def augment_minority(beats: np.ndarray, labels: np.ndarray, target: float,
                     rng: np.random.Generator, scale: float = 0.2,
                     max_stretch: float = 0.15,
                     offsets: tuple = (0,)) -> tuple[np.ndarray, np.ndarray]:
    """Augmented copies that top every minority class up to ``target`` x the largest class.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, 187)`` float32 training beats.
    labels : np.ndarray
        ``(n,)`` class ids.
    target : float
        Each class smaller than ``target * max_c n_c`` gets augmented copies of its own
        beats (drawn with replacement) up to that size; 0 adds nothing.
    rng : np.random.Generator
        Source of the draws (seed it per epoch for reproducible training).
    scale : float
        Amplitudes are multiplied by a factor uniform in ``[1 - scale, 1 + scale]``.
    max_stretch : float
        Time stretch factor uniform in ``[1 - max_stretch, 1 + max_stretch]``.
    offsets : tuple of int
        First column of each beat of a row (see :func:`perturb`).

    Returns
    -------
    extra_beats : np.ndarray
        ``(k, 187)`` float32 new beats (k may be 0).
    extra_labels : np.ndarray
        ``(k,)`` their class ids.
    """
    counts = np.bincount(labels)
    goal = int(target * counts.max())
    picks = []
    for c, n_c in enumerate(counts):
        if 0 < n_c < goal:
            picks.append(rng.choice(np.flatnonzero(labels == c), size=goal - n_c))
    if not picks:
        return np.zeros((0, beats.shape[1]), np.float32), np.zeros(0, labels.dtype)
    idx = np.concatenate(picks)
    return perturb(beats[idx], rng, scale, max_stretch, offsets), labels[idx]
