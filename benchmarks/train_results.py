"""Measure the ecgnet goals and write ``benchmarks/TRAIN_SPEED.md`` and ``TRAIN_ACCURACY.md``.

Usage::

    PYTHONPATH=. python benchmarks/train_results.py --kaggle-h5 data/beats/mitdb-kaggle.h5 \
        [--interpatient-h5 data/beats/mitdb-kaggle.h5] [--threads 2] [--only speed|accuracy]

    PYTHONPATH=. python benchmarks/train_results.py --kaggle-h5 data/beats/mitdb-kaggle.h5 \
        --only random-seeds --seeds 0,1,2 --model kachuee-rrmd --epochs 11 --patience 20 \
        --batch-size 64 --ema 0.999 --jitter 0.5 --lr 0.003 --lr-schedule one-cycle \
        --precision bfloat16 --threads 1 --quiet [--resume]

The second command is the recipe of the random-split table (the best one measured for issue
#16's goal, and the shipped ``mitbih-random``, seed 0); the screens that measured worse
(25 epochs, float32, class weights) are in ``TRAIN_ACCURACY.md``. The options' defaults
are those of the first command's accuracy runs (the paper's model and step schedule).

Speed figures go to ``benchmarks/TRAIN_SPEED.md`` and accuracy figures to
``benchmarks/TRAIN_ACCURACY.md`` (``--only`` runs one part: the accuracy runs take tens of
minutes and do not depend on the machine's load, the speed runs need a quiet machine).

- Accuracy (needs the rebuilt Kaggle beats, ``ecg segment --db mitdb --recipe kaggle``):
  random split (goal accuracy >= 99.0 %, macro-F1 >= 0.93) and inter-patient DS1 -> DS2
  (AAMI table). Each run is capped by ``--epochs`` / ``--patience`` / ``--max-iters``;
  ``--ema``, ``--jitter`` and ``--lr-decay-every`` are passed to both runs.
- Random split over several seeds (``--only random-seeds``, issue #16's goal: accuracy
  >= 99.4 % and macro-F1 >= 0.95 with at most 60 000 parameters, mean of 3 seeds): one
  run per seed (the seed draws the split, the initial weights, the shuffling and the
  augmentation), in ``<runs>/random-<model>-seed<N>``; the per-seed and mean table replaces
  only its own section of ``TRAIN_ACCURACY.md`` (:data:`SEEDS_HEADING`). ``--resume``
  continues or re-tests runs already there (training is deterministic, so a resumed run
  ends where an uninterrupted one would).
- Throughput (without ``--only``, or ``--only speed``): training and inference beats/s of
  the paper's model on the real Kaggle rows of ``../shared/kaggle`` (repeated to a larger
  batch pool, for timing only), set against the machine's measured float32
  matrix-multiply rate.
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

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

from ecgnet.inference import predict_proba  # noqa: E402
from ecgnet.data import load_data  # noqa: E402
from ecgnet.models import build_model  # noqa: E402
from ecgnet.device import setup_device  # noqa: E402
from ecgnet.train import TrainConfig, train  # noqa: E402
from ecgseg.bench.report import cpu_model  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "kaggle" / "mitbih_test_known_rows.csv"
SEEDS_HEADING = "## Random split, mean of several seeds (issue #16)"
"""The section of ``TRAIN_ACCURACY.md`` that ``--only random-seeds`` writes (and replaces)."""
GOAL_ACCURACY, GOAL_MACRO_F1, GOAL_PARAMETERS = 99.4, 0.95, 60_000



def forward_macs(model: torch.nn.Module) -> int:
    """Multiply-accumulates of one beat's forward pass (convolutions and linear layers)."""
    macs = 0
    hooks = []

    def conv_hook(m, inp, out):
        nonlocal macs
        macs += out.shape[1] * out.shape[2] * m.in_channels * m.kernel_size[0]

    def linear_hook(m, inp, out):
        nonlocal macs
        macs += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv1d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(1, 1, 187))
    for h in hooks:
        h.remove()
    return macs


def matmul_gflops(seconds: float = 3.0) -> float:
    """Measured float32 GEMM rate (GFLOP/s) of 1024 x 1024 products: the practical peak."""
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return 2 * 1024 ** 3 * n / (time.perf_counter() - start) / 1e9


