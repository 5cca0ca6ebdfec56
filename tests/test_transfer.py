"""Transfer learning (``ecg transfer``): arrhythmia checkpoint -> MI detection, on real beats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgnet.checkpoint import load_backbone, load_checkpoint, make_checkpoint, save_checkpoint
from ecgnet.data import beat_hashes, load_data
from ecgnet.evaluate import evaluate
from ecgnet.models import KachueeNet, build_model, frozen_parts, set_train_mode
from ecgnet.splits import make_split
from ecgnet.train import TrainConfig, train
from ecgnet.transfer import SCRATCH, sweep, transfer, transfer_config
from ecgseg.errors import InputError

from .conftest import run_ecg
from .net_helpers import write_csv, write_h5

FAST = dict(threads=1, progress=False, batch_size=32, eval_batch_size=512)


@pytest.fixture(scope="module")
def source(kaggle_dir, tmp_path_factory):
    """A tiny arrhythmia model: 6 iterations on the real MIT-BIH rows (5 classes)."""
    out = tmp_path_factory.mktemp("source")
    train(TrainConfig(data=[str(kaggle_dir / "mitbih_test_known_rows.csv")], out=str(out),
                      name="mitbih", max_iters=6, **FAST))
    return out / "mitbih" / "best.pt"


@pytest.fixture(scope="module")
def ptb_csvs(kaggle_dir, tmp_path_factory):
    """400 real PTB rows: 200 normal, 200 MI (the first of each file), as two CSVs."""
    folder = tmp_path_factory.mktemp("ptb")
    paths = []
    for name in ("normal", "abnormal"):
        rows = load_data(kaggle_dir / f"ptbdb_{name}_known_rows.csv")
        paths.append(str(write_csv(folder / f"ptbdb_{name}_small.csv", rows.beats[:200],
                                   rows.labels[:200])))
    return paths


def weights(path):
    return load_checkpoint(path)["state_dict"]


def part_of(key):
    """``blocks.3.conv1.weight`` -> ``blocks.3``; ``fc1.bias`` -> ``fc1``."""
    return ".".join(key.split(".")[:2]) if key.startswith("blocks.") else key.split(".")[0]


def test_freezing_really_freezes(source, ptb_csvs, tmp_path):
    src = weights(source)
    torch.manual_seed(0)
    fresh_head = build_model("kachuee", 2).head.weight.detach().clone()
    for setting, learnt in (("head", {"head"}), ("fc", {"fc1", "fc2", "head"}),
                            ("blocks:2", {"blocks.3", "blocks.4", "fc1", "fc2", "head"})):
        result = transfer(source, ptb_csvs, setting, out=str(tmp_path), max_iters=4, **FAST)
        after = load_checkpoint(result.run_dir / "last.pt")
        state = after["state_dict"]
        assert after["n_classes"] == 2 and after["class_names"] == ["normal", "MI"]
        for key, value in state.items():
            part = part_of(key)
            if part == "head":
                continue
            if part in learnt:
                assert not torch.equal(value, src[key]), f"{setting}: {key} did not learn"
            else:
                assert torch.equal(value, src[key]), f"{setting}: frozen {key} changed"
        assert not torch.equal(state["head.weight"], fresh_head), f"{setting}: head unchanged"
        # The optimizer holds the learning tensors only.
        n_learning = sum(1 for k in state if part_of(k) in learnt)
        assert len(after["training"]["optimizer"]["param_groups"][0]["params"]) == n_learning
        info = json.loads((result.run_dir / "config.json").read_text())
        assert info["trainable_parameters"] == result.trainable_parameters < info["parameters"]
        assert info["init_checkpoint"]["path"] == str(source)
        assert info["init_checkpoint"]["class_names"] == ["N", "S", "V", "F", "Q"]
    assert result.trainable_parameters == 2 * 10_304 + 2_080 + 1_056 + 66


def test_frozen_parts_stay_in_eval_mode_and_settings_are_checked():
    model = build_model("kachuee", 2)
    model.blocks[0].pool.register_forward_pre_hook(lambda *_: None)
    frozen = frozen_parts(model, "blocks:1")
    assert frozen == ["stem", "blocks.0", "blocks.1", "blocks.2", "blocks.3"]
    assert frozen_parts(model, "head") == frozen + ["blocks.4", "fc1", "fc2"]
    assert frozen_parts(model, "fc") == frozen + ["blocks.4"] and frozen_parts(model, "all") == []
    set_train_mode(model, frozen)
    assert model.training and model.fc1.training and model.blocks[4].training
    assert not model.stem.training and not any(m.training for m in model.blocks[2].modules())
    with pytest.raises(InputError, match="only 5 residual blocks"):
        frozen_parts(model, "blocks:6")
    for bad in ("blocks:0", "blocks", "convs", "blocks:x"):
        with pytest.raises(InputError, match="unknown --trainable"):
            TrainConfig(data=["x.csv"], trainable=bad)


def test_arrhythmia_checkpoint_into_a_two_class_head_and_wrong_architectures(source, ptb_csvs,
                                                                             tmp_path, capsys):
    ckpt = load_checkpoint(source)
    torch.manual_seed(1)
    model = load_backbone(build_model("kachuee", 2), ckpt, source)
    state = model.state_dict()
    for key, value in ckpt["state_dict"].items():
        if key.startswith("head."):
            assert state[key].shape[0] == 2 and value.shape[0] == 5
        else:
            assert torch.equal(state[key], value)
    assert model(torch.rand(3, 187)).shape == (3, 2)

    # Weights of a 4-block network in a checkpoint that claims the default 5 blocks.
    four = KachueeNet(5, n_blocks=4)
    four.fc1 = torch.nn.Linear(32 * 8, 32)
    save_checkpoint(make_checkpoint(four, "kachuee", "NSVFQ"), tmp_path / "four.pt")
    with pytest.raises(InputError, match=r"do not fit model 'kachuee' \(another architecture\? "
                                         r"missing: blocks\.4\..*other shapes: fc1\.weight"):
        load_backbone(build_model("kachuee", 2), load_checkpoint(tmp_path / "four.pt"),
                      tmp_path / "four.pt")
    torch.save(ckpt["state_dict"], tmp_path / "bare.pt")
    for path, message in ((tmp_path / "four.pt", "do not fit model 'kachuee'"),
                          (tmp_path / "bare.pt", "not an ecgnet checkpoint"),
                          (tmp_path / "none.pt", "no such checkpoint file")):
        code = run_ecg(["transfer", str(path), "--data", ptb_csvs[0], "--data", ptb_csvs[1],
                        "--out", str(tmp_path), "--threads", "1"])
        err = capsys.readouterr().err
        assert code == 1 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "ptbdb_normal_small-transfer-fc").exists()  # failed before the run
    with pytest.raises(InputError, match="do not fit"):
        transfer(tmp_path / "four.pt", ptb_csvs, out=str(tmp_path))
    with pytest.raises(InputError, match="no beats of class normal"):
        transfer(source, ptb_csvs[1:], out=str(tmp_path))
    with pytest.raises(InputError, match="not 'other'"):
        transfer_config(source, ["x.csv"], model="other")


def test_transfer_beats_chance_on_real_ptb_rows_and_is_deterministic(source, ptb_csvs, tmp_path,
                                                                     capsys):
    argv = ["transfer", str(source), "--data", ptb_csvs[0], "--data", ptb_csvs[1],
            "--trainable", "all", "--epochs", "12", "--patience", "12", "--batch-size", "32",
            "--threads", "1", "--out", str(tmp_path), "--name", "mi", "--quiet"]
    assert run_ecg(argv) == 0
    out = capsys.readouterr().out
    assert "random split (auto: the data have no patient ids (CSV)" in out
    assert "MI as the positive class: sensitivity" in out and "54,914 weights learnt" in out
    report = json.loads((tmp_path / "mi" / "test.json").read_text())
    assert report["n"] == 80 and report["accuracy"] >= 0.7, report["accuracy"]  # chance: 0.5
    assert set(report["binary"]) >= {"sensitivity", "specificity", "precision", "f1"}
    # ecg evaluate scores the transfer checkpoint on its own test part.
    again = evaluate(tmp_path / "mi" / "best.pt", ptb_csvs)
    assert again.report["confusion_matrix"] == report["confusion_matrix"]
    # Determinism and resume: one epoch + resume == two epochs, even without the source.
    copy = shutil.copy(source, tmp_path / "src.pt")
    settings = dict(out=str(tmp_path), epochs=2, **FAST)
    whole = transfer(copy, ptb_csvs, "fc", name="whole", **settings)
    transfer(copy, ptb_csvs, "fc", name="parts", **{**settings, "epochs": 1})
    (tmp_path / "src.pt").unlink()
    resumed = train(transfer_config(copy, ptb_csvs, "fc", name="parts", resume=True, **settings))
    a, b = weights(whole.run_dir / "last.pt"), weights(resumed.run_dir / "last.pt")
    assert all(torch.equal(a[k], b[k]) for k in a) and resumed.iterations == whole.iterations
    with pytest.raises(InputError, match="trainable differ"):
        train(transfer_config(copy, ptb_csvs, "head", name="parts", resume=True, **settings))


def test_hdf5_beats_of_the_raw_ptb_records(source, session_data_dir, tmp_path, capsys):
    from ecgseg.pipeline import segment_database

    h5 = tmp_path / "ptb.h5"
    segment_database("ptbdb", data_dir=session_data_dir, out=h5, progress=False)
    data = load_data(h5)
    assert data.class_names == ("normal", "MI") and set(data.patients) == {"patient001",
                                                                           "patient165"}
    argv = ["transfer", str(source), "--data", str(h5), "--sweep", "--max-iters", "2",
            "--threads", "1", "--out", str(tmp_path), "--quiet"]
    assert run_ecg(argv) == 0
    out = capsys.readouterr().out
    assert "only 2 patient(s), a patient split needs 3, so stratified by beat" in out
    folder = tmp_path / "ptb-transfer"
    summary = json.loads((folder / "sweep.json").read_text())
    settings = [r["setting"] for r in summary["rows"]]
    assert settings == ["head", "fc", "blocks:1", "blocks:2", "blocks:3", "blocks:4", "all",
                        SCRATCH]
    assert summary["positive_class"] == "MI" and (folder / "sweep.png").stat().st_size > 1000
    assert "| head |" in (folder / "sweep.md").read_text()
    params = {r["setting"]: r["trainable_parameters"] for r in summary["rows"]}
    assert params["head"] == 66 and params["fc"] == 3_202 and params["all"] == params[SCRATCH]
    assert json.loads((folder / "scratch" / "config.json").read_text())["init_checkpoint"] is None
    # --trainable lists the settings of a sweep; several settings without --sweep: an error.
    argv = ["transfer", str(source), "--data", str(h5), "--sweep", "--trainable", "head, all",
            "--max-iters", "1", "--threads", "1", "--out", str(tmp_path), "--name", "two", "--quiet"]
    assert run_ecg(argv) == 0
    rows = json.loads((tmp_path / "two" / "sweep.json").read_text())["rows"]
    assert [r["setting"] for r in rows] == ["head", "all", SCRATCH]
    capsys.readouterr()
    assert run_ecg(argv[:4] + argv[5:]) == 1
    assert "several --trainable settings need --sweep" in capsys.readouterr().err
    # A split by patient when there are enough patients: none is on two sides.
    beats, labels = data.beats, data.labels
    order = np.argsort(labels, kind="stable")
    many = write_h5(tmp_path / "ptb6.h5", beats[order], labels[order],
                    [f"pseudo{i}" for i in range(6)], database="ptbdb", classes=["normal", "MI"])
    result = sweep(transfer_config(source, [str(many)], out=str(tmp_path), name="six",
                                   max_iters=2, **FAST), settings=("head",), scratch=False)
    assert result.split.startswith("patient split (auto: by patient, 6 patients)")
    split = make_split(load_data(many), "auto", 0.2, 0.1, 0)
    pats = load_data(many).patients
    parts = [set(pats[i]) for i in (split.train, split.val, split.test)]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_transfer_benchmark_reports_the_mean_over_seeds(source, ptb_csvs, tmp_path):
    """``benchmarks/transfer_results.py --seeds``: one sweep per seed, mean and per-seed rows."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "transfer_results", Path(__file__).resolve().parents[1] / "benchmarks" / "transfer_results.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "T.md"
    assert bench.main(["--checkpoint", str(source), "--normal", ptb_csvs[0], "--abnormal",
                       ptb_csvs[1], "--settings", "head", "--seeds", "0,1", "--epochs", "1",
                       "--threads", "1", "--quiet", "--runs", str(tmp_path), "--out",
                       str(out)]) == 0
    text = out.read_text()
    assert "Mean over 2 sweeps (seeds 0, 1" in text and "| trainable | seed 0 | seed 1 |" in text
    per_seed = [json.loads((tmp_path / "ptb-transfer-bench" / f"seed{s}" / "sweep.json")
                           .read_text())["rows"] for s in (0, 1)]
    mean_head = np.mean([rows[0]["accuracy"] for rows in per_seed])
    assert f"| head: accuracy >= 96.0 % | {100 * mean_head:.2f} % |" in text


def test_data_size_benchmark_trains_on_fractions_and_scores_the_same_held_out_rows(
        source, ptb_csvs, tmp_path):
    """``benchmarks/transfer_data_size.py``: held-out rows fixed, never trained on."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "transfer_data_size",
        Path(__file__).resolve().parents[1] / "benchmarks" / "transfer_data_size.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "S.md"
    assert bench.main(["--checkpoint", str(source), "--normal", ptb_csvs[0], "--abnormal",
                       ptb_csvs[1], "--fractions", "0.5,1", "--settings", "head", "--seeds", "0",
                       "--epochs", "1", "--runs", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| rows given | head |" in text and "| 160 | " in text and "| 320 | " in text
    held = load_data(tmp_path / "held-out-seed0.csv", class_names=("normal", "MI"))
    assert len(held) == 80 and held.counts().tolist() == [40, 40]
    for f in ("0.5", "1.0"):
        given = load_data(tmp_path / f"train-seed0-f{f}.csv", class_names=("normal", "MI"))
        assert not np.isin(beat_hashes(held.beats), beat_hashes(given.beats)).any()
