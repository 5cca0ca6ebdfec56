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

import contextlib
import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Optional, Tuple

import numpy as np
import torch
from torch import nn

from ecgseg.atomic import (atomic_path, output_lock, remove_orphaned_temporaries,
                           remove_stale_locks)
from ecgseg.errors import InputError
from ecgseg.oserrors import writing

from .augment import (augment_minority, class_weights, jitter, sampling_weights,
                      shift_cut)
from .callbacks import EPOCH_METRICS, CallbackList, StopTraining, TrainCallback
from .checkpoint import (load_backbone, load_checkpoint, make_checkpoint,
                         model_from_checkpoint, save_checkpoint)
from .data import BeatData, beat_hashes, data_inputs, load_data
from .device import setup_device
from .distributed import (SINGLE, Ranks, all_reduce_sum, broadcast_object, current_ranks,
                          environment_world_size, init_process_group, launch, rank_device,
                          rank_threads, shard, wrap_model)
from .evaluate import evaluate_beats, save_report
from .inference import PRECISIONS, predict_proba
from .jsonfile import write_json
from .losses import ClassLoss, build_loss
from .metrics import confusion_matrix, macro_f1, precision_recall_f1
from .models import (build_model, count_parameters, freeze, frozen_parts, lead_offsets,
                     set_train_mode)
from .schedules import build_scheduler, total_iterations
from .splits import make_split
from .train_config import (ConfigError, TrainConfig, check_global_batch,  # noqa: F401
                           flag_of)

RUN_FILES = ("config.json", "metrics.jsonl", "best.pt", "last.pt", "curves.png",
             "test.json", "test.png")
# Settings that must not change when a run is resumed.
_FIXED_ON_RESUME = ("data", "model", "classes", "split", "test_fraction", "val_fraction",
                    "seed", "batch_size", "lr", "beta1", "beta2", "lr_decay",
                    "lr_decay_every", "lr_schedule", "class_weights", "sampler", "augment",
                    "init_checkpoint", "precision", "trainable", "ema", "jitter", "shift",
                    "shift_min", "shift_max", "val_by", "second_lead")


@dataclass
class RunResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    run_dir : Path
    best_epoch : int
        Epoch of ``best.pt`` (1-based).
    best_val_macro_f1 : float
        Validation score of ``best.pt``: macro-F1, or the mean F1 of ``select_classes``
        when set.
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
    best_checkpoint : Path or None
        ``run_dir / "best.pt"``.
    stopped_by : str
        Why a callback ended the run (:class:`~ecgnet.callbacks.StopTraining`), '' if none.
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
    best_checkpoint: Optional[Path] = None
    stopped_by: str = ""


@dataclass(frozen=True)
class TrainState:
    """Where a run stands after an epoch (stored in checkpoints as ``training[...]``)."""

    epoch: int = 0
    iteration: int = 0
    best_score: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    history: Tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        """The checkpoint's ``training`` entries (``history`` as a list)."""
        return {"epoch": self.epoch, "iteration": self.iteration,
                "best_score": self.best_score, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "history": list(self.history)}

    @classmethod
    def from_checkpoint(cls, training: dict) -> "TrainState":
        """The state stored in a checkpoint's ``training`` dict."""
        return cls(epoch=training["epoch"], iteration=training["iteration"],
                   best_score=training["best_score"], best_epoch=training["best_epoch"],
                   bad_epochs=training["bad_epochs"], history=tuple(training["history"]))


