"""PNG figures: a run's learning curves and confusion matrix, a transfer sweep, and a
record's beats with their predicted classes (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np


def _save(plt, fig, path: str | os.PathLike) -> Path:
    """Lay out, write atomically as PNG (100 dpi) and close a figure."""
    from ecgseg.atomic import atomic_path
    from ecgseg.oserrors import writing

    fig.tight_layout()
    try:
        with writing(path), atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    finally:
        plt.close(fig)
    return Path(path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(history: Sequence[dict], path: str | os.PathLike) -> Path:
    """Plot loss and validation metrics per epoch.

    Parameters
    ----------
    history : sequence of dict
        One dict per epoch with ``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``,
        ``val_macro_f1`` (the lines of ``metrics.jsonl``).
    path : str or PathLike
        PNG file to write.
    """
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax1.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax1.legend()
    ax2.plot(epochs, [h["val_accuracy"] for h in history], "o-", label="accuracy")
    ax2.plot(epochs, [h["val_macro_f1"] for h in history], "o-", label="macro-F1")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("validation")
    ax2.set_ylim(0, 1.01)
    ax2.legend()
    return _save(plt, fig, path)


def plot_confusion_matrix(cm: np.ndarray, class_names: Sequence[str],
                          path: str | os.PathLike, title: str = "") -> Path:
    """Plot a confusion matrix: colour = share of the true class, text = count.

    Parameters
    ----------
    cm : np.ndarray
        ``(k, k)`` counts, rows true class, columns predicted.
    class_names : sequence of str
    path : str or PathLike
        PNG file to write.
    """
    plt = _pyplot()
    cm = np.asarray(cm)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2, 1.2 * k + 1.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{cm[i, j]}\n{100 * share[i, j]:.1f}%", ha="center", va="center",
                    fontsize=8, color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), class_names)
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(plt, fig, path)


def plot_sweep(rows: Sequence[dict], path: str | os.PathLike, title: str = "",
               metrics: Sequence[str] = ("accuracy", "f1", "sensitivity", "specificity",
                                         "precision")) -> Path:
    """Plot the test figures of each transfer setting (one line per metric).

    Parameters
    ----------
    rows : sequence of dict
        One per setting, with ``setting`` and the ``metrics`` (fractions or None).
    path : str or PathLike
        PNG file to write.
    """
    plt = _pyplot()
    names = [r["setting"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows) + 2), 4))
    lowest = 1.0
    for m in metrics:
        values = np.array([np.nan if r.get(m) is None else 100 * r[m] for r in rows])
        if np.isfinite(values).any():
            lowest = min(lowest, np.nanmin(values) / 100)
            ax.plot(x, values, "o-", label=m)
    ax.set_xticks(x, names)
    ax.set_xlabel("trainable parts (scratch: no transfer, same budget)")
    ax.set_ylabel("test %")
    ax.set_ylim(max(0, 100 * lowest - 2), 100.5)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(plt, fig, path)


PALETTE = ("#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2")
"""Colour of each predicted class, by class id (cycled)."""


def plot_beat_classes(signal: np.ndarray, fs: float, sample: np.ndarray, predicted: np.ndarray,
                      reference: np.ndarray, class_names: Sequence[str],
                      path: str | os.PathLike, start_s: float = 0.0, seconds: float = 10.0,
                      lead: str = "", record: str = "",
                      annotations: tuple | None = None) -> Path:
    """PNG of a lead from ``start_s`` for ``seconds``, each beat marked with its class.

    Markers are coloured by predicted class and labelled with its name; a beat whose
    reference class differs also shows ``ref X``; reference beat annotations, when given,
    are grey ticks with their symbols below the signal.

    Parameters
    ----------
    signal : np.ndarray
        ``(n,)`` float, the lead in mV.
    fs : float
        Its sampling rate, Hz.
    sample : np.ndarray
        ``(m,)`` int64 beat positions (R peaks), samples of ``signal``.
    predicted, reference : np.ndarray
        ``(m,)`` int64 class ids (``reference`` -1 where unknown).
    class_names : sequence of str
    path : path
        PNG file to write (atomically).
    start_s, seconds : float
        The window shown, s; ``start_s`` inside the signal, ``seconds`` > 0.
    lead, record : str
        Names for the axis label and the title.
    annotations : (sample, symbol), optional
        Reference beat annotations to show: ``(k,)`` int64 samples and ``(k,)`` str.

    Raises
    ------
    ValueError
        A window outside the signal or not positive (callers check and word this).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> x = np.sin(np.arange(3600) / 50.0)
    >>> plot_beat_classes(x, 360.0, np.array([100, 900]), np.array([0, 1]), np.array([0, -1]),
    ...                   ["N", "V"], Path(tempfile.mkdtemp()) / "b.png").suffix
    '.png'
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    duration = len(signal) / fs
    if not 0 <= start_s < duration:
        raise ValueError(f"start_s {start_s:g} s is outside the signal (0 to {duration:.1f} s)")
    a = int(round(start_s * fs))
    b = min(len(signal), int(round((start_s + seconds) * fs)))
    t = np.arange(a, b) / fs
    x = signal[a:b]
    plt = _pyplot()
    width = float(np.clip(seconds * 1.4, 8, 24))
    fig, ax = plt.subplots(figsize=(width, 4.2))
    ax.plot(t, x, color="0.25", lw=0.8, label=f"{lead} (mV)")
    inside = np.flatnonzero((sample >= a) & (sample < b))
    span = float(np.nanmax(x) - np.nanmin(x)) if len(x) else 1.0
    top = float(np.nanmax(x)) if len(x) else 1.0
    names = list(class_names)
    for c, cname in enumerate(names):
        sel = inside[predicted[inside] == c]
        if sel.size == 0:
            continue
        colour = PALETTE[c % len(PALETTE)]
        ax.scatter(sample[sel] / fs, signal[sample[sel]], s=36, color=colour,
                   zorder=3, label=f"{cname} ({sel.size})", edgecolor="white", linewidth=0.6)
        for i in sel:
            ref = reference[i]
            ax.annotate(cname, (sample[i] / fs, top + 0.06 * span), ha="center",
                        va="bottom", fontsize=8, color=colour, fontweight="bold")
            if 0 <= ref < len(names) and ref != c:
                ax.annotate(f"ref {names[ref]}", (sample[i] / fs, top + 0.17 * span),
                            ha="center", va="bottom", fontsize=7, color="black",
                            style="italic")
    bottom = float(np.nanmin(x)) if len(x) else 0.0
    if annotations is not None:
        ann_sample, ann_symbol = annotations
        keep = (ann_sample >= a) & (ann_sample < b)
        ref_t = ann_sample[keep] / fs
        ax.scatter(ref_t, np.full(ref_t.shape, bottom - 0.1 * span), marker="|", s=80,
                   color="0.45", label=f"reference beats ({int(keep.sum())})", zorder=2)
        for tt, sym in zip(ref_t, np.asarray(ann_symbol)[keep]):
            ax.annotate(sym, (tt, bottom - 0.2 * span), ha="center", va="center", fontsize=7,
                        color="0.35")
    ax.set_ylim(bottom - (0.27 if annotations is not None else 0.05) * span, top + 0.32 * span)
    ax.set_xlim(t[0] if len(t) else start_s, t[-1] if len(t) else start_s + seconds)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{lead} (mV)")
    has_ref = bool((reference[inside] >= 0).any()) if inside.size else False
    ax.set_title(f"record {record}: predicted class of each detected beat"
                 + ("  ('ref X': the reference class differs; grey ticks: reference beat "
                    "annotations)" if has_ref or annotations is not None else ""), fontsize=10)
    ax.legend(loc="upper right", fontsize=8, ncol=len(names) + 1, framealpha=0.9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    from ecgseg.atomic import atomic_path
    from ecgseg.oserrors import writing

    try:
        with writing(path), atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
    return Path(path)
