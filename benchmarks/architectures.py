"""Compare the registered architectures on one split with one budget; write
``benchmarks/ARCHITECTURES.md``.

Usage::

    python benchmarks/architectures.py --h5 data/beats/mitdb-kaggle.h5 \
        [--models kachuee,deep-cnn,cnn-lstm] [--split random] [--epochs 5] [--threads 1]

Every model is trained with the same settings (split, seed, epochs, patience, batch size,
learning rate) on the same beats, one after another, and tested with its ``best.pt`` on
the same test part. Short budgets (``--epochs 5``) give a ranking, not converged figures;
re-run with ``--epochs 50 --patience 8`` for those. Needs the rebuilt Kaggle beats:
``ecg segment --db mitdb --recipe kaggle``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from ecgnet.train import TrainConfig, train

DEFAULT_MODELS = "kachuee,deep-cnn,cnn-lstm"


def run_model(model: str, args) -> dict:
    """Train and test one model with the shared budget; the row of the table (dict)."""
    config = TrainConfig(data=[args.h5], out=args.runs, name=f"arch-{model}-{args.split}",
                         model=model, split=args.split, seed=args.seed, epochs=args.epochs,
                         patience=args.patience, batch_size=args.batch_size, lr=args.lr,
                         threads=args.threads, max_iters=args.max_iters, overwrite=True,
                         progress=not args.quiet)
    start = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - start
    t = result.test
    return {"model": model, "parameters": result.trainable_parameters,
            "epochs": result.epochs_run, "best_epoch": result.best_epoch,
            "val_macro_f1": result.best_val_macro_f1, "accuracy": t["accuracy"],
            "macro_f1": t["macro"]["f1"], "n": t["n"], "minutes": seconds / 60,
            "f1": {k: v["f1"] for k, v in t["per_class"].items()}}


def table(rows: list[dict]) -> list[str]:
    """Markdown table of :func:`run_model` rows."""
    classes = list(rows[0]["f1"]) if rows else []
    lines = ["| model | parameters | epochs (best) | val macro-F1 | test accuracy % | "
             "test macro-F1 | " + " | ".join(f"F1 {c}" for c in classes) + " | minutes |",
             "|---" * (7 + len(classes)) + "|"]
    for r in rows:
        f1 = " | ".join("-" if r["f1"][c] is None else f"{r['f1'][c]:.3f}" for c in classes)
        lines.append(f"| {r['model']} | {r['parameters']:,} | {r['epochs']} ({r['best_epoch']}) | "
                     f"{r['val_macro_f1']:.4f} | {100 * r['accuracy']:.2f} | "
                     f"{r['macro_f1']:.4f} | {f1} | {r['minutes']:.1f} |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--h5", required=True, help="beats (ecg segment --db mitdb --recipe kaggle)")
    p.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated registered models")
    p.add_argument("--split", default="random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-iters", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", default=str(ROOT / "runs"))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "ARCHITECTURES.md"))
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    command = ("python benchmarks/architectures.py "
               + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    started = dt.datetime.now().isoformat(timespec="seconds")
    load = os.getloadavg()[0]
    rows = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        rows.append(run_model(model, args))
        print(table(rows)[-1], flush=True)
    budget = (f"split {args.split} (seed {args.seed}), at most {args.epochs} epochs "
              f"(patience {args.patience}), batch {args.batch_size}, Adam lr {args.lr}, "
              f"{args.threads} thread(s)")
    text = "\n".join([
        "# Architectures on one split, one budget", "",
        f"- date: {started}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs "
        f"shared with other jobs (load average {load:.2f} at the start), Python "
        f"{platform.python_version()}",
        f"- command: `{command}`",
        f"- budget: {budget}; test part {rows[0]['n'] if rows else 0} beats, the same for "
        "every model",
        "",
        *table(rows), "",
        "Short runs with a fixed budget: a ranking under equal effort, not converged figures "
        "(re-run with `--epochs 50` for those). Minutes depend on the machine's load.", ""])
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
