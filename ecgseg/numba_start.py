"""Start numba's CPU target without the ``scipy.linalg`` import it does not need here.

The first numba kernel a process calls (compiled or loaded from the cache) initialises
numba's CPU target, which imports all of numba's NumPy implementations; one of them
(``numba.np.arraymath``) imports ``scipy.linalg`` only to note whether BLAS is
available for ``np.dot``-style functions. ``scipy.linalg`` is ~0.15 s (0.3 s on a busy
machine) of a fresh ``ecg segment`` process, whose kernels use no BLAS. This module
initialises the target with ``scipy.linalg`` hidden, so numba records "no BLAS" for
functions it would *compile* in this process (they would use its loop instead of
BLAS); compiled and cached kernels, and ``scipy.linalg`` itself (importable as usual
afterwards), are unaffected.

Only for processes that run the toolkit's kernels and nothing else (the ``ecg segment``
command); library code does not call it.

Examples
--------
>>> start_numba_without_blas()  # doctest: +SKIP
"""

from __future__ import annotations

import sys

_HIDDEN = "scipy.linalg"


def start_numba_without_blas() -> bool:
    """Initialise numba's CPU target with ``scipy.linalg`` hidden from it.

    Returns
    -------
    bool
        True if the target was started here without ``scipy.linalg``; False when
        ``scipy.linalg`` was already imported or the target already started (then
        nothing changes).
    """
    # numba.np.arraymath decides about BLAS once, when the target first starts
    if _HIDDEN in sys.modules or "numba.np.arraymath" in sys.modules:
        return False
    from numba.core.registry import cpu_target

    sys.modules[_HIDDEN] = None  # makes "import scipy.linalg..." raise ImportError
    try:
        cpu_target.target_context.refresh()
    finally:
        if sys.modules.get(_HIDDEN, 0) is None:
            del sys.modules[_HIDDEN]
    return True
