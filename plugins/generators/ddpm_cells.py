"""``ddpm:DIR``: one trained DDPM per cell label and partition, used as a cell generator.

``DIR/<partition>/<Class>/`` holds one checkpoint (see ``ddpm_training``). Sampling uses the
faithful 1000-step DDPM sampler unless a faster scheduler is asked for (DDIM, DPM-Solver++),
with the settings ``ddpm_model.SCHEDULER_OPTIONS`` gives them.
Every cell has its own random generator, so a cell is the same whatever batch it is drawn in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_generators.ddpm_model import (
    DEFAULT_STEPS,
    SCHEDULERS,
    STEP_OPTIONS,
    DdpmConfig,
    config_from_json,
    load_unet,
    make_config,
    make_scheduler,
    read_json,
)

import bench
from bench.kit import (
    CELL_LABELS,
    CLASS_FOLDERS,
    PARTITIONS,
    RBC,
    check_label,
    check_partition,
    derive_seed,
)


class DdpmCells:
    """Cells sampled from (and models trained into) a checkpoint folder."""

    def __init__(self, directory: str | Path, scheduler: str = "ddpm", steps: int | None = None,
                 batch_size: int = 64, device: str | None = None,
                 scheduler_options: dict[str, Any] | None = None,
                 step_options: dict[str, Any] | None = None):
        """Sample with ``scheduler`` in ``steps`` steps (its default when None).

        ``scheduler_options`` (diffusers' scheduler settings) and ``step_options`` (its
        ``step`` arguments, e.g. DDIM's ``eta``) override ``SCHEDULER_OPTIONS``/``STEP_OPTIONS``.
        """
        if scheduler not in SCHEDULERS:
            raise bench.DataError(f"--scheduler {scheduler!r}: use one of {', '.join(SCHEDULERS)}")
        if steps is not None and steps < 1:
            raise bench.DataError(f"--steps {steps}: sampling needs at least one step")
        self.directory = Path(directory).expanduser()
        self.scheduler, self.batch_size, self.device = scheduler, batch_size, device
        self.steps = steps or DEFAULT_STEPS[scheduler]
        self.scheduler_options = dict(scheduler_options or {})
        self.step_options = {**STEP_OPTIONS.get(scheduler, {}), **(step_options or {})}
        self._models: dict[tuple[str, str], Any] = {}
        self._costs: dict[tuple[str, str | None], dict[str, Any]] = {}

    def checkpoint(self, label: str, partition: str) -> Path:
        return self.directory / check_partition(partition) / CLASS_FOLDERS[check_label(label)]

    def trained(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What has been trained here: partition -> class -> training.json."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for partition in PARTITIONS:
            for label in CELL_LABELS:
                info = read_json(self.checkpoint(label, partition) / "training.json")
                if info is not None:
                    found.setdefault(partition, {})[CLASS_FOLDERS[label]] = info
        return found

    # -- sampling -----------------------------------------------------------------------------

    def generate(
        self, label: str, count: int, *, partition: str, seed: int, start: int = 0
    ) -> list[np.ndarray]:
        import torch

        unet, folder = self._model(label, partition)
        device = next(unet.parameters()).device
        cells: list[np.ndarray] = []
        for first in range(start, start + count, self.batch_size):
            indices = range(first, min(first + self.batch_size, start + count))
            generators = [torch.Generator(device).manual_seed(
                derive_seed(seed, partition, label, index)) for index in indices]
            with torch.inference_mode():
                batch = self._sample(unet, folder / "scheduler", generators, device)
            cells += list(batch)
        return cells

    def _sample(self, unet, saved: Path, generators, device) -> np.ndarray:
        from diffusers.utils.torch_utils import randn_tensor

        # a fresh one each batch: multistep schedulers keep state
        scheduler = make_scheduler(self.scheduler, saved, **self.scheduler_options)
        scheduler.set_timesteps(self.steps, device=device)
        size = unet.config.sample_size
        x = randn_tensor((len(generators), 3, size, size), generator=generators, device=device)
        x = x * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            eps = unet(scheduler.scale_model_input(x, t), t).sample
            x = scheduler.step(eps, t, x, generator=generators, **self.step_options).prev_sample
        images = ((x.clamp(-1, 1) + 1) * 127.5).round().to("cpu", dtype=x.dtype)
        return images.permute(0, 2, 3, 1).numpy().astype(np.uint8)

    def _model(self, label: str, partition: str):
        import torch

        key = (label, partition)
        if key not in self._models:
            folder = self.checkpoint(label, partition)
            if not (folder / "unet" / "config.json").is_file():
                raise bench.DataError(self._missing(label, partition, folder))
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._models[key] = (load_unet(folder / "unet").to(device), folder)
        return self._models[key]

    def _missing(self, label: str, partition: str, folder: Path) -> str:
        dataset, preset = self._trained_like()
        config = f" --config {preset}" if preset and preset != "paper" else ""
        how = (f"bench generate train-ddpm --rbc PATH/cell_images --classes RBC{config}"
               if label == RBC else f"bench generate train-ddpm --dataset {dataset}{config}")
        hint = " (or take the background RBCs from elsewhere: --rbc-cells procedural)" \
            if label == RBC else ""
        return (f"no DDPM checkpoint for {CLASS_FOLDERS[label]}, partition {partition}: "
                f"{folder} is missing. Train it with `{how} --partition {partition} --out "
                f"{self.directory}`{hint}.")

    def _trained_like(self) -> tuple[str, str | None]:
        """The data set and preset the models already here were trained with, for a hint."""
        from bench_generators.ddpm_model import PRESETS

        dataset, preset = "raabin", None
        for classes in self.trained().values():
            for info in classes.values():
                source = str(info.get("source", ""))
                if source.endswith(" (train split)"):
                    dataset = source.removesuffix(" (train split)")
                network = config_from_json(info["config"]).network()
                preset = next((name for name, config in PRESETS.items()
                               if config.network() == network), preset)
        return dataset, preset

    # -- training -----------------------------------------------------------------------------

    def min_images(self, config: str | None = None, **settings: Any) -> int:
        """The fewest example cells one model may be trained on under these settings."""
        keep = {k: v for k, v in settings.items() if k in DdpmConfig.__dataclass_fields__}
        return make_config(config or "paper", **keep).min_images

    def train(
        self,
        label: str,
        images: Sequence[np.ndarray],
        *,
        partition: str,
        config: str | None = None,
        seed: int = 0,
        device: str | None = None,
        record: dict[str, Any] | None = None,
        progress: Any = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Train, or resume, the model for one label and partition.

        ``config`` is a preset (``paper``, ``tiny``); without one a checkpoint resumes with its
        saved configuration and a new one uses ``paper``. ``settings`` override single fields.
        """
        from bench_generators.ddpm_training import train_model

        folder = self.checkpoint(label, partition)
        base, _ = self.training_config(label, partition, config, **settings)
        self._models.pop((label, partition), None)
        return train_model(images, folder, base, device=device or self.device,
                           seed=derive_seed(seed, partition, label),
                           record={"label": label, "partition": partition, **(record or {})},
                           progress=progress)

    def training_config(self, label: str, partition: str, config: str | None = None,
                        **settings: Any) -> tuple[DdpmConfig, int]:
        """The configuration ``train`` would use, and the steps its checkpoint has done."""
        existing = read_json(self.checkpoint(label, partition) / "training.json")
        if config is None and existing is not None:
            base = make_config(config_from_json(existing["config"]), **settings)
        else:
            base = make_config(config or "paper", **settings)
        return base, int(existing["step"]) if existing else 0

    def training_cost(self, label: str, partition: str, *, config: str | None = None,
                      device: str | None = None, **settings: Any) -> dict[str, Any]:
        """What ``train`` would cost: steps left, one step timed here, the checkpoint's size.

        A configuration is measured once (all classes share one network); nothing is written.
        """
        from bench_generators.ddpm_training import measure_step

        base, done = self.training_config(label, partition, config, **settings)
        device = device or self.device
        key = (repr(base), device)
        if key not in self._costs:
            self._costs[key] = measure_step(base, device)
        return {**self._costs[key], "steps": max(base.max_steps - done, 0),
                "max_steps": base.max_steps, "done": done}
