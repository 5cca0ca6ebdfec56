"""Moved: :mod:`ecgseg.bench.cases` (kept as an alias for scripts that import it from here)."""

from ecgseg.bench.cases import *  # noqa: F401,F403
