"""First-party generators for bench, registered through the same entry point a third party uses.

- ``procedural``: cells drawn with numpy (the embedded default: no download, no GPU);
- ``ddpm`` / ``ddpm:DIR``: one diffusers DDPM per class and partition, trained by
  `bench generate train-ddpm` (``ddpm`` alone reads ``generators/ddpm-raabin`` in the data home;
  DIR is a folder, or a name in the data home's ``generators/``);
- ``folder:PATH``: single-cell images in class folders;
- ``compositor``: composes cells into data sets in the WBC-USID layout;
- the command `bench generate train-ddpm` (``register_commands``).

Factories import their modules when called, so listing generators imports no torch.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import bench

DEFAULT_DDPM = "ddpm-raabin"


def _procedural(scale: float = 4.0) -> Any:
    from bench_generators.procedural import ProceduralCells

    return ProceduralCells(scale=scale)


def _ddpm(directory: str, scheduler: str = "ddpm", steps: int | None = None,
          batch_size: int = 64, device: str | None = None) -> Any:
    from bench_generators.ddpm_cells import DdpmCells

    return DdpmCells(ddpm_folder(directory), scheduler=scheduler, steps=steps,
                     batch_size=batch_size, device=device)


def ddpm_folder(argument: str) -> Path:
    """A checkpoint folder: a path, or a name under the data home's ``generators/``."""
    path = Path(argument).expanduser()
    if path.is_absolute() or path.exists() or argument.startswith((".", "~")) or "/" in argument:
        return path
    return bench.data_home() / "generators" / argument


def _folder(root: str) -> Any:
    from bench_generators.folder import FolderCells

    return FolderCells(root)


def _folder_without_path() -> Any:
    raise bench.DataError("say which folder: --cells folder:PATH, with PATH/<Class>/*.png")


def _compositor(level: str | float = "complex", **parameters: Any) -> Any:
    from bench_generators.compositor import Compositor

    return Compositor(level, **parameters)


def _ddpm_spec(argument: str) -> bench.GeneratorSpec:
    return bench.GeneratorSpec(
        name=f"ddpm:{argument}", kind="cells", description=f"DDPM checkpoints in {argument}",
        factory=functools.partial(_ddpm, argument), trainable=True,
    )


def _folder_spec(argument: str) -> bench.GeneratorSpec:
    return bench.GeneratorSpec(
        name=f"folder:{argument}", kind="cells", description=f"single cells in {argument}",
        factory=functools.partial(_folder, argument),
    )


@bench.hookimpl
def register_generators():
    from bench_generators.placement import CompositorSettings

    return [
        bench.GeneratorSpec(
            name="procedural", kind="cells", display_name="Procedural cells",
            description="Cells drawn with numpy: recognisable morphology per class, seeded; "
                        "no download, no GPU",
            factory=_procedural, default=True,
            settings={"scale": "4 pixels per micrometre", "labels": "L, M, N, E, B, RBC"},
        ),
        bench.GeneratorSpec(
            name="ddpm", kind="cells", display_name="DDPM",
            description="One DDPM (diffusers UNet2DModel) per class and partition; ddpm:DIR "
                        f"reads DIR (default: {DEFAULT_DDPM} in the data home's generators/)",
            factory=functools.partial(_ddpm, DEFAULT_DDPM),
            resolve_argument=_ddpm_spec, trainable=True,
            settings={"network": "5 down/5 up blocks, channels 128,128,256,256,512, 2 layers, "
                                 "attention before resampling, 64x64",
                      "scheduler": "ddpm (1000 steps) | ddim (50) | dpm-solver (20)",
                      "rbc_source": "--rbc PATH: NIH malaria cell_images/Uninfected"},
        ),
        bench.GeneratorSpec(
            name="folder", kind="cells", display_name="Cell folder",
            description="folder:PATH: single-cell images in class folders (Lymphocyte/, ..., "
                        "RBC/), halved by path hash into partitions A and B",
            factory=_folder_without_path,
            resolve_argument=_folder_spec,
        ),
        bench.GeneratorSpec(
            name="compositor", kind="compositor", display_name="WBC-USID compositor",
            description="Pastes cells on a flat background in the WBC-USID layout; levels "
                        "base (0) to complex (5)",
            factory=_compositor, default=True,
            settings=CompositorSettings().describe(),
        ),
    ]


@bench.hookimpl
def register_commands(cli: Any) -> None:
    from bench_generators.commands import train_ddpm_command

    cli.commands["generate"].add_command(train_ddpm_command)
