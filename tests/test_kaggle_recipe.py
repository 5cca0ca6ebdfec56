"""The Kaggle recipes against the real published rows."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ecgseg import kernels_numpy as ref
from ecgseg.labels import AAMI_CLASSES, aami_label
from ecgseg.recipes.kaggle import KagglePtbParams, segment_kaggle_mitdb, segment_kaggle_ptb

KAGGLE_TOTALS = {"N": 90589, "S": 2779, "V": 7236, "F": 803, "Q": 8039}


def as_rows(segs, symbols) -> np.ndarray:
    """float32 (n, 188): the 187 values then the AAMI label, as in the CSV files."""
    return np.ascontiguousarray(
        np.column_stack([segs.beats, aami_label(symbols).astype(np.float32)]), np.float32)


def csv_line(row: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savetxt(buf, row[None, :], fmt="%.18e", delimiter=",")
    return buf.getvalue()


@pytest.fixture(scope="session")
def kaggle_mitdb_rows(mitdb_records):
    """Rows of all 48 records in RECORDS order, float32 (109 446, 188)."""
    parts = []
    for name, (adc, sample, symbol) in mitdb_records.items():
        segs, symbols = segment_kaggle_mitdb(adc, sample, symbol)
        segs.validate()
        assert segs.stats["last_annotation_dropped"] == 1, name
        parts.append(as_rows(segs, symbols))
    return np.concatenate(parts)


@pytest.mark.slow
def test_class_totals_match_the_published_files(full_mirror, kaggle_mitdb_rows):
    counts = np.bincount(kaggle_mitdb_rows[:, 187].astype(int), minlength=5)
    assert dict(zip(AAMI_CLASSES, counts.tolist())) == KAGGLE_TOTALS
    assert kaggle_mitdb_rows.shape == (109446, 188)


@pytest.mark.slow
def test_every_known_row_is_reproduced_bit_for_bit(kaggle_mitdb_rows, rebuildable_known_lines,
                                                   on_full_mirror):
    lines = rebuildable_known_lines  # the whole file on the full mirror
    assert len(lines) == (1496 if on_full_mirror else 28)
    known = {np.array(line.split(b","), np.float64).astype(np.float32).tobytes(): line
             for line in lines}
    found = {}
    for i, row in enumerate(kaggle_mitdb_rows):
        key = row.tobytes()
        if key in known:
            found[key] = i
    assert len(found) == len(known)
    for key, i in found.items():
        assert csv_line(kaggle_mitdb_rows[i]) == known[key]
        assert len(known[key]) == 4700


@pytest.mark.parametrize("name", ["100", "114", "207", "232"])
def test_numpy_reference_gives_identical_rows(mitdb_records, name):
    adc, sample, symbol = mitdb_records[name]
    (fast, fs), (slow, ss) = (segment_kaggle_mitdb(adc, sample, symbol),
                              ref.segment_kaggle_mitdb(adc, sample, symbol))
    assert fast.beats.tobytes() == slow.beats.tobytes()
    assert np.array_equal(fast.sample, slow.sample) and np.array_equal(fs, ss)
    assert np.array_equal(fast.n_values, slow.n_values)
    assert fast.stats == slow.stats
    # 207 holds many non-beat annotations: every one of them is a boundary, none a row
    assert len(fast) == fast.stats["beat_annotations"] - 1


def test_ptb_lossy_copy_gives_the_six_known_normal_rows(kaggle_dir):
    z = np.load(kaggle_dir / "ptbdb_s0323lre_first60s_lossy.npz")
    lead_ii = z["adc"][:, list(z["leads"]).index("ii")]
    seg = segment_kaggle_ptb(lead_ii).validate()
    assert seg.stats["windows"] == 12 and seg.stats["beats"] > 20
    assert seg.n_values.max() <= 186

    known = np.loadtxt(kaggle_dir / "ptbdb_normal_known_rows.csv", delimiter=",")
    assert known.shape == (809, 188) and np.all(known[:, 187] == 0)
    values = known[:, :187].astype(np.float32).astype(np.float64)
    diff = np.abs(values[:, None, :] - seg.beats[None, :, :].astype(np.float64)).max(axis=2)
    nearest = diff.min(axis=1)
    matched = np.flatnonzero(nearest < 1e-3)
    assert matched.size >= 6, sorted(nearest)[:8]
    # the rounding of the lossy copy (1 uV) stays below 5e-4; other rows are far off
    assert nearest[matched].max() < 5e-4
    produced = diff[matched].argmin(axis=1)
    assert np.unique(produced).size == matched.size  # six different beats


def ptb_train(runs_per_window, n_windows=3, seed=0):
    """1000 Hz ADC signal whose 125 Hz decimation has runs of value 1000 (3 samples)
    at the given positions of every 625-sample window, noise in [0, 100) elsewhere."""
    rng = np.random.default_rng(seed)
    dec = rng.integers(0, 100, 625 * n_windows + 100)
    for w in range(n_windows):
        for p in runs_per_window:
            dec[w * 625 + p:w * 625 + p + 3] = 1000
    return np.repeat(dec, 8)  # x[::8] gives dec back


def test_ptb_segments_follow_the_documented_rules():
    x = ptb_train([50, 150, 250, 350, 450, 550])  # T = 100, L = 120
    seg = segment_kaggle_ptb(x).validate()
    assert seg.stats["windows"] == 3 and seg.stats["peaks"] == 18
    starts = [w * 625 + p for w in range(3) for p in (50, 150, 250, 350, 450)]
    assert seg.sample.tolist() == [8 * s for s in starts]  # the window's last peak: no row
    assert seg.window.tolist() == [w for w in range(3) for _ in range(5)]
    assert np.all(seg.n_values == 120) and np.all(seg.beats[:, 0] == 1)

    every = segment_kaggle_ptb(x, KagglePtbParams(skip_last_peak=False))
    assert len(every) == 18 and every.n_values[5] == 625 - 550  # cut at the window end
    assert every.stats["segments_cut_window"] == 3

    slow = ptb_train([20, 180, 340, 500])  # T = 160, L = 192 > 186
    assert len(segment_kaggle_ptb(slow)) == 0
    assert segment_kaggle_ptb(slow).stats["segments_long"] == 9
    cut = segment_kaggle_ptb(slow, KagglePtbParams(long_segments="cut"))
    assert len(cut) == 9 and np.all(cut.n_values == 186)

    at_start = ptb_train([0, 100, 200, 300, 400])
    assert segment_kaggle_ptb(at_start).sample[0] == 0
    dropped = segment_kaggle_ptb(at_start, KagglePtbParams(run_at_window_start="drop"))
    assert dropped.sample[0] == 8 * 100


def test_ptb_raw_records_run_end_to_end(ptbdb_records):
    for name, (adc, _) in ptbdb_records.items():
        seg = segment_kaggle_ptb(adc).validate()
        assert seg.stats["windows"] == adc.size // 8 // 625
        assert seg.stats["beats"] == len(seg) > 0, name
        assert seg.n_values.max() <= 186 and seg.n_values.min() >= 1
        assert seg.beats.min() >= 0 and seg.beats.max() <= 1
        # every row is min-max normalised: it reaches 0 and 1 before its padding
        for row, n in zip(seg.beats, seg.n_values):
            if n > 1:
                assert row[:n].min() == 0 and row[:n].max() == 1
        assert np.all(np.diff(seg.sample) > 0)
