"""``ecg evaluate``: which classes a CSV's labels mean."""

from __future__ import annotations

import pytest
import torch

from ecgnet.data import load_data

from .net_helpers import write_csv


def test_evaluate_takes_csv_labels_as_the_checkpoints_classes(kaggle_dir, tmp_path):
    """A 2-class checkpoint on Kaggle PTB rows (labels 0/1) needs no --classes (issue #16)."""
    from ecgnet.checkpoint import make_checkpoint, save_checkpoint
    from ecgnet.evaluate import evaluate
    from ecgnet.models import build_model
    from ecgseg.errors import InputError

    torch.manual_seed(0)
    ckpt = save_checkpoint(make_checkpoint(build_model("kachuee", 2), "kachuee",
                                           ["healthy", "infarct"]), tmp_path / "mi.pt")
    ptb = load_data([kaggle_dir / "ptbdb_normal_known_rows.csv"])
    renamed = write_csv(tmp_path / "rows.csv", ptb.beats[:50], ptb.labels[:50])
    for data in (kaggle_dir / "ptbdb_normal_known_rows.csv", renamed):
        report = evaluate(ckpt, data, part="all").report
        assert report["class_names"] == ["healthy", "infarct"] and report["n"] > 0
    aami = kaggle_dir / "mitbih_test_known_rows.csv"  # labels up to 4: not the checkpoint's
    with pytest.raises(InputError, match="not those of checkpoint"):
        evaluate(ckpt, aami)