@dataclass
class Run:
    """Everything :func:`prepare` builds for a run: data, split, model(s), optimiser."""

    config: TrainConfig
    device: torch.device
    data: BeatData
    split: Any
    train_set: BeatData
    val_set: BeatData
    train_inputs: np.ndarray
    model: nn.Module
    averaged: Optional[nn.Module]
    frozen: list
    optimizer: torch.optim.Optimizer
    scheduler: Any
    loss_fn: ClassLoss
    class_weights: Optional[np.ndarray]
    model_kwargs: dict
    source_info: Optional[dict]
    run_dir: Path
    fingerprint: str
    train_hashes: torch.Tensor
    resume_from: Optional[dict] = None
    ranks: Ranks = SINGLE
    trained: Optional[nn.Module] = None

    @property
    def stepped(self) -> nn.Module:
        """The module the training steps call: ``model``, or its DDP wrapper (``trained``)."""
        return self.trained if self.trained is not None else self.model

    @property
    def evaluated(self) -> nn.Module:
        """The weights validated, tested and saved (the moving average with ``ema``)."""
        return self.averaged if self.averaged is not None else self.model

    @property
    def trainable_parameters(self) -> int:
        """Weights that learn."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class EpochStats:
    """What one pass over the training beats measured."""

    iteration: int
    loss_sum: float
    correct: int
    seen: int
    seconds: float


def _started_only(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run stopped before its first epoch ended (no ``last.pt``).

    ``best.pt`` alone is such a run too: each epoch writes ``best.pt`` before ``last.pt``.
    """
    return run_dir.is_dir() and not (run_dir / "last.pt").exists()


def _prepare_run_dir(config: TrainConfig, held: contextlib.ExitStack | None = None) -> Path:
    """Make the run folder; refuse an existing run unless resumed or overwritten.

    With ``held``, the run folder's writer lock (:func:`ecgseg.atomic.output_lock`) is
    taken first and kept in ``held``: a second process training the same run fails at
    once (:class:`~ecgseg.atomic.OutputBusyError`) instead of clearing or mixing its files.

    A run stopped before its first epoch ended (a run folder without ``last.pt``) has
    nothing to keep: a new run, or a resume, starts it again from the beginning. The
    temporary and lock files that a killed run of the folder left are removed.
    """
    run_dir = config.run_dir
    if held is not None:
        held.enter_context(output_lock(run_dir))
    if run_dir.is_dir():  # what a killed run of this folder left (its temporaries, locks)
        remove_orphaned_temporaries(run_dir)
        remove_stale_locks(run_dir)
    if config.resume:
        if not (run_dir / "last.pt").is_file():
            raise InputError(f"resume: {run_dir / 'last.pt'} does not exist (nothing to resume)")
        return run_dir
    if run_dir.exists() and any((run_dir / f).exists() for f in RUN_FILES):
        if not config.overwrite and not _started_only(run_dir):
            raise InputError(f"run folder {run_dir} already holds a run; use resume to continue "
                             f"it, overwrite to replace it, or another name")
        for f in RUN_FILES:
            with writing(run_dir / f):
                (run_dir / f).unlink(missing_ok=True)
    with writing(run_dir):
        run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _check_resume(ckpt: dict, config: TrainConfig, data: BeatData, path: Path) -> None:
    model_from_checkpoint(ckpt, path, expect_model=config.model)
    old = ckpt.get("config", {})
    changed = [k for k in _FIXED_ON_RESUME if k in old and old[k] != asdict(config)[k]]
    if changed:
        raise InputError(f"resume: {', '.join(changed)} differ from the run in {path.parent} "
                         f"(was {', '.join(f'{k}={old[k]!r}' for k in changed)})")
    if ckpt["training"].get("data_fingerprint") != data.fingerprint():
        raise InputError(f"resume: the data differ from those run {path.parent} was trained on")


