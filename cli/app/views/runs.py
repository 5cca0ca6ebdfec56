"""Runs page: the run folders of `ecg train` side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import api, charts
from .common import settings, shows_errors


@shows_errors
def render() -> None:
    s = settings()
    st.header("Runs")
    found = api.runs(s["runs"])
    if not found:
        st.info(f"No run folder under {s['runs']}: train with `ecg train` (or start the app "
                "with `--runs-dir`).")
        return
    st.dataframe(pd.DataFrame([r.row() for r in found]).set_index("run").style.format(
        precision=3, na_rep="-"))
    names = [r.name for r in found]
    chosen = st.multiselect("Compare", names, default=names[:3], key="runs_chosen")
    for run in (r for r in found if r.name in chosen):
        st.subheader(run.name)
        c1, c2, c3 = st.columns(3)
        if len(run.history) and "epoch" in run.history:
            c1.altair_chart(charts.curves_chart(run.history, ["train_loss", "val_loss"], "loss"),
                            width="stretch")
            c2.altair_chart(charts.curves_chart(run.history, ["val_accuracy", "val_macro_f1"],
                                                "validation"), width="stretch")
        else:
            c1.info("no metrics.jsonl")
        test = run.test or {}
        if test.get("confusion_matrix") and test.get("class_names"):
            c3.altair_chart(charts.confusion_chart(test["confusion_matrix"],
                                                   test["class_names"]))
            c3.caption(f"test part, {test.get('n', '?')} beats: reference down, predicted across")
        else:
            c3.info("no test.json")
