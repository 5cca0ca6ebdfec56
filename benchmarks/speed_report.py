"""Moved: :mod:`ecgseg.bench.report` (kept as an alias: the training benchmarks import
``cpu_model`` from here)."""

from ecgseg.bench.report import *  # noqa: F401,F403
from ecgseg.bench.report import cpu_model  # noqa: F401
