"""The pretrained models shipped in ``ecgnet/pretrained/``: files, cards, figures, commands.

Each shipped model loads with ``weights_only=True``, matches its card (hash, parameters,
classes) and gives its card's ``check`` accuracy on a small set of real beats shipped in
``tests/data`` (the mini MIT-BIH mirror segmented with the Kaggle recipe, or the known PTB
rows), so the test runs without ``../shared``. ``ecg models``, ``ecg predict RECORD`` (the
default model), ``--model NAME`` and its errors go through the real command line.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ecgnet.models import count_parameters
from ecgnet.pretrained import (DEFAULT_MODEL, PRETRAINED_DIR, get_card, list_models,
                               load_pretrained, model_names, weights_path)

from .conftest import SHIPPED_MIRROR_DIR, run_ecg

NAMES = model_names()
SHIPPED = ("mitbih-interpatient", "mitbih-random", "ptb-mi")


def test_the_three_models_are_shipped_with_cards():
    assert set(SHIPPED) <= set(NAMES)
    assert DEFAULT_MODEL in NAMES
    assert [c.name for c in list_models()] == NAMES


def test_package_data_includes_the_weights_and_cards():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"ecgnet.pretrained" = ["*.pt", "*.toml"]' in text


@pytest.mark.parametrize("name", NAMES)
def test_shipped_file_loads_safely_and_matches_its_card(name):
    card = get_card(name)
    path = weights_path(name)
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == card.sha256
    assert len(raw) < 1_500_000  # a small file: no optimiser state
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert "optimizer" not in ckpt["training"] and "raw_state_dict" not in ckpt["training"]
    model, meta = load_pretrained(name)
    assert count_parameters(model) == card.parameters
    assert tuple(meta["class_names"]) == card.classes
    assert meta["model"] == card.model and meta["card"] == card
    assert card.recipe and card.detector and card.leads and card.beat_fs_hz > 0
    assert "ODC-By 1.0" in card.licence and card.citations
    assert card.metrics["command"].startswith(f"ecg evaluate --model {name} ")
    assert 0 < card.metrics["accuracy"] <= 100 and card.commands and card.date


@pytest.fixture(scope="module")
def check_files(tmp_path_factory):
    """Each check set of the cards, written once (``benchmarks.pretrained.check_data``)."""
    from benchmarks.pretrained import check_data

    cache = {}

    def files(kind):
        if kind not in cache:
            cache[kind] = check_data(kind, tmp_path_factory.mktemp(kind))
        return cache[kind]

    return files


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_gives_its_card_accuracy_on_real_beats(name, check_files):
    from ecgnet.evaluate import evaluate

    check = get_card(name).check
    report = evaluate(weights_path(name), check_files(check["set"]), part="auto").report
    assert report["n"] == check["n"]
    assert abs(100 * report["accuracy"] - check["accuracy"]) <= check["tolerance"]


def test_ptb_check_set_is_the_cards_held_out_part(check_files):
    """On the PTB rows, ``--part auto`` finds the run's own test part: the check figure is
    the card's headline figure."""
    card = get_card("ptb-mi")
    assert card.check["n"] == card.metrics["n"]
    assert abs(card.check["accuracy"] - card.metrics["accuracy"]) < 0.01


def test_ecg_models_lists_what_each_model_expects(capsys):
    assert run_ecg(["models"]) == 0
    out = capsys.readouterr().out
    for card in list_models():
        assert f"{card.name}" in out
        assert f"recipe {card.recipe}; detector {card.detector}" in out
        assert f"at {card.beat_fs_hz:g} Hz" in out
        assert f"classes: {' '.join(card.classes)}" in out
        assert f"accuracy {card.metrics['accuracy']:.2f} %" in out
    assert f"{DEFAULT_MODEL}  (default of ecg predict)" in out
    assert run_ecg(["models", "-v"]) == 0
    assert "ODC-By 1.0" in capsys.readouterr().out


@pytest.fixture()
def record_208(tmp_path):
    """Shipped MIT-BIH record 208 (2.5 min) copied to a plain folder."""
    src = SHIPPED_MIRROR_DIR / "mitdb" / "1.0.0"
    for ext in ("hea", "dat", "atr"):
        shutil.copy(src / f"208.{ext}", tmp_path / f"208.{ext}")
    return tmp_path / "208"


def test_predict_record_uses_the_default_model(record_208, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert run_ecg(["predict", str(record_208), "--out", str(out), "-q"]) == 0
    frame = pd.read_csv(out)
    classes = get_card(DEFAULT_MODEL).classes
    proba = frame[[f"p_{c}" for c in classes]].to_numpy()
    assert len(frame) > 150  # 2.5 min of record 208
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(frame["predicted"]) <= set(classes)
    # The same as naming the model, or its file as a CHECKPOINT.
    named = tmp_path / "named.csv"
    assert run_ecg(["predict", "--model", DEFAULT_MODEL, str(record_208), "--out", str(named),
                    "-q"]) == 0
    path = tmp_path / "path.csv"
    assert run_ecg(["predict", str(weights_path(DEFAULT_MODEL)), str(record_208), "--out",
                    str(path), "-q"]) == 0
    assert out.read_bytes() == named.read_bytes() == path.read_bytes()


def test_predict_and_evaluate_model_errors_are_one_line(record_208, tmp_path, capsys):
    ckpt = str(weights_path("ptb-mi"))
    cases = [
        (["predict", "--model", "nope", str(record_208)], "model 'nope' is not a pretrained "
                                                           "model; choose one of: "),
        (["predict", ckpt, str(record_208), "--model", "ptb-mi"],
         "give a CHECKPOINT or --model NAME, not both"),
        (["predict", ckpt, str(record_208), "extra"], "one or two arguments, not 3"),
        (["predict", str(record_208), "--lead", "V9"], "has no lead 'V9'"),
        (["evaluate", "--model", "nope", "x.csv"], "model 'nope' is not a pretrained model"),
        (["evaluate", str(tmp_path / "beats.h5")], "give CHECKPOINT DATA..., or --model NAME"),
        (["evaluate", ckpt, "x.csv", "--model", "ptb-mi"], "not both"),
    ]
    for argv, message in cases:
        assert run_ecg([*argv, *(["-q"] if argv[0] == "predict" else [])]) == 1, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, (argv, err)


def test_evaluate_two_class_model_on_ptb_csv_without_classes(check_files, tmp_path, capsys,
                                                             monkeypatch):
    """Issue 16, "Also": a 2-class checkpoint on Kaggle PTB CSV (labels 0/1) needs no
    --classes, whatever the files are called."""
    normal, abnormal = check_files("ptb-rows")
    monkeypatch.chdir(tmp_path)
    assert run_ecg(["evaluate", "--model", "ptb-mi", str(normal), str(abnormal)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ptb-mi on test part of the run's")
    assert (tmp_path / f"eval-ptb-mi-{normal.stem}.json").is_file()  # not in the package
    rows = tmp_path / "rows.csv"
    rows.write_bytes(normal.read_bytes() + abnormal.read_bytes())
    assert run_ecg(["evaluate", "--model", "ptb-mi", str(rows), "--out",
                    str(tmp_path / "r")]) == 0
    assert "MI" in capsys.readouterr().out
    assert not list(PRETRAINED_DIR.glob("eval-*"))
