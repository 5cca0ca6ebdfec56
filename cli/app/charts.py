"""Altair (Vega-Lite) charts of the app: data frames in, chart specifications out.

One colour per class, decided here only (:func:`class_colours`); the recording chart's
beat marks carry a point selection named :data:`BEAT_SELECTION` so that a click on a
beat selects it (``st.altair_chart(..., on_select="rerun")``).
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import altair as alt
import numpy as np
import pandas as pd

#: Colours of the AAMI classes (as ``ecg predict --plot``), then of any other class.
PALETTE = ("#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2")
#: Name of the click selection on the beat marks.
BEAT_SELECTION = "beat_pick"


def class_colours(class_names: Sequence[str]) -> alt.Scale:
    """A colour scale giving each class its fixed colour (class order = palette order)."""
    names = list(class_names)
    return alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))])


def recording_chart(trace: pd.DataFrame, beats: pd.DataFrame, reference: Optional[pd.DataFrame],
                    class_names: Sequence[str], lead: str, height: int = 340) -> alt.LayerChart:
    """The signal with every beat marked by its predicted class.

    Parameters
    ----------
    trace : DataFrame
        ``time_s``, ``mV``: the (downsampled) signal of the window.
    beats : DataFrame
        ``beat`` (row number), ``time_s``, ``mV`` (signal at the R peak), ``predicted``,
        ``probability``, ``reference``: the beats in the window.
    reference : DataFrame or None
        ``time_s``, ``y`` (where to draw), ``symbol``, ``aami``: reference beats.
    """
    colours = class_colours(class_names)
    x = alt.X("time_s:Q", title="time (s)", scale=alt.Scale(zero=False, nice=False))
    line = alt.Chart(trace).mark_line(color="#444", strokeWidth=0.8, clip=True).encode(
        x=x, y=alt.Y("mV:Q", title=f"{lead} (mV)", scale=alt.Scale(zero=False)))
    pick = alt.selection_point(name=BEAT_SELECTION, fields=["beat"], on="click", nearest=True,
                               empty=False)
    marks = alt.Chart(beats).mark_point(filled=True, size=70, stroke="white",
                                        strokeWidth=0.7).encode(
        x="time_s:Q", y="mV:Q",
        color=alt.Color("predicted:N", scale=colours, title="predicted"),
        size=alt.condition(pick, alt.value(220), alt.value(70)),
        tooltip=["beat:Q", alt.Tooltip("time_s:Q", format=".3f"), "predicted:N",
                 alt.Tooltip("probability:Q", format=".3f"), "reference:N"],
    ).add_params(pick)
    layers = [line, marks]
    if reference is not None and len(reference):
        ticks = alt.Chart(reference).mark_tick(thickness=2, size=14, opacity=0.8).encode(
            x="time_s:Q", y="y:Q", color=alt.Color("aami:N", scale=colours),
            tooltip=[alt.Tooltip("time_s:Q", format=".3f"), "symbol:N",
                     alt.Tooltip("aami:N", title="reference class")])
        layers.append(ticks)
    return alt.layer(*layers).properties(height=height, width="container").interactive(
        bind_y=False)


def overview_chart(trace: pd.DataFrame, start_s: float, stop_s: float,
                   height: int = 70) -> alt.LayerChart:
    """The whole record, small, with the window on show shaded."""
    line = alt.Chart(trace).mark_line(color="#888", strokeWidth=0.5).encode(
        x=alt.X("time_s:Q", title=None, scale=alt.Scale(nice=False)),
        y=alt.Y("mV:Q", title=None, axis=None, scale=alt.Scale(zero=False)))
    window = alt.Chart(pd.DataFrame({"a": [start_s], "b": [stop_s]})).mark_rect(
        color="#1f77b4", opacity=0.25).encode(x="a:Q", x2="b:Q")
    return alt.layer(line, window).properties(height=height, width="container")


def beat_chart(beat: np.ndarray, fs: float, attribution: Optional[np.ndarray] = None,
               height: int = 260) -> alt.LayerChart:
    """The model's input beat (normalised values over its samples); attribution as colour."""
    frame = pd.DataFrame({"sample": np.arange(len(beat)), "value": beat.astype(float)})
    frame["ms"] = 1000 * frame["sample"] / fs
    line = alt.Chart(frame).mark_line(color="#333").encode(
        x=alt.X("sample:Q", title=f"sample ({fs:g} Hz)"), y=alt.Y("value:Q", title="beat"))
    if attribution is None:
        return line.properties(height=height, width="container")
    frame["attribution"] = np.asarray(attribution, float)[:len(beat)]
    dots = alt.Chart(frame).mark_circle(size=40).encode(
        x="sample:Q", y="value:Q",
        color=alt.Color("attribution:Q", scale=alt.Scale(scheme="redblue", domainMid=0,
                                                         reverse=True)),
        tooltip=["sample:Q", alt.Tooltip("attribution:Q", format=".3g")])
    return alt.layer(line, dots).properties(height=height, width="container")


