"""Keep ``benchmarks/architectures.py`` working: two models, one epoch, on real beats."""

from __future__ import annotations

from benchmarks.architectures import main
from ecgnet.data import load_data

from .net_helpers import small_rows, write_csv


def test_architectures_writes_one_row_per_model(kaggle_dir, tmp_path):
    rows = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(rows.beats, rows.labels, 40)
    csv = write_csv(tmp_path / "small.csv", rows.beats[idx], rows.labels[idx])
    out = tmp_path / "ARCH.md"
    assert main(["--h5", str(csv), "--models", "kachuee,cnn-lstm", "--epochs", "1",
                 "--batch-size", "32", "--runs", str(tmp_path / "runs"), "--out", str(out),
                 "--quiet"]) == 0
    text = out.read_text()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == ["| kachuee", "| cnn-lstm"]
    assert "| 55,013 | 1 (1) |" in table[1] and "| 26,469 |" in table[2]
    assert "not converged figures" in text and "--epochs 1" in text
