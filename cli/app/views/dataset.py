"""Data set page: a beats HDF5 or Kaggle CSV at a glance."""

from __future__ import annotations

import json
import os

import streamlit as st

from .. import api, charts
from .common import dataset, settings, short, shows_errors


@shows_errors
def render() -> None:
    s = settings()
    st.header("Data set")
    files = api.dataset_files(s["data"])
    choices = [str(p) for p in files] + ["other path ...", "upload ..."]
    pick = st.selectbox("Beats file (HDF5 of `ecg segment`, or a Kaggle CSV)", choices,
                        key="dataset_pick", format_func=lambda p: short(p, s["data"]))
    path = pick
    if pick == "other path ...":
        path = st.text_input("Path", key="dataset_path").strip()
    elif pick == "upload ...":
        up = st.file_uploader("A beats file", type=["h5", "hdf5", "csv"], key="dataset_upload")
        if up is None:
            return
        folder = api.new_upload_folder()
        path = str(folder / up.name)
        with open(path, "wb") as f:
            f.write(up.getvalue())
    if not path:
        return
    stamp = os.stat(path).st_mtime if os.path.exists(path) else 0.0
    with st.spinner(f"reading {path} ..."):
        view = dataset(path, stamp)
    st.markdown(f"#### {view.n} labelled beats, {len(view.class_names)} classes")
    cols = st.columns(len(view.counts))
    for col, (name, n) in zip(cols, view.counts.items()):
        col.metric(name, n)
    c1, c2 = st.columns([1, 2])
    with c1:
        st.altair_chart(charts.class_balance_chart(view.counts), width="stretch")
    with c2:
        st.altair_chart(charts.class_mean_chart(view.class_names, view.mean, view.std),
                        width="stretch")
    st.subheader("Provenance")
    st.code(json.dumps(view.attrs, indent=2, default=str), language="json")
    if view.records is not None and len(view.records):
        st.subheader("Records")
        st.dataframe(view.records, height=min(320, 35 * (len(view.records) + 1) + 3))
