"""Heartbeat classifiers and the registry that builds them by name.

The default, ``kachuee``, is the network of Kachuee, Fazeli & Sarrafzadeh (2018),
exactly as the paper draws it. Other architectures register themselves with
:func:`register_model` and are then available as ``ecg train --model NAME``.

Every model takes beats of shape ``(n, 187)`` or ``(n, 1, 187)`` (float32, one lead at
125 Hz, min-max normalised) and returns class logits of shape ``(n, n_classes)``. A model
with a class attribute ``rhythm_features = k`` (``kachuee-rr``) takes ``k`` RR-interval
features as extra columns, ``(n, 187 + k)``; :func:`ecgnet.data.model_inputs` builds them.
"""

from __future__ import annotations

import inspect
from typing import Callable, Dict, Iterable, List, Tuple

import torch
from torch import nn

from ecgseg.errors import InputError
from ecgseg.labels import BEAT_SAMPLES

BEAT_LENGTH = BEAT_SAMPLES  # ecgseg.labels.BEAT_SAMPLES, the samples of a beat
"""Samples per beat (1.496 s at 125 Hz) that every model takes."""

MODELS: Dict[str, Callable[..., nn.Module]] = {}
"""Model name -> constructor ``f(n_classes, **kwargs) -> nn.Module``."""


def register_model(name: str) -> Callable:
    """Class or function decorator: make a model buildable as ``build_model(name, ...)``.

    Parameters
    ----------
    name : str
        Registry name (lower case, used by ``--model`` and stored in checkpoints).
    """
    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in MODELS:
            raise ValueError(f"model {name!r} is already registered")
        MODELS[name] = factory
        if isinstance(factory, type):
            factory.model_name = name  # for messages: instances know their registry name
        return factory
    return decorate


def build_model(name: str, n_classes: int, **kwargs) -> nn.Module:
    """Build a registered model with freshly initialised weights.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`, e.g. ``"kachuee"``.
    n_classes : int
        Number of output classes (>= 2).
    **kwargs
        Extra keyword arguments of that model's constructor.

    Returns
    -------
    torch.nn.Module
        Maps beats ``(n, 187)`` float32 to logits ``(n, n_classes)``.

    Raises
    ------
    InputError
        Unknown model name or fewer than two classes.
    """
    model_class = _model_class(name)
    if n_classes < 2:
        raise InputError(f"a classifier needs at least 2 classes, got {n_classes}")
    return model_class(n_classes=n_classes, **kwargs)


