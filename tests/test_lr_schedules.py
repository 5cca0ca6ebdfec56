"""Learning-rate schedules (``ecgnet.schedules``, ``--lr-schedule``): their curves, the
training runs that use them, and the checks of the setting."""

from __future__ import annotations

import json

import pytest
import torch

from ecg_cli.main import main
from ecgnet.schedules import (LR_SCHEDULES, build_scheduler, cosine_factor, one_cycle_factor,
                              total_iterations)
from ecgnet.train import ConfigError, TrainConfig, train
from ecgseg.errors import InputError

from .net_helpers import known_rows_csv


def _curve(name: str, total: int, lr: float = 1e-3, **kw) -> list[float]:
    """The learning rate before each of ``total`` iterations, and after the last."""
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = build_scheduler(name, opt, lr=lr, total=total, **kw)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(total):
        opt.step()
        sched.step()
        rates.append(opt.param_groups[0]["lr"])
    return rates


def test_cosine_falls_from_lr_to_zero_over_the_run():
    rates = _curve("cosine", 100)
    assert rates[0] == pytest.approx(1e-3) and rates[50] == pytest.approx(5e-4)
    assert rates[-1] == 0.0
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert cosine_factor(150, 100) == 0.0  # past the end it stays at 0


def test_one_cycle_rises_to_lr_then_falls_far_below_its_start():
    rates = _curve("one-cycle", 100)
    peak = max(range(len(rates)), key=rates.__getitem__)
    assert peak == 30 and rates[peak] == pytest.approx(1e-3)
    assert rates[0] == pytest.approx(1e-3 / 25) and rates[-1] == pytest.approx(1e-3 / 25e4)
    assert all(a < b for a, b in zip(rates[:30], rates[1:31]))
    assert all(a > b for a, b in zip(rates[30:], rates[31:]))
    assert one_cycle_factor(500, 100) == pytest.approx(1 / 25e4)


def test_step_is_the_papers_decay_and_the_default():
    rates = _curve("step", 20, lr_decay=0.5, lr_decay_every=8)
    assert rates[7] == pytest.approx(1e-3) and rates[8] == pytest.approx(5e-4)
    assert rates[16] == pytest.approx(2.5e-4)
    assert TrainConfig(data=["x.csv"]).lr_schedule == "step" == LR_SCHEDULES[0]


def test_total_iterations_counts_the_batches_of_every_epoch():
    assert total_iterations(3, 100, 32) == 12  # 4 batches an epoch, the last one short
    assert total_iterations(3, 100, 32, max_iters=5) == 5


def test_unknown_schedule_names_the_parameter(tmp_path, capsys):
    with pytest.raises(ConfigError, match="^lr_schedule must be one of: step, cosine, one-cycle$"):
        TrainConfig(data=["x.csv"], lr_schedule="linear")
    with pytest.raises(InputError, match="lr_schedule 'linear' unknown"):
        build_scheduler("linear", torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1),
                        lr=1, total=1)
    with pytest.raises(SystemExit) as exc:
        main(["train", str(tmp_path / "x.csv"), "--lr-schedule", "linear"])
    assert exc.value.code != 0
    assert "--lr-schedule must be one of" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """240 real MIT-BIH beats: 80 N and 40 of each other class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("sched") / "small.csv", 40,
                          extra_normal=40)


def test_cosine_run_ends_at_rate_zero_and_resumes_only_with_its_schedule(small_csv, tmp_path):
    base = dict(data=[str(small_csv)], out=str(tmp_path), batch_size=32, epochs=3,
                progress=False, threads=1)
    result = train(TrainConfig(name="cos", lr_schedule="cosine", **base))
    rates = [h["lr"] for h in result.history]
    assert rates[0] < 1e-3 and rates[0] > rates[1] > rates[2] == 0.0
    assert json.loads((result.run_dir / "config.json").read_text())["config"]["lr_schedule"] == "cosine"
    step = train(TrainConfig(name="step", **base))
    assert [h["lr"] for h in step.history] == [1e-3] * 3
    with pytest.raises(InputError, match="lr_schedule differ"):
        train(TrainConfig(name="cos", resume=True, **{**base, "epochs": 4}))
