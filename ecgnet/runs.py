"""The run browser: every run folder under ``runs/`` as one row of a table.

A run folder is any folder with the ``config.json`` that ``ecg train`` (and ``ecg
transfer``) writes; its ``metrics.jsonl`` gives the epochs run and the best validation
macro-F1, its ``test.json`` the test figures of ``best.pt``. Runs without ``test.json``
(running, interrupted) are listed with status ``incomplete`` and no test figures.

Example
-------
>>> frame = list_runs("/nonexistent/runs")
>>> list(frame.columns)[:4], len(frame)
(['run', 'model', 'data', 'split'], 0)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import List, Optional

import pandas as pd

from ecgseg.errors import InputError

COLUMNS = ["run", "model", "data", "split", "trainable", "epochs", "best_epoch",
           "val_macro_f1", "test_accuracy", "test_macro_f1", "test_n", "parameters", "status",
           "modified", "path"]
"""Columns of :func:`list_runs`: ``run`` (folder relative to the root), ``model``, ``data``
(file names), ``split``, ``trainable`` (``all`` unless transfer froze parts), ``epochs``
run, ``best_epoch``, best ``val_macro_f1``, ``test_accuracy`` and ``test_macro_f1`` of
``best.pt`` on the test part and its ``test_n`` beats, ``parameters``, ``status``
(``complete``/``incomplete``), ``modified`` (time of the latest file), ``path``."""

SORT_ALIASES = {"macro_f1": "test_macro_f1", "f1": "test_macro_f1", "accuracy": "test_accuracy",
                "val_f1": "val_macro_f1", "time": "modified", "name": "run"}
"""Short names accepted by ``sort``."""


def _read_json(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _history(path: Path) -> List[dict]:
    rows = []
    try:
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    except OSError:
        pass
    return rows


def read_run(run_dir: str | os.PathLike, root: str | os.PathLike | None = None) -> Optional[dict]:
    """One row of :func:`list_runs` for a run folder, or None if it holds no readable
    ``config.json``."""
    run_dir = Path(run_dir)
    info = _read_json(run_dir / "config.json")
    if not isinstance(info, dict) or not isinstance(info.get("config"), dict):
        return None
    config = info["config"]
    history = _history(run_dir / "metrics.jsonl")
    test = _read_json(run_dir / "test.json") or {}
    val = [h.get("val_macro_f1") for h in history if h.get("val_macro_f1") is not None]
    best_epoch = test.get("best_epoch")
    if best_epoch is None and val:
        best_epoch = history[max(range(len(val)), key=val.__getitem__)].get("epoch")
    files = [p for p in run_dir.iterdir() if p.is_file()]
    modified = max((p.stat().st_mtime for p in files), default=run_dir.stat().st_mtime)
    split = str(config.get("split", ""))
    detail = str(info.get("split", ""))
    if detail and split == "auto":
        split = f"auto ({detail.split(':')[0]})"
    try:
        name = str(run_dir.relative_to(root)) if root is not None else run_dir.name
    except ValueError:
        name = run_dir.name
    return {
        "run": name, "model": config.get("model", ""),
        "data": ", ".join(Path(p).name for p in config.get("data") or []),
        "split": split, "trainable": config.get("trainable", "all"),
        "epochs": len(history), "best_epoch": best_epoch,
        "val_macro_f1": max(val) if val else math.nan,
        "test_accuracy": test.get("accuracy", math.nan),
        "test_macro_f1": (test.get("macro") or {}).get("f1", math.nan),
        "test_n": test.get("n"), "parameters": info.get("parameters"),
        "status": "complete" if test else "incomplete",
        "modified": pd.Timestamp(modified, unit="s"), "path": str(run_dir),
    }


def list_runs(root: str | os.PathLike = "runs", sort: str = "modified",
              descending: bool = True) -> pd.DataFrame:
    """All run folders under ``root`` (at any depth), one row each.

    Parameters
    ----------
    root : path
        Folder to search (``ecg train --out``; default ``runs``). A missing folder gives an
        empty table.
    sort : str
        A column of :data:`COLUMNS` or a short name of :data:`SORT_ALIASES`
        (``macro_f1`` = ``test_macro_f1``). Runs without that figure come last.
    descending : bool
        Largest first (the default: best runs, newest runs on top).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`.

    Raises
    ------
    InputError
        Unknown ``sort`` column.
    """
    column = SORT_ALIASES.get(sort, sort)
    if column not in COLUMNS:
        raise InputError(f"sort must be one of: {', '.join(COLUMNS)} (or "
                         f"{', '.join(SORT_ALIASES)}), got {sort!r}")
    root = Path(root)
    rows = []
    if root.is_dir():
        for config in sorted(root.rglob("config.json")):
            row = read_run(config.parent, root)
            if row is not None:
                rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if len(frame):
        frame = frame.sort_values(column, ascending=not descending, na_position="last",
                                  kind="stable").reset_index(drop=True)
    return frame


def format_runs(frame: pd.DataFrame) -> str:
    """A fixed-width text table of :func:`list_runs` (figures in %, no ``path`` column)."""
    if frame.empty:
        return "no runs"
    shown = frame.drop(columns=["path"]).copy()
    for col in ("val_macro_f1", "test_accuracy", "test_macro_f1"):
        shown[col] = [("-" if pd.isna(v) else f"{100 * v:.2f}") for v in shown[col]]
    for col in ("best_epoch", "test_n", "parameters"):
        shown[col] = ["-" if pd.isna(v) else str(int(v)) for v in shown[col]]
    shown["modified"] = [t.strftime("%Y-%m-%d %H:%M") for t in shown["modified"]]
    shown = shown.rename(columns={"val_macro_f1": "val_F1%", "test_accuracy": "test_acc%",
                                  "test_macro_f1": "test_F1%"})
    for col in ("run", "model", "data", "split"):  # text left-aligned, header included
        width = max(len(col), *(len(str(v)) for v in shown[col]))
        shown[col] = [str(v).ljust(width) for v in shown[col]]
        shown = shown.rename(columns={col: col.ljust(width)})
    return shown.to_string(index=False)
