"""Property tests of the numba kernels and of the paper recipe on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ecgseg.kernels_numpy import _maxima as reference_maxima
from ecgseg import kernels as K
from ecgseg.errors import RecordError
from ecgseg.recipes.paper import PaperParams, segment_paper

# Small windows keep the examples fast: 2 s at 100 Hz = 200 samples, no resampling.
FS = 100.0
W = 200
PARAMS = PaperParams(fs=FS, window_s=W / FS, length=60)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def one_window(a, b):
    return np.array([a], np.int64), np.array([b], np.int64)


@st.composite
def peak_positions(draw, lo=1, hi=W - 2, gap=2, max_peaks=12):
    """Sorted positions in [lo, hi], at least ``gap`` apart."""
    raw = draw(st.lists(st.integers(lo, hi), max_size=max_peaks, unique=True))
    out = []
    for p in sorted(raw):
        if not out or p - out[-1] >= gap:
            out.append(p)
    return out


@st.composite
def peak_trains(draw):
    """A signal of 1-4 windows: noise in [0, 0.5] plus peaks of value 1 at known samples.

    A window with no peak is a strictly increasing ramp instead (no local maximum).
    Returns ``(signal, peaks_per_window)``.
    """
    n_windows = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tail = draw(st.integers(0, W - 1))
    parts, peaks = [], []
    for _ in range(n_windows):
        pos = draw(peak_positions())
        if pos:
            w = rng.uniform(0.0, 0.5, W)
            w[pos] = 1.0
        else:
            w = np.linspace(0.0, 1.0, W)
        parts.append(w)
        peaks.append(pos)
    parts.append(rng.uniform(0.0, 0.5, tail))  # last partial window: dropped
    return np.concatenate(parts), peaks


@SETTINGS
@given(peak_trains())
def test_peak_train_gives_exactly_its_peaks(train):
    signal, peaks = train
    seg = segment_paper(signal, FS, PARAMS).validate()
    expected_sample, expected_window, expected_n = [], [], []
    for w, pos in enumerate(peaks):
        if len(pos) < 2:
            continue
        length = int(np.floor(1.2 * np.median(np.diff(pos))))
        for p in pos:
            expected_sample.append(w * W + p)
            expected_window.append(w)
            expected_n.append(min(length, W - p, PARAMS.length))
    assert seg.sample.tolist() == expected_sample
    assert seg.window.tolist() == expected_window
    assert seg.n_values.tolist() == expected_n
    st_ = seg.stats
    assert st_["windows"] == len(peaks)
    assert st_["windows_skipped"] == sum(len(p) < 2 for p in peaks)
    assert st_["windows_flat"] == 0
    assert st_["peaks"] == sum(len(p) for p in peaks)
    assert st_["beats"] == len(expected_sample) == len(seg)
    # each beat starts at its R peak (normalised value 1) and lies in [0, 1], then zeros
    for row, n in zip(seg.beats, seg.n_values):
        assert row[0] == 1.0
        assert np.all((row[:n] >= 0) & (row[:n] <= 1))
        assert np.all(row[n:] == 0)


@SETTINGS
@given(st.data())
def test_plateaus_give_one_peak_at_their_first_sample(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    widths = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=10))
    x, firsts = [], []
    for width in widths:  # a strictly rising gap (no maximum), then the plateau
        x += list(np.sort(rng.uniform(0, 0.5, data.draw(st.integers(1, 5)))))
        firsts.append(len(x))
        x += [1.0] * width
    x += [0.0]
    x = np.asarray(x)
    peaks, window = K.local_maxima(x, *one_window(0, x.size), np.array([True]))
    assert peaks.tolist() == firsts
    assert np.all(window == 0)


def test_shoulder_and_edge_plateaus_give_no_peak():
    # shoulder (rises again), plateau running to the window end, maximum at the window edge
    x = np.array([0, 1, 1, 2, 0, 3, 3, 3], float)
    assert K.local_maxima(x, *one_window(0, 8), np.array([True]))[0].tolist() == [3]
    y = np.array([5, 1, 2, 1, 4], float)
    assert K.local_maxima(y, *one_window(0, 5), np.array([True]))[0].tolist() == [2]


@SETTINGS
@given(st.lists(st.integers(0, 3), min_size=0, max_size=80), st.integers(1, 30))
def test_local_maxima_match_the_numpy_derivative_reference(values, size):
    """Small integers make many plateaus; windows of ``size`` samples."""
    x = np.asarray(values, float)
    starts = np.arange(0, x.size, size, dtype=np.int64)
    ends = np.minimum(starts + size, x.size).astype(np.int64)
    peaks, window = K.local_maxima(x, starts, ends, np.ones(starts.size, bool))
    expected = [s + p for s, e in zip(starts, ends) for p in reference_maxima(x[s:e])]
    assert peaks.tolist() == expected
    assert np.all(np.diff(window) >= 0)


@SETTINGS
@given(st.lists(st.integers(0, 3), min_size=0, max_size=120), st.integers(1, 30),
       st.sampled_from([0.0, 0.5, 0.9, 1.0]), st.booleans(), st.booleans())
def test_window_peaks_equal_the_separate_kernels(values, size, threshold, inclusive, noise):
    """The fused kernel against minmax + normalise + local_maxima + threshold.

    Small integers make plateaus and flat windows (the exact-scan path); added noise
    makes windows without plateaus (the vectorised path).
    """
    x = np.asarray(values, float)
    if noise:
        x = x + np.random.default_rng(len(values)).uniform(0, 0.01, x.size)
    starts = np.arange(0, x.size, size, dtype=np.int64)
    ends = np.minimum(starts + size, x.size).astype(np.int64)
    mn, mx, n_maxima, peaks, window = K.window_peaks(x, starts, ends, threshold, inclusive)
    ref_mn, ref_mx = K.window_minmax(x, starts, ends)
    xn = np.zeros_like(x)
    K.normalise_windows(x, starts, ends, ref_mn, ref_mx, xn)
    maxima, maxima_window = K.local_maxima(xn, starts, ends, ref_mx > ref_mn)
    keep = xn[maxima] >= threshold if inclusive else xn[maxima] > threshold
    assert mn.tobytes() == ref_mn.tobytes() and mx.tobytes() == ref_mx.tobytes()
    assert n_maxima.tolist() == np.bincount(maxima_window, minlength=starts.size).tolist()
    assert peaks.tolist() == maxima[keep].tolist()
    assert window.tolist() == maxima_window[keep].tolist()


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 10_000), max_size=12, unique=True), min_size=1, max_size=5))
def test_window_median_rr_matches_numpy(groups):
    peaks = np.concatenate([np.sort(np.asarray(g, np.int64)) + 20_000 * w
                            for w, g in enumerate(groups)]).astype(np.int64)
    window = np.concatenate([np.full(len(g), w, np.int64) for w, g in enumerate(groups)])
    period, counts = K.window_median_rr(peaks, window, len(groups))
    for w, g in enumerate(groups):
        assert counts[w] == len(g)
        if len(g) < 2:
            assert np.isnan(period[w])
        else:
            assert period[w] == np.median(np.diff(np.sort(g)))


@SETTINGS
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=300),
       st.lists(st.tuples(st.integers(0, 320), st.integers(0, 400)), max_size=8),
       st.integers(1, 4), st.integers(1, 40))
def test_segment_minmax_pad_matches_numpy_slices(values, bounds, step, length):
    x = np.asarray(values, float)
    start = np.array([min(a, x.size - 1) for a, _ in bounds], np.int64)
    stop = np.array([b for _, b in bounds], np.int64)
    out = np.full((len(bounds), length), 7, np.float32)
    n_values, count, flat = K.segment_minmax_pad(x, start, stop, step, out)
    for i, (s, e) in enumerate(zip(start, stop)):
        seg = x[s:e:step]
        assert count[i] == seg.size and n_values[i] == min(seg.size, length)
        expected = np.zeros(length, np.float32)
        if seg.size and seg.max() > seg.min():
            norm = ((seg - seg.min()) / (seg.max() - seg.min())).astype(np.float32)
            expected[:min(seg.size, length)] = norm[:length]
            assert not flat[i]
        else:
            assert flat[i]
        assert out[i].tobytes() == expected.tobytes()


def test_run_starts_are_first_samples_above_threshold():
    x = np.array([0.95, 0.99, 0.2, 0.91, 0.92, 0.5, 0.9, 0.3, 1.0, 0.1], float)
    win = one_window(0, x.size)
    on = np.array([True])
    peaks, _ = K.run_starts_above(x, *win, on, 0.9, False, True)
    assert peaks.tolist() == [0, 3, 8]  # 0.9 itself is not > 0.9
    assert K.run_starts_above(x, *win, on, 0.9, True, True)[0].tolist() == [0, 3, 6, 8]
    assert K.run_starts_above(x, *win, on, 0.9, False, False)[0].tolist() == [3, 8]
    assert K.run_starts_above(x, *win, np.array([False]), 0.9, False, True)[0].size == 0


def test_flat_window_is_skipped_and_counted():
    rng = np.random.default_rng(1)
    good = rng.uniform(0, 0.5, W)
    good[[20, 90, 160]] = 1.0
    signal = np.concatenate([good, np.full(W, 3.0), good])
    seg = segment_paper(signal, FS, PARAMS).validate()
    assert seg.stats["windows"] == 3 and seg.stats["windows_flat"] == 1
    assert seg.stats["windows_skipped"] == 0
    assert seg.window.tolist() == [0, 0, 0, 2, 2, 2]
    flat_only = segment_paper(np.full(3 * W, -1.5), FS, PARAMS)
    assert len(flat_only) == 0 and flat_only.stats["windows_flat"] == 3


@pytest.mark.parametrize("n", [0, 1, 50, 3597])  # 3597 at 360 Hz -> 1249 at 125 Hz
def test_record_shorter_than_one_window_gives_no_beat(n):
    seg = segment_paper(np.sin(np.arange(n) / 5.0), 360.0)  # resampled to 125 Hz
    assert len(seg) == 0 and seg.beats.shape == (0, 187)
    assert seg.stats["windows"] == 0 and seg.stats["beats"] == 0
    kept = segment_paper(np.sin(np.arange(n) / 5.0), 360.0, PaperParams(last_window="keep"))
    assert kept.stats["windows"] == (1 if n >= 3 else int(n > 0))
    kept.validate()


def test_bad_signals_raise_record_error():
    x = np.zeros(5000)
    x[1234] = np.nan
    with pytest.raises(RecordError, match="NaN"):
        segment_paper(x, 360.0)
    with pytest.raises(RecordError, match="one lead"):
        segment_paper(np.zeros((100, 2)), 360.0)


def test_crop_past_window_end_is_cut_or_continued():
    rng = np.random.default_rng(2)
    w = rng.uniform(0, 0.5, W)
    w[[10, 60, 110, 185]] = 1.0  # T = 50, L = 60: the last part runs 45 samples past
    signal = np.concatenate([w, np.linspace(0, 0.5, W)])  # next window: a ramp, no peak
    cut = segment_paper(signal, FS, PARAMS)
    assert cut.n_values.tolist() == [60, 60, 60, 15]
    assert cut.stats["beats_cut_window"] == 1
    cont = segment_paper(signal, FS, PaperParams(fs=FS, window_s=2, length=60, crop_end="signal"))
    assert cont.n_values.tolist() == [60, 60, 60, 60]
    assert np.array_equal(cont.beats[3, :15], cut.beats[3, :15])
    scaled = ((signal[185 + 15:185 + 60] - w.min()) / (w.max() - w.min())).astype(np.float32)
    assert np.array_equal(cont.beats[3, 15:], scaled)
