"""Archives as --from: zip, tar and RAR work like the folder, nested and several at once;
escaping members and damaged archives are refused with one message."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from dataset_fakes import rar_folder, tar_folder, zip_folder
from fixtures.rar_writer import write_rar

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


needs_bsdtar = pytest.mark.skipif(shutil.which("bsdtar") is None,
                                  reason="RAR needs bsdtar (libarchive-tools; .ci/run has it)")


def _prepare(name: str, source) -> bench.data.PreparedDataset:
    return prepare_dataset(name, source, progress=False, cache_size=16)


@needs_bsdtar
def test_rar_prepares_like_the_folder(pbc_download: Path, tmp_path: Path) -> None:
    from_folder = _prepare("pbc", pbc_download)
    archive = rar_folder(pbc_download, tmp_path / "PBC_dataset_normal_DIB.rar")
    from_rar = _prepare("pbc", archive)
    assert from_rar.fingerprint == from_folder.fingerprint and from_rar.info["from_archive"]
    assert _prepare("pbc", archive).reused


def test_mendeleys_download_all_zip_holding_the_pbc_zip(pbc_download: Path,
                                                        tmp_path: Path) -> None:
    """Mendeley's "Download all" is snkd93bnjr-1.zip, which holds PBC_dataset_normal_DIB.zip."""
    from_folder = _prepare("pbc", pbc_download)
    inner = zip_folder(pbc_download, tmp_path / "PBC_dataset_normal_DIB.zip")
    outer = tmp_path / "snkd93bnjr-1.zip"
    with zipfile.ZipFile(outer, "w") as bundle:
        bundle.write(inner, "PBC_dataset_normal_DIB.zip")
    from_outer = _prepare("pbc", outer)
    assert from_outer.fingerprint == from_folder.fingerprint
    extracted = from_outer.folder.extracted
    assert not list(extracted.rglob("*.zip"))  # our copy of the inner zip is not kept twice
    assert _prepare("pbc", outer).reused


def _raabin_downloads(top: Path, tmp_path: Path) -> list[Path]:
    """As the publisher ships them: Train.rar, TestA.rar (content at its top) and TestB.zip."""
    (top / "TestB" / "Basophil").mkdir(parents=True)
    shutil.copy(next((top / "TestA" / "Basophil").iterdir()), top / "TestB" / "Basophil")
    return [rar_folder(top / "Train", tmp_path / "Train.rar"),
            rar_folder(top / "TestA", tmp_path / "TestA.rar", with_top=False),
            zip_folder(top / "TestB", tmp_path / "TestB.zip")]


@needs_bsdtar
def test_raabin_cropped_from_its_separate_archives(raabin_cropped_download: Path,
                                                   tmp_path: Path) -> None:
    downloads = _raabin_downloads(raabin_cropped_download, tmp_path)
    from_folder = _prepare("raabin-cropped", raabin_cropped_download)
    from_archives = _prepare("raabin-cropped", downloads)
    assert from_archives.fingerprint == from_folder.fingerprint  # TestB is not part of it
    assert from_archives.info["sources"] == [str(path) for path in downloads]
    again = prepare_dataset("raabin-cropped", progress=False, cache_size=16)  # same sources
    assert again.reused


def test_several_sources_with_the_same_top_folder_are_refused(raabin_cropped_download: Path,
                                                              tmp_path: Path) -> None:
    twin = tmp_path / "copy" / "Train"
    shutil.copytree(raabin_cropped_download / "Train", twin)
    with pytest.raises(bench.DataError, match="both hold a folder named 'Train'"):
        _prepare("raabin-cropped", [raabin_cropped_download / "Train", twin])


@needs_bsdtar
def test_rar_members_escaping_the_target_are_rejected(tmp_path: Path) -> None:
    archive = write_rar(tmp_path / "evil.rar", {"PBC/basophil/ok.jpg": b"x",
                                                "../escape.txt": b"payload"})
    with pytest.raises(bench.DataError, match="refusing to extract .* '../escape.txt'"):
        extract_archive(archive, tmp_path / "home" / "source")
    assert not (tmp_path / "escape.txt").exists()


def test_rar_without_a_tool_names_what_to_install(tmp_path: Path, monkeypatch) -> None:
    archive = write_rar(tmp_path / "Train.rar", {"Train/Basophil/a.jpg": b"x"})
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(bench.DataError, match="libarchive-tools"):
        extract_archive(archive, tmp_path / "home" / "source")
    assert not list((tmp_path / "home").glob(".tmp-*"))


def test_damaged_rar_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "Train.rar"
    archive.write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(range(40)))
    with pytest.raises(bench.DataError, match="not a readable archive"):
        extract_archive(archive, tmp_path / "home" / "source")


def link_chain_tar(archive: Path) -> Path:
    """Links that each stay inside, but lead outside when followed in turn."""
    with tarfile.open(archive, "w") as bundle:
        for name, target in (("PBC/here", "."), ("PBC/up", "here/../..")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            bundle.addfile(link)
    return archive


def test_tar_link_chain_leading_outside_is_refused(tmp_path: Path) -> None:
    with pytest.raises(bench.DataError, match="refusing to extract .*outside"):
        extract_archive(link_chain_tar(tmp_path / "evil.tar"), tmp_path / "home" / "source")
    assert not (tmp_path / "home" / "source").exists()
    assert not list((tmp_path / "home").glob(".tmp-*"))