def _model_class(name: str) -> type:
    """The registered class of model ``name``; an unknown name is an InputError listing them."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]


class ResidualBlock(nn.Module):
    """Conv(5, same) -> ReLU -> Conv(5, same) -> + input -> ReLU -> MaxPool(5, stride 2).

    Maps ``(n, channels, L)`` to ``(n, channels, (L - 5) // 2 + 1)``.
    """

    def __init__(self, channels: int = 32, kernel: int = 5):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, kernel, padding="same")
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding="same")
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool1d(5, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.relu(self.conv1(x)))
        return self.pool(self.relu(y + x))


@register_model("kachuee")
class KachueeNet(nn.Module):
    """The CNN of Kachuee et al. (2018), Fig. 2: 55 013 parameters for 5 classes.

    Parts, named for transfer learning (freeze or replace them by name):

    - ``stem``: Conv1d(1, 32, 5), no padding: ``(n, 1, 187) -> (n, 32, 183)``;
    - ``blocks``: 5 :class:`ResidualBlock` (ModuleList): lengths 183 -> 90 -> 43 -> 20 -> 8 -> 2;
    - flatten to 64 features;
    - ``fc1``: Linear(64, 32) + ReLU; ``fc2``: Linear(32, 32);
    - ``head``: Linear(32, n_classes), logits (softmax is in the loss).

    Parameters
    ----------
    n_classes : int
        Number of output classes (5 for AAMI N/S/V/F/Q, 2 for PTB normal/MI).
    channels : int
        Filters of every convolution (32 in the paper).
    n_blocks : int
        Residual blocks (5 in the paper; 187 samples allow at most 5).
    """

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__()
        self.n_classes = n_classes
        self.stem = nn.Conv1d(1, channels, 5)
        self.blocks = nn.ModuleList(ResidualBlock(channels) for _ in range(n_blocks))
        length = BEAT_LENGTH - 4
        for _ in range(n_blocks):
            length = (length - 5) // 2 + 1
        if length < 1:
            raise ValueError(f"{n_blocks} blocks shrink a {BEAT_LENGTH}-sample beat to nothing")
        self.n_features = channels * length
        self.fc1 = nn.Linear(self.n_features, 32)
        self.fc2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, n_classes)
        self.relu = nn.ReLU()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolutional features: beats ``(n, 187)`` or ``(n, 1, 187)`` -> ``(n, 64)``."""
        if x.dim() == 2:
            x = x.unsqueeze(1)
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of beats ``(n, 187)`` or ``(n, 1, 187)``."""
        z = self.relu(self.fc1(self.features(x)))
        return self.head(self.fc2(z))


@register_model("kachuee-rr")
class KachueeRRNet(KachueeNet):
    """The paper's CNN with each beat's RR intervals fed next to its convolutional features.

    Same parts as :class:`KachueeNet`, except that ``fc1`` takes the 64 convolutional
    features plus :attr:`rhythm_features` RR features (:data:`ecgseg.rhythm.RR_FEATURES`:
    previous and next interval, local median interval, and the two ratios), which the
    beat itself cannot show: it starts at its own R peak. 55 173 parameters for 5 classes.

    Input: ``(n, 187 + 5)`` or ``(n, 1, 192)``, the beat's samples then its RR features
    (:func:`ecgnet.data.model_inputs` assembles them from a beats HDF5).
    """

    rhythm_features = 5
    record_features = 0

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__(n_classes, channels, n_blocks)
        self.fc1 = nn.Linear(self.n_features + self.rhythm_features + self.record_features, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 187 + k)`` or ``(n, 1, 187 + k)``
        (``k`` = 5 RR features, plus the record-relative ones of the subclasses)."""
        x = x.flatten(1)  # (n, 1, 192) or (n, 192) -> (n, 192)
        beats, rhythm = x[:, :BEAT_LENGTH], x[:, BEAT_LENGTH:]
        z = torch.cat([self.features(beats), rhythm], dim=1)
        return self.head(self.fc2(self.relu(self.fc1(z))))


@register_model("kachuee-rr2")
class KachueeRecordRRNet(KachueeRRNet):
    """``kachuee-rr`` plus the RR intervals relative to the record's own mean interval.

    ``fc1`` takes the 64 convolutional features, the 5 RR features of ``kachuee-rr`` and
    3 record-relative ones (:data:`ecgseg.rhythm.RECORD_RR_FEATURES`: previous, next and
    local interval divided by the record's mean interval), which tell an ectopic beat
    from a normal one even where ectopic beats are the prevailing rhythm (MIT-BIH 232).
    55 269 parameters for 5 classes. Input ``(n, 187 + 8)``
    (:func:`ecgnet.data.model_inputs`).

    Examples
    --------
    >>> build_model("kachuee-rr2", 5)(torch.zeros(2, 195)).shape
    torch.Size([2, 5])
    """

    record_features = 3


@register_model("kachuee-rrm")
class KachueeRecordRRMorphNet(KachueeRRNet):
    """``kachuee-rr2`` plus the beat's likeness to its record's median beat.

    ``fc1`` also takes :data:`ecgseg.morphology.MORPHOLOGY_FEATURES` (correlation with
    the record's median beat and the RMS of the difference): 55 333 parameters for 5
    classes. Input ``(n, 187 + 10)`` (:func:`ecgnet.data.model_inputs`).

    Examples
    --------
    >>> build_model("kachuee-rrm", 5)(torch.zeros(2, 197)).shape
    torch.Size([2, 5])
    """

    record_features = 5


@register_model("kachuee-rrmd")
class KachueeMedianDiffNet(KachueeRRNet):
    """``kachuee-rrm`` whose convolutions also see the beat minus its record's median beat.

    The stem takes two channels, the beat and its difference from the median beat of its
    record (:func:`ecgseg.morphology.record_median_beats`), so the network sees where
    this beat departs from the patient's usual one. 55 493 parameters for 5 classes.

    Input ``(n, 187 + 10 + 187)``: the beat, 5 RR and 5 record features, then the
    record's median beat (:func:`ecgnet.data.model_inputs`); the difference is taken
    inside, so augmenting the beat changes it consistently.

    Examples
    --------
    >>> build_model("kachuee-rrmd", 5)(torch.zeros(2, 384)).shape
    torch.Size([2, 5])
    """

    record_features = 5
    median_beat = True

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__(n_classes, channels, n_blocks)
        self.stem = nn.Conv1d(2, channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 384)`` or ``(n, 1, 384)``."""
        beats, extra, (median,) = self._split_beat_blocks(x)
        return self._logits([beats, beats - median], extra)

    def _split_beat_blocks(self, x: torch.Tensor):
        """``(beats (n, 187), RR and record features (n, k + j), the 187-sample blocks
        after them)`` of inputs ``(n, 187 + k + j + b x 187)`` or ``(n, 1, ...)``; the
        blocks are a tuple of b ``(n, 187)`` tensors (the median beat first)."""
        x = x.flatten(1)
        n_extra = self.rhythm_features + self.record_features
        blocks = x[:, BEAT_LENGTH + n_extra:].reshape(x.shape[0], -1, BEAT_LENGTH).unbind(1)
        return x[:, :BEAT_LENGTH], x[:, BEAT_LENGTH:BEAT_LENGTH + n_extra], blocks

    def _logits(self, channels: list, extra: torch.Tensor) -> torch.Tensor:
        """The stem's input channels (each ``(n, 187)``) and the extra columns -> logits."""
        z = self.features(torch.stack(channels, dim=1))
        return self.head(self.fc2(self.relu(self.fc1(torch.cat([z, extra], dim=1)))))


@register_model("kachuee-rrmd2")
class KachueeTwoLeadNet(KachueeMedianDiffNet):
    """``kachuee-rrmd`` on two leads: the stem also sees the second lead's beat and its
    difference from that lead's record median beat.

    The stem takes four channels: the beat and the beat minus its record's median beat
    on the first lead (MLII in most MIT-BIH records), then the same on the second lead
    (V1 in most), which shows P waves and ventricular morphology the first may not. The
    rest is ``kachuee-rrmd``'s (same RR and record features, computed on the first lead).
    55 813 parameters for 5 classes (``kachuee-rrmd``'s 55 493 + 2 x 32 x 5).

    Input ``(n, 187 + 10 + 187 + 187 + 187)``: ``kachuee-rrmd``'s, then the second lead's
    beat and its record median beat (:func:`ecgnet.data.model_inputs`; train with
    ``ecg train --second-lead FILE``, the rows of ``ecg segment --recipe kaggle
    --signal 1``).

    Examples
    --------
    >>> build_model("kachuee-rrmd2", 5)(torch.zeros(2, 758)).shape
    torch.Size([2, 5])
    """

    leads = 2

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__(n_classes, channels, n_blocks)
        self.stem = nn.Conv1d(4, channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 758)`` or ``(n, 1, 758)``."""
        beats, extra, (median, beats2, median2) = self._split_beat_blocks(x)
        return self._logits([beats, beats - median, beats2, beats2 - median2], extra)


@register_model("kachuee-rrmd-ctx")
class KachueeContextNet(KachueeMedianDiffNet):
    """``kachuee-rrmd`` that also sees the previous and the next beat of the same record.

    The stem takes four channels: the beat, the beat minus its record's median beat, the
    record's previous beat and its next beat (in position order; a record's first beat is
    its own previous beat, its last its own next: :func:`ecgnet.data.neighbour_beats`),
    so the network can compare a beat's P wave and QRS with its neighbours' (a premature
    atrial beat after a normal one, a fusion beat between two normal ones). The rest is
    ``kachuee-rrmd``'s. 55 813 parameters for 5 classes (``kachuee-rrmd``'s 55 493 +
    2 x 32 x 5).

    Input ``(n, 187 + 10 + 187 + 2 x 187)``: ``kachuee-rrmd``'s, then the previous and
    the next beat (:func:`ecgnet.data.model_inputs`). Built from the beats and their
    positions alone (no labels), so it applies to a new recording too.

    Examples
    --------
    >>> build_model("kachuee-rrmd-ctx", 5)(torch.zeros(2, 758)).shape
    torch.Size([2, 5])
    """

    context_beats = 1

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__(n_classes, channels, n_blocks)
        self.stem = nn.Conv1d(4, channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 758)`` or ``(n, 1, 758)``."""
        beats, extra, (median, before, after) = self._split_beat_blocks(x)
        return self._logits([beats, beats - median, before, after], extra)


