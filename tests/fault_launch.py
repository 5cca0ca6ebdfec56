"""Run ``ecg ARGS`` with test-only fault hooks, so that a signal lands at a chosen point.

Used by the fault-injection tests (``tests/test_faults_*.py``) instead of sleeps that
race: the command runs unchanged, except that at the chosen point it *pauses* (writes
the marker file named by ``ECG_FAULT_PAUSED``, then waits in the main thread) until the
test sends its signal (or removes the marker: then it carries on), or each record of ``ecg segment`` takes a fixed time longer so
that a signal always finds the run in the middle.

Usage (the hooks in ``ECG_FAULT``, ``;``-separated)::

    ECG_FAULT="pause-after-replace:last.pt:1" ECG_FAULT_PAUSED=/tmp/m \\
        python tests/fault_launch.py train small.csv --epochs 3 ...

Hooks
-----
``pause-before-replace:NAME:N``
    At the N-th atomic write of a file named NAME, when its temporary file is complete
    and not yet renamed (``os.replace`` of :func:`ecgseg.atomic.atomic_path`).
``pause-after-replace:NAME:N``
    Right after the N-th atomic write of a file named NAME is complete (renamed).
``pause-at-call:MODULE.FUNCTION:N``
    At the N-th call of a module-level function (e.g. ``ecgseg.kaggle_csv.format_rows``),
    before it runs.
``pause-at-batch:N``
    Before the N-th training batch of the run (counted over all epochs of this process).
``pause-mid-download:NAME``
    While downloading the file NAME: its temporary file holds the first half.
``slow-record:SECONDS``
    Each record of ``ecg segment`` takes SECONDS longer (in the worker processes too:
    they are forked with this hook in place).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def pause(why: str) -> None:
    """Tell the test (marker file) and wait in this thread until a signal ends us, or
    until the test removes the marker (then the command carries on)."""
    marker = os.environ.get("ECG_FAULT_PAUSED")
    if marker:
        tmp = f"{marker}.writing"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()} {why}\n")
        os.rename(tmp, marker)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if marker and not os.path.exists(marker):
            return
    raise SystemExit(f"fault_launch: nobody stopped the paused command ({why})")


def _hook_replace(name: str, nth: int, after: bool) -> None:
    original = os.replace
    seen = [0]

    def replace(src, dst, *args, **kwargs):
        hit = False
        if Path(os.fsdecode(dst)).name == name:
            seen[0] += 1
            hit = seen[0] == nth
        if hit and not after:
            pause(f"before replace {name} #{nth}")
        result = original(src, dst, *args, **kwargs)
        if hit and after:
            pause(f"after replace {name} #{nth}")
        return result

    os.replace = replace


def _hook_call(qualified: str, nth: int) -> None:
    import functools
    import importlib

    module_name, _, function = qualified.rpartition(".")
    module = importlib.import_module(module_name)
    original = getattr(module, function)
    seen = [0]

    @functools.wraps(original)
    def counted(*args, **kwargs):
        seen[0] += 1
        if seen[0] == nth:
            pause(f"call {nth} of {qualified}")
        return original(*args, **kwargs)

    setattr(module, function, counted)


def _hook_batch(nth: int) -> None:
    import ecgnet.train as train_module

    original = train_module.train_epoch
    seen = [0]

    def counted(batches):
        for start in batches:
            seen[0] += 1
            if seen[0] == nth:
                pause(f"batch {nth}")
            yield start

    def train_epoch(run, iteration, beats, batches):
        return original(run, iteration, beats, counted(batches))

    train_module.train_epoch = train_epoch


def _hook_download(name: str) -> None:
    from ecgseg import download

    module = download._wfdb_download()  # wfdb.io.download, imported on first use
    original = module.dl_full_file

    def dl_full_file(url, path, *args, **kwargs):
        result = original(url, path, *args, **kwargs)
        if Path(url).name == name:  # keep the first half only: a download cut short
            size = os.path.getsize(path)
            os.truncate(path, size // 2)
            pause(f"download of {name} at {size // 2} of {size} bytes")
        return result

    module.dl_full_file = dl_full_file


def _hook_slow_record(seconds: float) -> None:
    import ecgseg.pipeline as pipeline

    original = pipeline._run

    def run(task, res):
        time.sleep(seconds)
        return original(task, res)

    pipeline._run = run


def install(spec: str) -> None:
    """Install the hooks of ``spec`` (see the module docstring)."""
    for item in filter(None, (s.strip() for s in spec.split(";"))):
        kind, _, rest = item.partition(":")
        if kind in ("pause-before-replace", "pause-after-replace"):
            name, nth = rest.rsplit(":", 1)
            _hook_replace(name, int(nth), after=kind == "pause-after-replace")
        elif kind == "pause-at-call":
            qualified, nth = rest.rsplit(":", 1)
            _hook_call(qualified, int(nth))
        elif kind == "pause-at-batch":
            _hook_batch(int(rest))
        elif kind == "pause-mid-download":
            _hook_download(rest)
        elif kind == "slow-record":
            _hook_slow_record(float(rest))
        else:
            raise SystemExit(f"fault_launch: unknown hook {item!r}")


if __name__ == "__main__":
    install(os.environ.get("ECG_FAULT", ""))
    from ecg_cli.main import main

    sys.argv = ["ecg", *sys.argv[1:]]
    main()
