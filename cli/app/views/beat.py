"""Beat page: one beat as the model saw it, its class probabilities and (when present) why."""

from __future__ import annotations

import streamlit as st

from ecgseg.errors import EcgError

from .. import api, charts
from .common import shows_errors


@shows_errors
def render() -> None:
    st.header("Beat")
    view = st.session_state.get("view")
    if view is None:
        st.info("Open a record on the Recording page first.")
        return
    pred = view.prediction
    n = len(pred)
    if n == 0:
        st.warning(f"{pred.name}: no beat was detected.")
        return
    if st.session_state.get("beat_number", 0) >= n:
        st.session_state["beat_number"] = 0
    i = int(st.number_input(f"Beat (0 to {n - 1}; or click one on the Recording page)",
                            min_value=0, max_value=n - 1, step=1, key="beat_number"))
    row = view.table.iloc[i]
    ref = row["reference"] or "none"
    st.markdown(f"#### Beat {i} of {pred.name}: at {row['time_s']:.3f} s, predicted "
                f"**{row['predicted']}** ({row['probability']:.3f}); reference {ref}")
    fs = view.beat_fs
    probs = {c: float(pred.proba[i, k]) for k, c in enumerate(pred.class_names)}
    explanation, why_not = None, ""
    if api.explain_available():
        try:
            explanation = api.explain_beat(view.checkpoint, view.model_input(i))
        except EcgError as exc:
            why_not = str(exc)
    attribution = explanation.attribution if explanation is not None else None
    c1, c2 = st.columns([3, 2])
    with c1:
        st.altair_chart(charts.beat_chart(view.beats[i], fs, attribution), width="stretch")
        st.caption(beat_caption(view, explanation))
    with c2:
        st.altair_chart(charts.probability_chart(probs), width="stretch")
    if why_not:
        st.info(f"No attribution for this model: {why_not}")
    if explanation is not None and explanation.feature_maps:
        part = st.selectbox("Feature maps after", list(explanation.feature_maps),
                            key="feature_part")
        st.altair_chart(charts.feature_map_chart(explanation.feature_maps[part]),
                        width="stretch")


def beat_caption(view: api.RecordView, explanation) -> str:
    """What the beat chart shows: the samples at the recipe's rate, the other inputs, the
    attribution's colours."""
    text = (f"The {view.beats.shape[1]} samples the model takes ({view.recipe} recipe: "
            f"resampled to {view.beat_fs:g} Hz, normalised, zero-padded)")
    extra = view.extra_inputs_text
    if extra:
        text += f" and {extra}"
    if explanation is not None:
        text += (f"; colour: {explanation.method} attribution for class {explanation.target} "
                 "(red: towards it, blue: against)")
        if extra:
            text += f", over the samples with the {extra} held fixed"
    return text
