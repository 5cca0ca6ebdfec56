"""Keep ``benchmarks/segment_speed.py`` (``ecg bench``) working: 2 records, 1 round.

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


def test_bench_without_checkout_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from cli import bench_cmd

    monkeypatch.setattr(bench_cmd, "SCRIPT", tmp_path / "segment_speed.py")
    assert run_ecg(["bench", "--quick"]) == 1
    assert "needs the source checkout" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--repeat", "0"]])
def test_bad_options_exit_with_usage(argv):
    from benchmarks.segment_speed import parse_args

    with pytest.raises(SystemExit):
        parse_args(argv)
