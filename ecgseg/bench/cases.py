"""What the segmentation benchmark times: the records in memory, the peers, the long
record, fresh ``ecg`` processes and their RSS.

Every timed case is a zero-argument callable; :mod:`ecgseg.bench.segment_speed` runs
them interleaved and keeps the median. Nothing here prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import wfdb

from ..databases import get_database
from ..records import read_lead

FS = 360.0


@dataclass
class Case:
    """One timed method.

    Attributes
    ----------
    key : str
        Short identifier (used by the report).
    label : str
        Method, as shown in the table.
    run : callable
        Does the work once; its return value is ignored.
    samples : int
        Input samples processed per run (at the rate of the input: 360 Hz records,
        125 Hz for the kernels-only rows).
    records : int
        Records per run.
    once : bool
        Run in the first round only (the slow peers).
    group : str
        Section of the table.
    """

    key: str
    label: str
    run: Callable[[], object] | None
    samples: int
    records: int
    once: bool = False
    group: str = ""
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Median wall time of the runs, s (NaN when not run)."""
        return float(np.median(self.times)) if self.times else float("nan")

    @property
    def cpu_seconds(self) -> float:
        """Median CPU time of the runs (this process and its workers), s."""
        return float(np.median(self.cpu)) if self.cpu else float("nan")


def cpu_now(children_only: bool = False) -> float:
    """CPU seconds (user + system) used so far by this process and its waited-for children."""
    import resource

    total = 0.0
    who = [resource.RUSAGE_CHILDREN] + ([] if children_only else [resource.RUSAGE_SELF])
    for w in who:
        ru = resource.getrusage(w)
        total += ru.ru_utime + ru.ru_stime
    return total


@dataclass
class Records:
    """The benchmark's records, read once (outside any timing).

    Attributes
    ----------
    names : list of str
        Record names, ``RECORDS`` order.
    paths : list of str
        Record paths without extension.
    channels : list of int
        Channel of the lead the paper recipe reads (MLII, else signal 0).
    mlii : list of np.ndarray
        float64 (650000,): that lead in mV, as :func:`ecgseg.records.read_lead` gives it.
    adc0 : list of np.ndarray
        int64 (650000,): signal 0 in ADC units (Kaggle recipe input).
    ann : list of tuple
        ``(sample int64 (a,), symbol str (a,))``: every ``atr`` annotation.
    """

    names: list[str]
    paths: list[str]
    channels: list[int]
    mlii: list[np.ndarray]
    adc0: list[np.ndarray]
    ann: list[tuple[np.ndarray, np.ndarray]]

    @property
    def samples(self) -> int:
        """Input samples of the lead over all records."""
        return int(sum(x.shape[0] for x in self.mlii))


def load_records(data_dir: Path, names: list[str]) -> Records:
    """Read the records' lead, signal 0 and annotations into memory."""
    db = get_database("mitdb")
    paths, channels, mlii, adc0, ann = [], [], [], [], []
    for name in names:
        path = str(db.local_dir(data_dir) / name)
        lead = read_lead(path, db)
        a = wfdb.rdann(path, "atr")
        paths.append(path)
        channels.append(lead.channel)
        mlii.append(lead.signal)
        adc0.append(read_lead(path, db, physical=False, channel=0).signal)
        ann.append((np.asarray(a.sample, np.int64), np.asarray(a.symbol, dtype=str)))
    return Records(list(names), paths, channels, mlii, adc0, ann)


# --- I/O floor -------------------------------------------------------------------------

def read_floor(recs: Records, parts: dict[str, list[float]] | None = None) -> None:
    """Read the lead and the ``atr`` annotations of every record with wfdb, nothing else.

    ``parts`` collects the time of the two halves, s: ``rdrecord`` (record decoding,
    header included) and ``rdann`` (annotation parsing).
    """
    t_rec = t_ann = 0.0
    for path, ch in zip(recs.paths, recs.channels):
        t0 = time.perf_counter()
        wfdb.rdrecord(path, channels=[ch], return_res=64)
        t1 = time.perf_counter()
        wfdb.rdann(path, "atr")
        t_rec += t1 - t0
        t_ann += time.perf_counter() - t1
    if parts is not None:
        parts.setdefault("rdrecord", []).append(t_rec)
        parts.setdefault("rdann", []).append(t_ann)


