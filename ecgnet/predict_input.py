"""What ``ecg predict``'s INPUT is: a record (local or ``<db>/<version>/<record>``), a beats
HDF5 or a Kaggle-format CSV; which database's conventions a record follows; and with which
recipe parameters a checkpoint's beats were made.

A record's lead is chosen by the one rule :func:`ecgseg.records.choose_channel` (the
database's lead II, else signal 0 with a note), the rule ``ecg segment`` follows.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ecgseg.errors import InputError, RecordError

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
RECORD_SUFFIXES = (".hea", ".dat", ".atr")
KINDS = ("record", "hdf5", "csv")
FALLBACK_DATABASE = "mitdb"
"""Conventions of a local record whose database neither its folder nor its lead II names
(with an explicit ``lead``): MIT-BIH's, labels from ``atr`` annotations when present."""
_REMOTE = re.compile(r"^(?P<db>[A-Za-z][\w-]*)/(?P<version>\d[\w.]*)/(?P<record>[^\s]+)$")


@dataclass(frozen=True)
class Source:
    """What INPUT is: ``kind`` ``"record"``, ``"hdf5"`` or ``"csv"``.

    Attributes
    ----------
    kind : str
    path : Path
        File, or record path without extension.
    name : str
        Record name (e.g. ``"208"``) or file stem.
    db : Database or None
        For a record: the database whose conventions apply (default lead, labels).
    lead : str or None
        For a record: the signal asked for (None: the database's lead II, by
        :func:`ecgseg.records.choose_channel`).
    downloaded : bool
        Whether the record was fetched in this run.
    """

    kind: str
    path: Path
    name: str
    db: Any = None
    lead: Optional[str] = None
    downloaded: bool = False


def resolve_input(spec: str | os.PathLike, *, data_dir=None, mirror: str | None = None,
                  lead: str | None = None, download: bool = True,
                  progress: bool = False) -> Source:
    """Work out what INPUT is; fetch a ``<db>/<version>/<record>`` record if missing.

    Parameters
    ----------
    spec : str or path
        ``path/to/208`` (with or without ``.hea``/``.dat``), ``mitdb/1.0.0/208``,
        ``beats.h5`` or ``rows.csv``.
    data_dir, mirror : optional
        Where ``<db>/<version>/<record>`` records live and where to fetch them from.
    lead : str, optional
        Signal to read instead of lead II.
    download : bool
        Fetch a missing ``<db>/<version>/<record>`` record (else raise).

    Raises
    ------
    InputError
        A missing HDF5 or CSV file.
    RecordError
        No such local record and not a ``<db>/<version>/<record>`` name; ``lead`` not
        in the record; a local record of no known database without ``lead``.
    DownloadError
        The record is not in the database, or cannot be fetched.

    Examples
    --------
    >>> resolve_input("no/such/beats.h5")
    Traceback (most recent call last):
    ...
    ecgseg.errors.InputError: no such file: no/such/beats.h5
    """
    from ecgseg.databases import DATABASES, get_database
    from ecgseg.download import download_database, missing_records

    text = str(spec)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES or suffix == ".csv":
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        return Source("hdf5" if suffix in HDF5_SUFFIXES else "csv", path, path.stem)
    if suffix in RECORD_SUFFIXES:
        path = path.with_suffix("")
    downloaded = False
    if Path(f"{path}.hea").is_file():
        name = path.name
        db = None
    else:
        m = _REMOTE.match(text.strip().rstrip("/"))
        if m is None or m["db"].lower() not in DATABASES:
            raise RecordError(
                f"no record {text}: {path}.hea not found, and it is not <db>/<version>/<record> "
                f"of a known database ({', '.join(f'{d.pn_dir}/...' for d in DATABASES.values())})")
        db = get_database(f"{m['db'].lower()}/{m['version']}")
        name = m["record"]
        if missing_records(db, [name], data_dir):
            if not download:
                raise RecordError(f"record {db.pn_dir}/{name} is not in "
                                  f"{db.local_dir(data_dir)} (run ecg download --db {db.name})")
            download_database(db, records=[name], data_dir=data_dir, mirror=mirror,
                              progress=progress)
            downloaded = True
        path = db.local_dir(data_dir) / name
    db, lead = record_conventions(path, db, lead)
    return Source("record", path, name, db=db, lead=lead, downloaded=downloaded)


