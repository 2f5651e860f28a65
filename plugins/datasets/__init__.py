"""First-party datasets for bench, registered through the same entry point a third party uses.

One module per publisher; each defines its specs with the public API only (``bench`` and the
scanning helpers of ``bench.data``).
"""

from __future__ import annotations

from pathlib import Path

from bench_datasets import aml, folder, generated, ldwbc, pbc, raabin, wbc_usid

import bench

SPECS = [*raabin.SPECS, aml.SPEC, pbc.SPEC, ldwbc.SPEC, *wbc_usid.SPECS, folder.SPEC]


@bench.hookimpl
def register_datasets() -> list[bench.DatasetSpec]:
    return list(SPECS)


@bench.hookimpl
def find_datasets(home: Path) -> list[bench.DatasetSpec]:
    """Generated sets and prepared ``folder:`` sets of the data home, looked up when asked."""
    taken = {key.lower() for spec in SPECS for key in (spec.name, *spec.aliases)}
    return [*folder.prepared_folder_specs(taken), *generated.generated_specs(taken)]