def _read_one(args: tuple[str, int]) -> None:
    wfdb.rdrecord(args[0], channels=[args[1]], return_res=64)
    wfdb.rdann(args[0], "atr")


def read_floor_parallel(recs: Records, workers: int) -> None:
    """The I/O floor spread over ``workers`` forked processes (pool start-up included)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_read_one, zip(recs.paths, recs.channels)))


# --- peers -----------------------------------------------------------------------------

def peer_neurokit(recs: Records, n_records: int, seconds: float | None) -> None:
    """neurokit2 as a user would: read the lead (wfdb), ``ecg_peaks``, ``ecg_segment``."""
    import neurokit2 as nk

    for path, ch in zip(recs.paths[:n_records], recs.channels[:n_records]):
        sig = _read_peer_lead(path, ch, seconds)
        _, info = nk.ecg_peaks(sig, sampling_rate=int(FS))
        nk.ecg_segment(sig, rpeaks=info["ECG_R_Peaks"], sampling_rate=int(FS))


def peer_xqrs(recs: Records, n_records: int, seconds: float | None) -> None:
    """wfdb's own detector: read the lead, ``xqrs_detect``, crop 0.25 s before to 0.45 s
    after each R peak (one NumPy gather)."""
    from wfdb.processing import xqrs_detect

    before, after = int(0.25 * FS), int(0.45 * FS)
    for path, ch in zip(recs.paths[:n_records], recs.channels[:n_records]):
        sig = _read_peer_lead(path, ch, seconds)
        peaks = np.asarray(xqrs_detect(sig, fs=FS, verbose=False), dtype=np.int64)
        peaks = peaks[(peaks >= before) & (peaks + after <= sig.shape[0])]
        sig[peaks[:, None] + np.arange(-before, after)].astype(np.float32)


def _read_peer_lead(path: str, ch: int, seconds: float | None) -> np.ndarray:
    sampto = None if seconds is None else int(seconds * FS)
    rec = wfdb.rdrecord(path, channels=[ch], sampto=sampto, return_res=64)
    return np.ascontiguousarray(rec.p_signal[:, 0])


def warm_peers() -> None:
    """Import the peers and run them once on 10 s of synthetic ECG (not timed)."""
    import neurokit2 as nk
    from wfdb.processing import xqrs_detect

    sig = nk.ecg_simulate(duration=10, sampling_rate=int(FS), random_state=0)
    _, info = nk.ecg_peaks(sig, sampling_rate=int(FS))
    nk.ecg_segment(sig, rpeaks=info["ECG_R_Peaks"], sampling_rate=int(FS))
    xqrs_detect(sig, fs=FS, verbose=False)


# --- the long synthetic record ---------------------------------------------------------

def write_long_record(recs: Records, hours: float, folder: Path) -> tuple[Path, str, int]:
    """Concatenate the records' leads (cyclically, whole records) to ``hours`` of ECG.

    Writes one MIT-BIH-like record (``MLII``, format 212, 200 adu/mV, baseline 1024,
    360 Hz) with its concatenated ``atr`` annotations under
    ``folder/physionet/mitdb/1.0.0/``, so that ``segment_database(data_dir=folder)``
    reads it like any record.

    Returns
    -------
    (data_dir, record_name, samples)
    """
    db = get_database("mitdb")
    local = db.local_dir(folder)
    local.mkdir(parents=True, exist_ok=True)
    need = int(round(hours * 3600 * FS))
    parts, samples, symbols, total, i = [], [], [], 0, 0
    while total < need:
        k = i % len(recs.names)
        rec = wfdb.rdrecord(recs.paths[k], channels=[recs.channels[k]], physical=False)
        parts.append(rec.d_signal[:, 0].astype(np.int64))
        samples.append(recs.ann[k][0] + total)
        symbols.extend(recs.ann[k][1].tolist())
        total += rec.d_signal.shape[0]
        i += 1
    name = f"long{int(round(hours))}h"
    d = np.concatenate(parts)[:, None]
    wfdb.wrsamp(name, fs=FS, units=["mV"], sig_name=["MLII"], d_signal=d, fmt=["212"],
                adc_gain=[200.0], baseline=[1024], write_dir=str(local))
    wfdb.wrann(name, "atr", np.concatenate(samples), symbol=symbols, write_dir=str(local))
    return folder, name, int(total)


# --- fresh processes: start-up cost and peak RSS ---------------------------------------

@dataclass
class ProcessRun:
    """A fresh ``ecg segment`` process, watched.

    Attributes
    ----------
    records : int
        Records segmented.
    seconds : float
        Wall time of the process, s (interpreter, imports and kernels included).
    cpu_seconds : float
        CPU time of the process and its workers, s.
    peak_tree_mb : float
        Largest sum of RSS over the process and its workers, MB (pages shared
        copy-on-write after fork are counted once per process).
    peak_process_mb : float
        Largest RSS of any single process of the tree, MB.
    """

    records: int
    seconds: float
    cpu_seconds: float
    peak_tree_mb: float
    peak_process_mb: float


@dataclass(frozen=True)
class Launcher:
    """Starts fresh ``ecg`` processes that run the same code as this process.

    Attributes
    ----------
    module : str
        The CLI module, run as ``python -m <module>`` (``ecg_cli.main``).
    pythonpath : tuple of str
        Folders the child needs on its path to import that module and :mod:`ecgseg`
        from the same place as this process (a source checkout, or site-packages);
        passed through ``PYTHONPATH``, this process's own path is left alone.
    """

    module: str
    pythonpath: tuple[str, ...]

    @classmethod
    def for_module(cls, module: str) -> "Launcher":
        """A launcher for ``module``, importing it and ``ecgseg`` as this process does.

        Examples
        --------
        >>> Launcher.for_module("ecgseg.pipeline").module
        'ecgseg.pipeline'
        """
        import importlib.util

        import ecgseg

        roots = [Path(ecgseg.__file__).resolve().parents[1]]
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            depth = module.count(".") + (1 if spec.origin.endswith("__init__.py") else 0)
            roots.append(Path(spec.origin).resolve().parents[depth])
        return cls(module, tuple(dict.fromkeys(str(r) for r in roots)))

    def env(self) -> dict[str, str]:
        """This process's environment with :attr:`pythonpath` first on ``PYTHONPATH``."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*self.pythonpath, env.get("PYTHONPATH", "")]
                                            ).rstrip(os.pathsep)
        return env

    def startup_seconds(self) -> float:
        """Wall time of a fresh interpreter importing the CLI and loading the paper kernels, s."""
        code = (f"import {self.module}, ecgseg.pipeline; from ecgseg.pipeline import warm_up; "
                "from ecgseg.numba_start import start_numba_without_blas; "
                "start_numba_without_blas(); warm_up('paper')")  # as ecg segment starts
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=self.env())
        return time.perf_counter() - t0

    def segment_command(self, data_dir: Path, names: list[str], out: Path,
                        workers: int) -> list[str]:
        """The ``ecg segment`` command line (``python -m <module> segment ...``)."""
        return [sys.executable, "-m", self.module, "segment", "--db", "mitdb", "--records",
                ",".join(names), "--data-dir", str(data_dir), "--out", str(out),
                "--overwrite", "--quiet", "--workers", str(workers)]

    def run_segment(self, data_dir: Path, names: list[str], out: Path, workers: int,
                    interval: float = 0.01, watch: bool = True) -> ProcessRun:
        """Run a fresh ``ecg segment`` on ``names``; with ``watch``, poll its tree's RSS
        (psutil) every ``interval`` s (without: RSS fields are NaN)."""
        cmd = self.segment_command(data_dir, names, out, workers)
        t0, c0 = time.perf_counter(), cpu_now(children_only=True)
        proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        tree = single = float("nan")
        try:
            if watch:
                tree, single = _watch_rss(proc, interval)
            _, err = proc.communicate()
        except BaseException:  # Ctrl-C, SIGTERM (ecg bench): the child ends with us
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"ecg segment failed ({proc.returncode}): "
                               f"{err.decode(errors='replace').strip()}")
        return ProcessRun(len(names), seconds, cpu_now(children_only=True) - c0, tree / 1e6,
                          single / 1e6)


def _watch_rss(proc: subprocess.Popen, interval: float) -> tuple[float, float]:
    """Largest RSS sum over the process tree and largest single RSS, bytes, until exit."""
    import psutil

    ps = psutil.Process(proc.pid)
    tree = single = 0
    while proc.poll() is None:
        try:
            rss = [p.memory_info().rss for p in [ps] + ps.children(recursive=True)]
        except psutil.Error:
            rss = []
        tree = max(tree, sum(rss))
        single = max([single] + rss)
        time.sleep(interval)
    return float(tree), float(single)
