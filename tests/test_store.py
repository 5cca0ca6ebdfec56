"""The beats HDF5: round trip, filtering, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest

from ecgseg.atomic import default_mode
from ecgseg.errors import EcgError, InputError
from ecgseg.store import BeatWriter, load_beats, read_attrs


def _write(path, **kw):
    rng = np.random.default_rng(0)
    with BeatWriter(path, length=187, attrs={"database": "mitdb", "recipe": "paper",
                                            "params": {"threshold": 0.9},
                                            "classes": ["N", "S", "V", "F", "Q"]}, **kw) as w:
        for rec, labels in (("100", [0, 0, 1, -1]), ("101", [2, 0, 4])):
            m = len(labels)
            w.append_record(rec, rec, rng.random((m, 187), dtype=np.float32),
                            labels=np.array(labels), sample=np.arange(m) * 300 + 10,
                            window=np.zeros(m), n_values=np.full(m, 150),
                            symbols=["N", "N", "A", ""][:m] if rec == "100" else ["V", "N", "/"],
                            stats={"windows": 180, "se": 0.99, "lead": "MLII"})
    return path


def test_round_trip_and_filters(tmp_path):
    path = _write(tmp_path / "b.h5")
    attrs = read_attrs(path)
    assert attrs["params"] == {"threshold": 0.9} and attrs["format"] == "ecg-beats/1"
    everything = load_beats(path, labelled=False)
    assert everything.beats.shape == (7, 187) and everything.beats.dtype == np.float32
    assert list(everything.labels) == [0, 0, 1, -1, 2, 0, 4]
    assert list(everything.meta["record"]) == ["100"] * 4 + ["101"] * 3
    assert list(everything.meta["symbol"]) == ["N", "N", "A", "", "V", "N", "/"]
    assert list(everything.records["windows"]) == [180, 180]
    assert list(everything.records["beats"]) == [4, 3]
    t = load_beats(path)
    assert len(t) == 6
    assert list(load_beats(path, classes=["V", 4]).labels) == [2, 4]
    assert list(load_beats(path, records=["101"]).meta["sample"]) == [10, 310, 610]
    assert list(load_beats(path, split="DS1").meta["record"]) == ["101"] * 3
    np.testing.assert_array_equal(load_beats(path, records=["101"]).beats,
                                  everything.beats[4:])


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_other_compressions_round_trip(tmp_path, compression):
    a = load_beats(_write(tmp_path / "a.h5"), labelled=False)
    b = load_beats(_write(tmp_path / "b.h5", compression=compression), labelled=False)
    np.testing.assert_array_equal(a.beats, b.beats)
    with pytest.raises(EcgError, match="unknown compression"):
        _write(tmp_path / "c.h5", compression="zstd")


def test_refuses_existing_and_overwrites_on_request(tmp_path):
    path = _write(tmp_path / "b.h5")
    assert path.stat().st_mode & 0o777 == default_mode()  # not mkstemp's 0600
    with pytest.raises(EcgError, match="exists"):
        _write(path)
    _write(path, overwrite=True)


def test_interrupted_write_leaves_nothing(tmp_path):
    path = tmp_path / "b.h5"
    with pytest.raises(KeyboardInterrupt):
        with BeatWriter(path, length=187, attrs={}) as w:
            w.append_record("100", "100", np.zeros((2, 187), np.float32),
                            labels=np.zeros(2), sample=np.zeros(2), window=np.zeros(2),
                            n_values=np.zeros(2))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_beats(tmp_path / "none.h5")
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable HDF5"):
        load_beats(tmp_path / "x.h5")
    path = _write(tmp_path / "b.h5")
    with pytest.raises(InputError, match="unknown split"):
        load_beats(path, split="DS9")
    with pytest.raises(InputError, match="records not in"):
        load_beats(path, records=["999"])


def test_busy_output_whose_holder_has_not_written_its_pid_yet(tmp_path):
    """The lock's holder writes its pid just after locking: a second writer that looks in
    between finds an empty lock file, and must still say 'busy' in one clean error."""
    import fcntl
    import os

    from ecgseg.atomic import LOCK_SUFFIX, OutputBusyError, atomic_path

    out = tmp_path / "beats.h5"
    fd = os.open(tmp_path / f".{out.name}{LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, still empty
        with pytest.raises(OutputBusyError, match=r"another process is writing .*beats\.h5"):
            with atomic_path(out):
                pass
        os.pwrite(fd, b"4242\n", 0)
        with pytest.raises(OutputBusyError, match=r"another process \(pid 4242\) is writing"):
            with atomic_path(out):
                pass
    finally:
        os.close(fd)
    assert not out.exists()
