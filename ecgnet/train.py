"""Train a heartbeat classifier: ``train(TrainConfig(...)) -> RunResult``.

The defaults are the paper's: Adam (lr 0.001, betas 0.9 / 0.999), learning rate times
0.75 every 10 000 iterations. Training is seeded and deterministic on the CPU (the
shuffling and augmentation of epoch ``e`` depend on ``(seed, e)`` only), so a run
resumed from ``last.pt`` ends exactly where an uninterrupted run would.

A run folder ``<out>/<name>/`` holds ``config.json``, ``metrics.jsonl`` (one JSON line
per epoch), ``best.pt`` (best validation macro-F1), ``last.pt`` (end of the latest
epoch), ``curves.png``, and the test-part figures ``test.json`` / ``test.png``.

With ``ema`` > 0 the run keeps an exponential moving average of the weights (Polyak
averaging); validation, test and the ``state_dict`` of both checkpoints use the averaged
weights, and ``last.pt`` also holds the raw ones (``training["raw_state_dict"]``) to resume.

Transfer learning is a configuration of the same loop: ``init_checkpoint`` starts from
another run's weights with a new classifier head for the data's classes, and
``trainable`` says which parts learn (the others are frozen: no gradient, eval mode, not
in the optimizer). See :mod:`ecgnet.transfer` and ``ecg transfer``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from torch import nn

from ecgseg.errors import InputError

from .augment import CLASS_WEIGHTS, augment_minority, class_weights, jitter
from .checkpoint import (load_backbone, load_checkpoint, make_checkpoint,
                         model_from_checkpoint, predict_proba, save_checkpoint)
from .data import BeatData, beat_hashes, load_data, model_inputs
from .evaluate import evaluate_beats, save_report, write_json
from .metrics import confusion_matrix, macro_f1
from .models import (build_model, count_parameters, freeze, frozen_parts, parse_trainable,
                     set_train_mode)
from .splits import make_split

RUN_FILES = ("config.json", "metrics.jsonl", "best.pt", "last.pt", "curves.png",
             "test.json", "test.png")
# Settings that must not change when a run is resumed.
_FIXED_ON_RESUME = ("data", "model", "classes", "split", "test_fraction", "val_fraction",
                    "seed", "batch_size", "lr", "beta1", "beta2", "lr_decay",
                    "lr_decay_every", "class_weights", "augment", "init_checkpoint", "precision",
                    "trainable", "ema", "jitter", "val_by")


@dataclass
class TrainConfig:
    """Settings of a training run (the ``ecg train`` options).

    Attributes
    ----------
    data : list of str
        CSV and/or HDF5 files of labelled beats (concatenated).
    name : str, optional
        Run folder name under ``out``; default ``<first data file stem>-<split>``.
    out : str
        Parent folder of the run folders.
    model : str
        Registered model name.
    classes : list of str, optional
        Class names (default from the data, see :func:`ecgnet.data.load_data`).
    split : {"random", "interpatient", "patient", "auto"}
        ``auto``: by patient when the data have patient ids (HDF5, at least 3
        patients), else stratified random (see :func:`ecgnet.splits.make_split`).
    test_fraction, val_fraction : float
        Shares held out for testing and, from the training side, for validation.
    val_by : {"auto", "beat", "patient"}
        How the validation part is carved (see :func:`ecgnet.splits.make_split`).
    seed : int
        Seeds the weights, the split, the shuffling and the augmentation.
    batch_size : int
        Beats per training iteration.
    lr, beta1, beta2 : float
        Adam settings.
    lr_decay, lr_decay_every : float, int
        The learning rate is multiplied by ``lr_decay`` every ``lr_decay_every`` iterations.
    epochs : int
        Most epochs to run.
    patience : int
        Stop after this many epochs without a better validation macro-F1.
    max_iters : int, optional
        Stop after this many iterations in all (quick runs, tests).
    class_weights : {"none", "balanced", "sqrt"}
        Loss weights per class, from the training part's counts.
    augment : float
        0: off. Otherwise every class smaller than ``augment`` x the largest training class
        is topped up to that size with stretched and scaled copies, redrawn every epoch.
    jitter : float
        Share of all training beats replaced, every epoch, by stretched and scaled
        versions (0: off).
    ema : float
        Decay per iteration of the moving average of the weights (0: off; e.g. 0.999
        averages over about the last 1 000 iterations). The averaged weights are the
        ones validated, tested and saved.
    device : str
        ``auto`` (GPU when present), ``cpu``, ``cuda``, ``cuda:1``...
    threads : int, optional
        CPU threads for torch (default: the cores this process may use).
    eval_batch_size : int
        Beats per forward pass for validation and test.
    resume : bool
        Continue the run in ``<out>/<name>`` from its ``last.pt``.
    overwrite : bool
        Replace an existing run of that name.
    progress : bool
        Show a progress bar per epoch.
    init_checkpoint : str, optional
        Transfer learning: start from this checkpoint's weights (same model), with a new,
        freshly initialised ``head`` for the data's classes. None: random initialisation.
    trainable : str
        Parts that learn: ``all`` (default), ``head``, ``fc`` (fc1, fc2, head: the paper's
        MI setting) or ``blocks:K`` (the last K residual blocks and fc); see
        :data:`ecgnet.models.TRAINABLE`. The rest is frozen.
    precision : {"float32", "bfloat16"}
        Arithmetic of the training forward and backward passes: ``bfloat16`` runs them
        under ``torch.autocast`` (weights, optimizer and loss stay float32); on CPUs with
        bfloat16 instructions it trains about 1.6x faster (3 700 -> 6 000 beats/s on
        2 Zen 4 cores). Validation and test always run in float32.
    """

    data: List[str]
    name: Optional[str] = None
    out: str = "runs"
    model: str = "kachuee"
    classes: Optional[List[str]] = None
    split: str = "random"
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    seed: int = 0
    batch_size: int = 128
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    lr_decay: float = 0.75
    lr_decay_every: int = 10_000
    epochs: int = 50
    patience: int = 8
    max_iters: Optional[int] = None
    class_weights: str = "none"
    augment: float = 0.0
    device: str = "auto"
    threads: Optional[int] = None
    eval_batch_size: int = 512
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    precision: str = "float32"
    init_checkpoint: Optional[str] = None
    trainable: str = "all"
    ema: float = 0.0
    jitter: float = 0.0
    val_by: str = "auto"

    def __post_init__(self):
        if isinstance(self.data, (str, os.PathLike)):
            self.data = [self.data]
        self.data = [str(p) for p in self.data]
        if self.init_checkpoint is not None:
            self.init_checkpoint = str(self.init_checkpoint)
        kind, k = parse_trainable(self.trainable)
        self.trainable = kind if kind != "blocks" else f"blocks:{k}"
        checks = [(self.batch_size >= 1, "--batch-size must be at least 1"),
                  (self.epochs >= 1, "--epochs must be at least 1"),
                  (self.patience >= 1, "--patience must be at least 1"),
                  (0 < self.test_fraction < 1, "--test-fraction must be between 0 and 1"),
                  (0 < self.val_fraction < 1, "--val-fraction must be between 0 and 1"),
                  (self.lr > 0, "--lr must be positive"),
                  (self.lr_decay_every >= 1, "--lr-decay-every must be at least 1"),
                  (self.augment >= 0, "--augment must be 0 (off) or positive"),
                  (0 <= self.jitter <= 1, "--jitter must be between 0 (off) and 1"),
                  (0 <= self.ema < 1, "--ema must be 0 (off) or between 0 and 1, e.g. 0.999"),
                  (self.class_weights in CLASS_WEIGHTS,
                   f"--class-weights must be one of: {', '.join(CLASS_WEIGHTS)}"),
                  (self.max_iters is None or self.max_iters >= 1, "--max-iters must be at least 1")]
        for ok, message in checks:
            if not ok:
                raise InputError(message)

    @property
    def run_dir(self) -> Path:
        """``<out>/<name>``."""
        name = self.name or f"{Path(self.data[0]).stem}-{self.split}"
        return Path(self.out) / name


@dataclass
class RunResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    run_dir : Path
    best_epoch : int
        Epoch of ``best.pt`` (1-based).
    best_val_macro_f1 : float
    epochs_run : int
        Epochs finished (in all, over resumptions).
    iterations : int
    stopped_early : bool
        Stopped by ``patience``.
    test : dict
        Report of ``best.pt`` on the test part (see :func:`ecgnet.metrics.classification_report`).
    history : list of dict
        The lines of ``metrics.jsonl``.
    train_beats_per_s : float
        Training throughput over all epochs of this call (beats / s, excluding validation).
    split : str
        What split was used (kind, why for ``auto``, beats per part).
    trainable_parameters : int
        Weights that learnt (all of them unless ``trainable`` froze some).
    """

    run_dir: Path
    best_epoch: int
    best_val_macro_f1: float
    epochs_run: int
    iterations: int
    stopped_early: bool
    test: dict
    history: list = field(default_factory=list)
    train_beats_per_s: float = 0.0
    split: str = ""
    trainable_parameters: int = 0


