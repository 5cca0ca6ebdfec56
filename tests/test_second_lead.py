"""The second MIT-BIH lead as a second input (issue #16): ``KaggleMitdbParams.signal``
(``ecg segment --signal``), the row pairing of ``load_data(..., second_lead=...)``, the
2-lead model ``kachuee-rrmd2`` and the refusal of a 2-lead checkpoint without its lead."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from ecgseg.errors import InputError
from ecgseg.pipeline import default_output, segment_record
from ecgseg.recipes import get_recipe
from ecgseg.recipes.kaggle import segment_kaggle_mitdb
from ecgseg.recipes.params import KaggleMitdbParams

from .conftest import run_ecg


def test_signal_parameter_validates_and_defaults_to_signal_0():
    assert get_recipe("kaggle").default_params("mitdb").signal == 0
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(InputError, match="signal"):
            KaggleMitdbParams(signal=bad)
    assert default_output("mitdb", "kaggle", "d").name == "mitdb-kaggle.h5"
    assert default_output("mitdb", "kaggle", "d",
                          params=KaggleMitdbParams(signal=1)).name == "mitdb-kaggle-sig1.h5"


def test_default_rows_stay_those_of_signal_0_and_signal_1_rows_align(mitdb_dir):
    """Signal 0 (default, or given): byte-identical to the recipe without parameters and
    to the bit-exact kernel on signal 0; signal 1: the same rows (positions, symbols,
    labels, order, value counts) cut from the second lead's ADC values."""
    import wfdb

    for name in ("100", "119"):
        bare = segment_record(mitdb_dir / name, "mitdb", None, recipe="kaggle")
        zero = segment_record(mitdb_dir / name, "mitdb", KaggleMitdbParams(signal=0),
                              recipe="kaggle")
        one = segment_record(mitdb_dir / name, "mitdb", KaggleMitdbParams(signal=1),
                             recipe="kaggle")
        record = wfdb.rdrecord(str(mitdb_dir / name), physical=False)
        ann = wfdb.rdann(str(mitdb_dir / name), "atr")
        for channel, res in ((0, bare), (0, zero), (1, one)):
            rows, symbols = segment_kaggle_mitdb(record.d_signal[:, channel], ann.sample,
                                                 ann.symbol)
            assert res.beats.tobytes() == rows.beats.tobytes(), (name, channel)
            assert list(res.symbols) == list(symbols)
        assert len(one.sample) == len(zero.sample) > 100
        assert np.array_equal(one.sample, zero.sample)
        assert np.array_equal(one.labels, zero.labels)
        assert list(one.symbols) == list(zero.symbols)
        assert not np.array_equal(one.beats, zero.beats)  # another lead, other values
        assert one.stats["lead"] == record.sig_name[1] != zero.stats["lead"]


@pytest.fixture(scope="module")
def lead_files(linked_mitdb_data):
    """``ecg segment --recipe kaggle`` of records 100 and 119, signal 0 and ``--signal 1``
    (the default output names), plus signal 1 of record 100 alone."""
    folder = linked_mitdb_data("leads").parent
    common = ["segment", "--db", "mitdb", "--recipe", "kaggle", "--data-dir",
              str(folder / "data"), "-q", "-j", "1"]
    assert run_ecg(common + ["--records", "100,119"]) == 0
    assert run_ecg(common + ["--records", "100,119", "--signal", "1"]) == 0
    only_100 = folder / "sig1-100.h5"
    assert run_ecg(common + ["--records", "100", "--signal", "1", "--out", str(only_100)]) == 0
    beats = folder / "data" / "beats"
    return beats / "mitdb-kaggle.h5", beats / "mitdb-kaggle-sig1.h5", only_100


def test_segment_signal_option_writes_its_own_file_with_provenance(lead_files, capsys):
    first, second, _ = lead_files
    with h5py.File(first, "r") as a, h5py.File(second, "r") as b:
        assert json.loads(a.attrs["params"])["signal"] == 0
        assert json.loads(b.attrs["params"])["signal"] == 1
        assert np.array_equal(a["sample"][:], b["sample"][:])
        assert np.array_equal(a["label"][:], b["label"][:])
        assert [x.decode() for x in b["records/lead"][:]] == ["V5", "V1"]
    data = first.parent.parent
    assert run_ecg(["segment", "--db", "mitdb", "--recipe", "paper", "--signal", "1",
                    "--records", "100", "--data-dir", str(data), "-q",
                    "--out", str(first.parent / "p.h5")]) == 1
    assert "--signal does not apply" in capsys.readouterr().err


def test_load_data_pairs_the_second_lead_row_by_row(lead_files):
    from ecgnet.data import load_data

    first, second, _ = lead_files
    one = load_data([first])
    two = load_data([first], second_lead=[second])
    assert np.array_equal(two.beats, one.beats) and np.array_equal(two.labels, one.labels)
    assert two.second_beats.shape == two.second_median.shape == one.beats.shape
    assert not np.array_equal(two.second_beats, two.beats)
    assert two.source_info[-1]["lead"] == "second"
    assert two.fingerprint() != one.fingerprint()  # a resumed run checks both leads
    part = two.subset(np.arange(5, 50))
    assert np.array_equal(part.second_beats, two.second_beats[5:50])
    assert np.array_equal(part.samples, two.samples[5:50])


