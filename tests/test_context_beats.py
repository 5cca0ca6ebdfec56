"""Neighbouring beats as context (issue #16): :func:`ecgnet.data.neighbour_beats`, the
context columns of ``model_inputs``, the model ``kachuee-rrmd-ctx`` and its use by
``load_data``, ``train``, ``evaluate`` and ``predict``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgseg.errors import InputError

from .conftest import run_ecg


def neighbours_by_loop(beats, groups, positions, count):
    """Plain reference of :func:`ecgnet.data.neighbour_beats`: one beat at a time."""
    n = len(beats)
    out = np.empty((n, 2 * count, beats.shape[1]), np.float32)
    for i in range(n):
        same = [j for j in range(n) if groups[j] == groups[i]]
        ordered = sorted(same, key=lambda j: positions[j])
        r = ordered.index(i)
        for col, step in enumerate(list(range(-count, 0)) + list(range(1, count + 1))):
            k = r + step
            out[i, col] = beats[ordered[k]] if 0 <= k < len(ordered) else beats[i]
    return out


def test_neighbour_beats_orders_by_position_repeats_edges_never_mixes_records():
    from ecgnet.data import neighbour_beats

    # rows 0..5: record "b" at positions 50, 10, 30 and record "a" at 40, 20, 5 (shuffled)
    beats = np.arange(6, dtype=np.float32)[:, None].repeat(187, axis=1)
    groups = np.array(["b", "b", "b", "a", "a", "a"])
    positions = np.array([50, 10, 30, 40, 20, 5])
    ctx = neighbour_beats(beats, groups, positions)
    assert ctx.shape == (6, 2, 187) and ctx.dtype == np.float32
    before, after = ctx[:, 0, 0].tolist(), ctx[:, 1, 0].tolist()
    # record b in order: rows 1, 2, 0; record a: rows 5, 4, 3
    assert before == [2, 1, 1, 4, 5, 5]  # first beats (rows 1, 5) are their own previous
    assert after == [0, 2, 0, 3, 3, 4]  # last beats (rows 0, 3) are their own next
    # a record's last beat never sees the next record's first, whatever the row order
    rng = np.random.default_rng(0)
    beats = rng.random((40, 187), dtype=np.float32)
    groups = rng.integers(0, 4, 40)
    positions = rng.permutation(1000)[:40]
    for count in (1, 2):
        got = neighbour_beats(beats, groups, positions, count)
        assert got.shape == (40, 2 * count, 187)
        assert np.array_equal(got, neighbours_by_loop(beats, groups, positions, count))
    with pytest.raises(ValueError, match="count"):
        neighbour_beats(beats, groups, positions, 0)


def test_context_model_parameters_inputs_and_refusal():
    from ecgnet.data import model_inputs
    from ecgnet.models import (build_model, context_columns, context_count, count_parameters,
                               extra_inputs_text, input_columns, lead_offsets)

    model = build_model("kachuee-rrmd-ctx", 5)
    assert count_parameters(model) == 55_813 <= 60_000
    assert context_count(model) == 1 and context_count(build_model("kachuee-rrmd", 5)) == 0
    assert context_columns(model) == 374 and input_columns(model) == 758
    assert lead_offsets(model) == (0,)  # jitter moves the beat only, not its neighbours
    assert "previous and next beat" in extra_inputs_text(model)
    n = 4
    rng = np.random.default_rng(0)
    beats, median = (rng.random((n, 187), dtype=np.float32) for _ in range(2))
    rhythm = rng.random((n, 5), dtype=np.float32)
    record = rng.random((n, 10), dtype=np.float32)
    context = rng.random((n, 2, 187), dtype=np.float32)
    x = model_inputs(model, beats, rhythm, record=record, median=median, context=context)
    assert x.shape == (n, 758) and x.flags.c_contiguous
    assert np.array_equal(x[:, 384:571], context[:, 0])
    assert np.array_equal(x[:, 571:], context[:, 1])
    # a model of one beat a side takes the nearest two of a wider context
    wide = rng.random((n, 4, 187), dtype=np.float32)
    x2 = model_inputs(model, beats, rhythm, record=record, median=median, context=wide)
    assert np.array_equal(x2[:, 384:], wide[:, 1:3].reshape(n, -1))
    # models without context are unchanged by it
    plain = build_model("kachuee-rrmd", 5)
    assert model_inputs(plain, beats, rhythm, record=record, median=median,
                        context=context).shape == (n, 384)
    with pytest.raises(InputError, match="neighbouring beat.*0 are given"):
        model_inputs(model, beats, rhythm, record=record, median=median)
    # the neighbours change the logits: stem channels 3 and 4 are wired
    model.eval()
    for cols in (slice(384, 571), slice(571, 758)):
        other = x.copy()
        other[:, cols] = 0
        with torch.no_grad():
            assert not torch.allclose(model(torch.from_numpy(x)), model(torch.from_numpy(other)))


@pytest.fixture(scope="module")
def beats_file(linked_mitdb_data):
    """``ecg segment --recipe kaggle`` of records 100 and 119."""
    folder = linked_mitdb_data("ctx").parent
    assert run_ecg(["segment", "--db", "mitdb", "--recipe", "kaggle", "--data-dir",
                    str(folder / "data"), "-q", "-j", "1", "--records", "100,119"]) == 0
    return folder / "data" / "beats" / "mitdb-kaggle.h5"


def test_load_data_context_is_the_records_neighbouring_rows(beats_file):
    from ecgnet.data import load_data

    from ecgseg.store import load_beats

    data = load_data([beats_file])
    table = load_beats(beats_file, labelled=False)
    assert data.context_beats.shape == (len(data), 2, 187)
    # all the file's beats in position order (unlabelled ones count as neighbours)
    rec = table.meta["record"].astype(str).to_numpy()
    smp = table.meta["sample"].to_numpy()
    keep = table.labels >= 0
    ref = neighbours_by_loop(table.beats, rec, smp, 1)[keep]
    assert np.array_equal(data.context_beats, ref)
    first_119 = int(np.flatnonzero(data.records == "119")[0])
    assert data.samples[first_119] == smp[rec == "119"].min()
    # record 119's first beat is its own previous, not record 100's last
    assert np.array_equal(data.context_beats[first_119, 0], data.beats[first_119])
    assert np.array_equal(data.context_beats[first_119 - 1, 1], data.beats[first_119 - 1])
    inner = first_119 + 5
    assert np.array_equal(data.context_beats[inner, 0], data.beats[inner - 1])
    assert np.array_equal(data.context_beats[inner, 1], data.beats[inner + 1])
    part = data.subset(np.arange(first_119 - 3, first_119 + 3))
    assert np.array_equal(part.context_beats, data.context_beats[first_119 - 3:first_119 + 3])


def test_context_model_trains_evaluates_and_predicts(beats_file, on_full_mirror):
    from ecgnet.evaluate import evaluate
    from ecgnet.predict import predict
    from ecgnet.train import TrainConfig, train

    result = train(TrainConfig(data=[str(beats_file)], model="kachuee-rrmd-ctx",
                               out=str(beats_file.parent), name="ctx", epochs=1, max_iters=3,
                               batch_size=32, threads=1, jitter=0.5, progress=False))
    checkpoint = result.run_dir / "best.pt"
    report = evaluate(checkpoint, [str(beats_file)]).report
    assert report["n"] > 0
    pred = predict(checkpoint, str(beats_file))
    assert pred.proba.shape[0] > (2000 if on_full_mirror else 300)  # shipped records: 347
