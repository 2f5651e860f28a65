"""Downloading open data: resumable, verified, then prepared; closed data explains itself."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from click.testing import CliRunner
from PIL import Image

import bench
from bench.download import download, download_datasets

PLUGIN = """
import bench
from pathlib import Path

URL, SIZE, MD5 = {url!r}, {size}, {md5!r}


def scan(root):
    for path in sorted(Path(root).rglob("*.png")):
        yield bench.SourceImage(path, path.relative_to(root).as_posix(), path.parent.name)


@bench.hookimpl
def register_datasets():
    return [
        bench.DatasetSpec(name="open-cells", scan=scan, class_map={{c: c for c in "LMNEB"}},
                          downloads=lambda: [bench.Download(URL, "open-cells.zip", SIZE, MD5)]),
        bench.DatasetSpec(name="closed-cells", scan=scan, class_map={{}},
                          download_hint="the hospital's data office, after signing a DUA"),
    ]
"""


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
    code = PLUGIN.format(url=http_server.url + "/open-cells.zip", size=len(body),
                         md5=hashlib.md5(body).hexdigest())
    install_distribution("open-bench", {"open": "open_plugin"}, {"open_plugin": code})
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
    from bench.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "download", "closed-cells"])
    assert result.exit_code == 1
    assert "the hospital's data office" in result.output
    assert "bench datasets prepare closed-cells --from PATH" in result.output
