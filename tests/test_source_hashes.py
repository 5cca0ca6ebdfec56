"""``ecgseg.source_hashes``: the /source_sha256 rows of a beats file, a block at a time."""

from __future__ import annotations

import json
import random

import h5py
import pytest

from ecgseg.source_hashes import SourceHashRows, read_source_hashes


@pytest.mark.parametrize("block_rows", [1, 5, 4096])
def test_rows_in_order_and_read_back_as_the_updated_dict(tmp_path, block_rows):
    rng = random.Random(block_rows)
    alphabet = ["a", "b", "0", "9", ".", "/", " ", "!", '"', "\\", "\t", "é", "ü", "中"]
    expected: dict[str, str] = {}
    rows = []
    rh = SourceHashRows(block_rows=block_rows)
    with h5py.File(tmp_path / "h.h5", "w") as f:
        for _ in range(300):
            batch = {}
            for _ in range(rng.randint(0, 4)):
                key = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
                batch[key] = "".join(rng.choice("0123456789abcdef") for _ in range(64))
            if rng.random() < 0.2 and expected:  # a file seen again keeps its last hash
                batch[rng.choice(sorted(expected))] = "f" * 64
            rh.add(f, batch)
            rows += batch.items()
            expected.update(batch)
            written = f["source_sha256/file"].shape[0]
            assert len(rows) - written < block_rows  # at most one block held
        rh.flush(f)
        assert rh.rows == len(rows)
    with h5py.File(tmp_path / "h.h5", "r") as f:
        assert list(zip(f["source_sha256/file"].asstr()[()],
                        f["source_sha256/sha256"].asstr()[()])) == rows
        got = read_source_hashes(f)
    assert json.dumps(got) == json.dumps(expected, sort_keys=True)  # same order too


def test_an_add_of_no_hash_makes_an_empty_table(tmp_path):
    with h5py.File(tmp_path / "h.h5", "w") as f:
        assert read_source_hashes(f) is None
        rh = SourceHashRows()
        rh.add(f, {})
        rh.flush(f)
        assert rh.added and read_source_hashes(f) == {}
        assert f["source_sha256/file"].shape == (0,)