@register_model("kachuee-rel")
class KachueeRelativeNet(KachueeMedianDiffNet):
    """``kachuee-rrmd`` that sees the rhythm only relative to the patient's own.

    Built for the inter-patient split (issue #16, ``benchmarks/INTERPATIENT_ABLATION.md``).
    It takes the same input layout as ``kachuee-rrmd`` with all 8 record features
    (:data:`ecgnet.data.RECORD_FEATURES`: besides those of ``kachuee-rrm``, the likeness
    to the record's median beat over the QRS complex only and the irregularity of the
    rhythm around the beat), but ``fc1`` leaves out the three intervals in seconds
    (previous, next, local): it sees the two intervals over the local rhythm and the
    record-relative columns. A patient's heart rate in seconds is a property of the
    patient, which a network trained on 22 patients learns by heart and cannot carry to
    a new one. 55 493 parameters for 5 classes.

    Input ``(n, 187 + 5 + 8 + 187)``: the beat, 5 RR and 8 record features, then the
    record's median beat (:func:`ecgnet.data.model_inputs`).

    Examples
    --------
    >>> build_model("kachuee-rel", 5)(torch.zeros(2, 387)).shape
    torch.Size([2, 5])
    """

    record_features = 8
    rr_used = slice(3, 5)
    """Columns of the RR features ``fc1`` takes: the intervals over the local rhythm."""

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__(n_classes, channels, n_blocks)
        used = len(range(self.rhythm_features)[self.rr_used])
        self.fc1 = nn.Linear(self.n_features + used + self.record_features, 32)

    def _split_inputs(self, x: torch.Tensor):
        """The beats, the record's median beats, all RR columns and the record columns of
        inputs ``(n, 387)`` or ``(n, 1, 387)``."""
        x = x.flatten(1)
        beats, median = x[:, :BEAT_LENGTH], x[:, -BEAT_LENGTH:]
        rr = x[:, BEAT_LENGTH:BEAT_LENGTH + self.rhythm_features]
        record = x[:, BEAT_LENGTH + self.rhythm_features:-BEAT_LENGTH]
        return beats, median, rr, record

    def _deep_logits(self, beats, median, rr, record) -> torch.Tensor:
        """The network's logits: convolutions over the beat and the beat minus its median,
        then ``fc1`` with the ``rr_used`` columns and the record columns."""
        z = self.features(torch.stack([beats, beats - median], dim=1))
        z = torch.cat([z, rr[:, self.rr_used], record], dim=1)
        return self.head(self.fc2(self.relu(self.fc1(z))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 387)`` or ``(n, 1, 387)``."""
        return self._deep_logits(*self._split_inputs(x))


@register_model("kachuee-wide")
class KachueeWideNet(KachueeRelativeNet):
    """``kachuee-rel`` plus a linear path from the rhythm and record features straight to
    the logits (wide & deep).

    Built for the inter-patient split (issue #16, ``benchmarks/INTERPATIENT_ABLATION.md``):
    a logistic regression on the record-relative rhythm features alone, fit to MIT-BIH
    DS1, finds most of DS2's S beats, while a network fed the same columns through
    ``fc1`` learns DS1's few S patients' shapes instead. Here the logits are the sum of

    - the deep path: ``kachuee-rel`` unchanged (convolutions over the beat and the beat
      minus its record's median beat, then ``fc1``/``fc2``/``head`` with the two
      intervals over the local rhythm and the record columns, no intervals in seconds);
    - the wide path: ``wide_norm`` (batch norm without learnt scale, so every column is
      standardised by the training beats' mean and spread, kept as buffers) then
      ``wide``, Linear(13, n_classes), on all 13 rhythm and record columns (the 5 of
      :data:`ecgseg.rhythm.RR_FEATURES`, intervals in seconds included, and the 8 of
      :data:`ecgnet.data.RECORD_FEATURES`). A linear function of the intervals in
      seconds cannot learn a patient by heart the way the deep path can; measured on
      DS1 -> DS2 with balanced class weights (one seed, 6 epochs) the wide path over the
      13 columns found S 81.0 / +P 39.4 % against 73.0 / 35.1 % over the 10 that
      ``fc1`` takes (``benchmarks/INTERPATIENT_ABLATION.md``).

    In training, the deep path's logits of each beat are dropped (set to 0) with
    probability ``deep_drop``, so on those beats the wide path alone must classify:
    the linear model on the rhythm is trained as a model of its own, and the deep path
    learns what it adds. In evaluation both paths always add. 55 563 parameters for
    5 classes (``kachuee-rel``'s 55 493 + 70).

    Input ``(n, 187 + 5 + 8 + 187)``, the layout of ``kachuee-rel``
    (:func:`ecgnet.data.model_inputs`), so ``ecg predict`` and ``ecg evaluate-records``
    compute it on raw records.

    Parameters
    ----------
    n_classes, channels, n_blocks
        As :class:`KachueeNet`.
    deep_drop : float
        Probability, in [0, 1), that a training beat's deep logits are dropped.

    Examples
    --------
    >>> build_model("kachuee-wide", 5)(torch.zeros(2, 387)).shape
    torch.Size([2, 5])
    """

    deep_drop_default = 0.5
    wide_rr = slice(0, 5)
    """Columns of the RR features the wide path takes (all 5)."""

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5,
                 deep_drop: float | None = None):
        super().__init__(n_classes, channels, n_blocks)
        self.deep_drop = self.deep_drop_default if deep_drop is None else float(deep_drop)
        if not 0 <= self.deep_drop < 1:
            raise InputError(f"deep_drop must be in [0, 1), got {self.deep_drop}")
        n_wide = len(range(self.rhythm_features)[self.wide_rr]) + self.record_features
        self.wide_norm = nn.BatchNorm1d(n_wide, affine=False)
        self.wide = nn.Linear(n_wide, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 387)`` or ``(n, 1, 387)``: deep + wide."""
        beats, median, rr, record = self._split_inputs(x)
        return self._add_wide(self._deep_logits(beats, median, rr, record), rr, record)

    def _add_wide(self, deep: torch.Tensor, rr: torch.Tensor,
                  record: torch.Tensor) -> torch.Tensor:
        """The deep logits (dropped for ``deep_drop`` of the beats in training) plus the
        wide path's logits of the rhythm and record columns."""
        columns = torch.cat([rr[:, self.wide_rr], record], dim=1).float()
        wide = self.wide(self.wide_norm(columns).to(deep.dtype))
        if self.training and self.deep_drop > 0:
            keep = torch.rand(deep.shape[0], 1, device=deep.device) >= self.deep_drop
            deep = deep * keep.to(deep.dtype)
        return deep + wide



@register_model("kachuee-wide2")
class KachueeWideTwoLeadNet(KachueeWideNet):
    """``kachuee-wide`` on two leads: the deep path's stem also sees the second lead's beat
    and its difference from that lead's record median beat.

    Built for the inter-patient split (issue #16): de Chazal et al. (2004) and Llamedo &
    Martinez (2011) use both MIT-BIH leads; the second (V1 in most records) shows P waves
    and ventricular morphology the first may not. Stem of four channels (beat, beat minus
    median, on each lead), the rest ``kachuee-wide``'s (rhythm and record columns from
    the first lead). 55 883 parameters for 5 classes (``kachuee-wide``'s 55 563 + 320).

    Input ``(n, 387 + 187 + 187)``: ``kachuee-wide``'s, then the second lead's beat and
    its record median beat (:func:`ecgnet.data.model_inputs`; ``ecg train --second-lead``).

    Examples
    --------
    >>> build_model("kachuee-wide2", 5)(torch.zeros(2, 761)).shape
    torch.Size([2, 5])
    """

    leads = 2

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5,
                 deep_drop: float | None = None):
        super().__init__(n_classes, channels, n_blocks, deep_drop)
        self.stem = nn.Conv1d(4, channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of inputs ``(n, 761)`` or ``(n, 1, 761)``: deep + wide."""
        x = x.flatten(1)
        beats, median, rr, record = self._split_inputs(x[:, :-2 * BEAT_LENGTH])
        beats2, median2 = x[:, -2 * BEAT_LENGTH:-BEAT_LENGTH], x[:, -BEAT_LENGTH:]
        z = self.features(torch.stack([beats, beats - median, beats2, beats2 - median2], dim=1))
        z = torch.cat([z, rr[:, self.rr_used], record], dim=1)
        deep = self.head(self.fc2(self.relu(self.fc1(z))))
        return self._add_wide(deep, rr, record)


@register_model("kachuee-wide-ectopy")
class KachueeWideEctopyNet(KachueeWideNet):
    """``kachuee-wide`` with two more rhythm columns: the pause after the beat and its
    prematurity in a steady rhythm (:func:`ecgseg.rhythm.ectopy_features`).

    Built for the inter-patient split (issue #16): the false supraventricular calls of
    ``kachuee-wide`` on DS2 are normal beats that come early in an irregular rhythm
    (atrial fibrillation, records 202, 219, 222) or after a stretch of 2:1 block (231).
    A linear path cannot form "early AND steady" from prematurity and irregularity
    given apart; ``regular_prematurity`` is that product, and ``post_pre_ratio`` the
    compensatory pause. Both paths (``fc1`` and the wide ``Linear``) take all 10 record
    columns (:data:`ecgnet.data.RECORD_FEATURES`). 55 637 parameters for 5 classes.

    Input ``(n, 187 + 5 + 10 + 187)`` (:func:`ecgnet.data.model_inputs`): ``ecg predict``
    and ``ecg evaluate-records`` compute it on raw records like ``kachuee-wide``'s.

    Examples
    --------
    >>> build_model("kachuee-wide-ectopy", 5)(torch.zeros(2, 389)).shape
    torch.Size([2, 5])
    """

    record_features = 10


def rr_columns(model: nn.Module) -> int:
    """Number of RR-feature columns ``model`` takes after each beat's 187 samples (0 for
    models of the beat alone; 5 for ``kachuee-rr``)."""
    return int(getattr(model, "rhythm_features", 0))


def record_columns(model: nn.Module) -> int:
    """Number of record-relative feature columns ``model`` takes after its RR features
    (the first ``k`` of :data:`ecgnet.data.RECORD_FEATURES`; 0 for most models, 3 for
    ``kachuee-rr2``, 5 for ``kachuee-rrm``, 8 for ``kachuee-rel``, 10 for
    ``kachuee-wide-ectopy``)."""
    return int(getattr(model, "record_features", 0))


def median_columns(model: nn.Module) -> int:
    """Columns of the record's median beat ``model`` takes last (187 for ``kachuee-rrmd``
    and ``kachuee-rel``, else 0)."""
    return BEAT_LENGTH if getattr(model, "median_beat", False) else 0


def lead_count(model: nn.Module) -> int:
    """Leads ``model`` takes (the one place that says so): 1 for most models, 2 for
    ``kachuee-rrmd2`` and ``kachuee-wide2``, whose inputs end with the second lead's beat and record median beat.

    Examples
    --------
    >>> lead_count(build_model("kachuee-rrmd", 5)), lead_count(build_model("kachuee-rrmd2", 5))
    (1, 2)
    """
    return int(getattr(model, "leads", 1))


def context_count(model: nn.Module) -> int:
    """Neighbouring beats ``model`` takes on each side of a beat (the one place that says
    so): 0 for most models, 1 for ``kachuee-rrmd-ctx`` (the record's previous and next
    beat, :func:`ecgnet.data.neighbour_beats`).

    Examples
    --------
    >>> context_count(build_model("kachuee-rrmd", 5)), context_count(build_model("kachuee-rrmd-ctx", 5))
    (0, 1)
    """
    return int(getattr(model, "context_beats", 0))


def context_columns(model: nn.Module) -> int:
    """Columns of neighbouring beats ``model`` takes after the record's median beat:
    ``2 x context_count x 187`` (374 for ``kachuee-rrmd-ctx``, else 0)."""
    return 2 * context_count(model) * BEAT_LENGTH


def second_lead_columns(model: nn.Module) -> int:
    """Columns of the second lead ``model`` takes last: its beat and its record's median
    beat (374 for a 2-lead model, else 0)."""
    return 2 * BEAT_LENGTH if lead_count(model) > 1 else 0


def input_columns(model: nn.Module) -> int:
    """Columns ``model`` takes per beat: 187 samples, RR features, record features, the
    record's median beat for the models that take it, the neighbouring beats for context
    models and the second lead's beat and median beat for 2-lead models."""
    return (BEAT_LENGTH + rr_columns(model) + record_columns(model) + median_columns(model)
            + context_columns(model) + second_lead_columns(model))


def lead_offsets(model: nn.Module) -> Tuple[int, ...]:
    """Column where each lead's beat starts in ``model``'s inputs: ``(0,)``, or ``(0, c)``
    for a 2-lead model (augmentation stretches both leads' beats alike).

    Examples
    --------
    >>> lead_offsets(build_model("kachuee-rrmd2", 5))
    (0, 384)
    """
    if lead_count(model) == 1:
        return (0,)
    return (0, input_columns(model) - second_lead_columns(model))


def extra_inputs_text(model: nn.Module) -> str:
    """What ``model`` takes after each beat's 187 samples, in words ("" for none).

    Examples
    --------
    >>> extra_inputs_text(build_model("kachuee-rr", 5))
    '5 RR features'
    >>> extra_inputs_text(build_model("kachuee-rrmd", 5))
    "5 RR features, 5 record-relative features and the record's median beat"
    """
    parts = [f"{n} {what}" for n, what in ((rr_columns(model), "RR features"),
                                           (record_columns(model), "record-relative features"))
             if n]
    if median_columns(model):
        parts.append("the record's median beat")
    if context_count(model):
        k = context_count(model)
        parts.append("the record's previous and next beat" if k == 1
                     else f"the record's {k} beats before and {k} after")
    if lead_count(model) > 1:
        parts.append("the second lead's beat and median beat")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + (parts[-1] if parts else "")


def model_summary(name: str) -> str:
    """The first paragraph of a registered model's docstring, on one line.

    Examples
    --------
    >>> model_summary("kachuee")
    'The CNN of Kachuee et al. (2018), Fig. 2: 55 013 parameters for 5 classes.'
    """
    doc = inspect.getdoc(_model_class(name)) or ""
    return " ".join(doc.split("\n\n")[0].split()).replace("``", "")


def describe_models(n_classes: int = 5) -> List[Dict[str, object]]:
    """One entry per registered model, in registration order: what ``ecg models
    --architectures`` prints and ``ecg train --model`` accepts.

    Parameters
    ----------
    n_classes : int
        Classes the parameter count is given for (5: AAMI N, S, V, F, Q).

    Returns
    -------
    list of dict
        ``name``, ``parameters`` (int, for ``n_classes``), ``inputs`` (what the model takes
        after each beat's 187 samples, "" for the beat alone) and ``summary`` (one line).

    Examples
    --------
    >>> [d["name"] for d in describe_models()][:2]
    ['kachuee', 'kachuee-rr']
    >>> describe_models()[1]["inputs"]
    '5 RR features'
    """
    out = []
    for name in MODELS:
        model = build_model(name, n_classes)
        out.append({"name": name, "parameters": count_parameters(model),
                    "inputs": extra_inputs_text(model), "summary": model_summary(name)})
    return out


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters of ``model`` (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def replace_head(model: nn.Module, n_classes: int) -> nn.Module:
    """Give ``model`` a new, freshly initialised ``head`` with ``n_classes`` outputs.

    For transfer learning (e.g. an arrhythmia model re-used for 2-class MI detection).
    Returns the same model, modified in place.
    """
    old = model.head
    model.head = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    model.n_classes = n_classes
    return model


def freeze(model: nn.Module, parts: Iterable[str]) -> nn.Module:
    """Stop training the named parts of ``model`` (e.g. ``["stem", "blocks"]``).

    Parameters
    ----------
    model : torch.nn.Module
        A model with named children (``stem``, ``blocks``, ``fc1``, ``fc2``, ``head``).
    parts : iterable of str
        Child names; ``"blocks.0"`` ... addresses one residual block.

    Raises
    ------
    InputError
        A name that is not a part of the model.
    """
    for name in parts:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            parts_known = ", ".join(n for n, _ in model.named_children())
            raise InputError(f"model has no part {name!r}; parts: {parts_known}") from None
        for p in module.parameters():
            p.requires_grad_(False)
    return model


TRAINABLE = ("head", "fc", "blocks:K", "all")
"""The ``--trainable`` settings of transfer learning, from fewest to most weights learnt:

- ``head``: only the new classifier head (the 32 -> n_classes layer);
- ``fc``: the fully connected layers ``fc1``, ``fc2`` and the head on top of the frozen
  convolutional features (the paper's MI setting: the 64-d representation of the
  arrhythmia network is re-used, the classifier above it is trained);
- ``blocks:K``: the last ``K`` residual blocks, ``fc1``, ``fc2`` and the head;
- ``all``: every weight (fine-tuning the whole network).
"""


def parse_trainable(spec: str) -> Tuple[str, int]:
    """Check a ``--trainable`` setting: ``("head"|"fc"|"all", 0)`` or ``("blocks", K)``.

    Raises
    ------
    InputError
        Anything but ``head``, ``fc``, ``all`` or ``blocks:K`` with an integer K >= 1.
    """
    spec = str(spec).strip().lower()
    if spec in ("head", "fc", "all"):
        return spec, 0
    kind, _, k = spec.partition(":")
    if kind == "blocks" and k.isdigit() and int(k) >= 1:
        return "blocks", int(k)
    raise InputError(f"unknown --trainable {spec!r}; choose one of: head, fc (the paper's), "
                     f"blocks:K (K >= 1: the last K residual blocks and fc), all")


def _leaf_parts(model: nn.Module) -> List[str]:
    """Part names holding weights: children, with ModuleLists expanded (``blocks.0``...)."""
    parts = []
    for name, child in model.named_children():
        if not any(True for _ in child.parameters()):
            continue
        if isinstance(child, nn.ModuleList):
            parts += [f"{name}.{i}" for i in range(len(child))]
        else:
            parts.append(name)
    return parts


def frozen_parts(model: nn.Module, spec: str) -> List[str]:
    """The parts of ``model`` that a ``--trainable`` setting leaves frozen (see :data:`TRAINABLE`).

    Parameters
    ----------
    model : torch.nn.Module
        A model with parts ``head`` (all settings), ``fc1``/``fc2`` (``fc``, ``blocks:K``)
        and a ``blocks`` ModuleList (``blocks:K``).
    spec : str
        ``head``, ``fc``, ``blocks:K`` or ``all``.

    Returns
    -------
    list of str
        Part names for :func:`freeze` (empty for ``all``).

    Raises
    ------
    InputError
        Unknown setting, a model without the parts it needs, or K above the model's blocks.
    """
    kind, k = parse_trainable(spec)
    if kind == "all":
        return []
    leaves = _leaf_parts(model)
    learn = {"head"} if kind == "head" else {"fc1", "fc2", "head"}
    if kind == "blocks":
        blocks = getattr(model, "blocks", None)
        if not isinstance(blocks, nn.ModuleList):
            raise InputError(f"--trainable {spec}: the model has no residual blocks")
        if k > len(blocks):
            raise InputError(f"--trainable {spec}: the model has only {len(blocks)} residual "
                             f"blocks (use blocks:1 .. blocks:{len(blocks)}, or all)")
        learn |= {f"blocks.{i}" for i in range(len(blocks) - k, len(blocks))}
    missing = sorted(learn - set(leaves))
    if missing:
        raise InputError(f"--trainable {spec}: the model has no part {', '.join(missing)} "
                         f"(its parts: {', '.join(leaves)})")
    return [p for p in leaves if p not in learn]


def set_train_mode(model: nn.Module, frozen: Iterable[str] = ()) -> nn.Module:
    """``model.train()``, but keep the ``frozen`` parts in eval mode (batch norm, dropout)."""
    model.train()
    for name in frozen:
        model.get_submodule(name).eval()
    return model


class ConvBlock(nn.Module):
    """``n_convs`` x [Conv1d(5, same) -> BatchNorm -> ReLU] -> MaxPool(5, stride 2); no shortcut.

    Maps ``(n, c_in, L)`` to ``(n, c_out, (L - 5) // 2 + 1)``.
    """

    def __init__(self, c_in: int, c_out: int, n_convs: int = 2, kernel: int = 5):
        super().__init__()
        layers: List[nn.Module] = []
        for i in range(n_convs):
            layers += [nn.Conv1d(c_in if i == 0 else c_out, c_out, kernel, padding="same",
                                 bias=False),
                       nn.BatchNorm1d(c_out), nn.ReLU()]
        self.convs = nn.Sequential(*layers)
        self.pool = nn.MaxPool1d(5, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.pool(self.convs(x))


def _pooled_length(length: int, n_blocks: int) -> int:
    """Length after ``n_blocks`` MaxPool(5, stride 2) layers."""
    for _ in range(n_blocks):
        length = (length - 5) // 2 + 1
    if length < 1:
        raise ValueError(f"{n_blocks} blocks shrink a {BEAT_LENGTH}-sample beat to nothing")
    return length


@register_model("deep-cnn")
class DeepCNN(nn.Module):
    """A plain deep CNN (no residual connections): 10 convolutions, batch norm, 55 333
    parameters for 5 classes.

    Parts, named like :class:`KachueeNet`'s so that ``--trainable`` works the same way:

    - ``stem``: Conv1d(1, 32, 5), no padding: ``(n, 1, 187) -> (n, 32, 183)``;
    - ``blocks``: 5 :class:`ConvBlock` (two Conv-BN-ReLU, MaxPool(5, 2)), 32 channels:
      lengths 183 -> 90 -> 43 -> 20 -> 8 -> 2;
    - flatten to 64 features; ``fc1``: Linear(64, 32) + ReLU; ``fc2``: Linear(32, 32);
    - ``head``: Linear(32, n_classes).

    Parameters
    ----------
    n_classes : int
        Number of output classes.
    channels : int
        Filters of every convolution.
    n_blocks : int
        Convolutional blocks (at most 5 for 187 samples).

    Examples
    --------
    >>> build_model("deep-cnn", 5)(torch.zeros(2, 187)).shape
    torch.Size([2, 5])
    """

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__()
        self.n_classes = n_classes
        self.stem = nn.Conv1d(1, channels, 5)
        self.blocks = nn.ModuleList(ConvBlock(channels, channels, 2) for _ in range(n_blocks))
        self.n_features = channels * _pooled_length(BEAT_LENGTH - 4, n_blocks)
        self.fc1 = nn.Linear(self.n_features, 32)
        self.fc2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, n_classes)
        self.relu = nn.ReLU()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolutional features: beats ``(n, 187)`` or ``(n, 1, 187)`` -> ``(n, 64)``."""
        if x.dim() == 2:
            x = x.unsqueeze(1)
        x = self.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of beats ``(n, 187)`` or ``(n, 1, 187)``."""
        return self.head(self.fc2(self.relu(self.fc1(self.features(x)))))


class LSTMBlock(nn.Module):
    """A one-layer LSTM over the time axis, channels first in and out.

    Maps ``(n, c_in, L)`` to the hidden states ``(n, hidden, L)`` (every time step, so
    that it can be looked at like a feature map; the classifier uses the last one).
    """

    def __init__(self, c_in: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(c_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        out, _ = self.lstm(x.transpose(1, 2))
        return out.transpose(1, 2)


@register_model("cnn-lstm")
class CnnLstm(nn.Module):
    """Convolutional feature extractor, an LSTM over its time axis, dense layers:
    26 469 parameters for 5 classes.

    Parts (the LSTM is the last of ``blocks``, so ``--trainable blocks:1`` trains it and
    the dense layers on top of frozen convolutions):

    - ``stem``: Conv1d(1, 32, 5), no padding: ``(n, 1, 187) -> (n, 32, 183)``;
    - ``blocks.0`` .. ``blocks.2``: :class:`ConvBlock` (one Conv-BN-ReLU, MaxPool(5, 2)):
      lengths 183 -> 90 -> 43 -> 20;
    - ``blocks.3``: :class:`LSTMBlock`, 32 hidden units over the 20 steps (80 ms each at
      125 Hz / 8); the last hidden state, 32 features, goes on;
    - ``fc1``: Linear(32, 32) + ReLU; ``fc2``: Linear(32, 32); ``head``: Linear(32, n_classes).

    Parameters
    ----------
    n_classes : int
        Number of output classes.
    channels : int
        Filters of every convolution.
    hidden : int
        LSTM units.
    n_conv_blocks : int
        Convolutional blocks before the LSTM (1 .. 5).

    Examples
    --------
    >>> build_model("cnn-lstm", 2)(torch.zeros(3, 1, 187)).shape
    torch.Size([3, 2])
    """

    def __init__(self, n_classes: int = 5, channels: int = 32, hidden: int = 32,
                 n_conv_blocks: int = 3):
        super().__init__()
        self.n_classes = n_classes
        _pooled_length(BEAT_LENGTH - 4, n_conv_blocks)
        self.stem = nn.Conv1d(1, channels, 5)
        self.blocks = nn.ModuleList([*(ConvBlock(channels, channels, 1)
                                       for _ in range(n_conv_blocks)),
                                     LSTMBlock(channels, hidden)])
        self.n_features = hidden
        self.fc1 = nn.Linear(hidden, 32)
        self.fc2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, n_classes)
        self.relu = nn.ReLU()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The LSTM's last hidden state: beats ``(n, 187)`` or ``(n, 1, 187)`` -> ``(n, 32)``."""
        if x.dim() == 2:
            x = x.unsqueeze(1)
        x = self.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return x[:, :, -1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of beats ``(n, 187)`` or ``(n, 1, 187)``."""
        return self.head(self.fc2(self.relu(self.fc1(self.features(x)))))