def database_of_path(path: str | os.PathLike):
    """The database a record path lies in (``.../mitdb/1.0.0/102``), or None.

    Examples
    --------
    >>> database_of_path("data/physionet/mitdb/1.0.0/102").name
    'mitdb'
    >>> database_of_path("elsewhere/102") is None
    True
    """
    from ecgseg.databases import DATABASES

    parts = Path(os.path.abspath(path)).parts[:-1]
    for db in DATABASES.values():
        if any(parts[k:k + 2] == (db.name, db.version) for k in range(len(parts) - 1)):
            return db
    return None


def database_of_leads(names) -> Any:
    """The database whose lead II a record has (``MLII``: MIT-BIH, ``ii``: PTB; any case),
    or None."""
    from ecgseg.databases import DATABASES

    lower = {str(n).lower() for n in names}
    return next((db for db in DATABASES.values() if db.default_lead.lower() in lower), None)


def record_conventions(path: Path, db=None, lead: str | None = None) -> Tuple[Any, Optional[str]]:
    """The database whose conventions apply to a record, and the lead asked for.

    The database: ``db`` if given, else the one whose folder holds the record
    (:func:`database_of_path`), else the one whose lead II the record has
    (:func:`database_of_leads`). The lead is then chosen by
    :func:`ecgseg.records.choose_channel`, as ``ecg segment`` does: ``lead``, else the
    database's lead II, else signal 0 with a warning (MIT-BIH 102 and 104 have V5).

    Returns
    -------
    (Database, lead)
        ``lead`` as given (None: the rule above).

    Raises
    ------
    RecordError
        Bad header; ``lead`` not in the record; a record of no known database (neither
        its folder nor a lead II says) without ``lead``.
    """
    from ecgseg.databases import DATABASES, get_database
    from ecgseg.records import choose_channel, read_header

    header = read_header(path)
    names = [str(n) for n in header.sig_name]
    db = db or database_of_path(path) or database_of_leads(names)
    if db is None:
        if lead is None:
            leads = " or ".join(d.default_lead for d in DATABASES.values())
            raise RecordError(f"record {path.name} has no lead II ({leads}), which the model "
                              f"was trained on (it has {', '.join(names)}); choose one with --lead")
        db = get_database(FALLBACK_DATABASE)
    choose_channel(header, db, lead)  # raises for a lead the record lacks
    return db, lead


@dataclass(frozen=True)
class RecipeChoice:
    """How ``ecg predict`` cuts a raw record's beats for a checkpoint.

    Attributes
    ----------
    recipe : str
        A registered recipe (:func:`ecgseg.recipes.recipe_names`).
    params : Any
        Its parameters for the record's database.
    note : str
        '' when the recipe is the one the checkpoint's training beats were made with,
        else one line saying what was assumed.
    """

    recipe: str
    params: Any
    note: str = ""


