"""Keep ``ecg bench`` (:mod:`ecgseg.bench`, also ``benchmarks/segment_speed.py``) working:
2 records, 1 round.

No timing is asserted: only that every part ran and the report has its rows.
"""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import run_ecg


def test_benchmark_runs_on_two_records_and_writes_its_report(session_data_dir, tmp_path):
    peers = importlib.util.find_spec("neurokit2") is not None
    args = ["--records", "2", "--repeat", "1", "--long-hours", "1",
            "--data-dir", str(session_data_dir), "--out", str(tmp_path)]
    args += ["--peer-records", "1", "--peer-seconds", "20"] if peers else ["--skip-peers"]
    assert run_ecg(["bench"] + args) == 0

    text = (tmp_path / "RESULTS.md").read_text()
    png = (tmp_path / "segment_speed.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for row in ["I/O floor: wfdb rdrecord (lead) + rdann (atr)", "of which rdrecord",
                "of which rdann", "ecg segment --recipe paper, 1 worker",
                "ecg segment --recipe kaggle", "fresh process", "NumPy reference",
                "kernels only", "Kaggle MIT-BIH recipe in memory"]:
        assert row in text, row
    if peers:
        assert "neurokit2 ecg_peaks + ecg_segment" in text
        assert "wfdb xqrs_detect + crop" in text
    assert "outputs identical" in text
    assert "1 synthetic record (long1h)" in text and "seconds per hour of ECG" in text
    assert "peak RSS" in text
    assert "ecg bench --records 2 --repeat 1" in text
    assert "| end to end, all cores, <= 1.5 x the I/O floor |" in text
    assert "workers, fresh process (interpreter + imports)" in text
    assert "fresh `ecg segment` process <= 1.5 x wfdb reading the records" in text


def test_bench_without_its_extras_is_a_clear_error(monkeypatch, capsys):
    from ecgseg.bench import segment_speed

    real = importlib.util.find_spec
    monkeypatch.setattr(segment_speed.importlib.util, "find_spec",
                        lambda name, *a: None if name == "psutil" else real(name, *a))
    assert run_ecg(["bench", "--quick", "--skip-peers"]) == 1
    err = capsys.readouterr().err
    assert "the benchmark needs psutil" in err and "ecg-toolkit[bench]" in err


def test_fresh_processes_import_the_same_code_as_this_process(tmp_path):
    """The launcher puts the folders holding ``ecgseg`` and the CLI first on the
    child's PYTHONPATH, so a fresh ``ecg segment`` runs this copy, not another install."""
    import subprocess
    import sys
    from pathlib import Path

    import ecgseg
    from ecg_cli import bench_cmd
    from ecgseg.bench.cases import Launcher

    launcher = Launcher.for_module(bench_cmd.CLI_MODULE)
    assert launcher.module == "ecg_cli.main"
    code = "import ecgseg, ecg_cli.main; print(ecgseg.__file__); print(ecg_cli.main.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=launcher.env(), cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert Path(out[0]).resolve() == Path(ecgseg.__file__).resolve()
    assert Path(out[1]).resolve() == Path(bench_cmd.__file__).resolve().with_name("main.py")


def test_the_package_never_edits_sys_path():
    from pathlib import Path

    import ecgseg

    root = Path(ecgseg.__file__).resolve().parents[1]
    offenders = [str(f.relative_to(root)) for pkg in ("ecgseg", "ecgnet", "cli", "benchmarks")
                 for f in (root / pkg).rglob("*.py") if "sys.path" in f.read_text()]
    assert offenders == []


@pytest.mark.parametrize("argv", [["--repeat", "0"]])
def test_bad_options_exit_with_usage(argv):
    from ecgseg.bench.segment_speed import parse_args

    with pytest.raises(SystemExit):
        parse_args(argv)


def test_default_output_is_the_data_dir_not_the_tracked_results(tmp_path):
    from ecgseg.bench.segment_speed import parse_args

    assert parse_args(["--data-dir", str(tmp_path)]).out == tmp_path / "bench"
    assert parse_args([], default_out=tmp_path / "x").out == tmp_path / "x"


def test_detector_bench_scores_both_ways_and_per_record(mitdb_dir, on_full_mirror, tmp_path):
    # qrs only, on 207: the EC57 columns leave 207's flutter episodes out
    from ecgseg.bench.detectors import main

    out = tmp_path / "DET.md"
    main(["--records", "207", "--skip", "sleepecg,neurokit2,xqrs,paper", "--repeat", "1",
          "--records-table", "--mitdb", str(mitdb_dir), "--out", str(out)])
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| qrs |")).split("|")
    header = next(line for line in text.splitlines() if line.startswith("| detector |")).split("|")
    col = {name.strip(): i for i, name in enumerate(header)}
    plain, ec57 = float(row[col["+P %"]]), float(row[col["EC57 +P %"]])
    assert plain < 95.0 < 99.0 < ec57  # 207's ~370 flutter waves counted, then left out
    # 207: FN 1 (one small PVC that the per-candidate search-back lowering took back,
    # before searchback_step_s), FP 293 counting the flutter waves; the shipped record's
    # 5 minutes: FN 0, FP 40
    assert ("| 207 | 1/" if on_full_mirror else "| 207 | 0/40 |") in text
    assert "Per record, FN/FP" in text


def test_sigterm_ends_the_bench_and_the_ecg_segment_it_started(session_data_dir, tmp_path):
    """``kill`` of ``ecg bench`` alone (not its group): exit 143, no traceback, and the fresh
    ``ecg segment`` it was timing does not outlive it (it used to run on, orphaned)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from .fault_helpers import RUN_TIMEOUT_S, env, group, no_traceback, wait_group_gone

    def segment_child(pgid: int) -> bool:
        for pid in group(pgid):
            try:
                if b"segment" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                    return pid != pgid
            except OSError:
                pass
        return False

    proc = subprocess.Popen(
        [sys.executable, "-m", "ecg_cli.main", "bench", "--records", "2", "--repeat", "1",
         "--long-hours", "1", "--skip-peers", "--data-dir", str(session_data_dir),
         "--out", str(tmp_path / "out")], env=env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not segment_child(proc.pid):
            assert proc.poll() is None, f"ended ({proc.returncode}) before it ran ecg segment"
            assert time.monotonic() < deadline, "no ecg segment child in time"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    no_traceback(err)
    assert wait_group_gone(proc.pid) == []
    assert not (tmp_path / "out" / "RESULTS.md").exists()
