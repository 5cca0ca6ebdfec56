"""Kaggle check page: which uploaded Kaggle rows our rebuild reproduces bit for bit."""

from __future__ import annotations

import os

import streamlit as st

from .. import api
from .common import rebuild_index, settings, shows_errors


@shows_errors
def render() -> None:
    s = settings()
    st.header("Kaggle check")
    st.write("Drop rows of the published `mitbih_train.csv` / `mitbih_test.csv` (any subset, "
             "188 columns): each is looked up by its float32 bytes in our rebuild from the raw "
             "MIT-BIH records.")
    rebuild = api.kaggle_rebuild_path(s["data"])
    if not rebuild.is_file():
        st.warning(f"The rebuild {rebuild} is missing. Make it with "
                   f"`ecg download --db mitdb --data-dir {s['data']}` then "
                   f"`{api.kaggle_rebuild_command()} --data-dir {s['data']}` (about 2 s).")
        return
    up = st.file_uploader("Kaggle CSV rows", type=["csv"], key="kaggle_upload")
    if up is None:
        return
    with st.spinner("indexing the rebuild ..."):
        index = rebuild_index(str(rebuild), os.stat(rebuild).st_mtime)
    report = api.kaggle_check(up.name, up.getvalue(), index)
    st.markdown(f"#### {report.lines()[0]}")
    c = st.columns(4)
    c[0].metric("rows", report.rows)
    c[1].metric("bit-exact", report.exact)
    c[2].metric(f"within {report.tolerance:g}", report.near)
    c[3].metric("unmatched", report.unmatched)
    st.dataframe(report.details, height=360)
    st.download_button("Download details (CSV)", report.details.to_csv(index=False),
                       file_name=f"{up.name}.verify.csv", mime="text/csv")
