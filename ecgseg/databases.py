"""The PhysioNet databases the toolkit knows: where their files live and what differs per database.

Everything that depends on *which* database a record comes from is a field of its
:class:`Database` entry (one place each): the default lead, the class names of its
task, a record's patient, how beats are labelled, whether it has reference beat
annotations, and which records the Kaggle recipe uses. Adding a database is one new
:class:`Database` entry passed to :func:`register_database`.

Local layout mirrors PhysioNet's ``files/`` tree under ``<data_dir>/physionet/``, e.g.
``data/physionet/mitdb/1.0.0/100.dat`` and
``data/physionet/ptbdb/1.0.0/patient001/s0010_re.hea``.

Examples
--------
>>> db = get_database("mitdb")
>>> db.pn_dir, db.default_lead, db.class_names, db.patient("202")
('mitdb/1.0.0', 'MLII', ('N', 'S', 'V', 'F', 'Q'), '201')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .config import data_dir as _data_dir
from .errors import EcgError
from .labels import AAMI_CLASSES, MI_CLASSES
from .record_splits import mitdb_patient, ptbdb_patient


def _label_by_annotations(db: "Database", record: str, sample, lead, annotations,
                          tolerance_s: float):
    from .labelling import label_by_annotations

    return label_by_annotations(record, sample, lead.fs, annotations, tolerance_s)


def _label_by_diagnosis(db: "Database", record: str, sample, lead, annotations,
                        tolerance_s: float):
    from .labelling import label_by_diagnosis
    from .records import ptb_diagnosis

    return label_by_diagnosis(len(sample), ptb_diagnosis(lead))


def _all_records(db: "Database", names: Sequence[str], data_dir=None,
                 choice: str = "last") -> list[str]:
    return list(names)


def _one_record_per_task_patient(db: "Database", names: Sequence[str], data_dir=None,
                                 choice: str = "last") -> list[str]:
    from .records import ptb_diagnosis, read_header, record_path

    diagnoses = {n: ptb_diagnosis(read_header(record_path(db, n, data_dir))) for n in names}
    return select_kaggle_ptb_records(names, diagnoses, choice)


def select_kaggle_ptb_records(names: Sequence[str], diagnoses: dict[str, str],
                              choice: str = "last") -> list[str]:
    """Records the Kaggle PTB recipe uses: HC/MI patients, one record each (or all).

    Parameters
    ----------
    names : sequence of str
        Record names (``patientNNN/sXXXX``) in ``RECORDS`` order.
    diagnoses : dict
        Record name -> ``Reason for admission``.
    choice : {"last", "first", "all"}
        Which record of each patient.

    Examples
    --------
    >>> select_kaggle_ptb_records(["p1/a", "p1/b", "p2/c"],
    ...                           {"p1/a": "Healthy control", "p1/b": "Healthy control",
    ...                            "p2/c": "Myocarditis"})
    ['p1/b']
    """
    from .labelling import ptb_label

    if choice not in ("last", "first", "all"):
        raise EcgError(f"record_choice must be last, first or all, got {choice!r}")
    by_patient: dict[str, list[str]] = {}
    for name in names:
        if ptb_label(diagnoses.get(name, "")) >= 0:
            by_patient.setdefault(ptbdb_patient(name), []).append(name)
    if choice == "all":
        return [n for recs in by_patient.values() for n in recs]
    pick = -1 if choice == "last" else 0
    keep = {recs[pick] for recs in by_patient.values()}
    return [n for n in names if n in keep]


@dataclass(frozen=True)
class Database:
    """A versioned PhysioNet database and its conventions.

    Attributes
    ----------
    name : str
        PhysioNet slug, e.g. ``"mitdb"``.
    version : str
        Release, e.g. ``"1.0.0"``.
    record_files : tuple of str
        File extensions that make up one record (what ``ecg download`` fetches).
    index_files : tuple of str
        Database-level files fetched besides the records (``RECORDS`` ...).
    default_lead : str
        Signal name of the paper's lead (lead II).
    class_names : tuple of str
        Names of the label ids 0, 1, ... of its task.
    annotation_extension : str or None
        Extension of the reference beat annotations (``"atr"``), None when it has none.
    patient_of : callable
        ``patient_of(record) -> str``: patient id of a record.
    labeller : callable
        ``labeller(db, record, sample, lead, annotations, tolerance_s) -> Labelling``:
        labels of beats at ``sample`` (see :mod:`ecgseg.labelling`).
    record_chooser : callable
        ``record_chooser(db, names, data_dir, choice) -> list``: the records the Kaggle
        recipe uses (PTB: one record per healthy-control or MI patient).
    """

    name: str
    version: str
    record_files: tuple[str, ...]
    index_files: tuple[str, ...]
    default_lead: str
    class_names: tuple[str, ...]
    annotation_extension: str | None
    patient_of: Callable[[str], str] = field(repr=False)
    labeller: Callable = field(repr=False)
    record_chooser: Callable = field(default=_all_records, repr=False)

    @property
    def pn_dir(self) -> str:
        """Versioned PhysioNet path, e.g. ``"mitdb/1.0.0"``."""
        return f"{self.name}/{self.version}"

    def local_dir(self, data_dir: str | Path | None = None) -> Path:
        """Folder holding this database's files under the data folder."""
        return _data_dir(data_dir) / "physionet" / self.name / self.version

    def patient(self, record: str) -> str:
        """Patient id of ``record`` (MIT-BIH 202 -> 201; PTB: its folder)."""
        return self.patient_of(record)

    def read_reference(self, path: str | Path):
        """The record's reference annotations, or None (none in this database, or no file).

        Raises
        ------
        RecordError
            The annotation file exists but does not parse.
        """
        if self.annotation_extension is None:
            return None
        from .records import read_annotations

        return read_annotations(path, self.annotation_extension)

    def label(self, record: str, sample, lead, annotations, tolerance_s: float = 0.15):
        """Labels of a record's beats at ``sample`` (original samples); see :attr:`labeller`."""
        return self.labeller(self, record, sample, lead, annotations, tolerance_s)

    def kaggle_records(self, names: Sequence[str], data_dir=None,
                       choice: str = "last") -> list[str]:
        """The records of ``names`` the Kaggle recipe uses (``choice``: last, first or all)."""
        return self.record_chooser(self, names, data_dir, choice)


