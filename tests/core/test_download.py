"""Downloading open data: resumable, verified, then prepared; closed data explains itself."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from fixtures.cli import invoke
from PIL import Image

import bench
import bench.data
from bench.download import download, download_datasets


def cells_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in "LMNEB":
            for index in range(5):
                image = io.BytesIO()
                Image.new("RGB", (8, 8), (40 * index, 50, 200)).save(image, "PNG")
                archive.writestr(f"open-cells/{label}/{index}.png", image.getvalue())
    return buffer.getvalue()


@pytest.fixture
def served(http_server, install_distribution):
    body = cells_zip()
    http_server.files["/open-cells.zip"] = body
    install_distribution("open-bench", {"open": "open_plugin"},
                         settings={"url": http_server.url + "/open-cells.zip", "size": len(body),
                                   "md5": hashlib.md5(body).hexdigest()})
    bench.reset()
    return http_server, body


def test_download_verifies_and_prepares(served):
    (prepared,) = download_datasets("open-cells", progress=False)
    assert prepared.name == "open-cells"
    assert sum(sum(split.values()) for split in prepared.counts().values()) == 25


def test_a_broken_download_resumes_where_it_stopped(served, tmp_path):
    server, body = served
    item = bench.get_registries().datasets.get("open-cells").downloads()[0]
    (tmp_path / "open-cells.zip.part").write_bytes(body[:1000])
    path = download(item, tmp_path, progress=False)
    assert path.read_bytes() == body
    assert server.requests == [("/open-cells.zip", "bytes=1000-")]


def test_a_file_that_fails_its_checksum_is_rejected_and_not_kept(served, tmp_path):
    server, body = served
    server.files["/open-cells.zip"] = body[:-1] + b"x"
    item = bench.get_registries().datasets.get("open-cells").downloads()[0]
    with pytest.raises(bench.DataError, match="md5"):
        download(item, tmp_path / "downloads", progress=False)
    assert not list((tmp_path / "downloads").iterdir())


def test_data_that_needs_registration_says_where_to_get_it_and_how_to_prepare(served):
    result = invoke("datasets", "download", "closed-cells")
    assert result.exit_code == 1
    assert "the hospital's data office" in result.output
    assert "bench datasets prepare closed-cells --from PATH" in result.output


def release_zip() -> bytes:
    """A tiny WBC-USID release: both levels, the release's class folder names (Esophil)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for level in ("level_0", "level_5"):
            for split, count in (("train", 4), ("test", 2)):
                for shade, folder in enumerate(
                        ("Basophil", "Esophil", "Lymphocyte", "Monocyte", "Neutrophil")):
                    for index in range(count):
                        image = io.BytesIO()
                        Image.new("RGB", (16, 16), (shade * 40, index * 30, 200)).save(image, "PNG")
                        archive.writestr(f"WBC-USID/dataset/{level}/{split}/{folder}/smear_{index}"
                                         ".png", image.getvalue())
    return buffer.getvalue()


def test_wbc_usid_download_reads_figshare_and_prepares_both_levels(http_server, monkeypatch):
    body = release_zip()
    http_server.files["/files/WBC-USID.zip"] = body
    http_server.files["/v2/articles/26820652"] = json.dumps({"files": [{
        "name": "WBC-USID.zip", "size": len(body), "computed_md5": hashlib.md5(body).hexdigest(),
        "download_url": http_server.url + "/files/WBC-USID.zip",
    }]}).encode()
    monkeypatch.setenv("BENCH_FIGSHARE_API", http_server.url + "/v2")
    result = invoke("datasets", "download", "wbc-usid", "--json")
    assert result.exit_code == 0, result.output
    assert {row["name"]: row["images"] for row in json.loads(result.stdout)} == {
        "wbc-usid-b": 30, "wbc-usid-c": 30}
    zip_requests = [path for path, _ in http_server.requests if path.endswith(".zip")]
    assert zip_requests == ["/files/WBC-USID.zip"]  # one download serves both levels
    counts = bench.data.load_prepared("wbc-usid-c").counts()
    assert counts["E"] == {"train": 3, "val": 1, "test": 2}


def test_unreachable_figshare_says_what_to_do(monkeypatch):
    monkeypatch.setenv("BENCH_FIGSHARE_API", "http://127.0.0.1:9/v2")  # nothing listens there
    with pytest.raises(bench.DataError, match="bench datasets prepare wbc-usid-b --from PATH"):
        download_datasets("wbc-usid", progress=False)
