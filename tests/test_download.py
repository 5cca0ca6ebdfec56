"""The download layer against a real HTTP server over the PhysioNet mirror."""

from __future__ import annotations

import shutil

import pytest

from ecgseg.download import download_database, sha256_file, verify_database
from ecgseg.errors import DownloadError, EcgError

from .conftest import serve_directory


def test_download_subset_verifies_and_resumes(tmp_path, mirror_url, mirror_dir):
    s = download_database("mitdb", data_dir=tmp_path, records=["100", "201"],
                          mirror=mirror_url, progress=False)
    local = tmp_path / "physionet" / "mitdb" / "1.0.0"
    assert s.records == ["100", "201"]
    assert s.files == 2 + 6 and s.downloaded == 8 and s.skipped == 0
    for name in ("100.dat", "100.atr", "201.hea", "RECORDS", "ANNOTATORS"):
        assert sha256_file(local / name) == sha256_file(mirror_dir / "mitdb/1.0.0" / name)
    assert s.bytes == sum((local / f).stat().st_size for f in
                          ["100.dat", "100.atr", "100.hea", "201.dat", "201.atr", "201.hea",
                           "RECORDS", "ANNOTATORS"])
    assert not list(local.glob("*.part")) and not list(local.glob(".*"))
    again = download_database("mitdb", data_dir=tmp_path, records=["100", "201"],
                              mirror=mirror_url, progress=False)
    assert again.downloaded == 0 and again.skipped == 8 and again.bytes == 0


def test_corrupted_local_file_is_fetched_again(tmp_path, mirror_url, mirror_dir):
    download_database("mitdb", data_dir=tmp_path, records=["100"], mirror=mirror_url,
                      progress=False)
    dat = tmp_path / "physionet" / "mitdb" / "1.0.0" / "100.dat"
    raw = bytearray(dat.read_bytes())
    raw[1000] ^= 0xFF
    dat.write_bytes(bytes(raw))
    assert verify_database("mitdb", tmp_path, ["100"])["100.dat"] == "mismatch"
    s = download_database("mitdb", data_dir=tmp_path, records=["100"], mirror=mirror_url,
                          progress=False)
    assert s.refetched == 1 and s.downloaded == 1
    assert verify_database("mitdb", tmp_path, ["100"])["100.dat"] == "ok"


def test_ptbdb_both_records(tmp_path, mirror_url):
    s = download_database("ptbdb", data_dir=tmp_path, mirror=mirror_url, progress=False)
    assert s.records == ["patient001/s0010_re", "patient165/s0322lre"]
    assert s.downloaded == 1 + 6
    assert s.unverified == ["RECORDS"]  # the mirror's sums list only the record files
    status = verify_database("ptbdb", tmp_path)
    assert [v for k, v in status.items() if k != "RECORDS"] == ["ok"] * 6


def test_served_file_with_wrong_checksum_fails_clearly(tmp_path, mirror_dir):
    bad = tmp_path / "mirror"
    src = mirror_dir / "mitdb" / "1.0.0"
    dst = bad / "mitdb" / "1.0.0"
    dst.mkdir(parents=True)
    for name in ("SHA256SUMS.txt", "RECORDS", "ANNOTATORS", "100.hea", "100.atr"):
        shutil.copy(src / name, dst / name)
    raw = bytearray((src / "100.dat").read_bytes())
    raw[0] ^= 1
    (dst / "100.dat").write_bytes(bytes(raw))
    server, url = serve_directory(bad)
    try:
        with pytest.raises(DownloadError, match=r"checksum mismatch for .*100\.dat after 3"):
            download_database("mitdb", data_dir=tmp_path / "data", records=["100"],
                              mirror=url, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    local = tmp_path / "data" / "physionet" / "mitdb" / "1.0.0"
    assert not (local / "100.dat").exists()
    assert not [p for p in local.iterdir() if p.name.startswith(".")]


def test_unknown_record_and_database(tmp_path, mirror_url):
    with pytest.raises(DownloadError, match="not in mitdb/1.0.0: 999"):
        download_database("mitdb", data_dir=tmp_path, records=["999"], mirror=mirror_url,
                          progress=False)
    with pytest.raises(EcgError, match="unknown database 'foodb'"):
        download_database("foodb", data_dir=tmp_path, progress=False)


def test_unreachable_mirror_names_the_url(tmp_path):
    with pytest.raises(DownloadError, match=r"http://127\.0\.0\.1:9/mitdb/1\.0\.0/.*refused"):
        download_database("mitdb", data_dir=tmp_path, mirror="http://127.0.0.1:9/",
                          progress=False)


def test_no_write_permission(tmp_path, mirror_url):
    import os
    if os.geteuid() == 0:
        # root ignores permission bits: make the target a file so mkdir fails instead
        target = tmp_path / "data"
        target.write_text("not a folder")
        with pytest.raises(DownloadError, match="cannot write|no write permission"):
            download_database("mitdb", data_dir=target, records=["100"], mirror=mirror_url,
                              progress=False)
    else:
        tmp_path.chmod(0o500)
        try:
            with pytest.raises(DownloadError, match="no write permission"):
                download_database("mitdb", data_dir=tmp_path / "d", records=["100"],
                                  mirror=mirror_url, progress=False)
        finally:
            tmp_path.chmod(0o700)
