"""The paper's DDPM network and its checkpoints: a diffusers ``UNet2DModel`` and its schedulers.

Five down and five up ResNet blocks, two layers each, channels 128, 128, 256, 256, 512,
attention before every down- and upsampling, convolutional downsampling and
transposed-convolution upsampling, at 64x64. diffusers' ``UNet2DModel`` gives every up block one
layer more than its down block (``layers_per_block + 1``, as in Ho et al.'s DDPM); the paper's
blocks all have two, so ``up_blocks="paper"`` rebuilds the up blocks with ``layers_per_block``
layers and ``up_blocks="diffusers"`` (the ``diffusers`` preset) keeps diffusers' layout.
Torch and diffusers are imported in the functions that need them, so listing generators stays
cheap.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench

SCHEDULERS = {"ddpm": "DDPMScheduler", "ddim": "DDIMScheduler",
              "dpm-solver": "DPMSolverMultistepScheduler"}
DEFAULT_STEPS = {"ddpm": 1000, "ddim": 50, "dpm-solver": 20}
# The fast samplers' settings (diffusers' options), chosen on the sample-quality check
# (tests/generators/test_ddpm_quality.py): with diffusers' defaults a small model's DDIM-50
# cells keep noise (deterministic, eta 0) and DPM-Solver++-20's saturate (x0 never clipped).
# Both now clip the predicted clean image to the data range and add fresh noise at every step,
# as the 1000-step sampler does: DDIM with eta 1, DPM-Solver++ in its SDE form (second order).
SCHEDULER_OPTIONS: dict[str, dict[str, Any]] = {
    "ddpm": {},
    "ddim": {"clip_sample": True, "clip_sample_range": 1.0},
    "dpm-solver": {"algorithm_type": "sde-dpmsolver++", "solver_order": 2,
                   "thresholding": True, "sample_max_value": 1.0},
}
STEP_OPTIONS: dict[str, dict[str, Any]] = {"ddim": {"eta": 1.0}}


@dataclass(frozen=True)
class DdpmConfig:
    """Network and training settings; the defaults are the paper's network.

    The training settings the paper does not give follow diffusers' unconditional training
    example (AdamW, betas 0.95/0.999, cosine learning rate with warm-up, EMA power 3/4).
    """

    resolution: int = 64
    channels: tuple[int, ...] = (128, 128, 256, 256, 512)
    layers_per_block: int = 2
    up_blocks: str = "paper"  # "paper": layers_per_block layers; "diffusers": one more
    attention: tuple[bool, ...] = (True, True, True, True, True)  # per level, before resampling
    transposed_upsampling: bool = True
    norm_groups: int = 32
    train_timesteps: int = 1000
    beta_schedule: str = "linear"
    batch_size: int = 16
    learning_rate: float = 1e-4
    weight_decay: float = 1e-6
    warmup_steps: int = 500
    max_steps: int = 20_000
    checkpoint_every: int = 1000
    ema_decay: float = 0.9999
    ema_power: float = 0.75
    min_images: int = 16  # fewer images per class and partition cannot train a model

    def network(self) -> dict[str, Any]:
        """The fields that define the network (a checkpoint resumes only with the same)."""
        keys = ("resolution", "channels", "layers_per_block", "up_blocks", "attention",
                "transposed_upsampling", "norm_groups", "train_timesteps", "beta_schedule")
        return {key: _plain(getattr(self, key)) for key in keys}


UP_BLOCKS = ("paper", "diffusers")

PRESETS = {
    "paper": DdpmConfig(),
    # The paper network with diffusers' own up blocks (layers_per_block + 1 layers each).
    "diffusers": DdpmConfig(up_blocks="diffusers"),
    # Small enough to train a few steps and sample on a CPU in seconds: tests and benchmarks.
    "tiny": DdpmConfig(resolution=16, channels=(16, 32), layers_per_block=1,
                       attention=(True, True), norm_groups=8, batch_size=4, warmup_steps=0,
                       max_steps=4, checkpoint_every=2, min_images=2),
}


def make_config(preset: str | DdpmConfig = "paper", **overrides: Any) -> DdpmConfig:
    if isinstance(preset, DdpmConfig):
        base = preset
    elif preset in PRESETS:
        base = PRESETS[preset]
    else:
        raise bench.DataError(f"unknown DDPM configuration {preset!r}; use one of "
                              f"{', '.join(PRESETS)}")
    fields = {f.name for f in dataclasses.fields(DdpmConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise bench.DataError(f"DDPM configuration has no setting {', '.join(unknown)}")
    config = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
    levels = len(config.channels)
    if config.up_blocks not in UP_BLOCKS:
        raise bench.DataError(f"up_blocks={config.up_blocks!r}: use one of "
                              f"{', '.join(UP_BLOCKS)}")
    if len(config.attention) != levels:
        raise bench.DataError(f"attention has {len(config.attention)} entries for {levels} "
                              "levels: give one per level")
    if config.resolution % 2 ** (levels - 1):
        raise bench.DataError(f"resolution {config.resolution} must be divisible by "
                              f"{2 ** (levels - 1)} for {levels} levels")
    if any(c % config.norm_groups for c in config.channels):
        raise bench.DataError(f"every channel count must be divisible by norm_groups="
                              f"{config.norm_groups}")
    return config


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def config_from_json(data: dict[str, Any]) -> DdpmConfig:
    fields = {f.name: f for f in dataclasses.fields(DdpmConfig)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields}
    values.setdefault("up_blocks", "diffusers")  # checkpoints saved before the setting existed
    return DdpmConfig(**values)


# -- the network ------------------------------------------------------------------------------


def build_unet(config: DdpmConfig):
    """A fresh ``UNet2DModel`` with the configured block layout."""
    from diffusers import UNet2DModel

    down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in config.attention)
    unet = UNet2DModel(
        sample_size=config.resolution,
        in_channels=3,
        out_channels=3,
        block_out_channels=tuple(config.channels),
        layers_per_block=config.layers_per_block,
        down_block_types=down,
        up_block_types=tuple(name.replace("Down", "Up") for name in reversed(down)),
        norm_num_groups=config.norm_groups,
        num_train_timesteps=config.train_timesteps,
    )
    if config.up_blocks == "paper":
        _use_paper_up_blocks(unet)
    if config.transposed_upsampling:
        _use_transposed_upsampling(unet)
    return unet


def _use_paper_up_blocks(unet) -> None:
    """Rebuild the up blocks with ``layers_per_block`` layers, as many as the down blocks.

    diffusers' down side leaves ``layers_per_block`` + 1 skip connections per level (one per
    layer and one after the downsampler) and its up blocks take one per layer. With one layer
    fewer, the first layer's skip is dropped from every down block: with two layers, each up
    block takes the output of its down block and that block's input (the level above's
    downsampled output, or the stem), and every skip is used. Recorded in the saved config
    (``up_block_layers``), which ``load_unet`` reads back; diffusers itself ignores the key.
    """
    import torch
    from diffusers.models.unets.unet_2d_blocks import get_up_block

    config = unet.config
    channels = list(reversed(config.block_out_channels))
    blocks = []
    for i, kind in enumerate(config.up_block_types):
        # the same arguments as UNet2DModel.__init__ passes, but for num_layers
        blocks.append(get_up_block(
            kind,
            num_layers=config.layers_per_block,
            in_channels=channels[min(i + 1, len(channels) - 1)],
            out_channels=channels[i],
            prev_output_channel=channels[max(i - 1, 0)],
            temb_channels=config.time_embedding_dim or config.block_out_channels[0] * 4,
            add_upsample=i < len(channels) - 1,
            resnet_eps=config.norm_eps,
            resnet_act_fn=config.act_fn,
            resnet_groups=config.norm_num_groups,
            attention_head_dim=config.attention_head_dim or channels[i],
            resnet_time_scale_shift=config.resnet_time_scale_shift,
            upsample_type=config.upsample_type,
            dropout=config.dropout,
        ))
    unet.up_blocks = torch.nn.ModuleList(blocks)
    for block in unet.down_blocks:
        block.register_forward_hook(_drop_first_skip)
    unet.register_to_config(up_block_layers=config.layers_per_block)


def _drop_first_skip(block, inputs, output):
    hidden, skips = output
    return hidden, skips[1:]


def _use_transposed_upsampling(unet) -> None:
    """Swap diffusers' nearest-neighbour-then-conv upsamplers for transposed convolutions.

    Recorded in the saved config (``upsampling``), which ``load_unet`` reads back; diffusers
    itself ignores the key.
    """
    from diffusers.models.upsampling import Upsample2D

    for block in unet.up_blocks:
        if block.upsamplers is not None:
            channels = block.upsamplers[0].channels
            block.upsamplers[0] = Upsample2D(channels, use_conv_transpose=True,
                                             out_channels=channels)
    unet.register_to_config(upsampling="transposed-conv")


def load_unet(folder: Path):
    """A network saved by ``save_pretrained`` (safetensors and config.json)."""
    from diffusers import UNet2DModel
    from safetensors.torch import load_file

    config = dict(UNet2DModel.load_config(folder))
    transposed = config.pop("upsampling", None) == "transposed-conv"
    paper_up_blocks = config.pop("up_block_layers", None) is not None
    unet = UNet2DModel.from_config(config)
    if paper_up_blocks:
        _use_paper_up_blocks(unet)
    if transposed:
        _use_transposed_upsampling(unet)
    unet.load_state_dict(load_file(folder / "diffusion_pytorch_model.safetensors"))
    return unet.eval()


def make_scheduler(name: str, saved: Path | None = None, train_timesteps: int = 1000,
                   **options: Any):
    """A sampling scheduler built from the training scheduler's saved configuration.

    ``SCHEDULER_OPTIONS`` are applied, then ``options`` (diffusers' names) over them.
    """
    import diffusers

    if name not in SCHEDULERS:
        raise bench.DataError(f"unknown scheduler {name!r}; use one of {', '.join(SCHEDULERS)}")
    if saved is not None and (saved / "scheduler_config.json").is_file():
        config = diffusers.DDPMScheduler.load_config(saved)
    else:
        config = diffusers.DDPMScheduler(num_train_timesteps=train_timesteps).config
    return getattr(diffusers, SCHEDULERS[name]).from_config(
        config, **{**SCHEDULER_OPTIONS[name], **options})


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None
