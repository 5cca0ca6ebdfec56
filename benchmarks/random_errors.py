"""Where the random-split runs go wrong, and what test-time averaging would change.

For each checkpoint (a run of ``ecg train ... --split random`` on the HDF5 of
``ecg segment --db mitdb --recipe kaggle``) it rebuilds the run's test part from the
run's seed, and prints: accuracy, error count and macro-F1; the confusion matrix (rows:
true class, columns: predicted); the errors by record; the F beats missed and the false
F by record; and the same figures when the class probabilities of the beat are averaged
with those of slightly changed copies of it (test-time averaging, no extra parameters):
stretched in time by +-3 % or +-5 %, scaled by +-10 %, or cut one sample later.

Usage (from the worktree root)::

    PYTHONPATH=. python benchmarks/random_errors.py data/beats/mitdb-kaggle.h5 \\
        runs/random-kachuee-rrmd-seed0/best.pt [more checkpoints] [--no-tta] \\
        [--second-lead data/beats/mitdb-kaggle-sig1.h5]

Prints Markdown-ready lines; writes nothing. Results: ``benchmarks/TRAIN_ACCURACY.md``,
section "Random split: where the errors are, and the levers screened".
"""

from __future__ import annotations

import argparse
from typing import Callable, Dict, List

import numpy as np


def _variants() -> Dict[str, Callable[[np.ndarray], List[np.ndarray]]]:
    from ecgnet.augment import stretch, shift_start
    from ecgseg.labels import BEAT_SAMPLES as B

    def stretched(x, f):
        out = x.copy()
        out[:, :B] = stretch(x[:, :B], np.full(len(x), f))
        return out

    def scaled(x, a):
        out = x.copy()
        out[:, :B] *= a
        return out

    return {"stretch +-5 %": lambda x: [stretched(x, 0.95), stretched(x, 1.05)],
            "stretch +-3 %": lambda x: [stretched(x, 0.97), stretched(x, 1.03)],
            "scale +-10 %": lambda x: [scaled(x, 0.9), scaled(x, 1.1)],
            "cut 1 sample later": lambda x: [shift_start(x, 1.0, np.random.default_rng(0), 1)]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("h5", help="the beats the runs trained on")
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--no-tta", action="store_true", help="skip the test-time averaging")
    p.add_argument("--second-lead", default=None,
                   help="the same rows on the second lead (ecg segment --recipe kaggle "
                        "--signal 1), for 2-lead checkpoints (kachuee-rrmd2)")
    args = p.parse_args(argv)

    import torch

    from ecgnet.checkpoint import load_checkpoint, model_from_checkpoint
    from ecgnet.data import data_inputs, load_data
    from ecgnet.inference import predict_proba
    from ecgnet.metrics import confusion_matrix, macro_f1
    from ecgnet.splits import make_split

    torch.set_num_threads(1)
    data = load_data([args.h5], second_lead=[args.second_lead] if args.second_lead else None)
    classes = list(data.class_names)
    for path in args.checkpoints:
        ckpt = load_checkpoint(path)
        cfg = ckpt["config"]
        model = model_from_checkpoint(ckpt, path)
        split = make_split(data, cfg["split"], cfg["test_fraction"], cfg["val_fraction"],
                           cfg["seed"], cfg.get("val_by", "auto"))
        test = data.subset(split.test)
        x, y = data_inputs(model, test), test.labels
        plain = predict_proba(model, x)

        def line(proba, tag):
            pred = proba.argmax(1)
            cm = confusion_matrix(y, pred, len(classes))
            print(f"- {path} (seed {cfg['seed']}), {tag}: accuracy {100 * (pred == y).mean():.2f} %,"
                  f" {int((pred != y).sum())} errors of {len(y)}, macro-F1 {macro_f1(cm):.4f}")
            return pred, cm

        pred, cm = line(plain, "as trained")
        print("  confusion (rows true " + " ".join(classes) + "): "
              + "; ".join(" ".join(str(int(v)) for v in row) for row in cm))
        wrong = pred != y

        def by_record(mask):
            recs, counts = np.unique(test.records[mask], return_counts=True)
            order = np.argsort(-counts, kind="stable")[:10]
            return ", ".join(f"{recs[i]} {counts[i]}" for i in order)

        f = classes.index("F") if "F" in classes else None
        print(f"  errors by record: {by_record(wrong)}")
        s = classes.index("S") if "S" in classes else None
        if s is not None:
            print(f"  S missed by record: {by_record((y == s) & wrong)}")
        if f is not None:
            print(f"  F missed by record: {by_record((y == f) & wrong)}; "
                  f"false F by record: {by_record((pred == f) & wrong)}")
        if args.no_tta:
            continue
        for tag, make in _variants().items():
            probas = [plain] + [predict_proba(model, v) for v in make(x)]
            line(np.mean(probas, axis=0), f"averaged with {tag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
