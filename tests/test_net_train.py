"""Training, checkpoints, resume, determinism, evaluation and the CLI, on real beats."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ecg_cli.main import main
from ecgnet.checkpoint import load_checkpoint, load_model, save_checkpoint
from ecgnet.inference import predict_proba
from ecgnet.data import load_data
from ecgnet.evaluate import evaluate
from ecgnet.models import build_model
from ecgnet.splits import make_split
from ecgnet.train import TrainConfig, train, update_average, validate
from ecgseg.errors import InputError

from .net_helpers import known_rows_csv

TIMING = ("train_beats_per_s", "seconds")


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """480 real MIT-BIH beats: 160 N and 80 of each other class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("net") / "small.csv", 80,
                          extra_normal=80)


def config(data, tmp_path, **kw):
    base = dict(data=[str(data)], out=str(tmp_path), name="run", batch_size=32, epochs=2,
                progress=False, threads=1, eval_batch_size=512)
    base.update(kw)
    return TrainConfig(**base)


def strip_timing(history):
    return [{k: v for k, v in h.items() if k not in TIMING} for h in history]


def test_training_lowers_the_loss_and_writes_the_run(small_csv, tmp_path):
    result = train(config(small_csv, tmp_path, epochs=4, class_weights="balanced", augment=0.5))
    run = result.run_dir
    for name in ("config.json", "metrics.jsonl", "best.pt", "last.pt", "curves.png",
                 "test.json", "test.png"):
        assert (run / name).is_file(), name
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in lines] == [1, 2, 3, 4] and result.iterations == lines[-1]["iteration"]
    assert lines[-1]["train_loss"] < lines[0]["train_loss"]
    info = json.loads((run / "config.json").read_text())
    assert info["parameters"] == 55_013 and info["train_counts"][0] > info["train_counts"][1]
    # Loss on the training beats: freshly initialised model vs trained.
    data = load_data(small_csv)
    torch.manual_seed(0)
    fresh = build_model("kachuee", 5)
    trained, meta = load_model(run / "last.pt")
    nll = [-np.log(predict_proba(m, data.beats)[np.arange(len(data)), data.labels]).mean()
           for m in (fresh, trained)]
    assert nll[1] < nll[0] - 0.1
    assert result.test["n"] == 96 and json.loads((run / "test.json").read_text())["n"] == 96
    assert meta["class_names"] == ("N", "S", "V", "F", "Q") and meta["config"]["augment"] == 0.5