DATABASES: dict[str, Database] = {}


def register_database(db: Database) -> Database:
    """Make ``db`` known to :func:`get_database` (and ``--db``); returns it."""
    DATABASES[db.name] = db
    return db


register_database(Database(
    name="mitdb", version="1.0.0", record_files=("hea", "dat", "atr"),
    index_files=("RECORDS", "ANNOTATORS"), default_lead="MLII",
    class_names=AAMI_CLASSES, annotation_extension="atr", patient_of=mitdb_patient,
    labeller=_label_by_annotations))
register_database(Database(
    name="ptbdb", version="1.0.0", record_files=("hea", "dat", "xyz"),
    index_files=("RECORDS",), default_lead="ii", class_names=MI_CLASSES,
    annotation_extension=None, patient_of=ptbdb_patient, labeller=_label_by_diagnosis,
    record_chooser=_one_record_per_task_patient))


def get_database(name: "str | Database") -> Database:
    """Look a database up by name (``"mitdb"`` or ``"ptbdb"``; ``"mitdb/1.0.0"`` works too).

    A :class:`Database` is returned as is.

    Raises
    ------
    EcgError
        If the name is not one the toolkit knows (the message names ``db`` and the choices).

    Examples
    --------
    >>> get_database("ptbdb/1.0.0").default_lead
    'ii'
    """
    if isinstance(name, Database):
        return name
    key = name.strip().split("/")[0].lower()
    if key not in DATABASES:
        known = ", ".join(sorted(DATABASES))
        raise EcgError(f"unknown database {name!r}: choose one of {known}")
    db = DATABASES[key]
    if "/" in name and name.strip().split("/", 1)[1] != db.version:
        raise EcgError(f"unsupported version {name!r}: the toolkit knows {db.pn_dir}")
    return db
