"""PBC, the normal peripheral blood cell data set of Acevedo et al. (Data in Brief 2020).

Layout: ``PBC_dataset_normal_DIB/<class>/*.jpg``, 8 class folders, 360x363 JPEGs. The archive
often unpacks one level deeper than that; the folder is found wherever it is. Immature
granulocytes, erythroblasts and platelets are dropped and counted.
"""

from __future__ import annotations

from pathlib import Path

import bench
from bench.kit import find_folder, has_class_folders, scan_class_folders

CLASS_MAP: dict[str, str | None] = {
    "lymphocyte": "L",
    "monocyte": "M",
    "neutrophil": "N",
    "eosinophil": "E",
    "basophil": "B",
    "ig": None,  # immature granulocytes
    "erythroblast": None,
    "platelet": None,
}


def scan_pbc(source: Path) -> list[bench.SourceImage]:
    root = find_folder(source, has_class_folders(CLASS_MAP, minimum=5),
                       what="PBC_dataset_normal_DIB/ with its 8 class folders")
    return scan_class_folders(root)


SPEC = bench.DatasetSpec(
    name="pbc",
    display_name="PBC",
    aliases=("PBC", "pbc-dataset-normal-dib"),
    description="PBC (Acevedo et al.): 17,092 normal blood cells, 8 classes, 360x363 (real)",
    scan=scan_pbc,
    class_map=CLASS_MAP,
    homepage="https://doi.org/10.17632/snkd93bnjr.1",
    citation=(
        "Acevedo, A., Merino, A., Alferez, S., et al.: A dataset of microscopic peripheral blood "
        "cell images for development of automatic recognition systems. Data in Brief 30, 105474 "
        "(2020). Data: Mendeley Data, doi:10.17632/snkd93bnjr.1"
    ),
    licence="CC BY 4.0",
    image_size=(360, 363),
    paper_counts={"L": 1214, "M": 1420, "N": 3329, "E": 3117, "B": 1218},
    download_hint=("https://doi.org/10.17632/snkd93bnjr.1 (Mendeley Data; pass the zip or the "
                   "extracted folder)"),
)
