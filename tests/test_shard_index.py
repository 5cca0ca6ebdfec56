"""The ``--shards`` database file: two levels of virtual datasets, the records table.

Synthetic shards (no segmentation, no Dask): what the client writes does not depend on
the signals, only on how many beats each record has (zero included).
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from ecgseg.pipeline import RecordResult
from ecgseg.shards import PARTS_GROUP, VIRTUAL, ShardIndexWriter, shard_path, write_shard
from ecgseg.store import BeatWriter, RecordsTable, load_beats

ATTRS = {"database": "mitdb", "recipe": "paper", "classes": ["N", "S", "V", "F", "Q"]}
#: Beats per record: empty records alone, at the start of a part and filling a part.
BEATS = [3, 0, 0, 0, 2, 5, 1, 0, 4]


def _result(i: int, m: int) -> RecordResult:
    rng = np.random.default_rng(i)
    res = RecordResult(name=f"r{i:02d}", patient=f"p{i % 3}")
    res.beats = rng.random((m, 187), dtype=np.float32)
    res.labels = rng.integers(-1, 5, m).astype(np.int8)
    res.sample = np.arange(m) * 300 + i
    res.window = np.arange(m)
    res.n_values = np.full(m, 150 + i)
    res.symbols = np.array(["N", "V", "", "A", "/"][:1] * m) if m else np.array([], "U1")
    res.sha256 = {f"r{i:02d}.dat": f"{i:064x}"}
    res.stats = {"lead": "MLII", "samples": 1000 * (i + 1), "fs_in": 360.0,
                 "se": None if i % 4 == 1 else 0.5 + i / 100}
    return res


@pytest.fixture
def shards_and_reference(tmp_path):
    """Shards of the records of BEATS, and the same records in one plain file."""
    results = [_result(i, m) for i, m in enumerate(BEATS)]
    shards = tmp_path / "shards"
    ref = tmp_path / "ref.h5"
    with BeatWriter(ref, length=187, attrs=ATTRS) as w:
        for res in results:
            write_shard(shard_path(shards, res.name), res, length=187, attrs=ATTRS)
            w.append_record(res.name, res.patient, res.beats, labels=res.labels,
                            sample=res.sample, window=res.window, n_values=res.n_values,
                            symbols=res.symbols, stats=res.stats)
    return results, shards, ref


@pytest.mark.parametrize("part_records", [1, 2, 4, 256])
def test_index_in_parts_reads_back_as_the_plain_file(shards_and_reference, tmp_path,
                                                     part_records):
    results, shards, ref = shards_and_reference
    out = tmp_path / "out" / "index.h5"
    with ShardIndexWriter(out, length=187, attrs=ATTRS, part_records=part_records) as w:
        for res in results:
            w.append_shard(res.name, res.patient, shard_path(shards, res.name),
                           len(res.labels), stats=res.stats)
    groups = [BEATS[i:i + part_records] for i in range(0, len(BEATS), part_records)]
    with h5py.File(out, "r") as f, h5py.File(ref, "r") as r:
        for key in (*VIRTUAL, "record_id"):
            assert f[key].dtype == r[key].dtype and f[key][()].tobytes() == r[key][()].tobytes()
        for key in r["records"]:
            a, b = f["records"][key][()], r["records"][key][()]
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        assert f.attrs["shards"] == len(BEATS)
        for key in VIRTUAL:
            top = f[key].virtual_sources()
            # one mapping per part holding beats; a part maps its non-empty records
            assert len(top) == sum(1 for g in groups if sum(g))
            assert all(m.file_name == "." and m.dset_name.startswith(f"/{PARTS_GROUP}/{key}/")
                       for m in top)
            per_part = [len(f[m.dset_name].virtual_sources()) for m in top]
            assert per_part == [sum(1 for m in g if m) for g in groups if sum(g)]
            assert max(per_part) <= part_records
        # /record_id: real datasets, one per part holding beats, under a virtual top level
        top = f["record_id"].virtual_sources()
        assert [m.dset_name for m in top] == [f"/{PARTS_GROUP}/record_id/{i:06d}"
                                              for i in range(len(top))]
        assert len(top) == sum(1 for g in groups if sum(g))
        assert [f[m.dset_name].shape[0] for m in top] == [sum(g) for g in groups if sum(g)]
        assert not any(f[m.dset_name].is_virtual for m in top)
        assert f["beats"][5:9].tobytes() == r["beats"][5:9].tobytes()  # a slice across parts
    a, b = load_beats(ref, labelled=False), load_beats(out, labelled=False)
    assert a.beats.tobytes() == b.beats.tobytes()
    assert a.meta.equals(b.meta) and a.records.equals(b.records)


def test_index_of_records_without_beats(shards_and_reference, tmp_path):
    results, shards, _ = shards_and_reference
    out = tmp_path / "empty.h5"
    with ShardIndexWriter(out, length=187, attrs=ATTRS, part_records=2) as w:
        for res in results[1:4]:  # 0 beats each
            w.append_shard(res.name, res.patient, shard_path(shards, res.name), 0,
                           stats=res.stats)
    with h5py.File(out, "r") as f:
        assert f["beats"].shape == (0, 187) and f["records/beats"][()].tolist() == [0, 0, 0]
        assert PARTS_GROUP not in f


def test_records_table_columns_follow_the_former_row_rules(tmp_path):
    t = RecordsTable()
    t.append({"name": "100", "beats": 3, "se": 0.5, "paced": True})
    t.append({"name": "101", "beats": 4, "se": None, "lead": "V5"})
    t.append({"name": "102", "beats": 5, "se": 1, "paced": False, "lead": "V5"})
    assert list(t.columns) == ["name", "beats", "se", "paced", "lead"]
    assert t.columns["lead"][1] is t.columns["lead"][2]  # one copy of a repeated string
    with h5py.File(tmp_path / "t.h5", "w") as f:
        t.write(f)
        g = f["records"]
        assert g["beats"].dtype == np.int64 and g["beats"][()].tolist() == [3, 4, 5]
        assert g["se"].dtype == np.float64
        np.testing.assert_array_equal(g["se"][()], [0.5, np.nan, 1.0])
        np.testing.assert_array_equal(g["paced"][()], [1.0, np.nan, 0.0])
        assert [v.decode() for v in g["lead"][()]] == ["", "V5", "V5"]
        assert [v.decode() for v in g["name"][()]] == ["100", "101", "102"]


def test_records_table_keeps_numbers_compact_and_falls_back_exactly():
    t = RecordsTable()
    for i in range(3):
        t.append({"name": f"r{i}", "beats": i, "fs_in": 360.0, "big": 2 ** 62 + i})
    assert all(t.columns[k].typecode for k in ("beats", "fs_in", "big"))  # arrays
    t.append({"name": "r3", "beats": True, "fs_in": "n/a", "big": 2 ** 64})
    assert t.column("beats") == [0, 1, 2, True] and t.column("fs_in")[-1] == "n/a"
    assert t.column("big")[-1] == 2 ** 64 and len(t) == 4


class _DiskFillsAfter:
    """A disk file whose writes fail with ENOSPC once ``room`` bytes were written."""

    def __init__(self, file, room: int):
        self._file, self.room = file, room

    def write(self, data):
        n = len(memoryview(data).cast("B"))
        if n > self.room:
            import errno

            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= n
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


@pytest.mark.parametrize("room", [0, 3000, 40_000])
def test_index_on_a_disk_that_fills_is_one_error_and_no_file(shards_and_reference, tmp_path,
                                                           room):
    from ecgseg.oserrors import DiskFullError

    results, shards, _ = shards_and_reference
    out = tmp_path / "out" / "index.h5"
    with pytest.raises(DiskFullError, match="disk is full") as err:
        with ShardIndexWriter(out, length=187, attrs=ATTRS, part_records=2) as w:
            w._file._file = _DiskFillsAfter(w._file._file, room)
            for i in range(40):  # more than 40 KB of index with the /records table
                res = results[i % len(results)]
                w.append_shard(f"{res.name}-{i}", res.patient, shard_path(shards, res.name),
                               len(res.labels), stats=res.stats)
    assert str(out) in str(err.value)
    assert sorted(p.name for p in out.parent.iterdir()) == []  # no file, no temporary


def test_index_is_written_to_disk_as_records_come(shards_and_reference, tmp_path):
    results, shards, _ = shards_and_reference
    out = tmp_path / "index.h5"
    with ShardIndexWriter(out, length=187, attrs=ATTRS, part_records=2) as w:
        sizes = []
        for res in results:
            w.append_shard(res.name, res.patient, shard_path(shards, res.name),
                           len(res.labels), stats=res.stats)
            sizes.append(w._tmp.stat().st_size)
        assert not w._file.in_memory
    assert sizes[-1] > sizes[0] > 0  # the parts went to the temporary file, not memory
    assert load_beats(out, labelled=False).beats.shape == (sum(BEATS), 187)


def test_source_hashes_written_as_records_come_and_as_in_a_plain_file(
        shards_and_reference, tmp_path, monkeypatch):
    """add_sources: the /source_sha256 datasets of the index hold the rows written so
    far during the run (a block at a time), and the same rows at the end as a plain
    file's; read_attrs and load_beats give the dict of every add (last hash wins)."""
    import ecgseg.source_hashes
    from ecgseg.store import read_attrs

    monkeypatch.setattr(ecgseg.source_hashes, "BLOCK_ROWS", 4)
    results, shards, _ = shards_and_reference
    out, plain = tmp_path / "index.h5", tmp_path / "plain.h5"
    hashes = [{f"{r.name}.{e}": f"{i}{e}".ljust(64, "0") for e in ("hea", "dat")}
              for i, r in enumerate(results)]
    hashes[-1]["r00.dat"] = "f" * 64  # a file seen again keeps its last hash
    on_disk = []
    with ShardIndexWriter(out, length=187, attrs=ATTRS, part_records=2) as w, \
            BeatWriter(plain, length=187, attrs=ATTRS) as p:
        for res, h in zip(results, hashes):
            w.append_shard(res.name, res.patient, shard_path(shards, res.name),
                           len(res.labels), stats=res.stats)
            w.add_sources(h)
            on_disk.append(w._f["source_sha256/file"].shape[0])
            p.append_record(res.name, res.patient, res.beats, labels=res.labels,
                            sample=res.sample, window=res.window, n_values=res.n_values)
            p.add_sources(h)
    rows = [(k, v) for h in hashes for k, v in h.items()]
    assert on_disk == [4 * (2 * (i + 1) // 4) for i in range(len(results))]  # blocks
    with h5py.File(out, "r") as f, h5py.File(plain, "r") as g:
        for key in ("file", "sha256"):
            a, b = f[f"source_sha256/{key}"], g[f"source_sha256/{key}"]
            assert a.dtype == b.dtype and a.asstr()[()].tolist() == b.asstr()[()].tolist()
        assert list(zip(f["source_sha256/file"].asstr()[()],
                        f["source_sha256/sha256"].asstr()[()])) == rows
        assert "source_sha256" not in f.attrs and "source_sha256" not in g.attrs
    expected = dict(sorted(dict(rows).items()))
    for path in (out, plain):
        got = read_attrs(path)["source_sha256"]
        assert got == expected and list(got) == list(expected)  # keys sorted
        assert load_beats(path, labelled=False).attrs["source_sha256"] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.h5", "plain.h5", "ref.h5",
                                                        "shards"]  # no spool left


def test_source_hashes_of_older_files_read_from_their_attribute(shards_and_reference,
                                                                tmp_path):
    """A file written before the /source_sha256 datasets holds the hashes as one JSON
    attribute: read_attrs and load_beats read it into the same dict."""
    from ecgseg.source_hashes import read_source_hashes
    from ecgseg.store import read_attrs

    _, _, ref = shards_and_reference
    hashes = {"r01.dat": "b" * 64, "r00.dat": "a" * 64}
    with h5py.File(ref, "r+") as f:
        assert read_source_hashes(f) is None  # written without add_sources
        f.attrs["source_sha256"] = json.dumps(hashes, sort_keys=True)
    assert read_attrs(ref)["source_sha256"] == hashes
    assert load_beats(ref, labelled=False).attrs["source_sha256"] == hashes


@pytest.mark.parametrize("block_rows", [1, 3, 4096])
def test_spooled_records_table_writes_what_records_table_writes(tmp_path, monkeypatch,
                                                                block_rows):
    import random

    import ecgseg.spooled_records
    from ecgseg.spooled_records import SpooledRecordsTable

    monkeypatch.setattr(ecgseg.spooled_records, "BLOCK_ROWS", block_rows)
    rng = random.Random(block_rows)
    values = [0, 7, -3, 2 ** 40, 1.5, float("nan"), True, False, None, "MLII", "é",
              np.int32(4), np.int64(-9), np.float32(0.25), np.float64(2.5)]
    kinds = {"ints": values[:4], "floats": values[:6] + values[13:], "bools": values[6:9],
             "mixed": values, "text": values[9:11] + [None], "npints": values[11:13]}
    rows = []
    for i in range(11):
        row = {"name": f"r{i}"}
        for key, pool in kinds.items():
            if rng.random() < 0.85 or key == "ints" and i > 5:
                row[key] = rng.choice(pool)
        rows.append(row)
    rows[3]["late"] = 1  # a column that first appears in a later row
    a, b = RecordsTable(), SpooledRecordsTable(folder=tmp_path)
    for row in rows:
        a.append(row)
        b.append(row)
    reopened = []

    def reopen():  # as ShardIndexWriter does between blocks: close, open again
        reopened.append(1)
        files[1].close()
        files[1] = h5py.File(tmp_path / "b.h5", "r+")
        return files[1]

    files = [h5py.File(tmp_path / "a.h5", "w"), h5py.File(tmp_path / "b.h5", "w")]
    try:
        a.write(files[0])
        assert b.write(files[1], reopen=reopen) is files[1]  # the file open at the end
    finally:
        for f in files:
            f.close()
    assert len(reopened) == -(-len(rows) // block_rows) - 1  # after each block but the last
    with h5py.File(tmp_path / "a.h5", "r") as fa, h5py.File(tmp_path / "b.h5", "r") as fb:
        assert list(fa["records"]) == list(fb["records"])
        for key in fa["records"]:
            x, y = fa["records"][key], fb["records"][key]
            assert x.dtype == y.dtype and x.shape == y.shape == (len(rows),), key
            assert x.chunks == y.chunks and x.compression == y.compression, key
            if x.dtype.kind == "f":
                np.testing.assert_array_equal(x[()], y[()])
            else:
                assert x[()].tolist() == y[()].tolist(), key
    b.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "b.h5"]
