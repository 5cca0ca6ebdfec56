"""``ecg train``/``ecg transfer`` options come from TrainConfig's fields (one source)."""

from __future__ import annotations

import dataclasses
import pytest
import typer

from ecg_cli.main import app, main
from ecgnet.train_config import TRANSFER_DEFAULTS, ConfigError, TrainConfig, flag_of


def exposed():
    return [f for f in dataclasses.fields(TrainConfig) if f.metadata["cli"]]


@pytest.mark.parametrize("name", ["train", "transfer"])
def test_every_exposed_field_is_an_option_with_its_default_and_help(name):
    command = typer.main.get_command(app).commands[name]
    options = {p.name: p for p in command.params}
    own = {"data", "name", "trainable"}
    for f in exposed():
        if f.name in own:
            continue
        want = TRANSFER_DEFAULTS.get(f.name, f.default) if name == "transfer" else f.default
        opt = options[f.name]
        assert opt.default == want and opt.opts == [flag_of(f.name)], f.name
        if not (name == "transfer" and f.name == "split"):  # transfer's own wording
            # "[" escaped for Rich's markup (else "[default: ...]" is swallowed)
            assert opt.help == f.metadata["help"].replace("[", "\\["), f.name
    hidden = {f.name for f in dataclasses.fields(TrainConfig) if not f.metadata["cli"]} - own
    assert hidden.isdisjoint(options) and "settings" not in options


def test_errors_name_the_parameter_and_the_cli_the_flag(tmp_path, capsys):
    with pytest.raises(ConfigError, match="^batch_size must be at least 1$") as exc:
        TrainConfig(data=["x.csv"], batch_size=0)
    assert exc.value.parameter == "batch_size"
    with pytest.raises(ConfigError, match="^lr_decay_every must be at least 1$"):
        TrainConfig(data=["x.csv"], lr_decay_every=0)
    with pytest.raises(SystemExit) as code:
        main(["train", str(tmp_path / "x.csv"), "--lr-decay-every", "0", "--out", str(tmp_path)])
    assert code.value.code == 1
    assert capsys.readouterr().err == "error: --lr-decay-every must be at least 1\n"


def test_train_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for f in exposed():
        if f.name != "data":
            assert flag_of(f.name) in out, f.name