def train_throughput(beats: np.ndarray, labels: np.ndarray, batch_size: int,
                     precision: str = "float32", seconds: float = 8.0) -> float:
    """Training beats/s of the paper's model and settings: gather batch, forward, backward, Adam.

    ``precision="bfloat16"`` runs forward and backward under autocast, as
    ``ecg train --precision bfloat16`` does.
    """
    torch.manual_seed(0)
    model = build_model("kachuee", 5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all = torch.from_numpy(beats).unsqueeze(1)
    y_all = torch.from_numpy(labels)
    order = torch.randperm(len(y_all))

    def step(i):
        idx = order[(i * batch_size) % (len(order) - batch_size):][:batch_size]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            logits = model(x_all[idx])
        loss_fn(logits.float(), y_all[idx]).backward()
        opt.step()

    for i in range(5):
        step(i)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(n)
        n += 1
    return n * batch_size / (time.perf_counter() - start)


def inference_throughput(beats: np.ndarray, batch_size: int, precision: str,
                         seconds: float = 6.0) -> float:
    """Inference beats/s of :func:`ecgnet.inference.predict_proba` (softmax included)."""
    torch.manual_seed(0)
    model = build_model("kachuee", 5).eval()
    predict_proba(model, beats[:batch_size], batch_size, precision)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predict_proba(model, beats, batch_size, precision)
        n += len(beats)
    return n / (time.perf_counter() - start)


def accuracy_run(h5: str, split: str, args, **kw) -> dict:
    config = TrainConfig(data=[h5], out=args.runs, name=f"bench-{split}", split=split,
                         epochs=args.epochs, patience=args.patience, threads=args.threads,
                         batch_size=args.batch_size, overwrite=True, progress=not args.quiet,
                         max_iters=args.max_iters, ema=args.ema, jitter=args.jitter,
                         lr_decay_every=args.lr_decay_every, model=args.model, **kw)
    start = time.perf_counter()
    result = train(config)
    return {"result": result, "seconds": time.perf_counter() - start, "config": config}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kaggle-h5", help="rebuilt Kaggle beats (ecg segment --db mitdb --recipe kaggle)")
    p.add_argument("--interpatient-h5", help="MIT-BIH beats with record ids [default: --kaggle-h5]")
    p.add_argument("--csv", default=str(DEFAULT_CSV), help="real rows for the throughput runs")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--max-iters", type=int, default=None)
    p.add_argument("--ema", type=float, default=0.0, help="as ecg train --ema (e.g. 0.999)")
    p.add_argument("--jitter", type=float, default=0.0, help="as ecg train --jitter (e.g. 0.5)")
    p.add_argument("--lr-decay-every", type=int, default=10_000)
    p.add_argument("--lr-schedule", default="step", help="as ecg train --lr-schedule")
    p.add_argument("--lr", type=float, default=1e-3, help="as ecg train --lr")
    p.add_argument("--model", default="kachuee",
                   help="model of the accuracy runs, as ecg train --model (e.g. kachuee-rr)")
    p.add_argument("--runs", default=str(ROOT / "runs"))
    p.add_argument("--out-dir", default=str(ROOT / "benchmarks"),
                   help="folder for TRAIN_SPEED.md and TRAIN_ACCURACY.md")
    p.add_argument("--only", choices=("speed", "accuracy", "random-seeds"), default=None,
                   help="run only one part (random-seeds: only with --only)")
    p.add_argument("--seeds", default="0,1,2",
                   help="random-seeds: comma-separated seeds (each draws split and weights)")
    p.add_argument("--precision", default="float32", help="as ecg train --precision")
    p.add_argument("--sampler", default="shuffle", help="as ecg train --sampler")
    p.add_argument("--class-weights", default="none", help="as ecg train --class-weights")
    p.add_argument("--second-lead", default=None,
                   help="random-seeds: beats HDF5 of the same rows on the second lead (ecg "
                        "segment --recipe kaggle --signal 1), for 2-lead models such as "
                        "kachuee-rrmd2 (as ecg train --second-lead)")
    p.add_argument("--resume", action="store_true",
                   help="random-seeds: continue (or only re-test) runs already in --runs")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing TRAIN_ACCURACY.md (its later sections are "
                        "written by hand from CLI runs)")
    args = p.parse_args(argv)
    accuracy_md = Path(args.out_dir) / "TRAIN_ACCURACY.md"
    if args.only == "accuracy" and accuracy_md.exists() and not args.overwrite:
        p.error(f"{accuracy_md} exists and holds hand-written sections; use --overwrite to "
                f"replace it, --out-dir to write elsewhere, or --only speed")
    command = "python benchmarks/train_results.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    setup_device("cpu", args.threads)
    threads = torch.get_num_threads()
    header = [
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
        f"({threads} threads), Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.2f} at the start",
        f"- command: `{command}`",
        "",
    ]
    out_dir = Path(args.out_dir)
    if args.only in (None, "speed"):
        text = "\n".join(["# ecgnet training and inference speed", ""] + header
                         + speed_section(args, threads)) + "\n"
        (out_dir / "TRAIN_SPEED.md").write_text(text)
        print(text)
    if args.only == "random-seeds":
        lines = random_seeds_section(args, header)
        old = accuracy_md.read_text() if accuracy_md.exists() else "# ecgnet accuracy\n"
        accuracy_md.write_text(replace_section(old, SEEDS_HEADING, lines))
        print("\n".join(lines))
    elif args.only != "speed":
        text = "\n".join(["# ecgnet accuracy", ""] + header + accuracy_section(args)) + "\n"
        accuracy_md.write_text(text)
        print(text)
    return 0


def replace_section(text: str, heading: str, lines: list[str]) -> str:
    r"""``text`` (Markdown) with the section under ``heading`` (up to the next heading of
    the same level) replaced by ``heading`` and ``lines``, or appended if absent.

    Examples
    --------
    >>> replace_section("# t\n\n## a\nold\n\n## b\nkept\n", "## a", ["new", ""])
    '# t\n\n## a\n\nnew\n\n## b\nkept\n'
    >>> replace_section("# t\n", "## a", ["new"])
    '# t\n\n## a\n\nnew\n'
    """
    body = heading + "\n\n" + "\n".join(lines).rstrip("\n") + "\n"
    start = text.find(heading + "\n")
    if start < 0:
        return text.rstrip("\n") + "\n\n" + body
    level = heading.split(" ")[0] + " "
    end = text.find("\n" + level, start + len(heading))
    rest = "" if end < 0 else "\n" + text[end + 1:]
    return text[:start] + body + rest


def seed_run(h5: str, seed: int, args) -> dict:
    """Train (or, with ``--resume``, continue or re-test) the random-split run of one seed."""
    from ecgnet.models import count_parameters

    name = f"random-{args.model}-seed{seed}"
    run_dir = Path(args.runs) / name
    resume = args.resume and (run_dir / "last.pt").exists()
    config = TrainConfig(data=[h5], out=args.runs, name=name, split="random", seed=seed,
                         epochs=args.epochs, patience=args.patience, threads=args.threads,
                         batch_size=args.batch_size, progress=not args.quiet,
                         max_iters=args.max_iters, ema=args.ema, jitter=args.jitter,
                         lr_decay_every=args.lr_decay_every, model=args.model,
                         lr_schedule=args.lr_schedule, lr=args.lr,
                         precision=args.precision, sampler=args.sampler,
                         class_weights=args.class_weights, resume=resume,
                         overwrite=not resume,
                         second_lead=[second] if (second := getattr(args, "second_lead", None))
                         else None)
    res = train(config)
    history = res.history
    seconds = sum(h["seconds"] for h in history)
    return {"seed": seed, "name": name, "result": res,
            "parameters": count_parameters(build_model(args.model, len(res.test["class_names"]))),
            "beats_per_s": sum(h["train_beats"] for h in history) / seconds if seconds else 0.0,
            "train_minutes": seconds / 60}


def thousands(n: int) -> str:
    """``55 493``: the thousands separator of the project's Markdown.

    >>> thousands(60000)
    '60 000'
    """
    return f"{n:,}".replace(",", " ")


def random_seeds_section(args, header: list[str]) -> list[str]:
    """Random-split runs of ``args.seeds``: per-seed and mean table; Markdown lines."""
    h5 = args.kaggle_h5
    if not h5 or not Path(h5).is_file():
        raise SystemExit(f"--only random-seeds needs --kaggle-h5 (the beats of ecg segment "
                         f"--db mitdb --recipe kaggle); got {h5!r}")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = [seed_run(h5, seed, args) for seed in seeds]
    classes = list(runs[0]["result"].test["class_names"])
    recipe = (f"--model {args.model} --split random --epochs {args.epochs} --patience "
              f"{args.patience} --batch-size {args.batch_size} --ema {args.ema} --jitter "
              f"{args.jitter} --lr {args.lr} --lr-schedule {args.lr_schedule} "
              f"--lr-decay-every {args.lr_decay_every} --precision "
              f"{args.precision} --sampler {args.sampler} --class-weights {args.class_weights}"
              + (f" --second-lead {second}" if (second := getattr(args, "second_lead", None))
                 else ""))
    support = runs[0]["result"].test["per_class"]
    lines = [*header[:-1],
             f"- load average {os.getloadavg()[0]:.2f} at the end; "
             "the figures do not depend on the load (training is deterministic), the times do",
             "",
             f"Goal (issue #16): accuracy >= {GOAL_ACCURACY} % and macro-F1 >= {GOAL_MACRO_F1} "
             f"with at most {thousands(GOAL_PARAMETERS)} parameters, mean of the seeds. Each seed draws "
             "the split (test and validation beats), the initial weights, the shuffling and "
             "the augmentation. Each run is the same as "
             f"`ecg train {h5} {recipe} --seed N --threads {args.threads}`; its test part "
             f"(never trained on) is what `ecg evaluate <run>/best.pt {h5}"
             + (f" --second-lead {second}" if (second := getattr(args, "second_lead", None))
                else "") + "` scores. "
             "Se / +P: sensitivity and positive predictivity of each class (%); test beats "
             "per class (seed " + str(runs[0]["seed"]) + "): "
             + ", ".join(f"{c} {thousands(support[c]['support'])}" for c in classes) + ".",
             "",
             "| seed | epochs (best) | accuracy % | errors | macro-F1 | "
             + " | ".join(f"{c} Se / +P" for c in classes) + " | parameters | beats/s |",
             "|---" * (7 + len(classes)) + "|"]
    accs, f1s, errors = [], [], []
    per_class = {c: ([], []) for c in classes}
    for r in runs:
        res, t = r["result"], r["result"].test
        accs.append(100 * t["accuracy"])
        f1s.append(t["macro"]["f1"])
        errors.append(error_count(t))
        cells = []
        for c in classes:
            se, pp = 100 * t["per_class"][c]["recall"], 100 * t["per_class"][c]["precision"]
            per_class[c][0].append(se)
            per_class[c][1].append(pp)
            cells.append(f"{se:.2f} / {pp:.2f}")
        lines.append(f"| {r['seed']} | {res.epochs_run} ({res.best_epoch}) | "
                     f"{accs[-1]:.2f} | {errors[-1]} | {f1s[-1]:.4f} | " + " | ".join(cells)
                     + f" | {thousands(r['parameters'])} | {thousands(round(r['beats_per_s']))} |")

    def mean(v):
        return sum(v) / len(v)

    acc, f1 = mean(accs), mean(f1s)
    lines.append(f"| **mean** | | **{acc:.2f}** | {mean(errors):.0f} | **{f1:.4f}** | "
                 + " | ".join(f"{mean(per_class[c][0]):.2f} / {mean(per_class[c][1]):.2f}"
                              for c in classes) + " | | |")
    parameters = runs[0]["parameters"]
    reached = acc >= GOAL_ACCURACY and f1 >= GOAL_MACRO_F1 and parameters <= GOAL_PARAMETERS
    lines += ["",
              f"Goal {'reached' if reached else 'not reached'}: mean accuracy {acc:.2f} % "
              f"(goal >= {GOAL_ACCURACY}), mean macro-F1 {f1:.4f} (goal >= {GOAL_MACRO_F1}), "
              f"{thousands(parameters)} parameters (goal <= {thousands(GOAL_PARAMETERS)}); "
              f"{GOAL_ACCURACY} % of {thousands(runs[0]['result'].test['n'])} test beats is at "
              f"most {allowed_errors(runs[0]['result'].test['n'])} errors.", ""]
    return lines


def error_count(report: dict) -> int:
    """Misclassified beats of a test report (``n`` x (1 - ``accuracy``), rounded).

    >>> error_count({"n": 21890, "accuracy": 1 - 160 / 21890})
    160
    """
    return round(report["n"] * (1.0 - report["accuracy"]))


def allowed_errors(n: int, accuracy: float = GOAL_ACCURACY) -> int:
    """Most errors among ``n`` beats that still give ``accuracy`` percent.

    >>> allowed_errors(21890)
    131
    """
    return int(n * (100.0 - accuracy) / 100.0 + 1e-9)


def speed_section(args, threads: int) -> list[str]:
    """Throughput runs; Markdown lines."""
    rows = load_data(args.csv)
    reps = max(1, 20_000 // len(rows))
    pool_x = np.ascontiguousarray(np.tile(rows.beats, (reps, 1)))
    pool_y = np.tile(rows.labels, reps)
    model = build_model("kachuee", 5)
    macs = forward_macs(model)
    peak = matmul_gflops()
    train_rates = {(bs, prec): train_throughput(pool_x, pool_y, bs, prec)
                   for bs in (128, 256, 512) for prec in ("float32", "bfloat16")}
    infer_rates = {(bs, prec): inference_throughput(pool_x, bs, prec)
                   for bs in (512, 2048) for prec in ("float32", "bfloat16")}
    # Forward 2*MACs FLOP; training ~3x forward (backward for inputs and for weights).
    fwd_gflop = 2 * macs / 1e9

    lines = [
        "## Throughput (paper model, 55 013 parameters, 5 classes)",
        "",
        f"Beats: the {len(rows)} real rows of `{Path(args.csv).name}` repeated {reps} times "
        "(repetition for timing only).",
        f"One beat's forward pass: {macs / 1e6:.2f} M multiply-accumulates = {2 * macs / 1e6:.1f} "
        f"MFLOP; training is about 3x that ({6 * macs / 1e6:.1f} MFLOP a beat).",
        f"Measured float32 matrix-multiply rate (1024^3 GEMM, {threads} threads): "
        f"{peak:.0f} GFLOP/s, measured in the same minute: the share of it below compares the "
        "model with what the machine gave at that time (about 160 GFLOP/s when idle: 2 Zen 4 "
        "cores x ~2.6 GHz x 32 FP32 FLOP/cycle ~ 166).",
        "",
        "| what | batch | beats/s | GFLOP/s | share of GEMM peak | goal |",
        "|---|---|---|---|---|---|",
    ]
    for (bs, prec), rate in train_rates.items():
        g = rate * 3 * fwd_gflop
        lines.append(f"| training {prec} (forward, backward, Adam) | {bs} | {rate:,.0f} | {g:.0f} | "
                     f"{100 * g / peak:.0f} % | >= 5 000 |")
    for (bs, prec), rate in infer_rates.items():
        g = rate * fwd_gflop
        lines.append(f"| inference `predict_proba` {prec} | {bs} | {rate:,.0f} | {g:.0f} | "
                     f"{100 * g / peak:.0f} % | >= 20 000 |")
    lines.append("")
    return lines


def accuracy_section(args) -> list[str]:
    """Accuracy runs (random split and DS1 -> DS2); Markdown lines."""
    lines: list[str] = []
    h5 = args.kaggle_h5
    inter = args.interpatient_h5 or h5
    lines += ["## Accuracy", ""]
    if not h5 or not Path(h5).is_file():
        lines += ["Not measured: the rebuilt Kaggle beats HDF5 "
                  "(`ecg segment --db mitdb --recipe kaggle`) was not available "
                  f"({h5 or 'no --kaggle-h5 given'}). Run this script with `--kaggle-h5`.", ""]
    else:
        r = accuracy_run(h5, "random", args)
        res = r["result"]
        t = res.test
        lines += [f"### Random split (stratified 80/20 by beat, the Kaggle way): `{h5}`", "",
                  f"model {args.model}; {res.epochs_run} epochs ({res.iterations} iterations, {r['seconds'] / 60:.1f} min),"
                  f" best epoch {res.best_epoch}; test part {t['n']} beats.",
                  "",
                  f"- accuracy {100 * t['accuracy']:.2f} % (goal >= 99.0 %)",
                  f"- macro-F1 {t['macro']['f1']:.4f} (goal >= 0.93)",
                  "- per-class F1: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in t["per_class"].items()),
                  ""]
        r = accuracy_run(inter, "interpatient", args, class_weights="sqrt", augment=0.25)
        res, t = r["result"], r["result"].test
        lines += [f"### Inter-patient DS1 -> DS2: `{inter}`", "",
                  f"model {args.model}, class weights sqrt, augmentation 0.25; "
                  f"{res.epochs_run} epochs "
                  f"({r['seconds'] / 60:.1f} min), best epoch {res.best_epoch}; "
                  f"test part {t['n']} beats; accuracy {100 * t['accuracy']:.2f} %.", "",
                  "| class | Se % | +P % |", "|---|---|---|"]
        for name, row in t["aami"].items():
            se = "-" if row["Se"] is None else f"{row['Se']:.1f}"
            pp = "-" if row["+P"] is None else f"{row['+P']:.1f}"
            lines.append(f"| {name} | {se} | {pp} |")
        lines += ["", "Aim: V Se and +P >= 90 %, S Se >= 75 % with +P >= 50 %.", ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
