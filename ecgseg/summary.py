"""What :func:`ecgseg.segment_database` produced, and its printed summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .matching import DetectorScore


@dataclass
class SegmentSummary:
    """What ``segment_database`` produced.

    Attributes
    ----------
    out : Path
    database : str
        ``"mitdb/1.0.0"``.
    recipe : str
    n_records : int
        Records written.
    records : list of str (property)
        Their names, in file order, read from ``out`` (``/records/name``) when asked:
        the run keeps a count, not a list of names, so that its memory does not grow
        with the records (docs/scaling.md).
    failed, warnings : lists
        ``(record, message)`` of the records skipped; warning lines.
    beats, unlabelled : int
    per_class : dict
        Class name -> beats.
    detector : DetectorScore or None
        Beats vs reference beats, summed over records (when there are reference beats).
    seconds : float
    tolerance_s : float
        Peak-to-annotation tolerance behind ``detector``, s.
    detector_name : str
        The R-peak detector used.
    default_detector : bool
        Whether it is the recipe's default (the summary names it otherwise).
    note : str
        Caveat line of the recipe for this database ('' when none).
    """

    out: Path
    database: str
    recipe: str
    n_records: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    beats: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    unlabelled: int = 0
    detector: DetectorScore | None = None
    seconds: float = 0.0
    tolerance_s: float = 0.15
    detector_name: str = ""
    default_detector: bool = True
    note: str = ""

    @property
    def records(self) -> list[str]:
        """Names of the records written, in file order, read from ``out``.

        Raises
        ------
        EcgError
            ``out`` cannot be read (moved, deleted).

        Examples
        --------
        >>> s = segment_database("mitdb", records=["100"])  # doctest: +SKIP
        >>> s.n_records, s.records                           # doctest: +SKIP
        (1, ['100'])
        """
        from .store import stored_record_names

        return stored_record_names(self.out)

    def lines(self) -> list[str]:
        """Human summary, a few lines.

        Examples
        --------
        >>> from ecgseg.matching import DetectorScore
        >>> s = SegmentSummary(Path("x.h5"), "mitdb/1.0.0", "paper", n_records=1, beats=3,
        ...                    per_class={"N": 3}, detector=DetectorScore(4, 3, 3),
        ...                    tolerance_s=0.1)
        >>> s.lines()[2]
        'R-peak detector vs reference beats (100 ms): Se 75.00 %, +P 100.00 % (3 of 4 beats found, 3 peaks)'
        """
        classes = ", ".join(f"{k} {v}" for k, v in self.per_class.items())
        which = "" if self.default_detector else f", {self.detector_name} detector"
        out = [f"{self.database} ({self.recipe} recipe{which}): {self.n_records} records, "
               f"{self.beats} beats in {self.seconds:.1f} s -> {self.out}",
               f"beats per class: {classes}"
               + (f"; {self.unlabelled} without a class" if self.unlabelled else "")]
        if self.detector is not None and self.detector.reference:
            d = self.detector
            name = "R-peak detector" if self.default_detector else \
                f"R-peak detector {self.detector_name!r}"
            out.append(f"{name} vs reference beats ({1000 * self.tolerance_s:.0f} ms): "
                       f"Se {100 * d.sensitivity:.2f} %, +P {100 * d.positive_predictivity:.2f} %"
                       f" ({d.matched} of {d.reference} beats found, {d.detected} peaks)")
        if self.note:
            out.append(self.note)
        if self.failed:
            out.append(f"{len(self.failed)} record(s) failed: "
                       + "; ".join(msg for _, msg in self.failed))
        return out
