"""The ``ecg`` command: a thin Typer layer over the ``ecgseg`` and ``ecgnet`` APIs."""
