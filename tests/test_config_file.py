"""TOML configuration files of training runs (``ecgnet.config_file``)."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from ecgnet.config_file import ConfigFileError, dumps_config, read_config, write_config
from ecgnet.train_config import TrainConfig
from ecgseg.errors import OutputExistsError


def test_round_trip_of_a_train_config(tmp_path):
    config = TrainConfig(data=["a.h5", 'odd "name".csv'], name="run", model="cnn-lstm",
                         classes=["N", "S"], lr=5e-4, epochs=3, max_iters=None, ema=0.999,
                         progress=False, trainable="blocks:2", threads=1)
    path = write_config(config, tmp_path / "run.toml", header="ecg train, run 'run'")
    text = path.read_text()
    assert text.startswith("# ecg train, run 'run'\n") and "# max_iters = (not set)" in text
    assert tomllib.loads(text)["lr"] == 5e-4  # a real TOML file
    values = read_config(path)
    assert "max_iters" not in values and values["progress"] is False
    assert TrainConfig(**values) == config
    with pytest.raises(OutputExistsError, match="use overwrite"):
        write_config(config, path, overwrite=False)
    assert not list(tmp_path.glob(".*.tmp"))


def test_keys_as_options_and_numbers(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('data = ["x.csv"]\nbatch-size = 64\nlr = 1\nclass_weights = "sqrt"\n')
    values = read_config(path)
    assert values == {"data": ["x.csv"], "batch_size": 64, "lr": 1.0, "class_weights": "sqrt"}
    assert isinstance(values["lr"], float)


@pytest.mark.parametrize("text, message", [
    ("bogus = 1\n", r"a.toml: unknown key 'bogus' \(settings: .*batch_size"),
    ("batch_size = 6.5\n", r"a.toml: batch_size must be int, got float 6.5"),
    ("epochs = true\n", r"epochs must be int, got bool"),
    ("progress = 1\n", r"progress must be bool, got int"),
    ("data = \"x.csv\"\n", r"data must be a list, got str"),
    ("classes = [\"N\", 2]\n", r"classes\[1\] must be str, got int 2"),
    ("max_iters = \"10\"\n", r"max_iters must be int, got str"),
    ("lr = \n", r"a.toml: not a valid TOML file"),
    ("batch_size = 1\nbatch-size = 2\n", r"key 'batch-size' is given twice"),
])
def test_bad_files_name_the_key_and_the_file(tmp_path, text, message):
    path = tmp_path / "a.toml"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=message):
        read_config(path)


def test_missing_file_and_other_dataclasses(tmp_path):
    with pytest.raises(ConfigFileError, match="config file .*nope.toml does not exist"):
        read_config(tmp_path / "nope.toml")

    @dataclasses.dataclass
    class Small:
        rate: float = 0.1
        tags: list = dataclasses.field(default_factory=list)

    write_config(Small(rate=0.25, tags=["a", "b\\c"]), tmp_path / "s.toml")
    assert read_config(tmp_path / "s.toml", Small) == {"rate": 0.25, "tags": ["a", "b\\c"]}
    assert dumps_config({"x": True, "y": [1, 2.5]}) == "x = true\ny = [1, 2.5]\n"
