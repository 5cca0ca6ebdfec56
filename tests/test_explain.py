"""``ecgnet.explain`` and ``ecg explain``: feature maps, attributions, probabilities, PNGs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgnet.checkpoint import load_model
from ecgnet.data import load_data
from ecgnet.explain import (average_by_class, explain_beat, load_inputs, occlusion,
                            plot_class_averages, plot_explanation)
from ecgnet.models import build_model
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError

from .conftest import run_ecg
from .net_helpers import known_rows_csv

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(kaggle_dir, tmp_path_factory):
    """A small model trained 3 epochs on 400 real MIT-BIH beats, and those beats."""
    folder = tmp_path_factory.mktemp("explain")
    csv = known_rows_csv(kaggle_dir, folder / "small.csv", 80)
    train(TrainConfig(data=[str(csv)], out=str(folder), name="run", epochs=3, batch_size=32,
                      threads=1, progress=False))
    return folder / "run" / "best.pt", csv


def logit(model, x, c):
    with torch.no_grad():
        return float(model(torch.from_numpy(np.asarray(x, np.float32)).reshape(1, 1, -1))[0, c])


def test_explanation_arrays_and_completeness(run):
    ckpt, csv = run
    model, meta = load_model(ckpt)
    data = load_data(csv)
    e = explain_beat(model, data.beats[5], meta["class_names"], label=int(data.labels[5]))
    assert list(e.feature_maps) == ["stem", *(f"blocks.{i}" for i in range(5))]
    assert [m.shape for m in e.feature_maps.values()] == [(32, 183), (32, 90), (32, 43),
                                                           (32, 20), (32, 8), (32, 2)]
    assert e.attribution.shape == (187,) and e.attribution.dtype == np.float32
    assert e.probabilities.shape == (5,) and e.probabilities.sum() == pytest.approx(1, abs=1e-6)
    assert e.predicted == e.target == int(e.probabilities.argmax())
    np.testing.assert_array_equal(e.beat, data.beats[5])
    # The feature map after the stem is the stem's output.
    with torch.no_grad():
        stem = model.stem(torch.from_numpy(data.beats[5]).reshape(1, 1, -1))[0].numpy()
    np.testing.assert_allclose(e.feature_maps["stem"], stem, atol=1e-6)
    # Completeness of integrated gradients: attributions sum to logit(beat) - logit(flat beat).
    change = logit(model, data.beats[5], e.target) - logit(model, np.zeros(187), e.target)
    assert abs(change) > 0.1
    assert e.attribution.sum() == pytest.approx(change, abs=0.05 * abs(change) + 0.02)
    assert e.attribution.sum() - change == pytest.approx(e.delta, abs=1e-4)
    # Another beat, and the same beat changed, get other attributions.
    other = explain_beat(model, data.beats[300], meta["class_names"], target=e.target)
    assert not np.allclose(other.attribution, e.attribution, atol=1e-3)
    changed = data.beats[5].copy()
    changed[20:40] = 0.9
    moved = explain_beat(model, changed, meta["class_names"], target=e.target)
    assert np.abs(moved.attribution[20:40] - e.attribution[20:40]).max() > 1e-3
    with pytest.raises(InputError, match="target must be a class id 0 .. 4"):
        explain_beat(model, data.beats[5], meta["class_names"], target=5)
    with pytest.raises(InputError, match=r"expected \(n, 187\)"):
        explain_beat(model, data.beats[5][:100], meta["class_names"])
    with pytest.raises(InputError, match="unknown method 'saliency'"):
        explain_beat(model, data.beats[5], meta["class_names"], method="saliency")


def test_occlusion_is_the_logit_drop_of_zeroed_samples(run):
    ckpt, csv = run
    model, _ = load_model(ckpt)
    beat = load_data(csv).beats[7]
    attr = occlusion(model, beat[None], np.array([2]), window=1)[0]
    for i in (0, 60, 186):
        zeroed = beat.copy()
        zeroed[i] = 0
        assert attr[i] == pytest.approx(logit(model, beat, 2) - logit(model, zeroed, 2), abs=1e-5)
    wide = explain_beat(model, beat, "NSVFQ", method="occlusion", window=9)
    assert wide.attribution.shape == (187,) and np.isnan(wide.delta)


def test_feature_maps_of_the_cnn_lstm():
    torch.manual_seed(0)
    model = build_model("cnn-lstm", 5).eval()
    e = explain_beat(model, np.linspace(0, 1, 187, dtype=np.float32), "NSVFQ")
    assert {k: v.shape for k, v in e.feature_maps.items()} == {
        "stem": (32, 183), "blocks.0": (32, 90), "blocks.1": (32, 43), "blocks.2": (32, 20),
        "blocks.3": (32, 20)}
    assert abs(e.delta) < 0.05


def test_average_by_class_is_the_mean_of_single_explanations(run):
    ckpt, csv = run
    model, meta = load_model(ckpt)
    data = load_data(csv)
    avg = average_by_class(model, data.beats, data.labels, meta["class_names"], per_class=3,
                           seed=1, steps=32)
    assert avg.mean_beat.shape == avg.mean_attribution.shape == (5, 187)
    assert avg.counts.tolist() == [3] * 5
    rng = np.random.default_rng(1)
    first = np.sort(rng.permutation(np.flatnonzero(data.labels == 0))[:3])
    single = [explain_beat(model, data.beats[i], meta["class_names"], target=0, steps=32)
              for i in first]
    np.testing.assert_allclose(avg.mean_attribution[0],
                               np.mean([s.attribution for s in single], axis=0), atol=1e-5)
    np.testing.assert_allclose(avg.mean_beat[0], data.beats[first].mean(0), atol=1e-6)


def test_pngs_are_images(run, tmp_path):
    import matplotlib.image

    ckpt, csv = run
    loaded = load_inputs(ckpt, [str(csv)])
    e = explain_beat(loaded.model, loaded.inputs[0], loaded.class_names)
    avg = average_by_class(loaded.model, loaded.inputs, loaded.labels, loaded.class_names,
                           per_class=4, method="occlusion")
    for path in (plot_explanation(e, tmp_path / "one.png", title="t"),
                 plot_class_averages(avg, tmp_path / "avg.png")):
        assert path.read_bytes()[:8] == PNG_MAGIC
        height, width = matplotlib.image.imread(path).shape[:2]
        assert width >= 900 and height >= 500
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_explain(run, kaggle_dir, tmp_path, capsys):
    ckpt, csv = run
    out = tmp_path / "beat.png"
    assert run_ecg(["explain", str(ckpt), str(csv), "--beat", "12", "-o", str(out),
                    "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "beat 12 (labelled " in text and "predicted" in text and out.read_bytes()[:8] == PNG_MAGIC
    assert run_ecg(["explain", str(ckpt), str(csv), "-o", str(out)]) == 1
    assert "exists (use --overwrite" in capsys.readouterr().err
    assert run_ecg(["explain", str(ckpt), str(csv), "--average-by-class", "--per-class", "2",
                    "--method", "occlusion"]) == 0
    assert (ckpt.parent / "explain-small-by-class.png").is_file()
    for argv, message in (
            (["--beat", "400"], "beat must be a row 0 .. 399"),
            (["--method", "lime"], "unknown method 'lime'")):
        assert run_ecg(["explain", str(ckpt), str(csv), "-o", str(tmp_path / "x.png"), *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    ptb = str(kaggle_dir / "ptbdb_normal_known_rows.csv")
    assert run_ecg(["explain", str(ckpt), ptb, "--average-by-class", "-o", str(tmp_path / "p.png")]) == 1
    assert "average_by_class: the classes of" in capsys.readouterr().err


def test_models_with_rr_features_explain_the_beat_and_keep_the_intervals():
    torch.manual_seed(0)
    model = build_model("kachuee-rr", 5).eval()
    x = np.r_[np.linspace(0, 1, 187), [0.8, 0.9, 0.85, 0.94, 1.06]].astype(np.float32)
    e = explain_beat(model, x, "NSVFQ")
    assert e.attribution.shape == (187,) and e.attribution_extra.shape == (5,)
    np.testing.assert_array_equal(e.extra, x[187:])
    # The baseline keeps the intervals: only the beat's samples are explained away.
    np.testing.assert_allclose(e.attribution_extra, 0, atol=1e-6)
    flat = np.r_[np.zeros(187), x[187:]]
    change = logit(model, x, e.target) - logit(model, flat, e.target)
    assert e.attribution.sum() == pytest.approx(change, abs=0.05 * abs(change) + 0.02)
    with pytest.raises(InputError, match=r"expected \(n, 192\)"):
        explain_beat(model, x[:187], "NSVFQ")


def test_figures_and_times_use_the_beats_own_rate(run, tmp_path, capsys):
    """Kaggle-recipe MIT-BIH beats are 120 Hz (the HDF5 says so); CSV rows are taken as 125 Hz."""
    import re

    import h5py

    from .net_helpers import write_h5

    ckpt, csv = run
    rows = load_data(csv)
    h5 = write_h5(tmp_path / "kaggle.h5", rows.beats, rows.labels, ["100", "101"])
    with h5py.File(h5, "r+") as f:
        f.attrs["fs"] = 120.0
    assert load_inputs(ckpt, [str(csv)]).beat_fs == 125.0
    loaded = load_inputs(ckpt, [str(h5)])
    assert loaded.beat_fs == 120.0
    from ecgnet.explain import average_rows, explain_row

    assert explain_row(loaded, 3, method="occlusion").beat_fs == 120.0
    assert average_rows(loaded, per_class=2, method="occlusion").beat_fs == 120.0
    assert run_ecg(["explain", str(ckpt), str(h5), "--beat", "3", "--method", "occlusion",
                    "-o", str(tmp_path / "b.png")]) == 0
    top, seconds = re.search(r"sample (\d+) \(([\d.]+) s\)", capsys.readouterr().out).groups()
    assert float(seconds) == pytest.approx(int(top) / 120.0, abs=6e-4)
