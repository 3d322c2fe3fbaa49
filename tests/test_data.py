"""soilbench.data: registry, data-directory resolution, and the real download path.

Downloads are served by a real HTTP server on 127.0.0.1 (ephemeral port); nothing here touches
the internet.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml

from soilbench import data
from soilbench.errors import DataNotAvailable, SoilbenchError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PAYLOAD = b"year,rh\n" + b"".join(f"{1980 + i},{50 + i / 10}\n".encode() for i in range(4000))


from http_support import dead_url as _dead_url  # noqa: E402
from http_support import server  # noqa: E402,F401 (a fixture)


@pytest.fixture
def registry_file(tmp_path, monkeypatch):
    """A private registry with one dataset; user cache and env isolated in tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(data.URL_BASE_ENV, raising=False)
    monkeypatch.delenv(data.SYNTHETIC_REGISTRY_ENV, raising=False)
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path / "project")  # no ../shared/data beside it
    path = tmp_path / "registry.yaml"

    def write(url: str, sha256: str | None = None, **extra) -> Path:
        record = {
            "id": "series", "file": "sub/series.csv", "url": url, "size": len(PAYLOAD),
            "sha256": sha256 or hashlib.sha256(PAYLOAD).hexdigest(), **extra,
        }
        path.write_text(yaml.safe_dump({"datasets": [record]}))
        data._load_registry.cache_clear()
        monkeypatch.setattr(data, "REGISTRY_PATH", path)
        return path

    yield write
    data._load_registry.cache_clear()


def test_download_verifies_and_then_uses_local_copy(server, registry_file, tmp_path):
    server.files["/series.csv"] = PAYLOAD
    registry_file(server.base + "/series.csv")
    path = data.fetch("series", tmp_path / "data")
    assert path == tmp_path / "data" / "sub" / "series.csv" and path.read_bytes() == PAYLOAD
    assert len(server.requests) == 1
    assert data.fetch("series", tmp_path / "data") == path
    assert len(server.requests) == 1  # second fetch is local


def test_hash_mismatch_deletes_download_and_raises(server, registry_file, tmp_path):
    server.files["/series.csv"] = PAYLOAD.replace(b"1980", b"1981")
    registry_file(server.base + "/series.csv")
    with pytest.raises(DataNotAvailable, match="dataset 'series'.*series.csv"):
        data.fetch("series", tmp_path / "data")
    assert not list((tmp_path / "data").rglob("*series*"))  # nothing unverified left behind


def test_interrupted_transfer_leaves_nothing(server, registry_file, tmp_path):
    server.files["/series.csv"] = PAYLOAD
    registry_file(server.base + "/truncated/series.csv")
    with pytest.raises(DataNotAvailable, match="download from .*truncated/series.csv failed"):
        data.fetch("series", tmp_path / "data")
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]


def test_server_down_gives_one_line_offline_message(registry_file, tmp_path):
    url = _dead_url() + "/series.csv"
    registry_file(url)
    with pytest.raises(DataNotAvailable) as info:
        data.fetch("series", tmp_path / "data")
    message = str(info.value)
    assert "\n" not in message
    assert "dataset 'series'" in message and url in message
    assert str(tmp_path / "data" / "sub" / "series.csv") in message and data.DATA_DIR_ENV in message


def test_present_file_is_used_without_network(registry_file, tmp_path):
    registry_file(_dead_url() + "/series.csv")
    seeded = tmp_path / "data" / "sub" / "series.csv"
    seeded.parent.mkdir(parents=True)
    seeded.write_bytes(PAYLOAD)
    assert data.fetch("series", tmp_path / "data") == seeded
    assert data.fetch("series", tmp_path / "data", allow_download=False) == seeded


def test_allow_download_false_raises_when_absent(registry_file, tmp_path):
    registry_file(_dead_url() + "/series.csv")
    with pytest.raises(DataNotAvailable, match="downloads are disabled"):
        data.fetch("series", tmp_path / "data", allow_download=False)


