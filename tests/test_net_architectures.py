"""The extra registered architectures, ``deep-cnn`` and ``cnn-lstm``: exact layers,
training on real beats, transfer by named parts, and export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from ecgnet.checkpoint import load_checkpoint, load_model
from ecgnet.data import load_data
from ecgnet.model_export import export_model, onnx_proba, torchscript_proba
from ecgnet.models import (MODELS, CnnLstm, ConvBlock, DeepCNN, LSTMBlock, build_model,
                           count_parameters, frozen_parts)
from ecgnet.transfer import transfer

from .conftest import run_ecg
from .net_helpers import small_rows, write_csv

NEW_MODELS = ("deep-cnn", "cnn-lstm")
FAST = dict(threads=1, progress=False, batch_size=32, eval_batch_size=512)


def test_deep_cnn_layers_and_parameter_count():
    model = build_model("deep-cnn", 5)
    assert isinstance(model, DeepCNN) and MODELS["deep-cnn"] is DeepCNN
    assert count_parameters(model) == 55_333
    assert [n for n, _ in model.named_children()][:5] == ["stem", "blocks", "fc1", "fc2", "head"]
    assert len(model.blocks) == 5 and all(isinstance(b, ConvBlock) for b in model.blocks)
    convs = [m for m in model.blocks.modules() if isinstance(m, nn.Conv1d)]
    assert len(convs) == 10 and all(c.weight.shape == (32, 32, 5) for c in convs)
    # No residual connection: with its convolutions zeroed, a block forgets its input.
    x = torch.rand(3, 187)
    h = model.relu(model.stem(x.unsqueeze(1)))
    lengths = [h.shape[2]]
    for block in model.blocks:
        h = block(h)
        lengths.append(h.shape[2])
    assert lengths == [183, 90, 43, 20, 8, 2]
    assert model.features(x).shape == (3, 64) and model.fc1.weight.shape == (32, 64)
    assert model(x).shape == (3, 5)
    model.eval()
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)))
    block = model.blocks[0].eval()
    with torch.no_grad():
        for conv in block.convs:
            if isinstance(conv, nn.Conv1d):
                conv.weight.zero_()
        a, b = block(torch.rand(2, 32, 50)), block(torch.rand(2, 32, 50))
    assert torch.equal(a, b)
    kachuee_block = build_model("kachuee", 5).blocks[0]
    with torch.no_grad():
        kachuee_block.conv1.weight.zero_()
        kachuee_block.conv2.weight.zero_()
        assert not torch.equal(kachuee_block(torch.rand(2, 32, 50)),
                               kachuee_block(torch.rand(2, 32, 50)))


def test_cnn_lstm_layers_and_parameter_count():
    model = build_model("cnn-lstm", 5)
    assert isinstance(model, CnnLstm)
    assert count_parameters(model) == 26_469
    assert [n for n, _ in model.named_children()][:5] == ["stem", "blocks", "fc1", "fc2", "head"]
    assert [type(b) for b in model.blocks] == [ConvBlock] * 3 + [LSTMBlock]
    lstm = model.blocks[3].lstm
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.batch_first) == (32, 32, 1, True)
    x = torch.rand(3, 187)
    h = model.relu(model.stem(x.unsqueeze(1)))
    shapes = [tuple(h.shape)]
    for block in model.blocks:
        h = block(h)
        shapes.append(tuple(h.shape))
    assert shapes == [(3, 32, 183), (3, 32, 90), (3, 32, 43), (3, 32, 20), (3, 32, 20)]
    torch.testing.assert_close(model.features(x), h[:, :, -1])
    assert model(x).shape == (3, 5)
    # The LSTM reads the time axis in order: reversing it changes the features.
    model.eval()
    seq = torch.rand(2, 32, 20)
    assert not torch.allclose(model.blocks[3](seq)[:, :, -1], model.blocks[3](seq.flip(2))[:, :, -1])


@pytest.mark.parametrize("name", NEW_MODELS)
def test_new_models_have_the_named_parts_of_transfer(name):
    model = build_model(name, 5)
    n = len(model.blocks)
    assert frozen_parts(model, "head") == ["stem", *(f"blocks.{i}" for i in range(n)), "fc1", "fc2"]
    assert frozen_parts(model, "fc") == ["stem", *(f"blocks.{i}" for i in range(n))]
    assert frozen_parts(model, "blocks:1") == ["stem", *(f"blocks.{i}" for i in range(n - 1))]
    assert frozen_parts(model, "all") == []


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """400 real MIT-BIH beats, 80 of each class."""
    rows = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(rows.beats, rows.labels, 80)
    return write_csv(tmp_path_factory.mktemp("arch") / "small.csv", rows.beats[idx], rows.labels[idx])


@pytest.fixture(scope="module")
def trained(small_csv, tmp_path_factory):
    """``ecg train --model NAME`` for each new model: 4 short epochs on real beats."""
    out = tmp_path_factory.mktemp("runs")
    for name in NEW_MODELS:
        assert run_ecg(["train", str(small_csv), "--model", name, "--out", str(out), "--name", name,
                        "--epochs", "4", "--batch-size", "32", "--threads", "1", "--quiet"]) == 0
    return out


@pytest.mark.parametrize("name", NEW_MODELS)
def test_new_models_train_on_real_beats(trained, name):
    run = trained / name
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and lines[-1]["train_loss"] < lines[0]["train_loss"]
    assert json.loads((run / "config.json").read_text())["parameters"] == count_parameters(
        build_model(name, 5))
    model, meta = load_model(run / "best.pt")
    assert meta["model"] == name and type(model) is MODELS[name]
    assert json.loads((run / "test.json").read_text())["n"] == 80


@pytest.mark.parametrize("name", NEW_MODELS)
def test_new_models_transfer_with_frozen_parts(trained, kaggle_dir, tmp_path, name):
    ptb = load_data(kaggle_dir / "ptbdb_normal_known_rows.csv")
    mi = load_data(kaggle_dir / "ptbdb_abnormal_known_rows.csv")
    paths = [str(write_csv(tmp_path / "ptbdb_normal_small.csv", ptb.beats[:100], ptb.labels[:100])),
             str(write_csv(tmp_path / "ptbdb_abnormal_small.csv", mi.beats[:100], mi.labels[:100]))]
    source = trained / name / "best.pt"
    result = transfer(source, paths, trainable="blocks:1", out=str(tmp_path), name="mi",
                      max_iters=4, **FAST)
    before, after = (load_checkpoint(p)["state_dict"] for p in (source, result.run_dir / "best.pt"))
    last = len(build_model(name, 2).blocks) - 1
    for key, value in after.items():
        if key.startswith(("stem.", "blocks.0.")):
            assert torch.equal(value, before[key]), key  # frozen
    changed = [k for k in after if k.startswith(f"blocks.{last}.") and k in before
               and after[k].dtype.is_floating_point and not torch.equal(after[k], before[k])]
    assert changed  # the last block learnt
    assert after["head.weight"].shape == (2, 32)


@pytest.mark.parametrize("name", NEW_MODELS)
def test_new_models_export_to_torchscript_and_onnx(trained, tmp_path, name):
    result = export_model(trained / name / "best.pt", tmp_path / name)
    assert result.torchscript.is_file() and result.onnx.is_file()
    beats = np.random.default_rng(1).random((7, 187), dtype=np.float32)
    model, _ = load_model(trained / name / "best.pt")
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(beats)), 1).numpy()
    np.testing.assert_allclose(torchscript_proba(result.torchscript, beats), expected, atol=1e-5)
    np.testing.assert_allclose(onnx_proba(result.onnx, beats), expected, atol=1e-5)
