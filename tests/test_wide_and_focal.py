"""The wide & deep inter-patient model (``kachuee-wide``) and the focal loss (``--loss``),
issue #16."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ecg_cli.main import main  # noqa: E402
from ecgnet.losses import FOCAL_GAMMA, LOSSES, ClassLoss, build_loss  # noqa: E402
from ecgnet.models import MODELS, build_model, count_parameters, input_columns  # noqa: E402
from ecgnet.train import TrainConfig, train  # noqa: E402
from ecgnet.train_config import ConfigError  # noqa: E402
from ecgseg.errors import InputError  # noqa: E402

from .net_helpers import known_rows_h5  # noqa: E402


def _inputs(model, n=8, seed=0):
    return torch.rand(n, input_columns(model), generator=torch.Generator().manual_seed(seed))


def test_the_wide_model_is_registered_with_its_parts_and_parameter_count():
    assert "kachuee-wide" in MODELS
    model = build_model("kachuee-wide", 5)
    assert count_parameters(model) == 55_563 == count_parameters(build_model("kachuee-rel", 5)) + 70
    assert input_columns(model) == input_columns(build_model("kachuee-rel", 5)) == 387
    assert tuple(model.wide.weight.shape) == (5, 13) and model.deep_drop == 0.5
    assert model(_inputs(model)).shape == (8, 5)
    assert build_model("kachuee-wide", 2)(_inputs(model)).shape == (8, 2)
    with pytest.raises(InputError, match="deep_drop"):
        build_model("kachuee-wide", 5, deep_drop=1.0)


def test_evaluation_logits_are_the_deep_plus_the_wide_path():
    model = build_model("kachuee-wide", 5).eval()
    x = _inputs(model)
    with torch.no_grad():
        wide = model.wide(model.wide_norm(x[:, 187:200]))
        model.wide.weight.zero_(), model.wide.bias.zero_()
        deep = model(x)  # the wide path silenced: kachuee-rel's computation
        rel = build_model("kachuee-rel", 5).eval()
        rel.load_state_dict({k: v for k, v in model.state_dict().items()
                             if not k.startswith("wide")})
        np.testing.assert_allclose(deep.numpy(), rel(x).numpy(), atol=1e-6)
    full = build_model("kachuee-wide", 5).eval()
    torch.manual_seed(1)
    with torch.no_grad():
        full.load_state_dict(model.state_dict())
        full.wide.weight.normal_(), full.wide.bias.normal_()
        wide = full.wide(full.wide_norm(x[:, 187:200]))
        np.testing.assert_allclose(full(x).numpy(), (deep + wide).numpy(), atol=1e-5)
        assert full(x).equal(full(x))  # no randomness in evaluation


def test_in_training_some_beats_get_the_wide_logits_alone():
    """deep_drop: with probability p a training beat's deep logits are dropped; the wide
    path then classifies it alone. p = 0 never drops."""
    model = build_model("kachuee-wide", 5, deep_drop=0.5)
    x = _inputs(model, n=400)
    torch.manual_seed(0)
    with torch.no_grad():
        model.eval()
        wide = model.wide(model.wide_norm(x[:, 187:200]))
        model.train()
        model.wide_norm.eval()  # batch statistics off, so that the wide logits compare
        out = model(x)
    alone = torch.isclose(out, wide, atol=1e-6).all(dim=1)
    assert 150 < int(alone.sum()) < 250  # about half of 400
    no_drop = build_model("kachuee-wide", 5, deep_drop=0.0)
    no_drop.load_state_dict(model.state_dict())
    no_drop.train()
    no_drop.wide_norm.eval()
    with torch.no_grad():
        assert not torch.isclose(no_drop(x), wide, atol=1e-6).all(dim=1).any()


def test_only_the_wide_path_sees_the_intervals_in_seconds():
    """The deep path is kachuee-rel's (no intervals in seconds, RR columns 0-2); the wide
    path takes all 13 rhythm and record columns."""
    model = build_model("kachuee-wide", 5).eval()
    x = _inputs(model)
    seconds = x.clone()
    seconds[:, 187:190] += 0.5
    with torch.no_grad():
        assert not torch.equal(model(seconds), model(x))
        model.wide.weight[:, :3] = 0  # the wide path's weights of the seconds
        np.testing.assert_array_equal(model(seconds).numpy(), model(x).numpy())


def test_the_wide_model_trains_a_step_and_its_norm_learns_the_columns(kaggle_dir, tmp_path):
    from ecgnet.checkpoint import load_model

    h5 = known_rows_h5(kaggle_dir, tmp_path / "b.h5", 30, ["100", "101", "102"])
    result = train(TrainConfig(data=[str(h5)], model="kachuee-wide", out=str(tmp_path),
                               name="w", batch_size=16, max_iters=3, loss="focal",
                               class_weights="balanced", ema=0.9, progress=False, threads=1))
    model, _ = load_model(result.run_dir / "best.pt")
    assert type(model).model_name == "kachuee-wide"
    # the saved (averaged) model carries the running statistics of the wide columns
    assert int(model.wide_norm.num_batches_tracked) == 3
    assert not torch.allclose(model.wide_norm.running_mean, torch.zeros(13))
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config["config"]["loss"] == "focal"


def _focal_reference(logits: np.ndarray, labels: np.ndarray, gamma: float,
                     weight=None) -> float:
    """Plain NumPy focal loss: weighted mean of -(1 - p_t)^gamma log p_t."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    lp = log_p[np.arange(len(labels)), labels]
    w = np.ones(len(labels)) if weight is None else np.asarray(weight)[labels]
    return float((w * -(1 - np.exp(lp)) ** gamma * lp).sum() / w.sum())


@pytest.mark.parametrize("weight", [None, [0.2, 1.0, 3.0]])
def test_focal_loss_matches_its_numpy_reference_and_is_cross_entropy_at_gamma_0(weight):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3)) * 3
    labels = rng.integers(0, 3, 50)
    w = None if weight is None else torch.tensor(weight, dtype=torch.float32)
    lt, yt = torch.tensor(logits, dtype=torch.float32), torch.tensor(labels)
    focal = build_loss("focal", w)
    assert focal.gamma == FOCAL_GAMMA == 2.0
    assert float(focal(lt, yt)) == pytest.approx(_focal_reference(logits, labels, 2.0, weight),
                                                 rel=1e-5)
    ce = torch.nn.functional.cross_entropy(lt, yt, weight=w)
    assert float(build_loss("cross-entropy", w)(lt, yt)) == float(ce)
    assert float(ClassLoss(w, gamma=1e-9)(lt, yt)) == pytest.approx(float(ce), rel=1e-5)
    assert float(focal(lt, yt)) < float(ce)  # confident beats weigh less
    total = len(labels) if w is None else float(w[yt].sum())
    assert float(focal.summed(lt, yt)) == pytest.approx(float(focal(lt, yt)) * total, rel=1e-5)


def test_the_loss_option_is_checked_and_named(tmp_path, capsys):
    assert LOSSES == ("cross-entropy", "focal")
    assert TrainConfig(data=["x.h5"]).loss == "cross-entropy"
    with pytest.raises(ConfigError, match="^loss must be one of: cross-entropy, focal$"):
        TrainConfig(data=["x.h5"], loss="hinge")
    with pytest.raises(InputError, match="unknown loss 'hinge'"):
        build_loss("hinge")
    with pytest.raises(SystemExit) as code:
        main(["train", str(tmp_path / "x.h5"), "--loss", "hinge", "--out", str(tmp_path)])
    assert code.value.code == 1
    assert capsys.readouterr().err == "error: --loss must be one of: cross-entropy, focal\n"
