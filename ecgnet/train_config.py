"""The settings of a training run, :class:`TrainConfig`: one place for each default and help.

This module imports neither torch nor numpy (the command line reads it to build its
options at start-up). Every field carries its help text (and, for the command line, its flag) in the dataclass
field's ``metadata``; ``ecg train`` and ``ecg transfer`` build their options from these
(:mod:`ecg_cli.train_options`), so a default is written once, here.
Errors name the *parameter* (``batch_size must be at least 1``); the command line
turns the name into its flag.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from ecgseg.errors import InputError



class ConfigError(InputError):
    """A bad :class:`TrainConfig` setting; ``parameter`` names the field.

    The message starts with the parameter's name (``batch_size must be at least 1``).
    """

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter} {message}")
        self.parameter = parameter
        self.detail = message


def setting(default: Any = dataclasses.MISSING, help: str = "", *, cli: bool = True,
            flag: Optional[str] = None, default_factory: Any = dataclasses.MISSING) -> Any:
    """A :class:`TrainConfig` field with its help text.

    Parameters
    ----------
    default, default_factory
        As for :func:`dataclasses.field`.
    help : str
        One line for ``--help`` and the docs.
    cli : bool
        Whether ``ecg train``/``ecg transfer`` expose it as an option.
    flag : str, optional
        The option's name (default ``--`` + the field name with ``-`` for ``_``).
    """
    meta = {"help": help, "cli": cli, "flag": flag}
    if default_factory is not dataclasses.MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Settings of a training run (the ``ecg train`` options).

    Each field's help text is in its metadata (``dataclasses.fields(TrainConfig)``);
    ``flag_of(name)`` gives its command-line flag.

    Examples
    --------
    >>> TrainConfig(data=["mitbih_train.csv"], epochs=2).run_dir
    PosixPath('runs/mitbih_train-random')
    >>> TrainConfig(data=["x.csv"], batch_size=0)
    Traceback (most recent call last):
    ...
    ecgnet.train_config.ConfigError: batch_size must be at least 1
    """

    data: List[str] = setting(
        help="Beats: HDF5 from `ecg segment` and/or Kaggle-format CSV (188 values a line, "
             "label last). Several files are concatenated.")
    second_lead: Optional[List[str]] = setting(
        None, "Beats HDF5 of the same rows cut from the records' second lead (ecg segment "
              "--recipe kaggle --signal 1), one per data file, in order (repeat the option); "
              "for models that take two leads (kachuee-rrmd2). Rows pair by record, "
              "position and label.")
    name: Optional[str] = setting(None, "Run folder name [default: <data stem>-<split>].")
    out: str = setting("runs", "Parent folder of the run folders.")
    model: str = setting("kachuee", "Registered architecture: kachuee (the paper's CNN) or "
                                    "another; `ecg models --architectures` lists each with "
                                    "its parameters and the inputs it needs.")
    classes: Optional[List[str]] = setting(
        None, "Class names in label order, comma-separated [default: from the data; "
              "N,S,V,F,Q for MIT-BIH, normal,MI for PTB].")
    split: str = setting("random", "random (stratified by beat) | interpatient (MIT-BIH DS1 "
                                   "-> DS2) | patient (grouped by patient) | auto (by patient "
                                   "when the data have patient ids, else random).")
    test_fraction: float = setting(0.2, "Share of the beats held out for testing.")
    val_fraction: float = setting(0.1, "Share of the training side kept for early stopping.")
    seed: int = setting(0, "Seeds the weights, the split, the shuffling and the augmentation.")
    batch_size: int = setting(128, "Beats per training iteration.")
    lr: float = setting(1e-3, "Adam learning rate.")
    beta1: float = setting(0.9, "Adam beta1.", cli=False)
    beta2: float = setting(0.999, "Adam beta2.", cli=False)
    weight_decay: float = setting(0.0, "L2 penalty of Adam (torch's weight_decay; 0 = off, "
                                       "the paper's).")
    lr_decay: float = setting(0.75, "The learning rate is multiplied by this every "
                                    "lr_decay_every iterations.")
    lr_decay_every: int = setting(10_000, "Iterations.")
    lr_schedule: str = setting("step", "step (lr times lr_decay every lr_decay_every "
                                       "iterations) | cosine (lr down to 0 over the run's "
                                       "iterations) | one-cycle (up to lr over 30 % of them, "
                                       "then down); see ecgnet.schedules.")
    epochs: int = setting(50, "Most epochs (of every run).")
    patience: int = setting(8, "Stop after this many epochs without better validation "
                               "macro-F1 (or select_classes' F1).")
    select_classes: str = setting("", "Classes whose mean validation F1 picks best.pt and "
                                      "counts for patience, comma-separated (e.g. N,S,V: the "
                                      "rare classes a validation part barely holds cannot "
                                      "decide); empty: macro-F1 over every class present or "
                                      "predicted.")
    max_iters: Optional[int] = setting(None, "Stop after this many iterations in all (of "
                                             "every run).")
    class_weights: str = setting("none", "none | balanced | sqrt | capped (loss weights "
                                         "from training counts; capped: balanced, no class "
                                         "above the median class's weight).")
    loss: str = setting("cross-entropy", "cross-entropy | focal (Lin et al. 2017, gamma 2: "
                                         "confident beats weigh less; combines with "
                                         "class_weights).")
    sampler: str = setting("shuffle", "shuffle (every training beat once an epoch) | class "
                                      "(an epoch of as many beats drawn with replacement, "
                                      "each class equally often) | record-class (each class "
                                      "equally often, within a class each record equally "
                                      "often; needs the HDF5).")
    augment: float = setting(0.0, "Top minority classes up to this share of the largest "
                                  "class with stretched and scaled copies (0 = off; e.g. 0.25).")
    device: str = setting("auto", "auto | cpu | cuda.")
    threads: Optional[int] = setting(None, "CPU threads (of each process with nproc) "
                                           "[default: the usable cores / nproc].")
    nproc: int = setting(1, "Training processes on this machine (DistributedDataParallel: "
                            "gloo on CPU, NCCL on GPUs); batch_size stays the global batch.")
    eval_batch_size: int = setting(512, "Beats per forward pass for validation and test.",
                                   cli=False)
    resume: bool = setting(False, "Continue the run(s) from last.pt.")
    overwrite: bool = setting(False, "Replace existing runs.")
    progress: bool = setting(True, "Show a progress bar per epoch.", cli=False)
    precision: str = setting("float32", "float32 | bfloat16 (autocast; ~1.6x faster training "
                                        "on CPUs with bfloat16 instructions, weights stay "
                                        "float32).")
    init_checkpoint: Optional[str] = setting(
        None, "Transfer learning: start from this checkpoint's weights (same model), with a "
              "new classifier head for the data's classes.", cli=False)
    trainable: str = setting("all", "Parts that learn: all | head | fc | blocks:K; the rest "
                                    "is frozen.", cli=False)
    ema: float = setting(0.0, "Moving average of the weights, decay per iteration (0 = off; "
                              "e.g. 0.999): the averaged weights are validated, tested and "
                              "saved.")
    jitter: float = setting(0.0, "Share of all training beats replaced every epoch by "
                                 "stretched and scaled versions (0 = off; e.g. 0.5).")
    shift: float = setting(0.0, "Share of all training beats whose cut point moves every "
                                "epoch by --shift-min..--shift-max samples (renormalised, RR "
                                "inputs kept; 0 = off, e.g. 0.5): the model then depends less "
                                "on where a detector puts the R peak.")
    shift_min: float = setting(1.0, "Smallest cut offset of --shift, samples of the beat (120 "
                                    "Hz for the Kaggle recipe); negative cuts earlier (e.g. "
                                    "-2).")
    shift_max: float = setting(6.0, "Largest cut offset of --shift, samples of the beat; at "
                                    "least --shift-min (e.g. 2: offsets -2..2 with "
                                    "--shift-min -2).")
    val_by: str = setting("auto", "auto | beat | patient: how the validation part is carved "
                                  "from the training side (auto: by beat for the random "
                                  "split, else by patient).")

    def __post_init__(self):
        from .augment import CLASS_WEIGHTS, SAMPLERS  # here: the CLI builds its options without torch
        from .losses import LOSSES
        from .schedules import LR_SCHEDULES
        from .models import parse_trainable

        if isinstance(self.data, (str, os.PathLike)):
            self.data = [self.data]
        self.data = [str(p) for p in self.data]
        if isinstance(self.second_lead, (str, os.PathLike)):
            self.second_lead = [self.second_lead]
        if self.second_lead is not None:
            self.second_lead = [str(p) for p in self.second_lead] or None
        if self.init_checkpoint is not None:
            self.init_checkpoint = str(self.init_checkpoint)
        kind, k = parse_trainable(self.trainable)
        self.trainable = kind if kind != "blocks" else f"blocks:{k}"
        checks = [("batch_size", self.batch_size >= 1, "must be at least 1"),
                  ("epochs", self.epochs >= 1, "must be at least 1"),
                  ("patience", self.patience >= 1, "must be at least 1"),
                  ("test_fraction", 0 < self.test_fraction < 1, "must be between 0 and 1"),
                  ("val_fraction", 0 < self.val_fraction < 1, "must be between 0 and 1"),
                  ("lr", self.lr > 0, "must be positive"),
                  ("lr_decay_every", self.lr_decay_every >= 1, "must be at least 1"),
                  ("weight_decay", self.weight_decay >= 0, "must be 0 (off) or positive"),
                  ("augment", self.augment >= 0, "must be 0 (off) or positive"),
                  ("jitter", 0 <= self.jitter <= 1, "must be between 0 (off) and 1"),
                  ("shift", 0 <= self.shift <= 1, "must be between 0 (off) and 1"),
                  ("shift_min", abs(self.shift_min) < 187,
                   "must be less than a beat (187 samples) either way"),
                  ("shift_max", self.shift_min <= self.shift_max < 187,
                   "must be at least --shift-min and less than a beat (187 samples)"),
                  ("ema", 0 <= self.ema < 1, "must be 0 (off) or between 0 and 1, e.g. 0.999"),
                  ("class_weights", self.class_weights in CLASS_WEIGHTS,
                   f"must be one of: {', '.join(CLASS_WEIGHTS)}"),
                  ("lr_schedule", self.lr_schedule in LR_SCHEDULES,
                   f"must be one of: {', '.join(LR_SCHEDULES)}"),
                  ("loss", self.loss in LOSSES, f"must be one of: {', '.join(LOSSES)}"),
                  ("sampler", self.sampler in SAMPLERS,
                   f"must be one of: {', '.join(SAMPLERS)}"),
                  ("sampler", self.sampler == "shuffle" or self.augment == 0,
                   "draws beats with replacement; it does not combine with augment "
                   "(set augment to 0)"),
                  ("nproc", self.nproc >= 1, "must be at least 1"),
                  ("max_iters", self.max_iters is None or self.max_iters >= 1,
                   "must be at least 1")]
        for parameter, ok, message in checks:
            if not ok:
                raise ConfigError(parameter, message)
        check_global_batch(self.batch_size, self.nproc)

    @property
    def run_dir(self) -> Path:
        """``<out>/<name>``."""
        name = self.name or f"{Path(self.data[0]).stem}-{self.split}"
        return Path(self.out) / name

    def to_dict(self) -> Dict[str, Any]:
        """The settings as a JSON-ready dict (``dataclasses.asdict``)."""
        return dataclasses.asdict(self)


