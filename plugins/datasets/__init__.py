"""First-party datasets for bench, registered through the same entry point a third party uses.

One module per publisher; each defines its specs with the public API only (``bench`` and the
scanning helpers of ``bench.data``).
"""

from __future__ import annotations

from bench_datasets import aml, folder, generated, ldwbc, pbc, raabin, wbc_usid

import bench


@bench.hookimpl
def register_datasets() -> list[bench.DatasetSpec]:
    specs = [*raabin.SPECS, aml.SPEC, pbc.SPEC, ldwbc.SPEC, *wbc_usid.SPECS, folder.SPEC]
    taken = {key.lower() for spec in specs for key in (spec.name, *spec.aliases)}
    # Data sets found in the data home come last: a clash there must not hide the built-ins.
    specs += folder.prepared_folder_specs(taken)
    specs += generated.generated_specs(taken)
    return specs