def prepare(config: TrainConfig, held: contextlib.ExitStack | None = None) -> Run:
    """Load and split the data, build the model and optimiser, make the run folder.

    Everything that can fail is checked before the run folder is touched. With
    ``config.resume`` the run's ``last.pt`` is read and checked (``Run.resume_from``);
    :func:`restore` loads it. With ``held`` (an ``ExitStack`` open for the whole run),
    the run folder's writer lock is taken before the folder is touched and kept there.

    Raises
    ------
    InputError
        Bad data or settings, an existing run folder (without ``resume`` or
        ``overwrite``), a resume that does not match the run.
    """
    if config.precision not in PRECISIONS:
        raise InputError(f"unknown precision {config.precision!r}; choose float32 or bfloat16")
    ranks = current_ranks()
    device = rank_device(setup_device(config.device, rank_threads(config.threads, ranks)), ranks)
    data = load_data(config.data, class_names=config.classes, second_lead=config.second_lead)
    split = make_split(data, config.split, config.test_fraction, config.val_fraction, config.seed,
                       config.val_by)
    selected_classes(config, data.class_names)  # a wrong name fails before any training
    train_set, val_set = data.subset(split.train), data.subset(split.val)
    if len(train_set) == 0 or len(val_set) == 0 or len(split.test) == 0:
        raise InputError(f"{split.describe()}: too few beats to train, validate and test")
    ckpt, source, source_info, model_kwargs = None, None, None, {}
    if config.resume and _started_only(config.run_dir):
        config = replace(config, resume=False)  # stopped before its first epoch: start again
    if config.resume:  # the weights come from last.pt: the source checkpoint is not needed
        run_dir = _prepare_run_dir(config, held if ranks.is_main else None)
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
    if source is not None:  # all weights but the head
        load_backbone(model, source, config.init_checkpoint)
    frozen = frozen_parts(model, config.trainable)
    freeze(model, frozen)
    model.to(device)
    train_inputs = data_inputs(model, train_set, ", ".join(data.sources))
    if not config.resume:  # rank 0 alone writes the run folder
        run_dir = _prepare_run_dir(config, held) if ranks.is_main else config.run_dir
    averaged = None
    if config.ema > 0:  # the weights validated, tested and saved
        averaged = build_model(config.model, data.n_classes, **model_kwargs).to(device)
        averaged.load_state_dict(model.state_dict())
        averaged.eval().requires_grad_(False)
    learning = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(learning, lr=config.lr, betas=(config.beta1, config.beta2),
                                 weight_decay=config.weight_decay)
    total = total_iterations(config.epochs, len(train_set), config.batch_size, config.max_iters)
    scheduler = build_scheduler(config.lr_schedule, optimizer, lr=config.lr, total=total,
                                lr_decay=config.lr_decay, lr_decay_every=config.lr_decay_every)
    weights = class_weights(train_set.labels, data.n_classes, config.class_weights)
    sampling_weights(train_set.labels, train_set.records, config.sampler)  # fails early
    loss_fn = build_loss(config.loss,
                         None if weights is None else torch.from_numpy(weights).to(device))
    train_hashes = torch.from_numpy(np.unique(beat_hashes(
        np.concatenate([train_set.beats, val_set.beats]))))
    return Run(config=config, device=device, data=data, split=split, train_set=train_set,
               val_set=val_set, train_inputs=train_inputs, model=model, averaged=averaged,
               frozen=frozen, optimizer=optimizer, scheduler=scheduler, loss_fn=loss_fn,
               class_weights=weights, model_kwargs=model_kwargs, source_info=source_info,
               run_dir=run_dir, fingerprint=data.fingerprint(), train_hashes=train_hashes,
               resume_from=ckpt, ranks=ranks)


def restore(run: Run) -> TrainState:
    """Load ``last.pt`` of a resumed run into its model(s), optimiser, scheduler and the
    torch RNG; the state it ended in (a fresh state for a new run)."""
    ckpt = run.resume_from
    if ckpt is None:
        return TrainState()
    training = ckpt["training"]
    run.model.load_state_dict(training.get("raw_state_dict", ckpt["state_dict"]))
    if run.averaged is not None:
        run.averaged.load_state_dict(ckpt["state_dict"])
    run.optimizer.load_state_dict(training["optimizer"])
    run.scheduler.load_state_dict(training["scheduler"])
    torch.set_rng_state(training["torch_rng"])
    return TrainState.from_checkpoint(training)


def write_run_start(run: Run, state: TrainState) -> dict:
    """Write ``config.json`` and ``metrics.jsonl`` (the epochs done so far); the info written."""
    config, data, split = run.config, run.data, run.split
    info = {"config": asdict(config), "run_dir": str(run.run_dir), "device": str(run.device),
            "threads": torch.get_num_threads(), "split": split.describe(),
            "class_names": list(data.class_names),
            "train_counts": run.train_set.counts().tolist(),
            "val_counts": run.val_set.counts().tolist(),
            "test_counts": np.bincount(data.labels[split.test], minlength=data.n_classes).tolist(),
            "class_weights": None if run.class_weights is None else run.class_weights.tolist(),
            "parameters": count_parameters(run.model),
            "trainable_parameters": run.trainable_parameters,
            "frozen_parts": run.frozen, "init_checkpoint": run.source_info,
            "data_fingerprint": run.fingerprint, "data_sources": data.source_info,
            "processes": run.ranks.world_size, "torch": torch.__version__, "python": platform.python_version()}
    write_json(run.run_dir / "config.json", info)
    metrics = run.run_dir / "metrics.jsonl"
    with writing(metrics), atomic_path(metrics) as tmp:  # the epochs up to the checkpoint
        tmp.write_text("".join(json.dumps(h) + "\n" for h in state.history))
    return info