def probability_chart(probabilities: Dict[str, float], height: int = 200) -> alt.Chart:
    """Bars of the class probabilities, coloured by class."""
    frame = pd.DataFrame({"class": list(probabilities), "probability": list(probabilities.values())})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("class:N", sort=list(probabilities)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("class:N", scale=class_colours(list(probabilities)), legend=None),
        tooltip=["class:N", alt.Tooltip("probability:Q", format=".4f")],
    ).properties(height=height, width="container")


def class_balance_chart(counts: Dict[str, int], height: int = 220) -> alt.Chart:
    """Beats per class."""
    frame = pd.DataFrame({"class": list(counts), "beats": list(counts.values())})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("class:N", sort=list(counts)), y="beats:Q",
        color=alt.Color("class:N", scale=class_colours(list(counts)), legend=None),
        tooltip=["class:N", "beats:Q"]).properties(height=height, width="container")


def class_mean_chart(class_names: Sequence[str], mean: np.ndarray, std: np.ndarray,
                     height: int = 300) -> alt.LayerChart:
    """Mean beat of each class with a band of one standard deviation."""
    frames = []
    for c, name in enumerate(class_names):
        frames.append(pd.DataFrame({"class": name, "sample": np.arange(mean.shape[1]),
                                    "mean": mean[c], "low": mean[c] - std[c],
                                    "high": mean[c] + std[c]}))
    frame = pd.concat(frames, ignore_index=True)
    colours = class_colours(class_names)
    band = alt.Chart(frame).mark_area(opacity=0.18).encode(
        x="sample:Q", y=alt.Y("low:Q", title="value (mean +- 1 sd)"), y2="high:Q",
        color=alt.Color("class:N", scale=colours))
    line = alt.Chart(frame).mark_line().encode(
        x="sample:Q", y="mean:Q", color=alt.Color("class:N", scale=colours))
    return alt.layer(band, line).properties(height=height, width="container")


def curves_chart(history: pd.DataFrame, columns: Sequence[str], title: str,
                 height: int = 220) -> alt.Chart:
    """Per-epoch curves of a run (``epoch`` plus the given columns that exist)."""
    cols = [c for c in columns if c in history]
    frame = history.melt(id_vars=["epoch"], value_vars=cols, var_name="series")
    return alt.Chart(frame).mark_line(point=True).encode(
        x="epoch:Q", y=alt.Y("value:Q", title=title), color="series:N",
        tooltip=["epoch:Q", "series:N", alt.Tooltip("value:Q", format=".4f")],
    ).properties(height=height, width="container")


def confusion_chart(matrix: Sequence[Sequence[int]], class_names: Sequence[str],
                    height: int = 260) -> alt.LayerChart:
    """Confusion matrix: reference class down, predicted class across, counts as text."""
    m = np.asarray(matrix)
    rows = [{"reference": class_names[i], "predicted": class_names[j], "beats": int(m[i, j]),
             "share": float(m[i, j] / max(1, m[i].sum()))}
            for i in range(m.shape[0]) for j in range(m.shape[1])]
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(x=alt.X("predicted:N", sort=list(class_names)),
                                   y=alt.Y("reference:N", sort=list(class_names)))
    heat = base.mark_rect().encode(color=alt.Color("share:Q", scale=alt.Scale(scheme="blues"),
                                                   legend=None))
    text = base.mark_text().encode(text="beats:Q", color=alt.condition(
        "datum.share > 0.5", alt.value("white"), alt.value("black")))
    return alt.layer(heat, text).properties(height=height, width=height)


def feature_map_chart(maps: np.ndarray, height: int = 220) -> alt.Chart:
    """Heat map of one part's feature maps: channel down, position across."""
    ch, n = maps.shape
    frame = pd.DataFrame({"channel": np.repeat(np.arange(ch), n), "position": np.tile(np.arange(n), ch),
                          "activation": maps.astype(float).ravel()})
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("position:O", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("channel:O", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("activation:Q", scale=alt.Scale(scheme="viridis")),
        tooltip=["channel:O", "position:O", alt.Tooltip("activation:Q", format=".3g")],
    ).properties(height=height, width="container")
