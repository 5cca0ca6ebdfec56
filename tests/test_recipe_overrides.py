"""Recipe parameter overrides: one helper (``ecgseg.recipes.params.override_params``) turns
``ecg segment``'s and ``ecg predict``'s options into a parameter object."""

from __future__ import annotations

import pytest

from ecgnet.predict_input import recipe_params
from ecgseg.errors import InputError
from ecgseg.recipes import get_recipe
from ecgseg.recipes.params import (KagglePtbParams, PaperParams, UnknownParameterError,
                                   override_params)

from .conftest import run_ecg


def test_override_params_applies_what_is_given():
    base = PaperParams()
    assert override_params(base, None) is base
    assert override_params(base, {"fs": None, "threshold": None}) is base
    got = override_params(base, {"fs": 250.0, "window_s": 5.0, "threshold": None})
    assert got == PaperParams(fs=250.0, window_s=5.0) and base.fs == 125.0
    ptb = override_params(get_recipe("kaggle").default_params("ptbdb"),
                          {"record_choice": "first"})
    assert ptb == KagglePtbParams(record_choice="first")
    assert override_params(None, {"fs": None}) is None


def test_override_params_errors_name_the_parameter():
    with pytest.raises(UnknownParameterError, match=r"unknown recipe parameter\(s\): fs, "
                                                    "window_s") as info:
        override_params(KagglePtbParams(), {"window_s": 3.0, "fs": 100.0, "phase": 1})
    assert info.value.names == ("fs", "window_s") and isinstance(info.value, InputError)
    with pytest.raises(UnknownParameterError) as info:
        override_params(None, {"fs": 100.0})  # a recipe without parameters (kaggle, mitdb)
    assert info.value.names == ("fs",)
    with pytest.raises(InputError, match="threshold must be in"):
        override_params(PaperParams(), {"threshold": 1.5})
    with pytest.raises(InputError, match="bad recipe parameter"):
        override_params(PaperParams(), {"length": "x"})


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "kaggle", "--fs", "100"], "--fs does not apply to --db mitdb --recipe kaggle"),
    (["--db", "ptbdb", "--recipe", "kaggle", "--fs", "100", "--window", "3"],
     "--fs, --window does not apply to --db ptbdb --recipe kaggle"),
    (["--db", "ptbdb", "--recipe", "paper", "--record-choice", "first"],
     "--record-choice does not apply to --db ptbdb --recipe paper"),
    (["--threshold", "1.5"], "threshold must be in [0, 1)"),
    (["--db", "ptbdb", "--recipe", "kaggle", "--record-choice", "bogus"],
     "record_choice must be one of"),
])
def test_segment_options_become_params_through_the_helper(argv, message, tmp_path, capsys):
    """Bad options fail in one line, before any download or output."""
    assert run_ecg(["segment", *argv, "--data-dir", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {err[7:]}" and message in err and "\n" not in err, err
    assert not any(tmp_path.iterdir())


def test_predict_overrides_go_through_the_same_helper():
    paper = {"training": {"data_sources": [{"format": "hdf5", "recipe": "paper",
                                            "params": {"fs": 125.0, "threshold": 0.85}}]}}
    params, _ = recipe_params(paper, {"window_s": 20.0, "fs": None})
    assert params == PaperParams(threshold=0.85, window_s=20.0)
    with pytest.raises(UnknownParameterError, match=r"unknown paper-recipe parameter\(s\): bogus"):
        recipe_params(paper, {"bogus": 1})
    with pytest.raises(InputError, match="bad recipe parameter"):
        recipe_params(paper, {"length": "x"})
