"""Training one DDPM on the cells of one class and one partition, resumably.

A checkpoint folder holds what sampling needs (``unet/``: the EMA weights, ``scheduler/``),
what resuming needs (``state/``: raw weights, optimiser, learning-rate schedule, EMA, random
state, step) and ``training.json``, which records the configuration and the data it saw.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_generators.ddpm_model import DdpmConfig, build_unet, config_from_json, read_json
from PIL import Image

import bench
from bench import kit
from bench.kit import write_json

Progress = Callable[[int, int, float], None]  # (step, max_steps, loss)


def to_training_tensor(images: Sequence[np.ndarray], resolution: int):
    """Square, resize and scale cells to [-1, 1]: an (N, 3, H, W) float tensor."""
    import torch

    batch = np.stack([_square(np.asarray(image)[..., :3], resolution) for image in images])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def _square(image: np.ndarray, side: int) -> np.ndarray:
    """Pad to a square with the border's colour (crops are rarely square), then resize."""
    h, w = image.shape[:2]
    if h != w:
        frame = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        canvas = np.empty((max(h, w), max(h, w), 3), np.uint8)
        canvas[:] = np.median(frame, axis=0).astype(np.uint8)
        top, left = (max(h, w) - h) // 2, (max(h, w) - w) // 2
        canvas[top : top + h, left : left + w] = image
        image = canvas
    if image.shape[0] != side:
        image = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.LANCZOS))
    return image


def train_model(
    images: Sequence[np.ndarray],
    folder: Path,
    config: DdpmConfig,
    *,
    device: str | None = None,
    seed: int = 0,
    record: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train (or resume training) until ``config.max_steps``; returns training.json's content."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import EMAModel

    if len(images) < config.min_images:
        raise bench.DataError(
            f"{len(images)} images to train {folder.parent.name}/{folder.name} on; the DDPM "
            f"needs at least {config.min_images} (min_images). Use a larger source data set."
        )
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    data = to_training_tensor(images, config.resolution)
    torch.manual_seed(seed)
    unet = build_unet(config).to(device)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=config.learning_rate,
                                  betas=(0.95, 0.999), weight_decay=config.weight_decay)
    schedule = get_scheduler("cosine", optimizer, num_warmup_steps=config.warmup_steps,
                             num_training_steps=config.max_steps)
    ema = EMAModel(unet.parameters(), decay=config.ema_decay, use_ema_warmup=True,
                   power=config.ema_power)
    noise_scheduler = DDPMScheduler(num_train_timesteps=config.train_timesteps,
                                    beta_schedule=config.beta_schedule)
    amp = _mixed_precision(device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    sampler = torch.Generator().manual_seed(seed)
    info = _resume(folder, config, unet, optimizer, schedule, ema, scaler, sampler, device)
    info.update(record or {}, images=len(images), device=device,
                mixed_precision=str(amp).removeprefix("torch.") if amp else "no")
    step = info["step"]
    unet.train()
    started, losses = time.perf_counter(), []
    while step < config.max_steps:
        index = torch.randint(len(data), (config.batch_size,), generator=sampler)
        batch = _augment(data[index], sampler).to(device)
        noise = torch.randn(batch.shape, generator=sampler).to(device)
        timesteps = torch.randint(config.train_timesteps, (len(batch),), generator=sampler)
        noisy = noise_scheduler.add_noise(batch, noise, timesteps.to(device))
        with torch.autocast("cuda", dtype=amp) if amp else contextlib.nullcontext():
            predicted = unet(noisy, timesteps.to(device)).sample
        loss = F.mse_loss(predicted.float(), noise)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        schedule.step()
        ema.step(unet.parameters())
        step += 1
        losses.append(loss.item())
        if progress:
            progress(step, config.max_steps, losses[-1])
        if step % config.checkpoint_every == 0 or step == config.max_steps:
            info.update(step=step, loss=float(np.mean(losses[-50:])),
                        seconds=info.get("seconds", 0.0) + time.perf_counter() - started)
            started = time.perf_counter()
            _save(folder, config, unet, optimizer, schedule, ema, scaler, sampler,
                  noise_scheduler, info)
    return info


def _mixed_precision(device: str):
    """bfloat16 autocast on GPUs that have it, float16 (with loss scaling) on older ones."""
    import torch

    if not device.startswith("cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _augment(batch, generator):
    """Random quarter turns and flips: a cell has no up or left."""
    import torch

    turns = int(torch.randint(4, (1,), generator=generator))
    batch = torch.rot90(batch, turns, dims=(2, 3))
    if int(torch.randint(2, (1,), generator=generator)):
        batch = torch.flip(batch, dims=(3,))
    return batch


def _resume(folder, config, unet, optimizer, schedule, ema, scaler, sampler, device) -> dict:
    from pickle import UnpicklingError

    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    info = read_json(folder / "training.json")
    if info is None:
        return {"step": 0, "config": _config_json(config)}
    if config_from_json(info["config"]).network() != config.network():
        raise bench.RunError(
            f"{folder} holds a checkpoint of a different network ({info['config']}); train into "
            "another --out folder, or delete this one to start again."
        )
    state_dir = folder / "state"
    try:
        unet.load_state_dict(load_file(state_dir / "model.safetensors"))
        # weights_only: tensors and plain containers only; a pickled object is refused, not run
        state = torch.load(state_dir / "training.pt", map_location=device, weights_only=True)
    except (UnpicklingError, SafetensorError, OSError, RuntimeError) as exc:
        raise bench.RunError(
            f"{state_dir} is not a checkpoint bench can resume from ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'}); bench loads only "
            f"tensors and never unpickles objects. Delete {folder} to train this model again."
        ) from exc
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    ema.load_state_dict(state["ema"])
    ema.to(device)
    scaler.load_state_dict(state["scaler"])
    sampler.set_state(state["sampler"])
    info["config"] = _config_json(config)  # the step budget may have grown
    return info


def _config_json(config: DdpmConfig) -> dict[str, Any]:
    import dataclasses

    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(config).items()}


def _save(folder, config, unet, optimizer, schedule, ema, scaler, sampler, noise_scheduler,
          info) -> None:
    """Write a complete checkpoint beside the old one, then swap: never half a checkpoint."""
    import torch
    from safetensors.torch import save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.saving")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "state").mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in unet.state_dict().items()},
              staging / "state" / "model.safetensors")
    torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "ema": ema.state_dict(), "scaler": scaler.state_dict(),
                "sampler": sampler.get_state()}, staging / "state" / "training.pt")
    ema.store(unet.parameters())
    ema.copy_to(unet.parameters())
    unet.save_pretrained(staging / "unet")  # the EMA weights are the ones to sample from
    ema.restore(unet.parameters())
    noise_scheduler.save_pretrained(staging / "scheduler")
    write_json(staging / "training.json", info)
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)


