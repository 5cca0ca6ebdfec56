"""Entry point of the ``ecg`` command.

Each sub-command lives in its own module; this file only wires them together and
turns the toolkit's errors into one clear line and a non-zero exit status.
"""

from __future__ import annotations

import sys

import typer

from ecgseg.errors import EcgError

from . import (bench_cmd, download_cmd, evaluate_cmd, kaggle_cmd, predict_cmd, segment_cmd,
               train_cmd, transfer_cmd)
from . import explain_cmd, runs_cmd, tune_cmd

app = typer.Typer(
    name="ecg",
    help="ECG heartbeat toolkit: PhysioNet download, beat segmentation, CNN training.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from ecgseg import __version__

        typer.echo(f"ecg-toolkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the toolkit's version and exit."),
) -> None:
    """ECG heartbeat toolkit: PhysioNet download, beat segmentation, CNN training."""


app.command("download")(download_cmd.download)
app.command("segment")(segment_cmd.segment)
app.command("export")(kaggle_cmd.export)
app.command("verify-kaggle")(kaggle_cmd.verify_kaggle)
app.command("train")(train_cmd.train)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("predict")(predict_cmd.predict)
app.command("export-model")(predict_cmd.export_model)
app.command("bench", context_settings=bench_cmd.CONTEXT, add_help_option=False)(bench_cmd.bench)
app.command("transfer")(transfer_cmd.transfer)
app.command("explain")(explain_cmd.explain)
app.command("runs")(runs_cmd.runs)
app.command("tune")(tune_cmd.tune)


def error_line(exc: EcgError) -> str:
    """The one line a user error prints: a bad setting is named by its flag.

    An error of a :class:`~ecgnet.train_config.TrainConfig` setting names the
    parameter (``batch_size must be at least 1``); here it names the option
    (``--batch-size must be at least 1``).
    """
    parameter = getattr(exc, "parameter", None)
    if parameter is not None and hasattr(exc, "detail"):
        from ecgnet.train_config import flag_of  # loaded already: it raised the error

        return f"error: {flag_of(parameter)} {exc.detail}"
    return f"error: {exc}"


def main(argv: list[str] | None = None) -> None:
    """Run the ``ecg`` command; user errors exit with status 1 and one line on stderr."""
    try:
        app(args=argv, prog_name="ecg")
    except EcgError as exc:
        typer.echo(error_line(exc), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
