"""Pretrained weights for air-gapped machines: download what models need, move them as one archive.

On a machine with internet, `bench weights download MODEL... --to DIR` fills a weights folder
(:func:`bench.hub.weights_folder` layout: the Hugging Face cache's, plus ``urls/``) and `bench
weights pack FILE --from DIR` writes it as one tar whose first member lists every file's SHA-256
and size. On the air-gapped machine `bench weights unpack FILE` checks every file against that
list before anything lands in the weights folder, where runs look first.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from bench.errors import BenchError, DataError, RunError
from bench.hub import (
    WeightFile,
    WeightsUnavailable,
    fetch,
    find_local,
    verify_hub_file,
    weights_folder,
)
from bench.weights import file_sha256

CHECKSUMS = "bench-weights.json"  # the archive's first member: every file's sha256 and size
FORMAT = 1
SKIPPED = (".locks", ".no_exist")  # huggingface_hub's bookkeeping, meaningless elsewhere


def download_models(models: list[str], folder: Path | None = None) -> list[dict[str, Any]]:
    """Fetch and verify every pretrained file ``models`` need into ``folder`` (the weights folder).

    One row per (model, file): ``status`` ``downloaded`` or ``present`` (found there and
    verified). Unknown models, families and models whose plugin lists no files are named first.
    """
    from bench.host import get_registries
    from bench.models import factory_of, name_one

    folder = folder or weights_folder()[0]
    registry = get_registries().models
    wanted: list[tuple[str, WeightFile]] = []
    for name in models:
        spec = registry.get(name)
        if spec.resolve_argument is not None:
            raise RunError(f"{spec.name!r} is a family of models: {name_one(spec)}.")
        files = factory_of(spec).weight_files()
        if not files:
            raise RunError(f"model {spec.name!r}: its plugin does not list the files of its "
                           f"pretrained weights (ModelFactory.weight_files), so bench cannot "
                           f"fetch them; get them as its plugin documents and use --weights.")
        wanted += [(spec.name, file) for file in files]
    rows = []
    for model, file in wanted:
        found = find_local(file, folder)
        if found is not None:
            path, status = found[0], "present"
            if not file.url:
                verify_hub_file(path, file)
        else:
            try:
                path, status = fetch(file, folder), "downloaded"
            except WeightsUnavailable as exc:
                raise RunError(f"cannot fetch {file.name} for model {model!r}: {exc.why}. "
                               f"`bench weights download` needs the network: unset "
                               f"HF_HUB_OFFLINE, or run it on a machine with internet and "
                               f"carry the folder here with `bench weights pack` and "
                               f"`bench weights unpack`.") from None
        rows.append({"model": model, "file": file.name, "status": status,
                     "path": str(path), "size": path.stat().st_size,
                     "sha256": file_sha256(path)})
    return rows


def _members(folder: Path) -> list[Path]:
    """Every file and link of a weights folder, in a stable order, bookkeeping left out."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (relative.parts[0] in SKIPPED or relative.parts[0].startswith(".unpack-")
                or relative.name.endswith((".incomplete", ".part"))):
            continue
        if path.is_symlink() or path.is_file():
            found.append(relative)
    return found


