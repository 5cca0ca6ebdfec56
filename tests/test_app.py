"""``ecg app``: each page's logic through Streamlit's AppTest, on real mirror records.

The record comes through the real download code from the mirror served on 127.0.0.1;
the model is a tiny one trained here on real Kaggle rows (as in ``test_predict.py``).
"""

from __future__ import annotations

import io
import os
import signal
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ecg_cli.app import SCRIPT, api  # noqa: E402
from ecgnet.predict import predict  # noqa: E402
from ecgseg.errors import InputError  # noqa: E402
from ecgseg.pipeline import segment_record  # noqa: E402
from ecgseg.recipes import get_recipe  # noqa: E402

from .app_helpers import (app_dirs, app_environment, children, free_port,  # noqa: E402,F401
                          kaggle_rows, start_app, stop_group, wait_healthy)
from .net_helpers import small_rows, write_h5  # noqa: E402

RECORD = "mitdb/1.0.0/208"
TIMEOUT = 180
#: ``?model=`` of the pages opened here: the tiny run checkpoint (set by the fixture below).
RUN_MODEL: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _app_environment(app_dirs, mirror_url):
    """The app's settings for the in-process AppTest runs of this module, restored after."""
    env = app_environment(app_dirs["data"], app_dirs["runs"], mirror_url)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    RUN_MODEL["model"] = str(app_dirs["checkpoint"])
    yield
    RUN_MODEL.clear()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def open_app(page: str = "Recording", record: str | None = RECORD,
             model: str | None = "run") -> AppTest:
    """The app on ``page``; ``model``: ``?model=`` ("run": the tiny run's checkpoint, None:
    none given, so the default pretrained model)."""
    at = AppTest.from_file(str(SCRIPT), default_timeout=TIMEOUT)
    if record:
        at.query_params["record"] = record
    if model:
        at.query_params["model"] = RUN_MODEL["model"] if model == "run" else model
    at.run()
    if page != "Recording":
        at.sidebar.radio[0].set_value(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def recording(app_dirs):
    """The recording page on MIT-BIH 208, fetched from the mirror by the app."""
    return open_app()


@pytest.fixture(scope="module")
def reference_prediction(app_dirs, recording):
    """The API's own verdict on the same record (downloaded by the app above)."""
    return predict(app_dirs["checkpoint"], RECORD, data_dir=app_dirs["data"])


def test_recording_page_shows_the_apis_counts(on_full_mirror, recording, reference_prediction,
                                              app_dirs):
    at, pred = recording, reference_prediction
    assert (app_dirs["data"] / "physionet" / "mitdb" / "1.0.0" / "208.dat").is_file()
    assert not at.error, [e.value for e in at.error]
    shown = metrics(at)
    assert int(shown["beats"]) == len(pred) > (500 if on_full_mirror else 200)
    counts = pred.summary()["predicted"]
    assert {c: int(shown[c]) for c in counts} == counts
    assert any(m.value.startswith(f"#### {pred.summary_lines()[0]}") for m in at.markdown)
    # detector Se/+P against the 2955 reference beats (257 in the shipped first 150 s),
    # and the per-class table
    det = pred.detector
    text = " ".join(m.value for m in at.markdown)
    assert f"Se {100 * det.sensitivity:.2f} %" in text and f"of {det.reference} beats" in text
    assert det.reference == (2955 if on_full_mirror else 257)
    # every beat is in the table, not only those drawn
    tables = [d.value for d in at.dataframe]
    beat_table = next(t for t in tables if "predicted" in t.columns)
    assert len(beat_table) == len(pred)
    np.testing.assert_array_equal(beat_table["sample"].to_numpy(), pred.sample)
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]


