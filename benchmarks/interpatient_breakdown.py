"""Why MIT-BIH DS1 does not teach S (issue #16): a per-record breakdown of DS1 and DS2.

No network: the beats' record-relative features (``ecgnet.data.RECORD_FEATURES``, computed
from the beats and their positions alone) and a two- or three-threshold rule, "early for
the record" (previous interval / record's mean interval < 0.8), "shaped like the record's
median beat" (correlation > 0.9, over 60 samples or over the QRS only) and, optionally,
"in a steady rhythm" (irregularity < 0.15). Per record of a part: its S beats, how many
the rule finds, and the N beats it takes for S; then the rule's S Se / +P on DS1 and DS2.

Usage::

    PYTHONPATH=. python benchmarks/interpatient_breakdown.py data/beats/mitdb-kaggle.h5 [--part DS1]

The beats HDF5 comes from ``ecg segment --db mitdb --recipe kaggle``.
"""

from __future__ import annotations

import argparse
from typing import Dict

import numpy as np

RULES = {
    "early + shape (60 samples)": lambda f: (f["pre_record"] < 0.8) & (f["median_corr"] > 0.9),
    "early + shape (QRS)": lambda f: (f["pre_record"] < 0.8) & (f["qrs_corr"] > 0.9),
    "early + shape (QRS) + steady": lambda f: ((f["pre_record"] < 0.8) & (f["qrs_corr"] > 0.9)
                                               & (f["rr_irregularity"] < 0.15)),
}
"""The rules compared: name -> f(features by column name) -> (n,) bool "looks like S"."""


def features_by_name(data) -> Dict[str, np.ndarray]:
    """The record-relative features of a :class:`~ecgnet.data.BeatData`, by column name."""
    from ecgnet.data import RECORD_FEATURES

    return {name: data.record_features[:, i] for i, name in enumerate(RECORD_FEATURES)}


def se_ppv(hit: np.ndarray, positive: np.ndarray) -> str:
    """``Se / +P`` (percent) of a rule's hits against the true positives."""
    tp = int((hit & positive).sum())
    return (f"Se {100 * tp / max(1, positive.sum()):5.1f} / "
            f"+P {100 * tp / max(1, hit.sum()):5.1f}")


def main(argv=None) -> int:
    """Print the per-record breakdown of one part and the rules' figures on DS1 and DS2."""
    from ecgnet.data import load_data
    from ecgnet.splits import DS1, DS2

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="beats HDF5 of ecg segment --db mitdb --recipe kaggle")
    p.add_argument("--part", default="DS1", choices=("DS1", "DS2"))
    args = p.parse_args(argv)
    data = load_data(args.data)
    names = list(RULES)
    part = data.subset(np.isin(data.records, DS1 if args.part == "DS1" else DS2))
    feats = features_by_name(part)
    hits = {name: rule(feats) for name, rule in RULES.items()}
    s, n = part.labels == 1, part.labels == 0
    print(f"{args.part}, per record: S beats; rule hits among S / among N "
          f"(rules: {'; '.join(f'{i + 1} = {name}' for i, name in enumerate(names))})")
    print("record      S  " + "  ".join(f"S{i + 1:<4d} N{i + 1:<4d}" for i in range(len(names)))
          + "  irregularity (median)")
    for record in sorted(set(part.records)):
        r = part.records == record
        cols = "  ".join(f"{int((hits[k] & s & r).sum()):5d} {int((hits[k] & n & r).sum()):5d}"
                         for k in names)
        print(f"{record:>6s} {int((s & r).sum()):6d}  {cols}  "
              f"{np.median(feats['rr_irregularity'][r]):.2f}")
    for name in names:
        line = [name + ":"]
        for label, recs in (("DS1", DS1), ("DS2", DS2)):
            sub = data.subset(np.isin(data.records, recs))
            line.append(f"{label} {se_ppv(RULES[name](features_by_name(sub)), sub.labels == 1)}")
        print("  ".join(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
