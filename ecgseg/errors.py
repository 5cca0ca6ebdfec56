"""Exceptions raised by the toolkit.

Every error a user can cause (bad input, missing data, unreachable mirror) is an
:class:`EcgError`; the ``ecg`` command prints its message on one line and exits
with a non-zero status instead of showing a traceback.
"""

from __future__ import annotations


class EcgError(Exception):
    """Base class of all user-facing errors of the toolkit."""


class DownloadError(EcgError):
    """A file could not be downloaded, verified or stored."""


class RecordError(EcgError):
    """A record cannot be read or segmented (missing file, bad header, no such lead)."""


class InputError(EcgError):
    """An input file (CSV, HDF5, checkpoint) is malformed or of the wrong kind."""


class OutputExistsError(EcgError, FileExistsError):
    """An output file or folder exists and overwriting was not allowed."""
