"""The inter-patient benchmark scripts (issue #16) without training: the ablation table and
the per-record breakdown."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ecgnet.data import load_data

from .net_helpers import small_rows, write_h5

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(s_ppv, acc):
    aami = {c: {"Se": 50.0, "+P": 60.0} for c in "NSVF"}
    aami["S"] = {"Se": 10.0, "+P": s_ppv}
    return {"aami": aami, "accuracy": acc}


def test_ablation_table_gives_the_mean_each_seed_and_leaves_undefined_figures_out():
    ablation = _script("interpatient_ablation")
    reports = [_report(None, 0.9), _report(40.0, 0.8), _report(20.0, 0.7)]
    mean = ablation.mean_figures(reports)
    assert mean[3] == pytest.approx(30.0)  # S +P: the two seeds that define it
    assert mean[-1] == pytest.approx(80.0)
    args = argparse.Namespace(epochs=10, patience=5, threads=1, out="runs", retrain=False,
                              seed_list=[0, 1, 2])
    table = ablation.markdown_table({"relative": reports}, "d.h5", args, {})
    lines = table.splitlines()
    assert len(lines) == 2 + 1 + 3  # header, rule, mean, one line per seed
    assert "| 30.0 |" in lines[2] and "--model kachuee-rel" in lines[2]
    assert lines[3].split(" | ")[5] == "-"  # seed 0 never predicted S: +P undefined
    assert "seed 2" in lines[5] and "`--seed 2`" in lines[5]
    cmd = ablation.command_of("relative-record-sampler", "d.h5", args)
    assert "--sampler record-class" in cmd and "--model kachuee-rel" in cmd
    assert "--loss" not in cmd
    cmd = ablation.command_of("wide-focal", "d.h5", args)
    assert "--model kachuee-wide --split interpatient --val-fraction 0.3 --loss focal" in cmd


def test_breakdown_lists_each_record_and_the_rules_figures(kaggle_dir, tmp_path, capsys):
    data = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(data.beats, data.labels, 30)
    h5 = write_h5(tmp_path / "b.h5", data.beats[idx], data.labels[idx], ["101", "100"])
    breakdown = _script("interpatient_breakdown")
    assert breakdown.main([str(h5)]) == 0
    out = capsys.readouterr().out
    assert "   101 " in out and "   100 " not in out.split("early + shape")[0]  # DS1 only
    for name in breakdown.RULES:
        assert f"{name}:  DS1 Se" in out and "DS2 Se" in out
    hits = breakdown.RULES["early + shape (QRS) + steady"](
        breakdown.features_by_name(load_data(h5)))
    assert hits.dtype == bool and len(hits) == len(idx)
    assert np.all(hits <= breakdown.RULES["early + shape (QRS)"](
        breakdown.features_by_name(load_data(h5))))


def test_threshold_script_scales_p_s_and_scores_validation_by_s_or_nsv():
    threshold = _script("interpatient_threshold")
    names = ("N", "S", "V", "F", "Q")
    proba = np.array([[0.5, 0.4, 0.1, 0, 0], [0.3, 0.6, 0.1, 0, 0], [0.1, 0.2, 0.7, 0, 0]])
    assert threshold.decide(proba, 1, 1.0).tolist() == [0, 1, 2]
    assert threshold.decide(proba, 1, 2.0).tolist() == [1, 1, 2]  # 0.8 > 0.5: now S
    assert threshold.decide(proba, 1, 0.4).tolist() == [0, 0, 2]  # 0.24 < 0.3: now N
    assert proba[1, 1] == 0.6  # the input is left alone
    y = np.array([0, 1, 2])
    assert threshold.validation_score(y, np.array([0, 1, 2]), names, "s") == 1.0
    assert threshold.validation_score(y, np.array([0, 0, 2]), names, "s") == 0.0
    # N: precision 1/2, recall 1 -> 2/3; S: 0; V: 1
    assert threshold.validation_score(y, np.array([0, 0, 2]), names, "nsv") == \
        pytest.approx((2 / 3 + 0 + 1) / 3)
    assert threshold.WEIGHTS.min() < 1 < threshold.WEIGHTS.max()  # stricter and laxer


def test_ablation_rows_of_the_ectopy_model_and_capped_weights():
    ablation = _script("interpatient_ablation")
    args = argparse.Namespace(epochs=6, patience=5, threads=1, out="runs", retrain=False)
    cmd = ablation.command_of("ectopy-capped", "d.h5", args)
    assert "--model kachuee-wide-ectopy" in cmd and "--class-weights capped" in cmd
    assert "--class-weights capped" in ablation.command_of("wide-capped", "d.h5", args)
