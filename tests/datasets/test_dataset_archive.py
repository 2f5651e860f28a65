"""Archives as --from: zip and tar work like the folder; escaping members are rejected."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from dataset_fakes import tar_folder, zip_folder

import bench
from bench.data import extract_archive, prepare_dataset


@pytest.mark.parametrize("pack", [zip_folder, tar_folder], ids=["zip", "tar.gz"])
def test_archive_prepares_like_the_folder(pbc_download: Path, tmp_path: Path, pack) -> None:
    from_folder = prepare_dataset("pbc", pbc_download, progress=False, cache_size=16)
    suffix = ".zip" if pack is zip_folder else ".tar.gz"
    archive = pack(pbc_download, tmp_path / f"PBC_dataset_normal_DIB{suffix}")
    from_archive = prepare_dataset("pbc", archive, progress=False, cache_size=16)
    assert from_archive.fingerprint == from_folder.fingerprint
    assert from_archive.info["from_archive"] is True
    assert Path(from_archive.info["root"]).is_relative_to(from_archive.folder.extracted)
    # unchanged archive: not extracted again, nothing new
    assert prepare_dataset("pbc", archive, progress=False, cache_size=16).reused


def _zip_with(tmp_path: Path, name: str) -> Path:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("PBC/basophil/ok.jpg", b"x")
        bundle.writestr(name, b"payload")
    return archive


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/escape.txt", "a/../../escape.txt"])
def test_zip_members_escaping_the_target_are_rejected(tmp_path: Path, name: str) -> None:
    target = tmp_path / "home" / "source"
    with pytest.raises(bench.DataError, match="refusing to extract"):
        extract_archive(_zip_with(tmp_path, name), target)
    assert not target.exists() and not (tmp_path / "escape.txt").exists()
    assert not list((tmp_path / "home").glob(".tmp-*"))


def test_tar_links_out_of_the_target_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as bundle:
        link = tarfile.TarInfo("PBC/basophil/link.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
        bundle.addfile(link)
        data = tarfile.TarInfo("PBC/basophil/ok.jpg")
        data.size = 1
        bundle.addfile(data, io.BytesIO(b"x"))
    with pytest.raises(bench.DataError, match="outside"):
        extract_archive(archive, tmp_path / "home" / "source")


def test_unreadable_archive_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(bench.DataError, match="not a readable archive"):
        prepare_dataset("pbc", archive, progress=False)