def setup_device(device: str = "auto", threads: int | None = None) -> torch.device:
    """Pick the device (``auto``: CUDA when available) and, on CPU, the torch threads.

    Parameters
    ----------
    device : str
        ``auto``, ``cpu``, ``cuda``, ``cuda:N``.
    threads : int, optional
        CPU threads; default the cores this process may run on.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InputError(f"unknown device {device!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA GPU is available here")
    if dev.type == "cpu":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        torch.set_num_threads(max(1, threads or cores or 1))
    return dev


def _prepare_run_dir(config: TrainConfig) -> Path:
    run_dir = config.run_dir
    if config.resume:
        if not (run_dir / "last.pt").is_file():
            raise InputError(f"--resume: {run_dir / 'last.pt'} does not exist (nothing to resume)")
        return run_dir
    if run_dir.exists() and any((run_dir / f).exists() for f in RUN_FILES):
        if not config.overwrite:
            raise InputError(f"run folder {run_dir} already holds a run; use --resume to continue "
                             f"it, --overwrite to replace it, or --name for another one")
        for f in RUN_FILES:
            (run_dir / f).unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _check_resume(ckpt: dict, config: TrainConfig, data: BeatData, path: Path) -> None:
    model_from_checkpoint(ckpt, path, expect_model=config.model)
    old = ckpt.get("config", {})
    changed = [k for k in _FIXED_ON_RESUME if k in old and old[k] != asdict(config)[k]]
    if changed:
        raise InputError(f"--resume: {', '.join(changed)} differ from the run in {path.parent} "
                         f"(was {', '.join(f'{k}={old[k]!r}' for k in changed)})")
    if ckpt["training"].get("data_fingerprint") != data.fingerprint():
        raise InputError(f"--resume: the data differ from those run {path.parent} was trained on")


def _validate(model: nn.Module, data: BeatData, batch_size: int) -> dict:
    proba = predict_proba(model, model_inputs(model, data.beats, data.rhythm), batch_size)
    p_true = proba[np.arange(len(proba)), data.labels]
    cm = confusion_matrix(data.labels, proba.argmax(axis=1), data.n_classes)
    return {"val_loss": float(-np.log(np.maximum(p_true, 1e-12)).mean()),
            "val_accuracy": float(np.trace(cm) / max(1, cm.sum())),
            "val_macro_f1": macro_f1(cm)}


def train(config: TrainConfig) -> RunResult:
    """Train a model, keep the best one on validation macro-F1, and test it.

    Parameters
    ----------
    config : TrainConfig

    Returns
    -------
    RunResult

    Raises
    ------
    InputError
        Bad data, bad settings, an existing run folder (without ``resume`` or
        ``overwrite``), or a resume that does not match the run.
    """
    if config.precision not in ("float32", "bfloat16"):
        raise InputError(f"unknown precision {config.precision!r}; choose float32 or bfloat16")
    device = setup_device(config.device, config.threads)
    data = load_data(config.data, class_names=config.classes)
    split = make_split(data, config.split, config.test_fraction, config.val_fraction, config.seed,
                       config.val_by)
    train_set, val_set = data.subset(split.train), data.subset(split.val)
    if len(train_set) == 0 or len(val_set) == 0 or len(split.test) == 0:
        raise InputError(f"{split.describe()}: too few beats to train, validate and test")
    # Everything that can fail is checked before the run folder is touched.
    ckpt, source_info, model_kwargs = None, None, {}
    if config.resume:  # the weights come from last.pt: the source checkpoint is not needed
        run_dir = _prepare_run_dir(config)
        ckpt = load_checkpoint(run_dir / "last.pt")
        _check_resume(ckpt, config, data, run_dir / "last.pt")
        model_kwargs = dict(ckpt.get("model_kwargs", {}))
        source_info = ckpt["training"].get("source")
    elif config.init_checkpoint is not None:
        source = load_checkpoint(config.init_checkpoint)
        if source["model"] != config.model:
            raise InputError(f"{config.init_checkpoint}: checkpoint of model "
                             f"{source['model']!r}, not {config.model!r}")
        model_kwargs = dict(source.get("model_kwargs", {}))
        source_info = _source_info(source, config.init_checkpoint)
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.n_classes, **model_kwargs)
    if ckpt is None and config.init_checkpoint is not None:  # all weights but the head
        load_backbone(model, source, config.init_checkpoint)
    frozen = frozen_parts(model, config.trainable)
    freeze(model, frozen)
    model.to(device)
    train_inputs = model_inputs(model, train_set.beats, train_set.rhythm, ", ".join(data.sources))
    if not config.resume:
        run_dir = _prepare_run_dir(config)
    averaged = None
    if config.ema > 0:  # the weights validated, tested and saved
        averaged = build_model(config.model, data.n_classes, **model_kwargs).to(device)
        averaged.load_state_dict(model.state_dict())
        averaged.eval().requires_grad_(False)
    evaluated = averaged if averaged is not None else model
    learning = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(learning, lr=config.lr, betas=(config.beta1, config.beta2))
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.lr_decay_every, config.lr_decay)
    weights = class_weights(train_set.labels, data.n_classes, config.class_weights)
    use_bf16 = config.precision == "bfloat16"
    loss_fn = nn.CrossEntropyLoss(
        weight=None if weights is None else torch.from_numpy(weights).to(device))

    fingerprint = data.fingerprint()
    train_hashes = torch.from_numpy(np.unique(beat_hashes(
        np.concatenate([train_set.beats, val_set.beats]))))
    state = {"epoch": 0, "iteration": 0, "best_score": -1.0, "best_epoch": 0,
             "bad_epochs": 0, "history": []}
    if ckpt is not None:
        model.load_state_dict(ckpt["training"].get("raw_state_dict", ckpt["state_dict"]))
        if averaged is not None:
            averaged.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["training"]["optimizer"])
        scheduler.load_state_dict(ckpt["training"]["scheduler"])
        torch.set_rng_state(ckpt["training"]["torch_rng"])
        state.update({k: ckpt["training"][k] for k in state})
    n_params = count_parameters(model)
    n_learning = sum(p.numel() for p in learning)
    info = {"config": asdict(config), "run_dir": str(run_dir), "device": str(device),
            "threads": torch.get_num_threads(), "split": split.describe(),
            "class_names": list(data.class_names),
            "train_counts": train_set.counts().tolist(), "val_counts": val_set.counts().tolist(),
            "test_counts": np.bincount(data.labels[split.test], minlength=data.n_classes).tolist(),
            "class_weights": None if weights is None else weights.tolist(),
            "parameters": n_params, "trainable_parameters": n_learning,
            "frozen_parts": frozen, "init_checkpoint": source_info,
            "data_fingerprint": fingerprint, "data_sources": data.source_info,
            "torch": torch.__version__, "python": platform.python_version()}
    write_json(run_dir / "config.json", info)
    with open(run_dir / "metrics.jsonl", "w") as f:  # the epochs up to the checkpoint
        f.writelines(json.dumps(h) + "\n" for h in state["history"])

    x_train = torch.from_numpy(train_inputs).unsqueeze(1)
    y_train = torch.from_numpy(train_set.labels)
    max_iters = config.max_iters or float("inf")
    beats_done, train_seconds = 0, 0.0
    stopped_early = state["bad_epochs"] >= config.patience

    def checkpoint_dict() -> dict:
        training = {k: state[k] for k in state}
        training.update(optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                        torch_rng=torch.get_rng_state(), data_fingerprint=fingerprint,
                        train_hashes=train_hashes, source=source_info,
                        data_sources=data.source_info)
        if averaged is not None:
            training["raw_state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return make_checkpoint(evaluated, config.model, data.class_names, asdict(config), training,
                               model_kwargs)

    while (state["epoch"] < config.epochs and state["iteration"] < max_iters
           and not stopped_early):
        epoch = state["epoch"] + 1
        rng = np.random.default_rng([config.seed, epoch])
        x_epoch, y_epoch = x_train, y_train
        if config.jitter > 0:
            x_epoch = torch.from_numpy(jitter(train_inputs, config.jitter, rng)).unsqueeze(1)
        if config.augment > 0:
            extra_x, extra_y = augment_minority(train_inputs, train_set.labels,
                                                config.augment, rng)
            x_epoch = torch.cat([x_epoch, torch.from_numpy(extra_x).unsqueeze(1)])
            y_epoch = torch.cat([y_train, torch.from_numpy(extra_y)])
        order = torch.from_numpy(rng.permutation(len(y_epoch)))
        batches = range(0, len(order), config.batch_size)
        bar = _progress(batches, config.progress, f"epoch {epoch}/{config.epochs}")
        set_train_mode(model, frozen)
        loss_sum, seen = 0.0, 0
        started = time.perf_counter()
        for start in bar:
            if state["iteration"] >= max_iters:
                break
            idx = order[start:start + config.batch_size]
            xb, yb = x_epoch[idx].to(device), y_epoch[idx].to(device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(xb)
            loss = loss_fn(logits.float(), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            state["iteration"] += 1
            if averaged is not None:
                update_average(averaged, model, config.ema, state["iteration"])
            loss_value = loss.item()
            loss_sum += loss_value * len(idx)
            seen += len(idx)
            if bar is not batches and state["iteration"] % 20 == 0:
                bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
        elapsed = time.perf_counter() - started
        beats_done += seen
        train_seconds += elapsed
        val = _validate(evaluated, val_set, config.eval_batch_size)
        record = {"epoch": epoch, "iteration": state["iteration"],
                  "lr": optimizer.param_groups[0]["lr"],
                  "train_loss": loss_sum / max(1, seen), **val,
                  "train_beats": seen, "train_beats_per_s": seen / max(elapsed, 1e-9),
                  "seconds": elapsed}
        if bar is not batches:
            bar.set_postfix(loss=f"{record['train_loss']:.4f}", val_f1=f"{val['val_macro_f1']:.4f}",
                            val_acc=f"{val['val_accuracy']:.4f}")
            bar.close()
        state["epoch"] = epoch
        state["history"].append(record)
        if val["val_macro_f1"] > state["best_score"]:
            state.update(best_score=val["val_macro_f1"], best_epoch=epoch, bad_epochs=0)
            save_checkpoint(checkpoint_dict(), run_dir / "best.pt")
        else:
            state["bad_epochs"] += 1
        stopped_early = state["bad_epochs"] >= config.patience
        save_checkpoint(checkpoint_dict(), run_dir / "last.pt")
        with open(run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    from .plots import plot_learning_curves

    if state["history"]:
        plot_learning_curves(state["history"], run_dir / "curves.png")
    best = load_checkpoint(run_dir / "best.pt")
    model.load_state_dict(best["state_dict"])
    test_set = data.subset(split.test)
    report = evaluate_beats(model, model_inputs(model, test_set.beats, test_set.rhythm),
                            test_set.labels, data.class_names,
                            config.eval_batch_size)
    report.update(part=f"test part of the run's {split.kind} split",
                  excluded_training_beats=0, checkpoint=str(run_dir / "best.pt"),
                  data=list(data.sources), best_epoch=state["best_epoch"])
    save_report(report, run_dir / "test", title=f"best.pt (epoch {state['best_epoch']}), "
                                                 f"{split.kind} split, test part")
    return RunResult(run_dir=run_dir, best_epoch=state["best_epoch"],
                     best_val_macro_f1=state["best_score"], epochs_run=state["epoch"],
                     iterations=state["iteration"], stopped_early=stopped_early, test=report,
                     history=list(state["history"]),
                     train_beats_per_s=beats_done / train_seconds if train_seconds else 0.0,
                     split=split.describe(), trainable_parameters=n_learning)


@torch.no_grad()
def update_average(averaged: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """One step of the exponential moving average of ``model``'s weights, in place.

    ``averaged = d * averaged + (1 - d) * model`` with ``d = min(decay, (1 + step) /
    (10 + step))``: the warm-up keeps the first iterations from being averaged with the
    random initial weights. Buffers are copied.

    Parameters
    ----------
    averaged, model : nn.Module
        Same architecture.
    decay : float
        In (0, 1).
    step : int
        Iterations done (1 after the first).
    """
    d = min(decay, (1 + step) / (10 + step))
    for a, p in zip(averaged.parameters(), model.parameters()):
        a.lerp_(p.detach(), 1 - d)
    for a, b in zip(averaged.buffers(), model.buffers()):
        a.copy_(b)


def _source_info(source: dict, path: str) -> dict:
    """Where the initial weights came from (``config.json``, checkpoints)."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    src_config = source.get("config", {})
    return {"path": str(path), "sha256": digest, "model": source["model"],
            "class_names": list(source["class_names"]), "data": src_config.get("data"),
            "split": src_config.get("split"),
            "iterations": source.get("training", {}).get("iteration"),
            "best_val_macro_f1": source.get("training", {}).get("best_score")}


def _progress(batches: range, enabled: bool, desc: str):
    if not enabled:
        return batches
    from tqdm.auto import tqdm

    return tqdm(batches, desc=desc, unit="batch", leave=True, dynamic_ncols=True)
