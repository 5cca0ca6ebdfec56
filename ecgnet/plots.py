"""PNG figures of a run: learning curves and confusion matrix (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np



def _save(plt, fig, path: str | os.PathLike) -> Path:
    """Lay out, write atomically as PNG (100 dpi) and close a figure."""
    from ecgseg.atomic import atomic_path

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
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
