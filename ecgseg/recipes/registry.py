"""The recipe registry: the one place where a recipe name is resolved.

A :class:`Recipe` entry carries everything that differs per recipe: its parameter type
and defaults per database, the sampling rate of its beats, its default R-peak detector
per database, its per-record run function, its warm-up (numba compile) and whether it
uses the database's Kaggle record choice. The pipeline (:mod:`ecgseg.pipeline`), the
CLI and the provenance code only ever call :func:`get_recipe`.

Adding a recipe: write its signal-level function (arrays in, :class:`Segments` out), a
``run(job: RecordJob) -> RecipeOutput`` that reads the record and labels the beats
(:meth:`ecgseg.databases.Database.label`), and one :func:`register_recipe` call (see
the built-in entries at the bottom).

Examples
--------
>>> recipe_names()
('paper', 'kaggle')
>>> r = get_recipe("kaggle")
>>> r.default_detector("mitdb"), r.default_detector("ptbdb"), r.fs("mitdb")
('reference', 'paper', 120.0)
>>> type(get_recipe("paper").default_params("mitdb")).__name__
'PaperParams'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..databases import Database, get_database
from ..errors import EcgError
from .params import KaggleMitdbParams, KagglePtbParams, PaperParams

#: Key of a per-database mapping that applies to every database not named in it.
ANY_DATABASE = "*"


@dataclass(frozen=True)
class RecordJob:
    """What a recipe's run function gets for one record (picklable).

    Attributes
    ----------
    db : Database
    path : Path
        Record path without extension.
    name : str
        Record name (``"100"``, ``"patient001/s0010_re"``).
    params : Any
        The recipe's parameter object (None when it has none for this database).
    lead : str or None
        Signal name asked for (None: the database's default lead).
    tolerance_s : float
        Peak-to-annotation match tolerance, s.
    detector : str
        Name of the R-peak detector (:mod:`ecgseg.detectors`).
    detector_params : Any
        Its parameters (None: its defaults).
    own_detector : bool
        True when ``detector`` is the recipe's default for this database: the recipe
        then takes its peaks its own way (bit-identical to the recipe without detectors).
    """

    db: Database
    path: Path
    name: str
    params: Any
    lead: str | None
    tolerance_s: float
    detector: str
    detector_params: Any = None
    own_detector: bool = True


@dataclass
class RecipeOutput:
    """What a recipe's run function returns for one record.

    Attributes
    ----------
    segments : ecgseg.segments.Segments
    labelling : ecgseg.labelling.Labelling
    stats : dict
        Record facts for ``/records``: ``lead``, ``samples``, ``fs_in`` (Hz) at least.
    warnings : list of str
    """

    segments: Any
    labelling: Any
    stats: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def _per_db(mapping: Mapping[str, Any], db: Database, what: str, recipe: str):
    if db.name in mapping:
        return mapping[db.name]
    if ANY_DATABASE in mapping:
        return mapping[ANY_DATABASE]
    raise EcgError(f"recipe {recipe!r} has no {what} for database {db.name!r}")


@dataclass(frozen=True)
class Recipe:
    """One segmentation recipe of the registry.

    Attributes
    ----------
    name : str
        Registry key (``--recipe``).
    description : str
        One line for ``--help`` and the docs.
    params_types : mapping
        Database name (or ``"*"``) -> parameter dataclass, or None (no parameters).
    output_fs : mapping
        Database name (or ``"*"``) -> sampling rate of the beats, Hz; None: the
        parameter object's ``fs``.
    default_detectors : mapping
        Database name (or ``"*"``) -> name of the detector the recipe uses by default.
    run : callable
        ``run(job: RecordJob) -> RecipeOutput`` for one record (runs in a worker).
    warm_up : callable
        ``warm_up(params)``: compile (or load) the recipe's numba kernels.
    kaggle_record_choice : bool
        Whether, without an explicit record list, only the records of
        :meth:`Database.kaggle_records` are segmented (``params.record_choice``).
    output_suffix : str
        Default file name suffix: ``<db><suffix>.h5``.
    notes : mapping
        Database name -> one line printed after the summary (caveats).
    """

    name: str
    description: str
    params_types: Mapping[str, Any]
    output_fs: Mapping[str, float | None]
    default_detectors: Mapping[str, str]
    run: Callable[[RecordJob], RecipeOutput] = field(repr=False)
    warm_up: Callable[[Any], None] = field(repr=False)
    kaggle_record_choice: bool = False
    output_suffix: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)

    def params_type(self, db: "str | Database"):
        """Parameter dataclass of this recipe on ``db`` (None: it takes none)."""
        return _per_db(self.params_types, get_database(db), "parameters", self.name)

    def default_params(self, db: "str | Database"):
        """The parameter object with its documented defaults for ``db`` (or None)."""
        cls = self.params_type(db)
        return cls() if cls is not None else None

    def fs(self, db: "str | Database", params: Any = None) -> float:
        """Sampling rate of the beats, Hz."""
        db = get_database(db)
        fs = _per_db(self.output_fs, db, "sampling rate", self.name)
        if fs is None:
            fs = getattr(params if params is not None else self.default_params(db), "fs")
        return float(fs)

    def default_detector(self, db: "str | Database") -> str:
        """Name of the detector this recipe uses on ``db`` unless told otherwise."""
        return _per_db(self.default_detectors, get_database(db), "default detector", self.name)

    def note(self, db: "str | Database") -> str:
        """Caveat line for ``db`` ('' when none)."""
        return self.notes.get(get_database(db).name, "")


_RECIPES: dict[str, Recipe] = {}


def register_recipe(recipe: Recipe) -> Recipe:
    """Add ``recipe`` to the registry (replacing one of the same name); returns it."""
    _RECIPES[recipe.name] = recipe
    return recipe


def recipe_names() -> tuple[str, ...]:
    """Names of the registered recipes, in registration order."""
    return tuple(_RECIPES)


def get_recipe(name: "str | Recipe") -> Recipe:
    """The registered recipe called ``name`` (a :class:`Recipe` is returned as is).

    Raises
    ------
    EcgError
        Unknown name; the message names ``recipe`` and the choices.
    """
    if isinstance(name, Recipe):
        return name
    try:
        return _RECIPES[name]
    except (KeyError, TypeError):
        raise EcgError(f"recipe must be one of {', '.join(_RECIPES)}; got {name!r}") from None


def _lazy(target: str) -> Callable:
    """A function importing ``module:attr`` on first call (the registry stays light)."""
    module, attr = target.split(":")

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    return call


PTB_KAGGLE_NOTE = ("note: the PTB half of the Kaggle recipe is established to 5e-4 on a lossy "
                   "copy of one record (patient165/s0323lre), not yet bit-exact")

register_recipe(Recipe(
    name="paper",
    description="the paper's method: lead II at 125 Hz, 10 s windows, R peaks > 0.9, "
                "1.2 T crops from each peak",
    params_types={ANY_DATABASE: PaperParams},
    output_fs={ANY_DATABASE: None},
    default_detectors={ANY_DATABASE: "paper"},
    run=_lazy("ecgseg.recipes.paper_record:run"),
    warm_up=_lazy("ecgseg.recipes.paper_record:warm_up"),
))
register_recipe(Recipe(
    name="kaggle",
    description="how the published Kaggle CSVs were made: MIT-BIH cut at the annotations, "
                "decimated to 120 Hz; PTB lead ii decimated to 125 Hz, 5 s windows",
    params_types={"mitdb": KaggleMitdbParams, "ptbdb": KagglePtbParams},
    output_fs={"mitdb": 120.0, "ptbdb": 125.0},
    default_detectors={"mitdb": "reference", "ptbdb": "paper"},
    run=_lazy("ecgseg.recipes.kaggle_record:run"),
    warm_up=_lazy("ecgseg.recipes.kaggle_record:warm_up"),
    kaggle_record_choice=True,
    output_suffix="-kaggle",
    notes={"ptbdb": PTB_KAGGLE_NOTE},
))