def pack(archive: Path, folder: Path | None = None) -> dict[str, Any]:
    """Write ``folder`` (the weights folder) as one tar with every file's SHA-256; a summary."""
    folder = folder or weights_folder()[0]
    members = _members(folder) if folder.is_dir() else []
    files = [m for m in members if not (folder / m).is_symlink()]
    if not files:
        raise DataError(f"the weights folder {folder} holds no weights: fill it first with "
                        f"`bench weights download MODEL --to {folder}`.")
    checksums = {"format": FORMAT, "files": {
        m.as_posix(): {"sha256": file_sha256(folder / m), "size": (folder / m).stat().st_size}
        for m in files}}
    archive = Path(archive)
    partial = archive.with_name(f".{archive.name}.part")
    try:
        with tarfile.open(partial, "w") as tar:
            body = json.dumps(checksums, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(CHECKSUMS)
            info.size = len(body)
            tar.addfile(info, _bytes(body))
            for member in members:
                tar.add(folder / member, arcname=member.as_posix(), recursive=False)
        os.replace(partial, archive)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BenchError(f"cannot write {archive} ({exc.strerror or exc}); choose another "
                         f"place.") from exc
    return {"archive": str(archive), "folder": str(folder), "files": len(files),
            "bytes": sum(entry["size"] for entry in checksums["files"].values())}


def _bytes(body: bytes):  # noqa: ANN202 - a readable binary stream
    import io

    return io.BytesIO(body)


def unpack(archive: Path, folder: Path | None = None) -> dict[str, Any]:
    """Check every file of a `bench weights pack` archive, then add them to ``folder``.

    Nothing lands in the folder unless every file matches its SHA-256 and size, and no member
    points outside it.
    """
    folder = folder or weights_folder()[0]
    archive = Path(archive)
    if not archive.is_file():
        raise DataError(f"{archive} does not exist: give the file `bench weights pack` wrote.")
    checksums = _checksums(archive)  # before anything is written: is it an archive of ours?
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=folder))
    try:
        _extract(archive, staging)
        _verify(archive, staging, checksums)
        moved = 0
        for path in sorted(staging.rglob("*"), key=lambda p: (p.is_symlink(), str(p))):
            if path.is_dir() and not path.is_symlink():
                continue
            target = folder / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            os.replace(path, target)
            moved += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = checksums["files"]
    return {"archive": str(archive), "folder": str(folder), "files": len(files),
            "bytes": sum(entry["size"] for entry in files.values()), "entries": moved}


def _checksums(archive: Path) -> dict[str, Any]:
    """The archive's list of files and checksums, its first member."""
    try:
        with tarfile.open(archive, "r") as tar:
            first = tar.next()
            if first is None or first.name != CHECKSUMS or not first.isfile():
                raise DataError(f"{archive} is not a `bench weights pack` archive (its first "
                                f"member is not {CHECKSUMS}).")
            checksums = json.loads(tar.extractfile(first).read())  # type: ignore[union-attr]
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise DataError(f"cannot read {archive} as a `bench weights pack` archive ({exc}); "
                        f"copy it again. Nothing was unpacked.") from exc
    if (not isinstance(checksums, dict) or checksums.get("format") != FORMAT
            or not isinstance(checksums.get("files"), dict)):
        raise DataError(f"{archive}: {CHECKSUMS} is not of format {FORMAT}; pack it again with "
                        f"this version of bench.")
    return checksums


def _extract(archive: Path, staging: Path) -> None:
    try:
        with tarfile.open(archive, "r") as tar:
            members = [m for m in tar.getmembers() if m.name != CHECKSUMS]
            tar.extractall(staging, members=members, filter="data")
    except tarfile.FilterError as exc:
        raise DataError(f"{archive} has a member that would land outside the weights folder "
                        f"({exc}); nothing was unpacked.") from exc
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"cannot read {archive} ({exc}): is it whole? Copy it again; nothing "
                        f"was unpacked.") from exc


def _verify(archive: Path, staging: Path, checksums: dict[str, Any]) -> None:
    bad = []
    for name, entry in sorted(checksums["files"].items()):
        path = staging / name
        if not path.is_file() or path.is_symlink():
            bad.append(f"{name}: missing")
        elif path.stat().st_size != entry["size"]:
            bad.append(f"{name}: {path.stat().st_size} bytes, packed {entry['size']}")
        elif file_sha256(path) != entry["sha256"]:
            bad.append(f"{name}: SHA-256 differs from the packed one")
    if bad:
        raise DataError(f"{archive} is damaged, nothing was unpacked: " + "; ".join(bad[:5])
                        + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
                        + ". Copy the archive again.")


def folder_rows(folder: Path | None = None) -> list[dict[str, Any]]:
    """What a weights folder holds: one row per hub file or URL download, with its size."""
    folder = folder or weights_folder()[0]
    rows = []
    for repo_dir in sorted(folder.glob("models--*")):
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        for snapshot in sorted((repo_dir / "snapshots").glob("*")):
            for path in sorted(p for p in snapshot.rglob("*") if p.is_file()):
                rows.append({"file": f"{repo}/{path.relative_to(snapshot).as_posix()}",
                             "revision": snapshot.name[:12], "size": path.stat().st_size,
                             "path": str(path)})
    for path in sorted((folder / "urls").glob("*")):
        if path.is_file():
            rows.append({"file": path.name, "revision": "", "size": path.stat().st_size,
                         "path": str(path)})
    return rows
