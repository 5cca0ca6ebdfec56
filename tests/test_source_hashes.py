"""``ecgseg.source_hashes``: the source_sha256 attribute gathered in a spool."""

from __future__ import annotations

import json
import random

from ecgseg.source_hashes import SpooledSourceHashes


def test_json_bytes_equal_json_dumps_of_the_updated_dict(tmp_path):
    rng = random.Random(7)
    alphabet = ["a", "b", "0", "9", ".", "/", " ", "!", '"', "\\", "\t", "é", "ü", "中"]
    expected: dict[str, str] = {}
    h = SpooledSourceHashes(folder=tmp_path)
    for _ in range(300):
        batch = {}
        for _ in range(rng.randint(0, 4)):
            key = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            batch[key] = "".join(rng.choice("0123456789abcdef") for _ in range(64))
        if rng.random() < 0.2 and expected:  # a file seen again keeps its last hash
            batch[rng.choice(sorted(expected))] = "f" * 64
        h.add(batch)
        expected.update(batch)
    got = h.json_bytes()
    h.close()
    assert got == json.dumps(expected, sort_keys=True).encode()
    assert list(tmp_path.iterdir()) == []  # the spools have no name in the folder


def test_no_hash_added_is_an_empty_object():
    h = SpooledSourceHashes()
    assert not h.added and h.json_bytes() == b"{}"
    h.add({})
    assert h.added and h.json_bytes() == b"{}"
