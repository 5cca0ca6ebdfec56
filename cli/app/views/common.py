"""What the pages share: settings, error display, cached calls into the API."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable, Optional

import streamlit as st

from ecgseg.errors import EcgError

from .. import api


def settings() -> dict:
    """``data`` and ``runs`` folders and the ``mirror`` URL, from the environment."""
    return {"data": api.data_dir(), "runs": api.runs_dir(), "mirror": api.mirror_url()}


def shows_errors(page: Callable[[], None]) -> Callable[[], None]:
    """Draw a page; a bad input becomes one ``st.error`` line, never a traceback."""

    @functools.wraps(page)
    def draw() -> None:
        try:
            page()
        except EcgError as exc:
            st.error(str(exc))
        except Exception as exc:  # anything else: still one line, named
            st.error(f"unexpected error: {type(exc).__name__}: {exc}")

    return draw


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=8, show_spinner=False)
def _analyse(checkpoint: str, spec: str, data: str, mirror: Optional[str], lead: Optional[str],
             stamp: float):
    return api.analyse_record(checkpoint, spec, data=data, mirror=mirror, lead=lead)


def analyse(checkpoint: str, spec: str, lead: Optional[str] = None):
    """:func:`api.analyse_record`, cached per (checkpoint and its mtime, record)."""
    s = settings()
    return _analyse(str(checkpoint), str(spec), str(s["data"]), s["mirror"], lead,
                    _mtime(str(checkpoint)))


@st.cache_resource(max_entries=2, show_spinner=False)
def rebuild_index(path: str, stamp: float):
    """:func:`api.load_rebuild_index`, cached per file and mtime."""
    return api.load_rebuild_index(path)


@st.cache_data(max_entries=8, show_spinner=False)
def dataset(path: str, stamp: float):
    """:func:`api.dataset_summary`, cached per file and mtime."""
    return api.dataset_summary(path)


def short(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)
