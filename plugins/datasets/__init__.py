"""First-party datasets for bench, registered through the same entry point a third party uses."""

from __future__ import annotations

import bench


@bench.hookimpl
def register_datasets():
    return []