def test_recording_page_with_the_default_pretrained_model(on_full_mirror, recording, app_dirs):
    """No run chosen: the shipped default model is preselected and gives the API's verdict."""
    from ecgnet.pretrained import DEFAULT_MODEL, model_names, weights_path

    at = open_app(model=None)
    assert not at.exception and not at.error, [e.value for e in at.error]
    picker = at.selectbox(key="model")
    assert picker.value == DEFAULT_MODEL
    assert picker.options[0] == f"pretrained: {DEFAULT_MODEL} (default)"
    assert all(f"pretrained: {n}" in " ".join(picker.options) for n in model_names())
    assert any("best.pt" in o for o in picker.options)  # the run's checkpoint is offered too
    pred = predict(weights_path(DEFAULT_MODEL), RECORD, data_dir=app_dirs["data"])
    shown = metrics(at)
    assert int(shown["beats"]) == len(pred) > (2000 if on_full_mirror else 250)  # shipped: 255
    counts = pred.summary()["predicted"]
    assert {c: int(shown[c]) for c in counts} == counts
    assert any(m.value.startswith(f"#### {pred.summary_lines()[0]}") for m in at.markdown)
    view = at.session_state["view"]
    assert Path(view.checkpoint) == weights_path(DEFAULT_MODEL)
    np.testing.assert_allclose(view.prediction.proba, pred.proba, atol=1e-6)


def test_model_by_name_in_the_url_and_an_unknown_one(app_dirs):
    from ecgnet.pretrained import weights_path

    at = open_app(model="mitbih-random")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="model").value == "mitbih-random"
    pred = predict(weights_path("mitbih-random"), RECORD, data_dir=app_dirs["data"])
    assert {c: int(metrics(at)[c]) for c in pred.class_names} == pred.summary()["predicted"]
    at = open_app(model="no-such-model")
    assert not at.exception
    assert len(at.error) == 1 and "no-such-model" in at.error[0].value
    assert "mitbih-interpatient" in at.error[0].value  # names the models there are


def test_model_choices_without_runs(tmp_path):
    """Right after install (no run folder) the pretrained models are the choice."""
    from ecgnet.pretrained import DEFAULT_MODEL, model_names, weights_path

    choices = api.model_choices(tmp_path / "no-runs")
    assert [c.key for c in choices][0] == DEFAULT_MODEL
    assert sorted(c.key for c in choices) == model_names()
    assert all(c.pretrained and c.checkpoint == weights_path(c.key) for c in choices)
    assert api.resolve_model(None, choices).key == DEFAULT_MODEL
    assert api.resolve_model("ptb-mi", choices).checkpoint == weights_path("ptb-mi")
    assert api.resolve_model(None, []) is None
    with pytest.raises(InputError, match="'nope' is neither a pretrained model"):
        api.resolve_model("nope", choices)


def test_recording_chart_marks_sit_on_the_beats(recording, app_dirs):
    """The chart's beat marks are the detected R peaks, at the signal's value there."""
    from ecg_cli.app.views.recording import window_frames

    view = recording.session_state["view"]
    trace, beats, reference, a, b = window_frames(view, 60.0, 10.0)
    assert (a, b) == (60.0, 70.0)
    assert len(beats) > 0 and beats["time_s"].between(60, 70).all()
    samples = np.round(beats["time_s"].to_numpy() * view.fs).astype(int)
    np.testing.assert_allclose(beats["mV"], view.signal[samples])
    # the trace keeps each R peak's value (min/max downsampling never flattens a peak)
    assert trace["mV"].max() == pytest.approx(view.signal[int(60 * view.fs):int(70 * view.fs)].max())
    assert len(trace) <= 2 * 1200
    # 208 at 60-70 s: the qrs detector marks every reference beat (within 150 ms)
    assert reference is not None and len(reference) > 0
    gaps = np.abs(reference["time_s"].to_numpy()[:, None] - beats["time_s"].to_numpy()[None, :])
    assert (gaps.min(axis=1) <= 0.15).all()
    assert set(reference["aami"]) <= set(view.class_names)


