"""Record-level splits of MIT-BIH used for honest (inter-patient) evaluation.

de Chazal, O'Dwyer & Reilly (2004): DS1 trains, DS2 tests; the paced records are in
neither (AAMI EC57 leaves them out). Records 201 and 202 are the same subject.
"""

from __future__ import annotations

DS1: tuple[str, ...] = tuple(
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 "
    "215 220 223 230".split()
)
DS2: tuple[str, ...] = tuple(
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 "
    "231 232 233 234".split()
)
PACED: tuple[str, ...] = ("102", "104", "107", "217")

#: MIT-BIH records that share a subject: record -> patient id.
MITDB_SAME_SUBJECT: dict[str, str] = {"202": "201"}

RECORD_SPLITS: dict[str, tuple[str, ...]] = {"DS1": DS1, "DS2": DS2, "paced": PACED}


def mitdb_patient(record: str) -> str:
    """Patient id of an MIT-BIH record (its own name, except 202 -> 201)."""
    return MITDB_SAME_SUBJECT.get(record, record)


def ptbdb_patient(record: str) -> str:
    """Patient id of a PTB record: its folder, e.g. ``"patient001/s0010_re"`` -> ``"patient001"``."""
    return record.split("/", 1)[0]
