"""Benchmarks that ship with the package (``ecg bench``).

:mod:`ecgseg.bench.segment_speed` times ``ecg segment`` against the I/O floor (wfdb
reading the records), the NumPy reference and the peers; :mod:`ecgseg.bench.cases`
holds the timed cases, :mod:`ecgseg.bench.report` writes ``RESULTS.md`` and the chart.
Nothing here is imported by the segmentation code.
"""
