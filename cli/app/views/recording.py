"""Recording page: a record, a model, every beat marked with its predicted class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from .. import api, charts
from .common import analyse, settings, short, shows_errors

SOURCES = ("data folder", "PhysioNet name", "path", "upload")
WINDOWS = {"10 s": 10.0, "30 s": 30.0, "1 min": 60.0, "5 min": 300.0, "whole record": None}
#: Points per chart: about its width in pixels (min and max of each bucket are drawn).
BUCKETS = 1200


def choose_model(runs_root: Path):
    """Model select box: the pretrained models and the runs' checkpoints.

    ``?model=NAME`` (a pretrained model) or ``?model=PATH`` (a checkpoint) preselects;
    otherwise the default pretrained model is selected. Returns the checkpoint path to
    load, or None when there is no model at all.
    """
    choices = api.model_choices(runs_root)
    chosen = api.resolve_model(st.query_params.get("model"), choices)
    if chosen is None:
        st.warning(f"No model: no pretrained model is installed and no checkpoint is under "
                   f"{runs_root}; train one with `ecg train` (or start the app with "
                   "`--runs-dir`).")
        return None
    if chosen not in choices:
        choices.insert(0, chosen)
    by_key = {c.key: c for c in choices}
    key = st.selectbox("Model", list(by_key), index=list(by_key).index(chosen.key),
                       key="model", format_func=lambda k: by_key[k].label)
    return by_key[key].checkpoint


def choose_record(data: Path):
    """Record widgets; returns the record spec (name or local path), or None."""
    wanted = st.query_params.get("record")
    source = st.radio("Record from", SOURCES, horizontal=True, key="source",
                      index=1 if wanted else 0)
    if source == "data folder":
        names = api.local_records(data)
        if not names:
            st.info(f"No record downloaded under {data}/physionet: use `ecg download`, or "
                    "type a PhysioNet name.")
            return None
        return st.selectbox("Record", names, key="local_record")
    if source == "PhysioNet name":
        text = st.text_input("Record (<db>/<version>/<record>, fetched when missing)",
                             value=wanted or "mitdb/1.0.0/208", key="remote_record")
        return text.strip() or None
    if source == "path":
        text = st.text_input("Record path (without extension)", key="path_record")
        return text.strip() or None
    files = st.file_uploader("WFDB .hea + .dat (and .atr), or one signal: .csv, .txt, .npy (mV)",
                             accept_multiple_files=True, key="upload",
                             type=["hea", "dat", "atr", "csv", "txt", "npy"])
    fs = st.number_input("Sampling rate of a signal file (Hz)", min_value=50.0,
                         max_value=10000.0, value=360.0, key="upload_fs")
    if not files:
        return None
    content = tuple((f.name, f.getvalue()) for f in files)
    key = (content, fs)
    if st.session_state.get("upload_key") != key:  # write each upload once
        st.session_state["upload_path"] = str(api.save_upload(content, api.new_upload_folder(),
                                                              fs=fs))
        st.session_state["upload_key"] = key
    return st.session_state["upload_path"]


def window_frames(view, start_s: float, length_s: float | None):
    """Data frames of the chart for the window: (trace, beats, reference, start, stop)."""
    fs = view.fs
    n = len(view.signal)
    a = int(start_s * fs) if length_s else 0
    b = min(n, a + int(length_s * fs)) if length_s else n
    idx, val = api.envelope(view.signal, a, b, BUCKETS)
    trace = pd.DataFrame({"time_s": idx / fs, "mV": val})
    pred = view.prediction
    rows = np.flatnonzero((pred.sample >= a) & (pred.sample < b))
    table = view.table
    beats = pd.DataFrame({"beat": rows, "time_s": pred.sample[rows] / fs,
                          "mV": view.signal[pred.sample[rows]],
                          "predicted": table["predicted"].to_numpy()[rows],
                          "probability": table["probability"].to_numpy()[rows],
                          "reference": table["reference"].to_numpy()[rows]})
    reference = None
    if view.reference is not None:
        ref = view.reference
        keep = (ref.sample >= a) & (ref.sample < b)
        low = float(val.min()) if len(val) else 0.0
        span = float(val.max() - val.min()) if len(val) else 1.0
        reference = pd.DataFrame({"time_s": ref.sample[keep] / fs,
                                  "y": low - 0.08 * (span or 1.0),
                                  "symbol": ref.symbol[keep], "aami": ref.aami[keep]})
    return trace, beats, reference, a / fs, b / fs


def draw_signal(view) -> None:
    """Window controls, the overview and the signal chart; a click selects a beat."""
    c1, c2 = st.columns([1, 4])
    length = WINDOWS[c1.selectbox("Window", list(WINDOWS), key="window")]
    start = 0.0
    if length and view.duration_s > length:
        start = c2.slider("Start (s)", 0.0, float(np.floor(view.duration_s - length)), 0.0,
                          step=1.0, key="start")
    trace, beats, reference, a, b = window_frames(view, start, length)
    whole_idx, whole_val = api.envelope(view.signal, 0, len(view.signal), 600)
    overview = pd.DataFrame({"time_s": whole_idx / view.fs, "mV": whole_val})
    st.altair_chart(charts.overview_chart(overview, a, b), width="stretch")
    chart = charts.recording_chart(trace, beats, reference, view.class_names, view.lead)
    event = st.altair_chart(chart, width="stretch", on_select="rerun",
                            selection_mode=charts.BEAT_SELECTION, key="signal_chart")
    picked = (event.selection.get(charts.BEAT_SELECTION) or []) if event else []
    if picked:
        st.session_state["beat_number"] = int(picked[0]["beat"])
    st.caption(f"{len(beats)} beats in {a:.0f}-{b:.0f} s; dots: predicted class; ticks below: "
               "reference annotations (colour: their class). Drag to scroll, wheel to zoom, "
               "click a beat to select it for the Beat page.")


def draw_scores(view) -> None:
    """Counts per class, detector and classification Se/+P."""
    counts = view.counts()
    cols = st.columns(len(counts) + 1)
    cols[0].metric("beats", len(view.prediction))
    for col, (name, n) in zip(cols[1:], counts.items()):
        col.metric(name, n)
    detector, table = view.scores()
    if detector is not None:
        st.markdown(f"**Detector vs reference beats**: Se {detector['Se %']:.2f} %, "
                    f"+P {detector['+P %']:.2f} % ({detector['found']} of "
                    f"{detector['reference beats']} beats found, {detector['detected']} peaks)")
    if table is not None:
        st.markdown(f"**Classification vs reference classes** ({table.attrs['compared']} beats "
                    f"with one): accuracy {table.attrs['accuracy']:.2f} %")
        shown = table.rename(columns={"Se": "Se %", "+P": "+P %"})
        for col in ("Se %", "+P %"):  # undefined (no such beat): '-'
            shown[col] = [("-" if np.isnan(v) else f"{v:.2f}") for v in shown[col]]
        st.dataframe(shown)


@shows_errors
def render() -> None:
    s = settings()
    st.header("Recording")
    c1, c2 = st.columns(2)
    with c1:
        spec = choose_record(s["data"])
    with c2:
        model = choose_model(s["runs"])
    if spec is None or model is None:
        return
    with st.spinner(f"classifying the beats of {spec} ..."):
        view = analyse(str(model), spec)
    st.session_state["view"] = view
    for note in view.notes:
        st.warning(note)
    st.markdown(f"#### {view.summary_line()}")
    draw_signal(view)
    if "beat_number" in st.session_state:
        i = st.session_state["beat_number"]
        if 0 <= i < len(view.prediction):
            row = view.table.iloc[i]
            st.info(f"Selected beat {i} at {row['time_s']:.3f} s: {row['predicted']} "
                    f"({row['probability']:.3f}); open the Beat page to see it.")
    draw_scores(view)
    st.subheader("Beats")
    table = view.table
    st.dataframe(table, height=320, key="beat_table")
    st.download_button("Download CSV", view.csv(), file_name=f"{view.prediction.name.replace('/', '_')}"
                       ".predictions.csv", mime="text/csv")