def test_second_lead_that_does_not_pair_is_an_error_naming_it(lead_files, tmp_path):
    from ecgnet.data import load_data

    first, second, only_100 = lead_files
    with pytest.raises(InputError, match="^second_lead: .* labelled beats"):
        load_data([first], second_lead=[only_100])
    with pytest.raises(InputError, match="^second_lead: 2 file"):
        load_data([first], second_lead=[second, second])
    moved = tmp_path / "moved.h5"
    moved.write_bytes(second.read_bytes())
    with h5py.File(moved, "r+") as h:
        h["sample"][7] += 1
    with pytest.raises(InputError, match=r"^second_lead: beat 7 .* does not pair"):
        load_data([first], second_lead=[moved])
    csv = tmp_path / "rows.csv"
    csv.write_text(",".join(["0.5"] * 187 + ["0"]) + "\n")
    with pytest.raises(InputError, match="^second_lead: .* HDF5"):
        load_data([csv], second_lead=[second])


def test_two_lead_model_parameters_and_forward_shape():
    from ecgnet.data import model_inputs
    from ecgnet.models import (build_model, count_parameters, input_columns, lead_count,
                               lead_offsets)

    model = build_model("kachuee-rrmd2", 5)
    assert count_parameters(model) == 55_813 <= 60_000
    assert lead_count(model) == 2 and lead_count(build_model("kachuee-rrmd", 5)) == 1
    assert input_columns(model) == 758 and lead_offsets(model) == (0, 384)
    assert model(torch.zeros(3, 758)).shape == (3, 5)
    assert model(torch.zeros(3, 1, 758)).shape == (3, 5)
    n = 4
    rng = np.random.default_rng(0)
    beats, median, beats2, median2 = (rng.random((n, 187), dtype=np.float32) for _ in range(4))
    rhythm = rng.random((n, 5), dtype=np.float32)
    record = rng.random((n, 10), dtype=np.float32)
    x = model_inputs(model, beats, rhythm, record=record, median=median,
                     second_beats=beats2, second_median=median2)
    assert x.shape == (n, 758)
    assert np.array_equal(x[:, 384:571], beats2) and np.array_equal(x[:, 571:], median2)
    with pytest.raises(InputError, match="takes 2 leads.*second_lead"):
        model_inputs(model, beats, rhythm, record=record, median=median)
    # the second lead changes the logits: the stem's channels 3 and 4 are wired
    model.eval()
    other = x.copy()
    other[:, 384:571] = 0
    with torch.no_grad():
        assert not torch.allclose(model(torch.from_numpy(x)), model(torch.from_numpy(other)))


def test_jitter_stretches_both_leads_alike():
    from ecgnet.augment import jitter, perturb

    rng = np.random.default_rng(1)
    beat = rng.random((6, 187), dtype=np.float32)
    row = np.concatenate([beat, rng.random((6, 197), dtype=np.float32), beat,
                          np.zeros((6, 187), np.float32)], axis=1)
    out = jitter(row, 1.0, np.random.default_rng(2), offsets=(0, 384))
    assert np.array_equal(out[:, :187], out[:, 384:571])  # same stretch and scale
    assert not np.array_equal(out[:, :187], beat)
    assert np.array_equal(out[:, 187:384], row[:, 187:384])  # features kept
    # one lead (the default): only the first 187 columns move, as before
    one = perturb(row[:, :384], np.random.default_rng(3))
    assert np.array_equal(one[:, 187:], row[:, 187:384])


@pytest.fixture(scope="module")
def two_lead_checkpoint(lead_files):
    from ecgnet.train import TrainConfig, train

    first, second, _ = lead_files
    result = train(TrainConfig(data=[str(first)], second_lead=[str(second)],
                               model="kachuee-rrmd2", out=str(first.parent), name="run2",
                               epochs=1, max_iters=3, batch_size=32, threads=1,
                               progress=False))
    return result.run_dir / "best.pt"


def test_two_lead_checkpoint_is_refused_without_its_second_lead(two_lead_checkpoint,
                                                               lead_files, capsys):
    from ecgnet.evaluate import evaluate
    from ecgnet.predict import predict

    first, second, _ = lead_files
    with pytest.raises(InputError, match="takes 2 leads.*--second-lead"):
        evaluate(two_lead_checkpoint, [str(first)])
    report = evaluate(two_lead_checkpoint, [str(first)], second_lead=[str(second)]).report
    assert report["n"] > 0 and report["part"].startswith("test part")
    with pytest.raises(InputError, match="takes 2 leads and ecg predict cuts one"):
        predict(two_lead_checkpoint, str(first))
    capsys.readouterr()
    assert run_ecg(["evaluate", str(two_lead_checkpoint), str(first), "--threads", "1",
                    "--out", str(first.parent / "ev")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "takes 2 leads" in err[0]
    assert run_ecg(["evaluate", str(two_lead_checkpoint), str(first), "--second-lead",
                    str(second), "--threads", "1", "--out", str(first.parent / "ev")]) == 0


def test_wide_two_lead_model_parameters_shape_and_ablation_row():
    from ecgnet.models import build_model, count_parameters, input_columns, lead_count

    model = build_model("kachuee-wide2", 5).eval()
    assert count_parameters(model) == 55_883 <= 60_000
    assert lead_count(model) == 2 and input_columns(model) == 761
    x = torch.rand(3, 761)
    assert model(x).shape == (3, 5)
    other = x.clone()
    other[:, 387:574] = 0
    with torch.no_grad():
        assert not torch.allclose(model(x), model(other))
    # the 1-lead kachuee-wide is unchanged by the refactor: same weights, same logits
    wide = build_model("kachuee-wide", 5).eval()
    state = {k: v for k, v in model.state_dict().items() if k != "stem.weight"}
    state["stem.weight"] = model.stem.weight[:, :2].detach().clone()
    wide.load_state_dict(state)
    y = x[:, :387]
    with torch.no_grad():
        model.stem.weight[:, 2:] = 0
        assert torch.allclose(wide(y), model(x), atol=1e-6)
