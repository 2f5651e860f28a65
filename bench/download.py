"""Fetching open data sets: resumable HTTP downloads, verified against what the publisher says.

A download goes to ``<name>.part`` first and is renamed only once complete and verified, so a
broken connection resumes where it stopped (HTTP range requests) and a bad file never passes
for a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.errors import DataError
from bench.specs import Download

CHUNK = 1 << 20
USER_AGENT = "wbc-bench (https://pypi.org/project/wbc-bench)"


def fetch_json(url: str, timeout: float = 30.0) -> Any:
    """GET a JSON document (a publisher's API, e.g. figshare's article metadata)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataError(f"could not read {url}: {exc}") from exc


def _digests(path: Path) -> dict[str, str]:
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def verify(path: Path, expected: Download) -> None:
    """Raise unless the file has the publisher's size and checksums (those that are given)."""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        raise DataError(f"{path.name}: {size} bytes, the publisher says {expected.size}")
    if expected.md5 or expected.sha256:
        digests = _digests(path)
        for kind in ("md5", "sha256"):
            wanted = getattr(expected, kind)
            if wanted and digests[kind] != wanted.lower():
                raise DataError(
                    f"{path.name}: {kind} {digests[kind]} does not match the publisher's {wanted}"
                )


def _byte_progress(enabled: bool):
    from bench.console import progress_bar

    return progress_bar(enabled, unit="bytes")


def download(item: Download, folder: Path, *, progress: bool = True,
             timeout: float = 60.0) -> Path:
    """Fetch ``item`` into ``folder``, resuming a partial file; return the verified file."""
    folder.mkdir(parents=True, exist_ok=True)
    final, partial = folder / item.filename, folder / f"{item.filename}.part"
    if final.is_file():
        verify(final, item)
        return final
    have = partial.stat().st_size if partial.is_file() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(item.url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part file is already complete
            response = None
        else:
            raise DataError(f"download of {item.url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(
            f"could not reach {item.url} ({exc}). Check the network and run the same command "
            f"again: the download resumes from {have} bytes."
        ) from exc
    if response is not None:
        with response:
            resumed = response.status == 206
            mode = "ab" if resumed else "wb"
            done = have if resumed else 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length else item.size
            with partial.open(mode) as out, _byte_progress(progress) as bar:
                task = bar.add_task(f"Downloading {item.filename}", total=total, completed=done)
                try:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        bar.advance(task, len(chunk))
                except (urllib.error.URLError, OSError) as exc:
                    raise DataError(
                        f"the download of {item.filename} broke off ({exc}); run the same command "
                        f"again to resume from {partial.stat().st_size} bytes"
                    ) from exc
    try:
        verify(partial, item)
    except DataError:
        partial.unlink()  # a corrupt file must not be resumed from
        raise
    os.replace(partial, final)
    return final


def _specs_for(name: str) -> list:
    """One data set by name, or every data set of a group (``wbc-usid`` -> B and C)."""
    from bench.data.catalogue import datasets_in_group
    from bench.host import get_registries

    return datasets_in_group(name) or [get_registries().datasets.get(name)]  # raises if unknown


def download_datasets(name: str, *, progress: bool = True) -> list:
    """Fetch, verify and prepare an open data set (or a group of them); return the prepared."""
    from bench.data import prepare_dataset
    from bench.data.archive import is_archive
    from bench.home import subdir

    prepared = []
    for spec in _specs_for(name):
        if spec.downloads is None:
            where = spec.download_hint or spec.homepage or "its publisher"
            raise DataError(
                f"{spec.label} cannot be downloaded by bench (registration or a special client is "
                f"needed). Get it from {where}, then run: "
                f"bench datasets prepare {spec.name} --from PATH"
            )
        items = list(spec.downloads())
        folder = subdir("downloads", items[0].filename.rsplit(".", 1)[0] if len(items) == 1
                        else spec.name)
        files = [download(item, folder, progress=progress) for item in items]
        if len(files) > 1:  # several archives: unpacked side by side (a README is no data)
            files = [file for file in files if is_archive(file)]
        prepared.append(prepare_dataset(spec.name, files, progress=progress))
    return prepared
