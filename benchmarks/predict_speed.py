"""Time ``ecg predict`` on one 30-minute MIT-BIH record: read, segment, label, model.

Usage::

    PYTHONPATH=. python -m benchmarks.predict_speed [--record DIR/208] [--checkpoint best.pt]
        [--repeat 5] [--threads 1 2]

Each figure is the best of ``--repeat`` runs after one warm-up run (numba cache load
and torch's first-call setup are not timed; they are reported once as ``first call``).
Without ``--checkpoint`` a freshly initialised Kachuee net is timed (the weights do not
change the speed). The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from ecgnet.checkpoint import load_model
from ecgnet.inference import predict_proba
from ecgnet.models import build_model
from ecgseg.databases import get_database
from ecgseg.pipeline import segment_record
from ecgseg.recipes.paper import PaperParams, segment_paper
from ecgseg.records import read_annotations, read_lead

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/physionet/files/mitdb/1.0.0/208"


def best(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, default=DEFAULT)
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)

    db = get_database("mitdb")
    if args.checkpoint:
        model, _ = load_model(args.checkpoint)
    else:
        torch.manual_seed(0)
        model = build_model("kachuee", 5).eval()

    t0 = time.perf_counter()
    res = segment_record(args.record, db)
    first_segment = time.perf_counter() - t0
    t0 = time.perf_counter()
    predict_proba(model, res.beats)
    first_model = time.perf_counter() - t0

    t_read, lead = best(lambda: read_lead(args.record, db), args.repeat)
    t_ann, _ = best(lambda: read_annotations(args.record, "atr"), args.repeat)
    t_seg, seg = best(lambda: segment_paper(lead.signal, lead.fs, PaperParams()), args.repeat)
    t_rec, res = best(lambda: segment_record(args.record, db), args.repeat)
    minutes = lead.n_samples / lead.fs / 60
    print(f"record {args.record.name}: {minutes:.1f} min at {lead.fs:g} Hz, {len(seg)} beats "
          f"(paper recipe); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"best of {args.repeat}")
    print(f"  first call (numba cache load, torch setup): segment_record {first_segment:.3f} s, "
          f"model {first_model:.3f} s")
    print(f"  read lead (wfdb)          {t_read:.3f} s")
    print(f"  read atr annotations      {t_ann:.3f} s")
    print(f"  segment (paper recipe)    {t_seg:.3f} s")
    print(f"  segment_record (all 3 + labels, Se/+P) {t_rec:.3f} s")
    n_ref = res.detector.reference if res.detector is not None else len(res.beats)
    full = np.resize(res.beats, (n_ref, res.beats.shape[1]))  # as if every beat were found
    for threads in args.threads:
        torch.set_num_threads(threads)
        for precision in ("float32", "bfloat16"):
            for beats in (res.beats, full):
                t_model, proba = best(lambda: predict_proba(model, beats, precision=precision),
                                      args.repeat)
                assert np.allclose(proba.sum(axis=1), 1, atol=1e-4)
                print(f"  model {precision:8s} {threads} thread(s), {len(beats):5d} beats: "
                      f"{t_model:.3f} s ({len(beats) / t_model:,.0f} beats/s)")


if __name__ == "__main__":
    main()
