"""The fast MIT-format annotation reader gives exactly what wfdb.rdann gives."""

from __future__ import annotations

import numpy as np
import wfdb

from ecgseg.annotation_file import decode_mit_annotations, read_mit_annotations
from ecgseg.records import read_annotations


def test_mitdb_has_48_records(full_mirror):
    assert len((full_mirror / "mitdb" / "1.0.0" / "RECORDS").read_text().split()) == 48


def test_every_mitdb_atr_file_equals_wfdb(mirror_dir):
    folder = mirror_dir / "mitdb" / "1.0.0"
    records = (folder / "RECORDS").read_text().split()
    for rec in records:
        ours = read_annotations(folder / rec, "atr")
        ref = wfdb.rdann(str(folder / rec), "atr")
        np.testing.assert_array_equal(ours.sample, ref.sample, err_msg=rec)
        assert list(ours.symbol) == list(ref.symbol), rec


def test_skip_aux_and_end_of_file():
    n_code, v_code, skip, aux = 1, 5, 59, 63
    words = [
        (n_code << 10) | 100,                 # N at 100
        (aux << 10) | 3, 0x4e28, 0x0000,      # AUX "(N" + pad, attached to the N
        (skip << 10), 0x0001, 0x0000,         # SKIP +65536
        (v_code << 10) | 5,                   # V at 100 + 65536 + 5
        0,                                    # end of file
        (n_code << 10) | 7,                   # after the end: ignored
    ]
    sample, code, ok = decode_mit_annotations(np.array(words, dtype=np.uint16))
    assert ok and list(sample) == [100, 65641] and list(code) == [1, 5]


def test_unknown_codes_fall_back(tmp_path):
    f = tmp_path / "x.atr"
    np.array([(55 << 10) | 3, 0], dtype="<u2").tofile(f)  # code 55 is not a label
    assert read_mit_annotations(str(f)) is None


def test_symbol_table_equals_wfdb():
    from wfdb.io.annotation import ann_label_table

    from ecgseg.annotation_file import _symbols

    ref = dict(zip((int(c) for c in ann_label_table["label_store"]), ann_label_table["symbol"]))
    assert list(_symbols()) == [ref.get(code, "") for code in range(64)]
