"""The numba polyphase resampler against scipy.signal.resample_poly, byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.signal import resample_poly

from ecgseg.resample import rational_ratio, resample

RATIOS = [(360.0, 125.0), (1000.0, 125.0), (125.0, 360.0), (100.0, 70.0), (2.0, 3.0),
          (8.0, 1.0), (250.0, 125.0)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RATIOS), st.integers(0, 4000), st.integers(0, 2**32 - 1))
def test_resample_is_resample_poly_bit_for_bit(ratio, n, seed):
    fs_in, fs_out = ratio
    up, down = rational_ratio(fs_in, fs_out)
    x = np.random.default_rng(seed).normal(0.0, 1.0, n).cumsum()
    assert resample(x, fs_in, fs_out).tobytes() == resample_poly(x, up, down).tobytes()


@pytest.mark.parametrize("ratio", [(360.0, 125.0), (1000.0, 125.0)])
def test_resample_a_record_length_bit_for_bit(ratio):
    """A 30-minute MIT-BIH-like length (650 000 samples), the interior fast path."""
    x = np.random.default_rng(7).normal(0.0, 0.3, 650_000)
    up, down = rational_ratio(*ratio)
    y = resample(x, *ratio)
    assert y.flags.c_contiguous and y.dtype == np.float64
    assert y.tobytes() == resample_poly(x, up, down).tobytes()


def test_equal_rates_return_the_signal():
    x = np.arange(10.0)
    assert resample(x, 125.0, 125.0) is x


@pytest.mark.parametrize("up, down", [(25, 72), (1, 8)])
def test_shipped_taps_are_scipys_firwin_bit_for_bit(up, down):
    from scipy.signal import firwin

    from ecgseg.resample import TABLE_RATIOS, _tap_table, kaiser_lowpass

    assert (up, down) in TABLE_RATIOS and f"{up}/{down}" in _tap_table()
    half_len = 10 * max(up, down)
    expected = firwin(2 * half_len + 1, 1.0 / max(up, down), window=("kaiser", 5.0))
    assert kaiser_lowpass(up, down).tobytes() == expected.tobytes()


def test_resampling_mitdb_and_ptb_rates_does_not_import_scipy_signal():
    """``import scipy.signal`` costs 0.5-1 s of every ``ecg segment`` start-up."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import ecgseg

    env = dict(os.environ, PYTHONPATH=str(Path(ecgseg.__file__).resolve().parents[1]))
    code = ("import sys, numpy as np; from ecgseg.resample import resample; "
            "x = np.arange(5000.0); resample(x, 360.0, 125.0); resample(x, 1000.0, 125.0); "
            "print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.strip()
    assert out == "False"
