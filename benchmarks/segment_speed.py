"""Segmentation speed benchmark, from the source checkout (writes into this folder).

A thin script over :mod:`ecgseg.bench.segment_speed` (also ``ecg bench``, which writes
into ``<data-dir>/bench`` unless ``--out``). Run it with the checkout installed
(``pip install -e '.[bench]'``) or importable (``PYTHONPATH=.``)::

    python benchmarks/segment_speed.py --repeat 3      # all options: --help
"""

from __future__ import annotations

import sys
from pathlib import Path

from ecgseg.bench.segment_speed import main

if __name__ == "__main__":
    sys.exit(main(prog="python benchmarks/segment_speed.py",
                  default_out=Path(__file__).resolve().parent))
