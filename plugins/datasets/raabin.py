"""Raabin-WBC (Kouzehkanan et al., Scientific Reports 2022): two data sets from one publisher.

- ``raabin``: the 1,145 single-WBC crops at 575x575 that have nucleus/cytoplasm ground truth,
  as the paper uses them (242 L / 242 M / 242 N / 201 E / 218 B). No public source confirms how
  this subset is laid out, so any folder holding the five class folders (any case, common
  spellings) is found, however deep; ``prepare`` also takes a ``path,label`` CSV for it, so
  whatever the user received is prepared under this name. If the download holds the images
  and their masks in two such folders, pass the images folder with --from.
- ``raabin-cropped``: the large "Cropped double-labeled" download, published as ``Train.rar``,
  ``TestA.rar`` and ``TestB.zip``, each a folder per class (given together: ``--from Train.rar
  --from TestA.rar``). Real data, so it is split 60/20/20 like every real data set; TestB
  (another microscope and camera) is not part of it. Its published counts per part (the
  article's table) let a prepare of ``raabin`` from one of these parts say so.
"""

from __future__ import annotations

from pathlib import Path

import bench
from bench.kit import (
    find_folder,
    has_class_folders,
    has_split_folders,
    scan_class_folders,
    scan_split_folders,
    wbc_class_map,
)

HOMEPAGE = "https://raabindata.com/free-data/"
CITATION = (
    "Kouzehkanan, Z.M., Saghari, S., Tavakoli, S., et al.: A large dataset of white blood cells "
    "containing cell locations and types, along with segmented nuclei and cytoplasm. "
    "Scientific Reports 12, 1123 (2022). doi:10.1038/s41598-021-04426-x"
)
LICENCE = "free for research; see the publisher's terms at raabindata.com (article: CC BY 4.0)"
CLASS_MAP = wbc_class_map()
CROPPED_SPLITS = {"Train": "train", "TestA": "test"}
CROPPED_COUNTS = {  # Kouzehkanan et al. 2022, the cropped double-labeled cells per part
    "Train": {"L": 2427, "M": 561, "N": 6231, "E": 744, "B": 212},
    "TestA": {"L": 1034, "M": 234, "N": 2660, "E": 322, "B": 89},
}


def scan_raabin(source: Path) -> list[bench.SourceImage]:
    root = find_folder(source, has_class_folders(CLASS_MAP, minimum=5),
                       what="the five class folders (Basophil, Eosinophil, Lymphocyte, ...)")
    return scan_class_folders(root)


def _is_cropped_root(folder: Path) -> bool:
    return has_split_folders(folder, CROPPED_SPLITS)


def scan_raabin_cropped(source: Path) -> list[bench.SourceImage]:
    root = find_folder(source, _is_cropped_root, what="the folders Train/ and TestA/")
    return scan_split_folders(root, CROPPED_SPLITS)


SPECS = [
    bench.DatasetSpec(
        name="raabin",
        display_name="Raabin",
        aliases=("Raabin", "raabin-wbc"),
        description="Raabin-WBC: 1,145 single-WBC crops with ground truth, 575x575 (real)",
        scan=scan_raabin,
        class_map=CLASS_MAP,
        homepage=HOMEPAGE,
        citation=CITATION,
        licence=LICENCE,
        image_size=(575, 575),
        paper_counts={"L": 242, "M": 242, "N": 242, "E": 201, "B": 218},
        download_hint=(f"{HOMEPAGE} (Raabin-WBC, the 1,145 ground-truth cells; pass the "
                       f"folder holding the five class folders)"),
        layout_confirmed=False,
    ),
    bench.DatasetSpec(
        name="raabin-cropped",
        display_name="Raabin-Cropped",
        aliases=("raabin-wbc-cropped",),
        description="Raabin-WBC cropped double-labeled cells, Train + TestA (real)",
        scan=scan_raabin_cropped,
        class_map=CLASS_MAP,
        homepage=HOMEPAGE,
        citation=CITATION,
        licence=LICENCE,
        download_hint=(f"{HOMEPAGE} (Raabin-WBC 'Cropped double-labeled' images: Train.rar and "
                       f"TestA.rar; --from each, or the folder holding Train/ and TestA/)"),
        published_counts=CROPPED_COUNTS,
    ),
]
