"""The paper's CNN: exact architecture, registry, transfer-learning helpers, inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ecgnet.inference import predict_proba
from ecgnet.models import (MODELS, KachueeNet, build_model, count_parameters, freeze,
                           register_model, replace_head)
from ecgseg.errors import InputError

from .conftest import run_ecg


def test_kachuee_has_the_papers_55013_parameters_and_layers():
    model = build_model("kachuee", 5)
    assert isinstance(model, KachueeNet) and "kachuee" in MODELS
    assert count_parameters(model) == 55_013
    assert [n for n, _ in model.named_children()][:5] == ["stem", "blocks", "fc1", "fc2", "head"]
    assert model.stem.weight.shape == (32, 1, 5) and model.stem.padding == (0,)
    assert isinstance(model.blocks, nn.ModuleList) and len(model.blocks) == 5
    for block in model.blocks:
        for conv in (block.conv1, block.conv2):
            assert conv.weight.shape == (32, 32, 5) and conv.padding == "same"
        assert (block.pool.kernel_size, block.pool.stride) == (5, 2)
    assert model.fc1.weight.shape == (32, 64)
    assert model.fc2.weight.shape == (32, 32)
    assert model.head.weight.shape == (5, 32)
    x = torch.rand(3, 187)
    lengths, h = [], model.stem(x.unsqueeze(1))
    lengths.append(h.shape[2])
    for block in model.blocks:
        h = block(h)
        lengths.append(h.shape[2])
    assert lengths == [183, 90, 43, 20, 8, 2]
    assert model.features(x).shape == (3, 64)
    assert model(x).shape == (3, 5)
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)))


def test_registry_and_transfer_helpers(capsys):
    with pytest.raises(InputError, match="unknown model 'resnet'.*kachuee"):
        build_model("resnet", 5)
    with pytest.raises(InputError, match="at least 2 classes"):
        build_model("kachuee", 1)

    @register_model("tiny-test-model")
    class Tiny(nn.Module):
        """A linear layer over the beat's samples,
        for the registry test.

        Not this paragraph."""

        def __init__(self, n_classes):
            super().__init__()
            self.head = nn.Linear(187, n_classes)

        def forward(self, x):
            return self.head(x.flatten(1))

    try:
        assert build_model("tiny-test-model", 3)(torch.rand(2, 1, 187)).shape == (2, 3)
        with pytest.raises(ValueError, match="already registered"):
            register_model("tiny-test-model")(Tiny)
        # ecg models --architectures and the --model help come from the registry alone
        assert run_ecg(["models", "--architectures"]) == 0
        listed = capsys.readouterr().out
        assert [line.split()[0] for line in listed.splitlines() if not line.startswith(" ")] \
            == list(MODELS)
        assert ("tiny-test-model     940 parameters (5 classes); takes the beat alone\n"
                "               A linear layer over the beat's samples, for the registry test.\n"
                in listed)
        assert "kachuee-rr      55,173 parameters (5 classes); takes 5 RR features\n" in listed
    finally:
        del MODELS["tiny-test-model"]

    model = freeze(replace_head(build_model("kachuee", 5), 2), ["stem", "blocks"])
    assert model.head.out_features == 2 and model(torch.rand(4, 187)).shape == (4, 2)
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc1", "fc2", "head"}
    with pytest.raises(InputError, match="no part 'trunk'"):
        freeze(model, ["trunk"])


def test_predict_proba_batches_and_checks_shape():
    model = build_model("kachuee", 5)
    beats = np.random.default_rng(0).random((1000, 187), dtype=np.float32)
    proba = predict_proba(model, beats, batch_size=300)
    assert proba.shape == (1000, 5) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(proba, predict_proba(model, beats, batch_size=4096), atol=1e-6)
    assert predict_proba(model, beats[:0]).shape == (0, 5)
    with pytest.raises(InputError, match=r"\(n, 187\)"):
        predict_proba(model, beats[:, :186])
