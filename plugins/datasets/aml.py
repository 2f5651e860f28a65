"""AML-Cytomorphology_LMU (Matek et al. 2019, The Cancer Imaging Archive).

Layout: ``AML-Cytomorphology/<CODE>/<CODE>_NNNN.tiff``, 15 morphological classes, 400x400 RGBA
TIFFs (converted to RGB). Kept as the paper does: BAS -> B, EOS -> E, MON -> M,
LYT + LYA -> L, NGS + NGB -> N; the other ten classes are dropped and counted.
"""

from __future__ import annotations

from pathlib import Path

import bench
from bench.kit import find_folder, has_class_folders, scan_class_folders

CLASS_MAP: dict[str, str | None] = {
    "BAS": "B",  # basophil
    "EOS": "E",  # eosinophil
    "MON": "M",  # monocyte
    "LYT": "L",  # lymphocyte (typical)
    "LYA": "L",  # lymphocyte (atypical)
    "NGS": "N",  # neutrophil (segmented)
    "NGB": "N",  # neutrophil (band)
    "EBO": None,  # erythroblast
    "KSC": None,  # smudge cell
    "MMZ": None,  # metamyelocyte
    "MOB": None,  # monoblast
    "MYB": None,  # myelocyte
    "MYO": None,  # myeloblast
    "PMB": None,  # promyelocyte (bilobed)
    "PMO": None,  # promyelocyte
}


def scan_aml(source: Path) -> list[bench.SourceImage]:
    root = find_folder(source, has_class_folders(CLASS_MAP, minimum=5),
                       what="AML-Cytomorphology/ with its class-code folders (BAS, EOS, ...)")
    return scan_class_folders(root)


SPEC = bench.DatasetSpec(
    name="aml",
    display_name="AML",
    aliases=("AML", "aml-cytomorphology", "aml-cytomorphology-lmu"),
    description="AML-Cytomorphology_LMU: 18,365 single-cell TIFFs, 15 classes, 400x400 (real)",
    scan=scan_aml,
    class_map=CLASS_MAP,
    homepage="https://doi.org/10.7937/tcia.2019.36f5o9ld",
    citation=(
        "Matek, C., Schwarz, S., Marr, C., Spiekermann, K.: A Single-cell Morphological Dataset "
        "of Leukocytes from AML Patients and Non-malignant Controls. The Cancer Imaging Archive "
        "(2019). doi:10.7937/tcia.2019.36f5o9ld"
    ),
    licence="CC BY 3.0 (TCIA)",
    image_size=(400, 400),
    paper_counts={"L": 3948, "M": 1789, "N": 8593, "E": 424, "B": 79},
    download_hint=("https://doi.org/10.7937/tcia.2019.36f5o9ld (The Cancer Imaging Archive; "
                   "pass the folder holding AML-Cytomorphology/ or that folder itself)"),
)