def trained_recipe(meta: dict) -> Tuple[Optional[str], str]:
    """The recipe a checkpoint's training beats were made with, from its data provenance.

    Returns
    -------
    (recipe or None, how)
        ``how``: ``"hdf5"`` (recorded by ``ecg segment``), ``"csv"`` (Kaggle-format CSV:
        the Kaggle recipe is assumed, as the published files were made), or ``"unknown"``
        (no provenance; None is returned).

    Examples
    --------
    >>> trained_recipe({"training": {"data_sources": [{"format": "hdf5", "recipe": "kaggle"}]}})
    ('kaggle', 'hdf5')
    >>> trained_recipe({"training": {"data_sources": [{"format": "csv"}]}})
    ('kaggle', 'csv')
    >>> trained_recipe({})
    (None, 'unknown')
    """
    sources = (meta.get("training") or {}).get("data_sources")
    if not sources:
        return None, "unknown"
    recipes = {s.get("recipe") for s in sources if s.get("format") == "hdf5"}
    if recipes == {"paper"} and all(s.get("format") == "hdf5" for s in sources):
        return "paper", "hdf5"
    if "kaggle" in recipes:
        return "kaggle", "hdf5"
    if recipes - {None}:
        return sorted(recipes - {None})[0], "hdf5"
    return "kaggle", "csv"


def choose_recipe(meta: dict, db, overrides: Optional[Dict[str, Any]] = None,
                  recipe: Optional[str] = None) -> RecipeChoice:
    """The recipe (and its parameters) to cut a raw record's beats with for a checkpoint.

    The recipe the checkpoint's training beats were made with (:func:`trained_recipe`),
    with the parameters they were cut with (:func:`trained_params`: e.g. the Kaggle
    recipe's ``snap_peaks``, for the detected and the reference peaks alike),
    unless ``recipe`` names another (then the note says the beats differ from training).
    A checkpoint without provenance gets the paper recipe's defaults, with a note.

    Parameters
    ----------
    meta : dict
        The checkpoint's metadata (:func:`ecgnet.checkpoint.load_model`).
    db : str or Database
        The record's database (the Kaggle recipe differs per database).
    overrides : dict, optional
        Paper-recipe parameters (``fs``, ``threshold``, ``window_s``, ``length``); None values
        are ignored.
    recipe : str, optional
        Force a recipe.

    Raises
    ------
    InputError
        An override for a recipe that does not take it (the message names it), an unknown
        recipe.

    Examples
    --------
    >>> kaggle = {"training": {"data_sources": [{"format": "hdf5", "recipe": "kaggle", "fs": 120.0}]}}
    >>> choose_recipe(kaggle, "mitdb")
    RecipeChoice(recipe='kaggle', params=KaggleMitdbParams(snap_peaks=False), note='')
    """
    from ecgseg.errors import EcgError
    from ecgseg.recipes import get_recipe

    trained, how = trained_recipe(meta)
    try:
        chosen = get_recipe(recipe or trained or "paper").name
    except EcgError as exc:
        raise InputError(str(exc)) from None
    if chosen == "paper":
        params, note = recipe_params(meta, overrides)
        if trained != "paper" and trained is not None and recipe is not None:
            note = (f"the model was trained on {trained}-recipe beats; these are cut with the "
                    "paper recipe as asked: expect some mismatch")
        return RecipeChoice("paper", params, note)
    given = sorted(k for k, v in (overrides or {}).items() if v is not None)
    if given:
        raise InputError(f"{', '.join(given)} applies to the paper recipe only; this "
                         f"checkpoint's beats are cut with the {chosen} recipe")
    note = ""
    if how == "csv" and recipe is None:
        note = ("the model was trained on Kaggle-format CSV beats, whose recipe the checkpoint "
                "cannot know: cutting beats the Kaggle way (120 Hz, this R peak to the next, "
                "per-beat min-max), as the published files were made")
    elif trained is not None and trained != chosen:
        note = (f"the model was trained on {trained}-recipe beats; these are cut with the "
                f"{chosen} recipe as asked: expect some mismatch")
    elif trained is None:
        note = (f"the checkpoint does not record how its training beats were made: cutting "
                f"them with the {chosen} recipe as asked")
    params, differ = trained_params(meta, chosen, db)
    if differ and not note:
        note = "training files differ in recipe parameters: using those of the first"
    return RecipeChoice(chosen, params, note)