def test_checkpoint_round_trip_and_bad_checkpoints(small_csv, tmp_path):
    result = train(config(small_csv, tmp_path, max_iters=3))
    ckpt = load_checkpoint(result.run_dir / "best.pt")
    assert ckpt["model"] == "kachuee" and ckpt["n_classes"] == 5 and ckpt["training"]["iteration"] == 3
    copy = save_checkpoint(ckpt, tmp_path / "copy.pt")
    model_a, _ = load_model(result.run_dir / "best.pt")
    model_b, _ = load_model(copy)
    for (ka, a), (kb, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        assert ka == kb and torch.equal(a, b)
    assert not list(tmp_path.glob(".*.tmp"))

    other = dict(ckpt, model="resnet9")
    save_checkpoint(other, tmp_path / "other.pt")
    with pytest.raises(InputError, match="model 'resnet9', which this toolkit does not know"):
        load_model(tmp_path / "other.pt")
    torch.save(model_a.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(InputError, match="not an ecgnet checkpoint"):
        load_model(tmp_path / "bare.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_model(tmp_path / "junk.pt")
    wrong = dict(ckpt, n_classes=2, class_names=["normal", "MI"])
    save_checkpoint(wrong, tmp_path / "wrong.pt")
    with pytest.raises(InputError, match="weights do not fit model 'kachuee' with 2 classes"):
        load_model(tmp_path / "wrong.pt")


def test_resume_continues_exactly_and_runs_are_deterministic(small_csv, tmp_path):
    whole = train(config(small_csv, tmp_path, name="whole", epochs=3))
    train(config(small_csv, tmp_path, name="parts", epochs=1))
    with pytest.raises(InputError, match="already holds a run"):
        train(config(small_csv, tmp_path, name="parts", epochs=3))
    with pytest.raises(InputError, match="batch_size differ"):
        train(config(small_csv, tmp_path, name="parts", epochs=3, resume=True, batch_size=64))
    resumed = train(config(small_csv, tmp_path, name="parts", epochs=3, resume=True))
    assert resumed.epochs_run == 3 and resumed.iterations == whole.iterations
    assert strip_timing(resumed.history) == strip_timing(whole.history)
    assert resumed.test == {**whole.test, "checkpoint": resumed.test["checkpoint"]}
    a = load_checkpoint(whole.run_dir / "last.pt")["state_dict"]
    b = load_checkpoint(resumed.run_dir / "last.pt")["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    lines = (resumed.run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]
    with pytest.raises(InputError, match="nothing to resume"):
        train(config(small_csv, tmp_path, name="never", resume=True))


def test_evaluate_scores_only_unseen_beats(small_csv, kaggle_dir, tmp_path):
    result = train(config(small_csv, tmp_path, max_iters=4))
    best = result.run_dir / "best.pt"
    same = evaluate(best, small_csv, out=tmp_path / "eval")
    assert same.report["part"].startswith("test part") and same.report["n"] == 96
    assert same.report["confusion_matrix"] == result.test["confusion_matrix"]
    assert (tmp_path / "eval.json").is_file() and (tmp_path / "eval.png").is_file()
    # All known rows: the beats seen in training (train + validation) are left out.
    full = evaluate(best, kaggle_dir / "mitbih_test_known_rows.csv", part="auto")
    assert full.report["excluded_training_beats"] == 480 - 96
    assert full.report["n"] == 1496 - 384
    with pytest.raises(InputError, match="not those of checkpoint"):
        evaluate(best, kaggle_dir / "ptbdb_normal_known_rows.csv")
    with pytest.raises(InputError, match="--part test"):
        evaluate(best, kaggle_dir / "mitbih_test_known_rows.csv", part="test")


def run_cli(argv) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code
    return 0


def test_cli_train_and_evaluate(small_csv, tmp_path, capsys):
    assert run_cli(["train", str(small_csv), "--out", str(tmp_path), "--name", "cli", "--epochs", "1",
          "--batch-size", "64", "--threads", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "run " in out and "AAMI EC57" in out and "confusion matrix" in out
    assert run_cli(["evaluate", str(tmp_path / "cli" / "best.pt"), str(small_csv),
                    "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "test part of the run's random split" in out and (tmp_path / "cli" / "eval-small.json").is_file()
    for argv, message in (
            (["evaluate", str(small_csv), str(small_csv)], "not a readable checkpoint"),
            (["train", str(small_csv), "--out", str(tmp_path), "--split", "interpatient"],
             "needs record ids"),
            (["train", str(small_csv), "--out", str(tmp_path), "--class-weights", "x"],
             "--class-weights must be one of")):
        code = run_cli(argv)
        err = capsys.readouterr().err
        assert code == 1 and message in err and err.count("\n") == 1


def test_bfloat16_training_lowers_the_loss_and_keeps_float32_weights(small_csv, tmp_path):
    result = train(config(small_csv, tmp_path, epochs=3, precision="bfloat16"))
    lines = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["train_loss"] < lines[0]["train_loss"]
    model, meta = load_model(result.run_dir / "best.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert meta["config"]["precision"] == "bfloat16"
    with pytest.raises(InputError, match="unknown precision 'fp8'"):
        train(config(small_csv, tmp_path, name="bad", precision="fp8"))
    assert not (tmp_path / "bad").exists()


def test_weight_averaging_is_what_is_validated_saved_and_resumed(small_csv, tmp_path):
    a, b = build_model("kachuee", 5), build_model("kachuee", 5)
    first = [p.clone() for p in a.parameters()]
    update_average(a, b, 0.999, step=1)  # warm-up: d = 2 / 11
    for p0, pa, pb in zip(first, a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, 2 / 11 * p0 + 9 / 11 * pb)
    whole = train(config(small_csv, tmp_path, name="whole", epochs=3, ema=0.9, jitter=0.5))
    last = load_checkpoint(whole.run_dir / "last.pt")
    raw, avg = last["training"]["raw_state_dict"], last["state_dict"]
    assert not all(torch.equal(raw[k], avg[k]) for k in raw)
    # The validation figures are those of the averaged weights, not of the raw ones.
    data = load_data(small_csv)
    val = data.subset(make_split(data, "random", 0.2, 0.1, 0).val)
    model, _ = load_model(whole.run_dir / "last.pt")
    assert validate(model, val, 512)["val_loss"] == pytest.approx(whole.history[-1]["val_loss"])
    model.load_state_dict(raw)
    assert validate(model, val, 512)["val_loss"] != pytest.approx(whole.history[-1]["val_loss"])
    # Averaging changes what is validated, not how the raw weights learn.
    plain = train(config(small_csv, tmp_path, name="plain", epochs=3, jitter=0.5))
    assert [h["train_loss"] for h in plain.history] == [h["train_loss"] for h in whole.history]
    plain_raw = load_checkpoint(plain.run_dir / "last.pt")["state_dict"]
    assert all(torch.equal(plain_raw[k], raw[k]) for k in raw)
    train(config(small_csv, tmp_path, name="parts", epochs=2, ema=0.9, jitter=0.5))
    with pytest.raises(InputError, match="ema differ"):
        train(config(small_csv, tmp_path, name="parts", epochs=3, resume=True, jitter=0.5))
    resumed = train(config(small_csv, tmp_path, name="parts", epochs=3, resume=True, ema=0.9,
                           jitter=0.5))
    assert strip_timing(resumed.history) == strip_timing(whole.history)
    again = load_checkpoint(resumed.run_dir / "last.pt")
    assert all(torch.equal(again["state_dict"][k], avg[k]) for k in avg)
    with pytest.raises(InputError, match="^ema must be 0 "):
        config(small_csv, tmp_path, ema=1.0)


def test_shift_cuts_some_epoch_beats_later_and_is_checked(small_csv, tmp_path):
    from ecgnet.train import epoch_beats, prepare

    plain = prepare(config(small_csv, tmp_path, name="plain", jitter=0.5))
    shifted = prepare(config(small_csv, tmp_path, name="shifted", jitter=0.5, shift=0.5))
    x0, y0, _ = epoch_beats(plain, 1)
    x1, y1, _ = epoch_beats(shifted, 1)
    assert torch.equal(y0, y1) and x0.shape == x1.shape
    moved = (x0 != x1).flatten(1).any(dim=1).float().mean().item()
    assert 0.3 < moved < 0.8  # about half shifted (some of them jittered in both)
    assert torch.equal(epoch_beats(shifted, 1)[0], x1)  # drawn from (seed, epoch)
    with pytest.raises(InputError, match="^shift must be between 0 "):
        config(small_csv, tmp_path, shift=1.5)
    both = prepare(config(small_csv, tmp_path, name="both", jitter=0.5, shift=0.5,
                          shift_min=-2, shift_max=2))
    x2, y2, _ = epoch_beats(both, 1)
    assert torch.equal(y0, y2) and not torch.equal(x1, x2)
    assert torch.equal(x2[:, 0, 187:], x0[:, 0, 187:])  # RR / record inputs never move
    with pytest.raises(InputError, match="^shift_max must be at least --shift-min"):
        config(small_csv, tmp_path, shift_min=2, shift_max=1)
