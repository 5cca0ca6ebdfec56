"""Moved: the NumPy reference is :mod:`ecgseg.kernels_numpy` (``backend="numpy"``).

Kept as a thin alias for scripts that import it from here.
"""

from ecgseg.kernels_numpy import *  # noqa: F401,F403
from ecgseg.kernels_numpy import _maxima  # noqa: F401