def train_epoch(run: Run, iteration: int, beats: Tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                batches: Iterable[int]) -> EpochStats:
    """One pass over an epoch's training beats; stops at ``max_iters`` iterations in all.

    Parameters
    ----------
    run : Run
    iteration : int
        Iterations done before this epoch.
    beats : (x, y, order)
        From :func:`epoch_beats`.
    batches : iterable of int
        Batch start indices ``range(0, len(order), batch_size)``, possibly wrapped in a
        progress bar.

    With several processes (``run.ranks``) each takes its shard of every global batch
    (:func:`ecgnet.distributed.shard`) and the returned sums and counts are those of all
    ranks (all-reduced).
    """
    config, model, ranks = run.config, run.model, run.ranks
    x_epoch, y_epoch, order = beats
    max_iters = config.max_iters or float("inf")
    use_bf16 = config.precision == "bfloat16"
    set_train_mode(model, run.frozen)
    loss_sum, correct, seen = 0.0, 0, 0
    started = time.perf_counter()
    for start in batches:
        if iteration >= max_iters:
            break
        idx = order[start:start + config.batch_size]
        mine = shard(idx, ranks)
        xb, yb = x_epoch[mine].to(run.device), y_epoch[mine].to(run.device)
        run.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = run.stepped(xb)
        if ranks.active:
            loss = _shard_loss(run, logits.float(), yb, y_epoch[idx].to(run.device))
        else:
            loss = run.loss_fn(logits.float(), yb)
        loss.backward()
        run.optimizer.step()
        run.scheduler.step()
        iteration += 1
        if run.averaged is not None:
            update_average(run.averaged, model, config.ema, iteration)
        loss_value = loss.item()
        if ranks.active:  # this rank's part of the global batch's mean loss
            loss_sum += loss_value / ranks.world_size * len(idx)
        else:
            loss_sum += loss_value * len(idx)
        correct += int((logits.detach().argmax(dim=1) == yb).sum())
        seen += len(mine)
        if hasattr(batches, "set_postfix") and iteration % 20 == 0:
            batches.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
    if ranks.active:
        loss_sum, n_correct, n_seen = all_reduce_sum([loss_sum, correct, seen], ranks)
        correct, seen = int(round(n_correct)), int(round(n_seen))
    return EpochStats(iteration=iteration, loss_sum=loss_sum, correct=correct, seen=seen,
                      seconds=time.perf_counter() - started)


def _shard_loss(run: Run, logits: torch.Tensor, labels: torch.Tensor,
                batch_labels: torch.Tensor) -> torch.Tensor:
    """A rank's loss: its beats' share of the global batch's (class-weighted) mean loss,
    times the number of ranks, so that DDP's mean of the ranks' gradients is the gradient
    of the single-process loss.

    Parameters
    ----------
    logits : torch.Tensor
        ``(m, k)`` float32, this rank's beats.
    labels : torch.Tensor
        ``(m,)`` int64, this rank's beats.
    batch_labels : torch.Tensor
        ``(b,)`` int64, the whole global batch (every rank has them).
    """
    weight = run.loss_fn.weight
    total = float(len(batch_labels)) if weight is None else weight[batch_labels].sum()
    summed = run.loss_fn.summed(logits, labels)
    return summed * run.ranks.world_size / total