def test_url_base_mirror_replaces_upstream(server, registry_file, tmp_path, monkeypatch):
    server.files["/mirror/sub/series.csv"] = PAYLOAD
    registry_file(_dead_url() + "/upstream.csv")
    monkeypatch.setenv(data.URL_BASE_ENV, server.base + "/mirror/")
    assert data.fetch("series", tmp_path / "data").read_bytes() == PAYLOAD
    assert server.requests == ["/mirror/sub/series.csv"]


def test_derived_file_is_not_downloaded_from_upstream(registry_file, tmp_path):
    registry_file(_dead_url() + "/array.npy", derived_from="a bare array reformatted to NetCDF")
    with pytest.raises(DataNotAvailable, match="cannot be downloaded as is .*reformatted"):
        data.fetch("series", tmp_path / "data")


def test_wrong_hash_in_read_only_dir_is_an_error(registry_file, tmp_path):
    registry_file(_dead_url() + "/series.csv")
    seeded = tmp_path / "ro" / "sub" / "series.csv"
    seeded.parent.mkdir(parents=True)
    seeded.write_bytes(PAYLOAD.replace(b"1980", b"1981"))
    os.chmod(seeded.parent, 0o555)
    try:
        with pytest.raises(SoilbenchError, match="sha256 .*read-only"):
            data.fetch("series", tmp_path / "ro")
    finally:
        os.chmod(seeded.parent, 0o755)


def test_wrong_hash_in_writable_dir_is_replaced(server, registry_file, tmp_path):
    server.files["/series.csv"] = PAYLOAD
    registry_file(server.base + "/series.csv")
    stale = tmp_path / "data" / "sub" / "series.csv"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(PAYLOAD.replace(b"1980", b"1981"))
    assert data.fetch("series", tmp_path / "data").read_bytes() == PAYLOAD


def test_read_only_data_dir_downloads_into_user_cache(server, registry_file, tmp_path):
    server.files["/series.csv"] = PAYLOAD
    registry_file(server.base + "/series.csv")
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o555)
    try:
        path = data.fetch("series", tmp_path / "ro")
        assert data.status("series", tmp_path / "ro") == ("verified", path)
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    assert path == tmp_path / "xdg-cache" / "soilbench" / "sub" / "series.csv"


def test_data_dir_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path / "project")
    assert data.data_dir() == tmp_path / "xdg-cache" / "soilbench"
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert data.data_dir() == tmp_path / "shared" / "data"
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_verification_is_cached_by_size_and_mtime(registry_file, tmp_path, monkeypatch):
    registry_file(_dead_url() + "/series.csv")
    seeded = tmp_path / "data" / "sub" / "series.csv"
    seeded.parent.mkdir(parents=True)
    seeded.write_bytes(PAYLOAD)
    data.fetch("series", tmp_path / "data")
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    data.fetch("series", tmp_path / "data")
    assert not opened
    os.utime(seeded, ns=(1, 1))  # a changed mtime invalidates the cached verification
    data.fetch("series", tmp_path / "data")
    assert [Path(p) for p in opened] == [seeded.resolve()]


def test_unknown_id_lists_close_matches():
    with pytest.raises(SoilbenchError, match="unknown dataset id 'cardamom'.*cardamom-rh"):
        data.entry("cardamom")


def test_registry_rejects_files_escaping_the_data_dir(tmp_path):
    path = tmp_path / "bad.yaml"
    for file in ("../x.csv", 42, ["x.csv"]):  # not a string: one-line error too, not a TypeError
        path.write_text(yaml.safe_dump({"datasets": [{"id": "x", "file": file, "url": "u", "sha256": "0"}]}))
        data._load_registry.cache_clear()
        with pytest.raises(SoilbenchError, match="must be a relative path"):
            data.registry(path)


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")
@pytest.mark.parametrize("dataset_id", sorted(data.registry()))
def test_every_registered_file_in_shared_data_matches(dataset_id):
    record = data.entry(dataset_id)
    path = SHARED_DATA / record["file"]
    assert path.is_file(), f"{path} missing"
    assert path.stat().st_size == record["size"]
    assert data.verify(path, dataset_id) is None
    assert data.fetch(dataset_id, SHARED_DATA, allow_download=False) == path