def measure_step(config: DdpmConfig, device: str | None = None) -> dict[str, Any]:
    """Time one training step of ``config`` on ``device`` from random weights; save nothing.

    The step is the training loop's (noise, forward, backward, clipping, AdamW, EMA) on a
    random batch. The checkpoint size counts what ``_save`` writes: the raw weights, AdamW's
    two moments and the EMA copy (``state/``), and the EMA weights again (``unet/``).
    """
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler
    from diffusers.training_utils import EMAModel

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    unet = build_unet(config).to(device).train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=config.learning_rate,
                                  betas=(0.95, 0.999), weight_decay=config.weight_decay)
    ema = EMAModel(unet.parameters(), decay=config.ema_decay, use_ema_warmup=True,
                   power=config.ema_power)
    noise_scheduler = DDPMScheduler(num_train_timesteps=config.train_timesteps,
                                    beta_schedule=config.beta_schedule)
    amp = _mixed_precision(device)
    shape = (config.batch_size, 3, config.resolution, config.resolution)

    def step() -> None:
        batch = torch.rand(shape, device=device) * 2 - 1
        noise = torch.randn(shape, device=device)
        timesteps = torch.randint(config.train_timesteps, (config.batch_size,), device=device)
        noisy = noise_scheduler.add_noise(batch, noise, timesteps)
        with torch.autocast("cuda", dtype=amp) if amp else contextlib.nullcontext():
            predicted = unet(noisy, timesteps).sample
        loss = F.mse_loss(predicted.float(), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        ema.step(unet.parameters())

    seconds = kit.time_steps(step, repeats=2, warmup=1)
    weights = kit.tensor_bytes(unet.state_dict())
    state = kit.tensor_bytes(optimizer.state_dict()) + kit.tensor_bytes(ema.state_dict())
    return {"seconds_per_step": seconds, "device": device,
            "parameters": sum(p.numel() for p in unet.parameters()),
            "checkpoint_bytes": 2 * weights + state}