def check_global_batch(batch_size: int, processes: int) -> None:
    """Raise :class:`ConfigError` (``nproc``) unless ``batch_size`` (the global batch)
    splits evenly over ``processes`` training processes.

    Examples
    --------
    >>> check_global_batch(128, 2)
    >>> check_global_batch(128, 3)
    Traceback (most recent call last):
    ...
    ecgnet.train_config.ConfigError: nproc (3 processes) must divide batch_size (128): the batch size is the global batch
    """
    if batch_size % processes:
        raise ConfigError("nproc", f"({processes} processes) must divide batch_size "
                                   f"({batch_size}): the batch size is the global batch")


TRANSFER_DEFAULTS: Dict[str, Any] = {"split": "auto"}
"""Where a transfer run's defaults differ from :class:`TrainConfig`'s (``ecg transfer``,
:func:`ecgnet.transfer.transfer_config`): by patient when the beats have patient ids."""


def flag_of(name: str) -> str:
    """Command-line flag of a :class:`TrainConfig` field: ``batch_size`` -> ``--batch-size``.

    Examples
    --------
    >>> flag_of("lr_decay_every")
    '--lr-decay-every'
    """
    f = {f.name: f for f in dataclasses.fields(TrainConfig)}.get(name)
    flag = f.metadata.get("flag") if f is not None else None
    return flag or "--" + name.replace("_", "-")


__all__ = ["ConfigError", "TRANSFER_DEFAULTS", "TrainConfig", "check_global_batch", "flag_of",
           "setting"]
