"""LDWBC (Chen et al. 2022): 22,645 leukocyte images at 1280x1280.

No public source confirms the publisher's layout, so any folder of class folders is accepted,
with case-insensitive, alias-tolerant names (``Lymphocytes``, ``lym``, ``EOS``, ...), and so
is a ``path,label`` CSV (``prepare`` takes one for every unconfirmed layout). A class folder
that matches none of the five classes is reported, never guessed.
"""

from __future__ import annotations

from pathlib import Path

import bench
from bench.kit import find_folder, has_class_folders, scan_class_folders, wbc_class_map

CLASS_MAP = wbc_class_map()


def scan_ldwbc(source: Path) -> list[bench.SourceImage]:
    root = find_folder(source, has_class_folders(CLASS_MAP, minimum=3),
                       what="a folder of WBC class folders (Lymphocyte, Neutrophil, ...)")
    return scan_class_folders(root)


SPEC = bench.DatasetSpec(
    name="ldwbc",
    display_name="LDWBC",
    aliases=("LDWBC",),
    description="LDWBC (Chen et al. 2022): 22,645 leukocytes, 1280x1280 (real)",
    scan=scan_ldwbc,
    class_map=CLASS_MAP,
    homepage="",  # no stable public URL could be confirmed
    citation="Chen et al. (2022), LDWBC: a large data set of white blood cells (as cited by "
             "Zedda et al., ECCV 2024 Workshops)",
    licence="unknown: check the terms under which you obtained it",
    image_size=(1280, 1280),
    paper_counts={"L": 10445, "M": 968, "N": 10469, "E": 539, "B": 224},
    download_hint=("from the authors of Chen et al. (2022); pass the folder holding the class "
                   "folders"),
    layout_confirmed=False,
)
