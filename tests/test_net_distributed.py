"""Training with several processes (DistributedDataParallel on gloo, 127.0.0.1) against one.

Tolerance (measured on this machine, kachuee model, global batch 32, class weights
balanced, 10 Adam steps): the training loss of two ranks equals one process's within
1.2e-7 relative (float32 sums in another order); every weight tensor within 7.4e-6
relative (L2 norm of the difference) and 1.8e-5 absolute. The checks (6 steps) allow
1e-6, 1e-4 and 1e-4: an unsynchronised or wrongly weighted gradient moves weights by
an Adam step (lr 1e-3). The gap grows with the steps (Adam divides by the root of tiny
second moments): 3e-4 relative after 12 steps of batch 64 (2.9e-3 with balanced
weights), so longer runs are compared as "the same training", not as the same weights.
A resumed distributed run equals the uninterrupted distributed run exactly.
"""

from __future__ import annotations

import json
import os
import signal

import psutil
import pytest
import torch

from ecg_cli.main import main
from ecgnet.callbacks import TrainCallback
from ecgnet.checkpoint import load_checkpoint
from ecgnet.distributed import DistributedError, Ranks, shard
from ecgnet.train import RUN_FILES, TrainConfig, train
from ecgnet.train_config import ConfigError
from ecgseg.errors import InputError

from .net_helpers import known_rows_csv

LOSS_RTOL, WEIGHT_RTOL, WEIGHT_ATOL = 1e-6, 1e-4, 1e-4
TIMING = ("train_beats_per_s", "seconds")


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """480 real MIT-BIH beats: 160 N and 80 of each other class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("ddp") / "small.csv", 80,
                          extra_normal=80)


def config(data, out, **kw):
    base = dict(data=[str(data)], out=str(out), name="run", batch_size=32, epochs=2,
                progress=False, threads=1, class_weights="balanced")
    base.update(kw)
    return TrainConfig(**base)


class PidLog(TrainCallback):
    """Appends ``<hook> <pid>`` to a file (callbacks run in a rank: a file shows where)."""

    def __init__(self, path):
        self.path = str(path)

    def _log(self, what):
        with open(self.path, "a") as f:
            f.write(f"{what} {os.getpid()}\n")

    def on_run_start(self, config, run_dir, info):
        self._log("start")

    def on_epoch_end(self, epoch, metrics):
        self._log("epoch")

    def on_run_end(self, result):
        self._log("end")


class DieAtEpochEnd(TrainCallback):
    """Kills its own process (rank 0) at the end of the first epoch."""

    def on_epoch_end(self, epoch, metrics):
        os.kill(os.getpid(), signal.SIGKILL)


def assert_close_runs(one, many):
    a, b = one.history[-1], many.history[-1]
    assert (one.iterations, a["train_beats"]) == (many.iterations, b["train_beats"])
    assert abs(a["train_loss"] - b["train_loss"]) <= LOSS_RTOL * a["train_loss"]
    assert abs(a["val_loss"] - b["val_loss"]) <= LOSS_RTOL * 10 * a["val_loss"]
    wa = load_checkpoint(one.run_dir / "last.pt")["state_dict"]
    wb = load_checkpoint(many.run_dir / "last.pt")["state_dict"]
    assert wa.keys() == wb.keys()
    for k in wa:
        diff = (wa[k] - wb[k]).float()
        assert diff.norm() <= WEIGHT_RTOL * wa[k].float().norm() + 1e-12, k
        assert diff.abs().max() <= WEIGHT_ATOL, k


def live_children():
    """Child processes still running, but multiprocessing's resource tracker (it lives as
    long as this process)."""
    alive = [p for p in psutil.Process().children(recursive=True)
             if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return [p for p in alive if "resource_tracker" not in " ".join(p.cmdline())]


def test_shards_of_a_batch_are_the_batch():
    batch = torch.arange(13)
    parts = [shard(batch, Ranks(r, 3)) for r in range(3)]
    assert torch.equal(torch.cat(parts), batch) and [len(p) for p in parts] == [5, 4, 4]


def test_nproc_must_divide_the_global_batch(small_csv, tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"^nproc \(3 processes\) must divide batch_size \(32\)"):
        config(small_csv, tmp_path, nproc=3)
    with pytest.raises(ConfigError, match="^nproc must be at least 1"):
        config(small_csv, tmp_path, nproc=0)
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(small_csv), "--out", str(tmp_path), "--nproc", "3",
              "--batch-size", "32"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.strip().startswith("error: --nproc (3 processes) must divide")
    assert not list(tmp_path.iterdir())


def test_two_processes_train_as_one_within_tolerance(small_csv, tmp_path):
    one = train(config(small_csv, tmp_path, name="one", max_iters=6))
    log = tmp_path / "hooks.txt"
    two = train(config(small_csv, tmp_path, name="two", max_iters=6, nproc=2),
                callbacks=[PidLog(log)])
    assert_close_runs(one, two)
    # Rank 0 alone wrote the run folder and ran the callbacks (in one process, not this one).
    assert sorted(p.name for p in two.run_dir.iterdir()) == sorted(RUN_FILES)
    lines = (two.run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1]
    assert json.loads((two.run_dir / "config.json").read_text())["processes"] == 2
    hooks = [line.split() for line in log.read_text().splitlines()]
    assert [h for h, _ in hooks] == ["start", "epoch", "end"]
    assert len({pid for _, pid in hooks}) == 1 and hooks[0][1] != str(os.getpid())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hooks.txt", "one", "two"]
    assert not live_children()


def test_resume_after_a_distributed_run_continues(small_csv, tmp_path):
    kw = dict(batch_size=64, epochs=2)
    whole = train(config(small_csv, tmp_path, name="whole", nproc=2, **kw))
    part = train(config(small_csv, tmp_path, name="parts", nproc=2, **dict(kw, epochs=1)))
    assert part.epochs_run == 1
    with pytest.raises(InputError, match="already holds a run"):  # rank 0's error, raised here
        train(config(small_csv, tmp_path, name="parts", nproc=2, **kw))
    resumed = train(config(small_csv, tmp_path, name="parts", nproc=2, resume=True, **kw))
    assert resumed.epochs_run == 2 and resumed.iterations == whole.iterations
    lines = (resumed.run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
    strip = [{k: v for k, v in h.items() if k not in TIMING} for h in whole.history]
    assert [{k: v for k, v in h.items() if k not in TIMING} for h in resumed.history] == strip
    a = load_checkpoint(whole.run_dir / "last.pt")["state_dict"]
    b = load_checkpoint(resumed.run_dir / "last.pt")["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not live_children()


def test_a_rank_that_dies_ends_the_others_with_a_clear_error(small_csv, tmp_path):
    with pytest.raises(DistributedError, match=r"^training rank [01] "):
        train(config(small_csv, tmp_path, nproc=2, epochs=3), callbacks=[DieAtEpochEnd()])
    assert not live_children()
