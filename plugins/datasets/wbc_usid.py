"""WBC-USID (Zedda et al. 2024): the synthetic benchmark, base level (B) and complex level (C).

Layout: ``dataset/level_0/`` (B) and ``dataset/level_5/`` (C), each with ``train/`` and
``test/`` and class folders ``Basophil``, ``Esophil`` (sic: eosinophil), ``Lymphocyte``,
``Monocyte``, ``Neutrophil``, 200 PNGs per class and split. The released PNGs are 256x256
although the paper says 64x64, so no size is assumed. File names repeat across train and
test for different images: the manifest keys on the path below the level folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import bench
from bench.kit import fetch_json, find_folder, has_split_folders, scan_split_folders

HOMEPAGE = "https://doi.org/10.6084/m9.figshare.26820652"
FIGSHARE_ARTICLE = 26820652
# Overridable so a mirror (or a test server on 127.0.0.1) can stand in for the publisher.
FIGSHARE_API_ENV = "BENCH_FIGSHARE_API"
GIT_ARCHIVE_ENV = "BENCH_WBC_USID_GIT_ARCHIVE"  # a zip of the authors' git repository
CLASS_MAP: dict[str, str | None] = {
    "Lymphocyte": "L",
    "Monocyte": "M",
    "Neutrophil": "N",
    "Esophil": "E",  # the release's spelling
    "Eosinophil": "E",
    "Basophil": "B",
}
CITATION = (
    "Zedda, L., Putzu, L., Loddo, A., Di Ruberto, C.: Training and Benchmarking Leukocyte "
    "Sub-types Classification Methods with Synthetic Images. ECCV 2024 Workshops, LNCS 15642. "
    "Data: figshare, doi:10.6084/m9.figshare.26820652"
)


def scan_level(level: str) -> Callable[[Path], list[bench.SourceImage]]:
    """Make the scan of one level: accepts the release root, ``dataset/`` or the level itself."""

    def scan(source: Path) -> list[bench.SourceImage]:
        other = re.fullmatch(r"level_\d+", source.name.lower())
        if other and source.name.lower() != level:
            raise bench.DataError(
                f"{source} is {source.name}, but this data set is {level}. Pass the release "
                f"root (the folder holding dataset/) or dataset/{level}/ itself."
            )
        if has_split_folders(source):
            return scan_split_folders(source)
        root = find_folder(
            source, lambda folder: folder.name.lower() == level and has_split_folders(folder),
            what=f"dataset/{level}/ with train/ and test/",
        )
        return scan_split_folders(root)

    return scan


def release_files() -> list[bench.Download]:
    """The files of the figshare release, with the sizes and MD5s figshare publishes.

    When figshare cannot be reached, the authors' git repository archive named by
    ``BENCH_WBC_USID_GIT_ARCHIVE`` is the fallback; it is then checked by the image counts that
    preparation reports against the paper's.
    """
    api = os.environ.get(FIGSHARE_API_ENV, "https://api.figshare.com/v2").rstrip("/")
    try:
        article = fetch_json(f"{api}/articles/{FIGSHARE_ARTICLE}")
        return [
            bench.Download(url=item["download_url"], filename=item["name"],
                           size=item.get("size"),
                           md5=item.get("computed_md5") or item.get("supplied_md5") or None)
            for item in article["files"]
        ]
    except (bench.DataError, KeyError, TypeError) as exc:
        fallback = os.environ.get(GIT_ARCHIVE_ENV)
        if not fallback:
            raise bench.DataError(
                f"figshare did not answer ({exc}). Download the release by hand from {HOMEPAGE} "
                f"(or its git repository), then: bench datasets prepare wbc-usid-b --from PATH "
                f"and the same for wbc-usid-c; or set {GIT_ARCHIVE_ENV} to a zip URL of the "
                f"repository and run the download again."
            ) from exc
        return [bench.Download(url=fallback, filename="WBC-USID-git.zip")]


def _spec(letter: str, level: str, description: str) -> bench.DatasetSpec:
    return bench.DatasetSpec(
        name=f"wbc-usid-{letter.lower()}",
        display_name=f"WBC-USID-{letter}",
        aliases=(f"WBC-USID-{letter}", f"wbc_usid_{letter.lower()}"),
        description=description,
        scan=scan_level(level),
        class_map=CLASS_MAP,
        split_policy="official_test",
        synthetic=True,
        homepage=HOMEPAGE,
        citation=CITATION,
        licence="MIT",
        paper_counts=dict.fromkeys("LMNEB", 400),
        download_hint=(f"{HOMEPAGE} (or its git repository); pass the release root, which "
                       f"holds dataset/{level}/"),
        downloads=release_files,
        group="wbc-usid",
    )


SPECS = [
    _spec("B", "level_0", "WBC-USID base level: one synthetic WBC on a plain background"),
    _spec("C", "level_5", "WBC-USID complex level: synthetic WBC among RBCs and other WBCs"),
]