def epoch_beats(run: Run, epoch: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The training beats of an epoch, and their order.

    One generator seeded with ``(seed, epoch)`` draws, in turn, the beats cut elsewhere
    (``shift``, by ``shift_min .. shift_max`` samples), the jittered beats (``jitter``), the minority top-up (``augment``) and
    the shuffle, or, with a ``sampler`` other than ``shuffle``, as many beats drawn with
    replacement (:func:`ecgnet.augment.sampling_weights`). A setting at 0 draws nothing,
    so runs without ``shift`` are unchanged.

    Returns
    -------
    x : torch.Tensor
        ``(m, 1, L)`` float32 inputs.
    y : torch.Tensor
        ``(m,)`` int64 labels.
    order : torch.Tensor
        ``(m,)`` int64 permutation of ``0 .. m-1``.
    """
    config, inputs, labels = run.config, run.train_inputs, run.train_set.labels
    rng = np.random.default_rng([config.seed, epoch])
    y_train = torch.from_numpy(labels)
    x_epoch, y_epoch = torch.from_numpy(inputs).unsqueeze(1), y_train
    if config.jitter > 0 or config.shift > 0:
        cut = shift_cut(inputs, config.shift, rng, (config.shift_min, config.shift_max))
        moved = jitter(cut, config.jitter, rng, lead_offsets(run.model))
        x_epoch = torch.from_numpy(moved).unsqueeze(1)
    if config.augment > 0:
        extra_x, extra_y = augment_minority(inputs, labels, config.augment, rng,
                                            offsets=lead_offsets(run.model))
        x_epoch = torch.cat([x_epoch, torch.from_numpy(extra_x).unsqueeze(1)])
        y_epoch = torch.cat([y_train, torch.from_numpy(extra_y)])
    draw = sampling_weights(labels, run.train_set.records, config.sampler)
    if draw is None:
        order = torch.from_numpy(rng.permutation(len(y_epoch)))
    else:
        order = torch.from_numpy(rng.choice(len(labels), size=len(labels), p=draw))
    return x_epoch, y_epoch, order


def validate(model: nn.Module, data: BeatData, batch_size: int,
             select_classes: Tuple[str, ...] = ()) -> dict:
    """Loss, accuracy, macro-F1 and per-class F1 of ``model`` on validation beats.

    Parameters
    ----------
    select_classes : tuple of str
        Names of the classes whose mean F1 is ``val_select_f1`` (none: no such entry).

    Returns
    -------
    dict
        ``val_loss`` (mean cross-entropy, nats), ``val_accuracy``, ``val_macro_f1``
        (floats), ``val_f1`` ({class name: F1}) and, with ``select_classes``,
        ``val_select_f1`` (the mean F1 of those classes, each counted even when
        validation holds none of it).
    """
    proba = predict_proba(model, data_inputs(model, data), batch_size)
    p_true = proba[np.arange(len(proba)), data.labels]
    cm = confusion_matrix(data.labels, proba.argmax(axis=1), data.n_classes)
    f1 = precision_recall_f1(cm)["f1"]
    out = {"val_loss": float(-np.log(np.maximum(p_true, 1e-12)).mean()),
           "val_accuracy": float(np.trace(cm) / max(1, cm.sum())),
           "val_macro_f1": macro_f1(cm),
           "val_f1": {name: float(v) for name, v in zip(data.class_names, f1)}}
    if select_classes:
        out["val_select_f1"] = float(np.mean([out["val_f1"][c] for c in select_classes]))
    return out


def selected_classes(config: TrainConfig, class_names: Tuple[str, ...]) -> Tuple[str, ...]:
    """The class names of ``config.select_classes`` (empty: none), checked against the data.

    Raises
    ------
    ConfigError
        A name that is not one of ``class_names``.
    """
    names = tuple(c.strip() for c in config.select_classes.split(",") if c.strip())
    unknown = [c for c in names if c not in class_names]
    if unknown:
        raise ConfigError("select_classes", f"names {', '.join(unknown)}, not classes of the "
                                            f"data ({' '.join(class_names)})")
    return names



def checkpoint_dict(run: Run, state: TrainState) -> dict:
    """The checkpoint of the run as it stands (see :mod:`ecgnet.checkpoint`)."""
    training = state.as_dict()
    training.update(optimizer=run.optimizer.state_dict(), scheduler=run.scheduler.state_dict(),
                    torch_rng=torch.get_rng_state(), data_fingerprint=run.fingerprint,
                    train_hashes=run.train_hashes, source=run.source_info,
                    data_sources=run.data.source_info)
    if run.averaged is not None:
        training["raw_state_dict"] = {k: v.detach().cpu()
                                      for k, v in run.model.state_dict().items()}
    return make_checkpoint(run.evaluated, run.config.model, run.data.class_names,
                           asdict(run.config), training, run.model_kwargs)


def end_epoch(run: Run, state: TrainState, record: dict) -> TrainState:
    """Keep score of an epoch: ``best.pt`` when validation macro-F1 (or the mean F1 of
    ``select_classes``, ``val_select_f1``) improved, ``last.pt``
    and a line of ``metrics.jsonl`` always; the new state."""
    epoch, score = record["epoch"], record.get("val_select_f1", record["val_macro_f1"])
    improved = score > state.best_score
    state = replace(state, epoch=epoch, iteration=record["iteration"],
                    history=state.history + (record,),
                    best_score=score if improved else state.best_score,
                    best_epoch=epoch if improved else state.best_epoch,
                    bad_epochs=0 if improved else state.bad_epochs + 1)
    if improved:
        save_checkpoint(checkpoint_dict(run, state), run.run_dir / "best.pt")
    save_checkpoint(checkpoint_dict(run, state), run.run_dir / "last.pt")
    with writing(run.run_dir / "metrics.jsonl"), open(run.run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    return state


def finish(run: Run, state: TrainState, stopped_early: bool, train_beats_per_s: float,
           stopped_by: str = "") -> RunResult:
    """Plot the learning curves, test ``best.pt`` on the test part, write ``test.json``/``.png``."""
    from .plots import plot_learning_curves

    config, data, split = run.config, run.data, run.split
    if state.history:
        plot_learning_curves(list(state.history), run.run_dir / "curves.png")
    best_path = run.run_dir / "best.pt"
    best = load_checkpoint(best_path)
    model = run.model
    model.load_state_dict(best["state_dict"])
    test_set = data.subset(split.test)
    report = evaluate_beats(model, data_inputs(model, test_set),
                            test_set.labels, data.class_names, config.eval_batch_size)
    report.update(part=f"test part of the run's {split.kind} split",
                  excluded_training_beats=0, checkpoint=str(best_path),
                  data=list(data.sources), best_epoch=state.best_epoch)
    save_report(report, run.run_dir / "test", title=f"best.pt (epoch {state.best_epoch}), "
                                                    f"{split.kind} split, test part")
    return RunResult(run_dir=run.run_dir, best_epoch=state.best_epoch,
                     best_val_macro_f1=state.best_score, epochs_run=state.epoch,
                     iterations=state.iteration, stopped_early=stopped_early, test=report,
                     history=list(state.history), train_beats_per_s=train_beats_per_s,
                     split=split.describe(), trainable_parameters=run.trainable_parameters,
                     best_checkpoint=best_path, stopped_by=stopped_by)


def train(config: TrainConfig, callbacks: Iterable[TrainCallback] = ()) -> Optional[RunResult]:
    """Train a model, keep the best one on validation macro-F1, and test it.

    With ``config.nproc`` > 1 it starts that many local processes and trains with
    DistributedDataParallel (:func:`ecgnet.distributed.launch`; the callbacks are pickled
    to rank 0 and run there). Started by torchrun (``WORLD_SIZE`` > 1), it is one rank:
    rank 0 returns the result, the other ranks ``None``. See :mod:`ecgnet.distributed`.

    Parameters
    ----------
    config : TrainConfig
    callbacks : iterable of TrainCallback
        Told of the run's start, every epoch's metrics and its end (see
        :mod:`ecgnet.callbacks`); one may end the run by raising
        :class:`~ecgnet.callbacks.StopTraining`.

    Returns
    -------
    RunResult or None
        ``None`` on the ranks other than 0 of a torchrun run.

    Raises
    ------
    InputError
        Bad data, bad settings, an existing run folder (without ``resume`` or
        ``overwrite``), or a resume that does not match the run.
    ecgseg.atomic.OutputBusyError
        Another process is training in the same run folder.
    DistributedError
        With ``nproc`` > 1: a rank died or failed unexpectedly (the others are stopped).

    Examples
    --------
    >>> result = train(TrainConfig(data=["mitbih_train.csv"], epochs=2))  # doctest: +SKIP
    >>> result.best_checkpoint  # doctest: +SKIP
    PosixPath('runs/mitbih_train-random/best.pt')
    """
    world = environment_world_size()
    if config.nproc > 1 and world == 1 and not torch.distributed.is_initialized():
        return launch(config, callbacks)  # nproc local processes, each back in this function
    if world > 1 and config.nproc not in (1, world):
        raise ConfigError("nproc", f"({config.nproc}) differs from WORLD_SIZE ({world}) set by "
                                   f"torchrun; leave nproc at 1 under torchrun")
    ranks, joined = current_ranks(), False
    if ranks.active and not torch.distributed.is_initialized():
        check_global_batch(config.batch_size, ranks.world_size)
        init_process_group(ranks, setup_device(config.device, rank_threads(config.threads, ranks)))
        joined = True
    try:
        return _train(config, CallbackList(callbacks))
    finally:
        if joined:
            torch.distributed.destroy_process_group()


def _train(config: TrainConfig, hooks: CallbackList) -> Optional[RunResult]:
    """The run of :func:`train` in this process (one rank of several, or the only one)."""
    with contextlib.ExitStack() as held:  # the run folder's lock, until the run ends
        return _train_held(config, hooks, held)


def _train_held(config: TrainConfig, hooks: CallbackList,
                held: contextlib.ExitStack) -> Optional[RunResult]:
    run = prepare(config, held)
    state = restore(run)
    run.trained = wrap_model(run.model, run.device, run.ranks)
    main = run.ranks.is_main
    if main:
        write_run_start(run, state)
        hooks.on_run_start(config, run.run_dir, {
            "source": run.data.source_info[0] if run.data.source_info else {},
            "sources": list(run.data.source_info), "class_names": list(run.data.class_names),
            "n_parameters": count_parameters(run.model), "model": config.model,
            "start_epoch": state.epoch})
    max_iters = config.max_iters or float("inf")
    beats_done, train_seconds, stopped_by = 0, 0.0, ""
    stopped_early = state.bad_epochs >= config.patience
    while state.epoch < config.epochs and state.iteration < max_iters and not stopped_early:
        epoch = state.epoch + 1
        beats = epoch_beats(run, epoch)
        batches = range(0, len(beats[2]), config.batch_size)
        bar = _progress(batches, config.progress and main, f"epoch {epoch}/{config.epochs}")
        stats = train_epoch(run, state.iteration, beats, bar)
        beats_done += stats.seen
        train_seconds += stats.seconds
        if main:  # rank 0 validates, keeps score and calls the callbacks
            state, stopped_by = _score_epoch(run, state, epoch, stats, bar, batches, hooks)
        state, stopped_by = broadcast_object((state, stopped_by), run.ranks)
        stopped_early = state.bad_epochs >= config.patience
        if stopped_by:
            break
    if not main:
        return None
    result = finish(run, state, stopped_early,
                    beats_done / train_seconds if train_seconds else 0.0, stopped_by)
    hooks.on_run_end(result)
    return result


def _score_epoch(run: Run, state: TrainState, epoch: int, stats: EpochStats, bar, batches,
                 hooks: CallbackList) -> Tuple[TrainState, str]:
    """Validate, write the epoch (:func:`end_epoch`), tell the callbacks; the new state and
    why a callback stopped the run ('' if none)."""
    config = run.config
    val = validate(run.evaluated, run.val_set, config.eval_batch_size,
                   selected_classes(config, run.data.class_names))
    record = {"epoch": epoch, "iteration": stats.iteration,
              "lr": run.optimizer.param_groups[0]["lr"],
              "train_loss": stats.loss_sum / max(1, stats.seen),
              "train_accuracy": stats.correct / max(1, stats.seen), **val,
              "train_beats": stats.seen,
              "train_beats_per_s": stats.seen / max(stats.seconds, 1e-9),
              "seconds": stats.seconds}
    if bar is not batches:
        bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                        val_f1=f"{val['val_macro_f1']:.4f}",
                        val_acc=f"{val['val_accuracy']:.4f}")
        bar.close()
    state = end_epoch(run, state, record)
    try:
        hooks.on_epoch_end(epoch, {k: record[k] for k in EPOCH_METRICS})
    except StopTraining as exc:
        return state, str(exc) or type(exc).__name__
    return state, ""


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