def test_envelope_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=10_007)
    idx, val = api.envelope(x, 3, 10_000, 100)
    assert np.all(np.diff(idx) > 0) and len(idx) <= 200
    np.testing.assert_array_equal(val, x[idx])
    per = -(-(10_000 - 3) // 100)
    for start in range(3, 10_000, per):  # every bucket's min and max are drawn
        chunk = x[start:min(start + per, 10_000)]
        assert chunk.max() in val and chunk.min() in val
    idx, val = api.envelope(x, 0, 50, 100)  # fewer samples than points: as is
    np.testing.assert_array_equal(idx, np.arange(50))
    with pytest.raises(InputError, match="buckets"):
        api.envelope(x, 0, 10, 0)


def test_beat_page_shows_the_models_input(recording, reference_prediction, app_dirs):
    at = recording
    at.session_state["beat_number"] = 7
    at.sidebar.radio[0].set_value("Beat").run()
    assert not at.exception and not at.error
    pred = reference_prediction
    row = pred.table().iloc[7]
    heading = next(m.value for m in at.markdown if m.value.startswith("#### Beat 7 of 208"))
    assert f"predicted **{row['predicted']}** ({row['probability']:.3f})" in heading
    view = at.session_state["view"]
    # the model's input beats, as the API cut them (checkpoint's recipe, qrs peaks)
    assert view.beats.shape == (len(pred), 187)
    np.testing.assert_array_equal(view.beats, pred.beats)
    np.testing.assert_allclose(view.prediction.proba, pred.proba, atol=1e-6)
    # the beat and its probabilities, and the feature maps when ecgnet.explain exists
    explained = api.explain_available()
    assert len(at.get("vega_lite_chart")) == (3 if explained else 2)
    if explained:
        e = api.explain_beat(app_dirs["checkpoint"], view.beats[7])
        assert e.attribution.shape == (187,) and np.isfinite(e.attribution).all()
        assert e.target == row["predicted"]
        assert any("attribution for class" in c.value for c in at.caption)
    # the tiny run was trained on Kaggle-format CSV rows: Kaggle-recipe beats at 120 Hz,
    # as the recipe registry says (not the record's 360 Hz)
    assert view.beat_fs == get_recipe("kaggle").fs("mitdb") == 120.0
    caption = " ".join(c.value for c in at.caption)
    assert "kaggle recipe: resampled to 120 Hz" in caption and "360 Hz" not in caption
    at.sidebar.radio[0].set_value("Recording").run()


@pytest.fixture(scope="module")
def paper_checkpoint(kaggle_rows, tmp_path_factory):
    """A tiny run trained on beats whose HDF5 says the paper recipe made them."""
    from ecgnet.train import TrainConfig, train
    from ecgseg.store import BeatWriter

    base = tmp_path_factory.mktemp("paper-run")
    idx = small_rows(kaggle_rows.beats, kaggle_rows.labels, 30)
    beats, labels = kaggle_rows.beats[idx], kaggle_rows.labels[idx]
    with BeatWriter(base / "paper.h5", length=187,
                    attrs={"database": "mitdb", "recipe": "paper", "classes": list("NSVFQ")}) as w:
        w.append_record("100", "100", beats, labels=labels, sample=np.arange(len(idx)) * 300,
                        window=np.full(len(idx), -1), n_values=np.full(len(idx), 187),
                        stats={"fs_in": 360.0})
    result = train(TrainConfig(data=[str(base / "paper.h5")], out=str(base / "runs"),
                               name="paper", batch_size=32, max_iters=5, progress=False,
                               threads=1))
    return result.run_dir / "best.pt"


def test_beat_page_names_the_paper_recipes_rate(recording, paper_checkpoint):
    """A paper-recipe checkpoint's beats are at the paper recipe's 125 Hz."""
    at = open_app("Beat", model=str(paper_checkpoint))
    assert not at.exception and not at.error, [e.value for e in at.error]
    view = at.session_state["view"]
    assert view.recipe == "paper" and view.prediction.notes == ()
    assert view.beat_fs == get_recipe("paper").fs("mitdb") == 125.0
    caption = " ".join(c.value for c in at.caption)
    assert "paper recipe: resampled to 125 Hz" in caption, caption


def test_beat_page_explains_a_model_with_rr_inputs(recording, app_dirs):
    """The default pretrained model (kachuee-rrmd) takes 5 RR features, 5 record-relative
    features and its record's median beat after the beat: the attribution covers the 187
    samples with those held fixed, not a shape error."""
    from ecgnet.checkpoint import load_model
    from ecgnet.explain import explain_beat
    from ecgnet.pretrained import DEFAULT_MODEL, weights_path

    at = open_app(model=None)
    at.session_state["beat_number"] = 11
    at.sidebar.radio[0].set_value("Beat").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not [i.value for i in at.info if "No attribution" in i.value]
    view = at.session_state["view"]
    assert view.extra_columns == 5 + 5 + 187 and view.model_input(11).shape == (384,)
    caption = " ".join(c.value for c in at.caption)
    held = "5 RR features, 5 record-relative features and the record's median beat held fixed"
    assert held in caption, caption
    assert "resampled to 120 Hz" in caption
    if api.explain_available():
        assert len(at.get("vega_lite_chart")) == 3  # beat, probabilities, feature maps
        # the page's attribution is ecgnet.explain's on the model's whole input
        pred = predict(weights_path(DEFAULT_MODEL), RECORD, data_dir=app_dirs["data"])
        np.testing.assert_allclose(view.prediction.extra_inputs, pred.extra_inputs, atol=1e-6)
        model, meta = load_model(weights_path(DEFAULT_MODEL))
        whole = np.concatenate([pred.beats[11], pred.extra_inputs[11]])
        direct = explain_beat(model, whole, meta["class_names"], method="occlusion")
        got = api.explain_beat(view.checkpoint, view.model_input(11))
        np.testing.assert_allclose(got.attribution, direct.attribution, atol=1e-5)
        assert got.target == meta["class_names"][direct.predicted]
        # the beat alone is refused in words, not as an array shape
        with pytest.raises(InputError, match="RR or record features"):
            api.explain_beat(view.checkpoint, view.beats[11])


def test_upload_of_a_signal_file(recording, app_dirs, tmp_path):
    """A CSV signal with its sampling rate: written as a WFDB record, then classified."""
    view = recording.session_state["view"]
    signal_mv = view.signal[:360 * 60]
    content = "\n".join(f"{v:.3f}" for v in signal_mv).encode()
    at = open_app(record=None)
    at.radio(key="source").set_value("upload").run()
    at.number_input(key="upload_fs").set_value(360.0)
    at.get("file_uploader")[0].set_value(("rec208.csv", content, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    n = int(metrics(at)["beats"])
    expected = int(np.count_nonzero(view.prediction.sample < 360 * 60))
    assert abs(n - expected) <= 2  # same signal, 1 uV quantisation, last window may differ


@pytest.mark.parametrize("files, message", [
    ([("bad.npy", b"not numpy at all", "application/octet-stream")], "cannot read a signal"),
    ([("x.hea", b"x 1 360 1000\nx.dat 16 200 11 0 0 0 0 MLII\n", "text/plain")], "needs x.dat"),
    ([("notes.txt", b"hello\nworld\n" * 200, "text/plain")], "cannot read a signal"),
    ([("short.csv", b"0.1\n0.2\n" * 20, "text/csv")], "only 40 samples"),
])
def test_bad_uploads_show_a_message(app_dirs, files, message):
    at = open_app(record=None)
    at.radio(key="source").set_value("upload").run()
    at.get("file_uploader")[0].set_value(files).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_record_without_the_models_lead(app_dirs, tmp_path):
    folder = api.save_upload([("v1only.npy", _npy(np.sin(np.arange(5000) / 30)))], tmp_path,
                             fs=360, lead="V1")
    at = open_app(record=None)
    at.radio(key="source").set_value("path").run()
    at.text_input(key="path_record").set_value(str(folder)).run()
    assert not at.exception
    assert any("no lead II" in e.value for e in at.error), [e.value for e in at.error]


def test_unknown_record_shows_a_message(app_dirs):
    at = open_app(record="mitdb/1.0.0/999")
    assert not at.exception
    assert len(at.error) == 1 and "999" in at.error[0].value


def test_data_set_page_on_a_real_hdf5(app_dirs, kaggle_rows):
    idx = small_rows(kaggle_rows.beats, kaggle_rows.labels, 30)
    beats_dir = app_dirs["data"] / "beats"
    beats_dir.mkdir(parents=True, exist_ok=True)
    h5 = write_h5(beats_dir / "small.h5", kaggle_rows.beats[idx], kaggle_rows.labels[idx],
                  ["100", "101"])
    at = open_app("Data set", record=None)
    at.selectbox(key="dataset_pick").set_value(str(h5)).run()
    assert not at.exception and not at.error
    shown = metrics(at)
    labels = kaggle_rows.labels[idx]
    assert {c: int(shown[c]) for c in "NSVFQ"} == {c: int((labels == i).sum())
                                                   for i, c in enumerate("NSVFQ")}
    assert any('"recipe": "kaggle"' in c.value for c in at.code)
    view = api.dataset_summary(h5)
    np.testing.assert_allclose(view.mean[2], kaggle_rows.beats[idx][labels == 2].mean(axis=0),
                               atol=1e-6)


def test_data_set_page_refuses_a_csv_of_the_wrong_width(app_dirs, tmp_path):
    bad = tmp_path / "narrow.csv"
    bad.write_text("0.1,0.2,0.3,0\n" * 3)
    at = open_app("Data set", record=None)
    at.selectbox(key="dataset_pick").set_value("other path ...").run()
    at.text_input(key="dataset_path").set_value(str(bad)).run()
    assert not at.exception
    assert len(at.error) == 1 and "narrow.csv" in at.error[0].value


def test_runs_page(app_dirs):
    at = open_app("Runs", record=None)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.index) == ["tiny"]
    run = api.runs(app_dirs["runs"])[0]
    assert table.loc["tiny", "test accuracy %"] == pytest.approx(100 * run.test["accuracy"])
    assert len(at.get("vega_lite_chart")) == 3  # loss, validation, confusion matrix


def test_kaggle_check_page_without_and_with_the_rebuild(app_dirs, session_data_dir,
                                                        rebuildable_known_lines):
    at = open_app("Kaggle check", record=None)
    assert not at.exception
    assert any("ecg segment --db mitdb --recipe kaggle" in w.value for w in at.warning)
    from ecgseg.pipeline import segment_database

    out = app_dirs["data"] / "beats" / "mitdb-kaggle.h5"
    out.parent.mkdir(parents=True, exist_ok=True)
    segment_database("mitdb", data_dir=session_data_dir, out=out, recipe="kaggle", workers=1,
                     progress=False)
    lines = rebuildable_known_lines[:40]  # the file's first 40 (28 on the shipped records)
    upload = b"".join(lines)
    at = open_app("Kaggle check", record=None)
    at.get("file_uploader")[0].set_value(("rows.csv", upload, "text/csv")).run()
    assert not at.exception and not at.error
    shown = metrics(at)
    n = str(len(lines))
    assert (shown["rows"], shown["bit-exact"], shown["unmatched"]) == (n, n, "0")
    details = next(d.value for d in at.dataframe if "match" in d.value.columns)
    assert (details["match"] == "exact").all() and (details["record"] != "").all()
    at.get("file_uploader")[0].set_value(("bad.csv", b"1,2,3\n", "text/csv")).run()
    assert not at.exception and len(at.error) == 1 and "bad.csv" in at.error[0].value


def _npy(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, x)
    return buf.getvalue()


def test_save_upload_errors(tmp_path):
    with pytest.raises(InputError, match="fs must"):
        api.save_upload([("s.npy", _npy(np.zeros(1000)))], tmp_path)
    with pytest.raises(InputError, match="only 10 samples"):
        api.save_upload([("s.npy", _npy(np.zeros(10)))], tmp_path, fs=360)
    with pytest.raises(InputError, match="NaN"):
        api.save_upload([("s.csv", b"1\nnan\n" * 100)], tmp_path, fs=360)
    with pytest.raises(InputError, match="one record at a time"):
        api.save_upload([("a.hea", b""), ("b.hea", b"")], tmp_path)


def test_ecg_app_serves_and_sigterm_ends_the_server(app_dirs, mirror_url):
    port = free_port()
    proc = start_app(port, app_dirs["data"], app_dirs["runs"], mirror_url)
    try:
        wait_healthy(port, proc)
        kids = children(proc.pid)
        assert kids, "streamlit should run as a child process"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        out = proc.stdout.read()
        assert f"http://127.0.0.1:{port}/" in out
        time.sleep(0.5)
        alive = [k for k in kids if Path(f"/proc/{k}").exists()
                 and "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2]]
        assert not alive, f"children outlived ecg app: {alive}"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        stop_group(proc)


def test_ecg_app_refuses_a_bad_port():
    from .conftest import run_ecg

    assert run_ecg(["app", "--port", "0"]) == 1
