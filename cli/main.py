"""Entry point of the ``ecg`` command.

Each sub-command lives in its own module; this file only wires them together and
turns the toolkit's errors into one clear line and a non-zero exit status.
"""

from __future__ import annotations

import signal
import sys

import typer

from ecgseg.errors import EcgError

from . import (bench_cmd, download_cmd, evaluate_cmd, kaggle_cmd, predict_cmd, segment_cmd,
               train_cmd, transfer_cmd)
from . import app_cmd, explain_cmd, models_cmd, runs_cmd, tune_cmd
from .evaluate_records_cmd import evaluate_records

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
app.command("evaluate-records")(evaluate_records)
app.command("export-model")(predict_cmd.export_model)
app.command("bench", context_settings=bench_cmd.CONTEXT, add_help_option=False)(bench_cmd.bench)
app.command("transfer")(transfer_cmd.transfer)
app.command("explain")(explain_cmd.explain)
app.command("runs")(runs_cmd.runs)
app.command("tune")(tune_cmd.tune)
app.command("models")(models_cmd.models)
app.command("app")(app_cmd.app)


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


def expected_error(exc: BaseException) -> EcgError | None:
    """The toolkit error ``exc`` stands for, or ``None`` if it is unexpected (a bug).

    :class:`EcgError` is expected; so is a failure of the file system that a user can
    fix (disk full, permission denied, read-only, a folder where a file should be, an
    existing output), which :func:`ecgseg.oserrors.from_os_error` words with its path.

    Examples
    --------
    >>> import errno
    >>> print(expected_error(OSError(errno.ENOSPC, "No space left on device", "a.csv")))
    cannot write a.csv: the disk is full (free some space or write somewhere else)
    >>> expected_error(ZeroDivisionError()) is None
    True
    """
    if isinstance(exc, EcgError):
        return exc
    if isinstance(exc, (OSError, RuntimeError)):
        from ecgseg.oserrors import from_os_error

        return from_os_error(exc)
    return None


def main(argv: list[str] | None = None) -> None:
    """Run the ``ecg`` command: the one place that turns errors into exit statuses.

    An expected error (:func:`expected_error`) prints one line on stderr and exits
    with status 1; Ctrl-C (``KeyboardInterrupt``) prints ``interrupted`` and exits
    with 130; anything else is a bug and shows its traceback.
    """
    try:
        app(args=argv, prog_name="ecg")
    except SystemExit as done:
        if argv is None and done.code in (0, None):
            # The command finished and its outputs are complete: a Ctrl-C or SIGTERM while
            # the interpreter shuts down (where Python restores the default handlers, so the
            # process would die of the signal) must not turn that success into a kill.
            for s in (signal.SIGINT, signal.SIGTERM):
                signal.signal(s, signal.SIG_IGN)
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        err = expected_error(exc)
        if err is None:
            raise
        typer.echo(error_line(err), err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
