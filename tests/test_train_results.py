"""``benchmarks/train_results.py --only random-seeds``: the per-seed table, its mean and
the section of ``TRAIN_ACCURACY.md`` it replaces (the training itself is ``ecgnet.train``'s,
tested in ``test_net_train.py``; here the runs are stand-ins)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("train_results",
                                                  ROOT / "benchmarks" / "train_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(seed, accuracy, f1, s_recall):
    classes = ["N", "S", "V", "F", "Q"]
    per_class = {c: {"recall": 0.99, "precision": 0.98, "support": 100} for c in classes}
    per_class["S"] = {"recall": s_recall, "precision": 0.9, "support": 556}
    test = {"n": 21890, "accuracy": accuracy, "macro": {"f1": f1}, "class_names": classes,
            "per_class": per_class}
    result = SimpleNamespace(test=test, epochs_run=12, best_epoch=10)
    return {"seed": seed, "name": f"seed{seed}", "result": result, "parameters": 55_493,
            "beats_per_s": 1000.0, "train_minutes": 1.0}


def test_seed_table_gives_each_seed_the_mean_and_whether_the_goal_is_reached(monkeypatch,
                                                                            tmp_path):
    module = _script()
    runs = {0: _run(0, 0.9940, 0.9480, 0.90), 1: _run(1, 0.9950, 0.9540, 0.92),
            2: _run(2, 0.9936, 0.9560, 0.94)}
    monkeypatch.setattr(module, "seed_run", lambda h5, seed, args: runs[seed])
    h5 = tmp_path / "beats.h5"
    h5.write_bytes(b"")
    args = SimpleNamespace(kaggle_h5=str(h5), seeds="0,1,2", model="kachuee-rrmd", epochs=12,
                           patience=20, batch_size=64, ema=0.999, jitter=0.5,
                           lr_decay_every=8000, lr=0.001, lr_schedule="cosine",
                           precision="bfloat16", sampler="shuffle",
                           class_weights="none", threads=1)
    lines = module.random_seeds_section(args, ["- date: today", ""])
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == 1 + 3 + 1  # header, one row per seed, the mean
    assert rows[1].startswith("| 0 | 12 (10) | 99.40 | 131 | 0.9480 | 99.00 / 98.00 | 90.00 / 90.00")
    mean = rows[-1]
    assert "**99.42**" in mean and "**0.9527**" in mean and "| 127 |" in mean  # 131, 109, 140
    assert "| 92.00 / 90.00 |" in mean  # S: mean Se over the seeds
    assert "Goal reached: mean accuracy 99.42 %" in text
    assert "99.4 % of 21 890 test beats is at most 131 errors" in text
    assert "--seed N" in text and "--precision bfloat16" in text and "S 556" in text
    assert "--lr-schedule cosine" in text

    runs[2] = _run(2, 0.9900, 0.9560, 0.94)  # mean accuracy 99.30 %: short of 99.4 %
    text = "\n".join(module.random_seeds_section(args, ["- date: today", ""]))
    assert "Goal not reached: mean accuracy 99.30 %" in text


def test_the_seed_section_replaces_only_itself(tmp_path):
    module = _script()
    heading = module.SEEDS_HEADING
    old = f"# acc\n\n## Hand-written\nkeep me\n\n{heading}\n\nold table\n\n## Later\nkept too\n"
    new = module.replace_section(old, heading, ["new table", ""])
    assert new == f"# acc\n\n## Hand-written\nkeep me\n\n{heading}\n\nnew table\n\n## Later\nkept too\n"
    assert module.replace_section("# acc\n", heading, ["t"]) == f"# acc\n\n{heading}\n\nt\n"


def test_only_random_seeds_runs_no_speed_part_and_keeps_the_other_sections(monkeypatch,
                                                                           tmp_path):
    module = _script()
    runs = {0: _run(0, 0.9926, 0.9479, 0.91)}
    monkeypatch.setattr(module, "seed_run", lambda h5, seed, args: runs[seed])

    def no_speed(*args):
        raise AssertionError("--only random-seeds must not time the paper's model")

    monkeypatch.setattr(module, "speed_section", no_speed)
    h5 = tmp_path / "beats.h5"
    h5.write_bytes(b"")
    (tmp_path / "TRAIN_ACCURACY.md").write_text("# ecgnet accuracy\n\n## Hand-written\nkeep\n")
    assert module.main(["--kaggle-h5", str(h5), "--only", "random-seeds", "--seeds", "0",
                        "--threads", "1", "--out-dir", str(tmp_path)]) == 0
    text = (tmp_path / "TRAIN_ACCURACY.md").read_text()
    assert text.startswith("# ecgnet accuracy\n\n## Hand-written\nkeep\n\n" + module.SEEDS_HEADING)
    assert "| 0 | 12 (10) | 99.26 | 162 | 0.9479 |" in text
    assert not (tmp_path / "TRAIN_SPEED.md").exists()