def trained_params(meta: dict, recipe: str, db) -> Tuple[Any, bool]:
    """The parameters of ``recipe`` on ``db`` the checkpoint's training beats were cut with.

    Every field of the recipe's parameter object (:meth:`ecgseg.recipes.Recipe.params_type`)
    that the training HDF5 files of this recipe recorded (``params`` of their provenance,
    e.g. ``snap_peaks`` of the Kaggle MIT-BIH recipe) is taken from the first of them; the
    others keep their defaults, as do checkpoints from before a field existed.

    Returns
    -------
    (params or None, differ)
        ``differ``: the training files recorded different values.

    Examples
    --------
    >>> meta = {"training": {"data_sources": [{"format": "hdf5", "recipe": "kaggle",
    ...                                         "params": {"snap_peaks": True, "lead": None}}]}}
    >>> trained_params(meta, "kaggle", "mitdb")
    (KaggleMitdbParams(snap_peaks=True), False)
    >>> trained_params({}, "kaggle", "mitdb")
    (KaggleMitdbParams(snap_peaks=False), False)
    """
    from ecgseg.recipes import get_recipe
    from ecgseg.recipes.params import override_params

    default = get_recipe(recipe).default_params(db)
    if default is None:
        return None, False
    fields = {f.name for f in dataclasses.fields(default)}
    sources = (meta.get("training") or {}).get("data_sources") or []
    recorded = [{k: v for k, v in (s.get("params") or {}).items() if k in fields}
                for s in sources if s.get("format") == "hdf5" and s.get("recipe") == recipe]
    if not recorded:
        return default, False
    differ = any(r != recorded[0] for r in recorded[1:])
    try:
        return override_params(default, recorded[0], what=f"{recipe}-recipe"), differ
    except InputError:  # values this version refuses: the defaults
        return default, differ


def recipe_params(meta: dict, overrides: Optional[Dict[str, Any]] = None):
    """Paper-recipe parameters for a checkpoint, and a note on where they come from.

    Returns
    -------
    (PaperParams, note)
        ``note`` is '' when the checkpoint's training beats were made with the paper
        recipe (their parameters are used), else one line saying what was assumed.
    """
    from ecgseg.recipes.paper import PaperParams
    from ecgseg.recipes.params import override_params

    sources = (meta.get("training") or {}).get("data_sources")
    fields = {f.name for f in dataclasses.fields(PaperParams)}
    base: Dict[str, Any] = {}
    note = ""
    if not sources:
        note = ("the checkpoint does not record how its training beats were made: "
                "segmenting with the paper recipe's defaults (125 Hz)")
    else:
        recipes = {(s.get("recipe") or s.get("format")) for s in sources}
        if recipes == {"paper"}:
            params = [s.get("params") or {} for s in sources]
            base = {k: v for k, v in params[0].items() if k in fields}
            if any({k: v for k, v in p.items() if k in fields} != base for p in params[1:]):
                note = "training files differ in recipe parameters: using those of the first"
        elif "kaggle" in recipes:
            fs = sorted({float(s["fs"]) for s in sources if s.get("fs")})
            note = (f"the model was trained on Kaggle-recipe beats ("
                    f"{', '.join(f'{f:g}' for f in fs) or '?'} Hz, cut at annotations); these "
                    f"beats come from the paper recipe (125 Hz, own R peaks): expect some mismatch")
        else:
            note = ("the model was trained on Kaggle-format CSV beats, whose recipe the "
                    "checkpoint cannot know: segmenting with the paper recipe's defaults "
                    "(125 Hz; the published Kaggle beats are 120 Hz, cut at annotations)")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return override_params(PaperParams(), {**base, **given}, what="paper-recipe"), note


__all__ = ["FALLBACK_DATABASE", "HDF5_SUFFIXES", "RecipeChoice", "Source", "choose_recipe",
           "trained_params", "trained_recipe", "database_of_leads",
           "database_of_path", "recipe_params", "record_conventions", "resolve_input"]
