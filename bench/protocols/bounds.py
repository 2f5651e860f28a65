"""The range of every number a protocol holds, checked when it is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.errors import ProtocolError


@dataclass(frozen=True)
class Bounds:
    """The values a numeric protocol setting may take, and what the setting is."""

    low: float
    high: float
    what: str
    low_open: bool = False  # the low end itself is not allowed
    high_open: bool = False

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below  # False for NaN: every comparison with it is

    def __str__(self) -> str:
        low = f"above {self.low:g}" if self.low_open else f"at least {self.low:g}"
        return f"{low} and {'below' if self.high_open else 'at most'} {self.high:g}"


def _probability(what: str) -> Bounds:
    return Bounds(0, 1, f"{what} (a probability)")


# Every number a protocol holds, checked when it is loaded, so a wrong value is named with its
# file before any cell is claimed (torch would refuse some only inside a cell; others, such as
# a momentum of 1, would train to nonsense without a word). Pixel and count limits match the
# run options' (bench.engine.options.LIMITS).
BOUNDS: dict[str, Bounds] = {
    "splits.seed": Bounds(0, 2**32 - 1, "the split seed"),
    "splits.real": Bounds(0, 1, "each split's fraction", low_open=True, high_open=True),
    "splits.synthetic_val_fraction": Bounds(0, 1, "the validation fraction of a synthetic "
                                                  "training partition", low_open=True,
                                            high_open=True),
    "training.lr": Bounds(0, 10, "the learning rate", low_open=True),
    "training.momentum": Bounds(0, 1, "SGD's momentum", high_open=True),
    "training.weight_decay": Bounds(0, 1, "the weight decay"),
    "training.batch_size": Bounds(1, 65_536, "the batch size"),
    "training.max_epochs": Bounds(1, 100_000, "the number of epochs"),
    "early_stopping.patience": Bounds(1, 100_000, "the epochs without improvement before "
                                                  "stopping"),
    "early_stopping.min_delta": Bounds(0, 1, "the smallest change that counts as an "
                                             "improvement", high_open=True),
    "augmentation.rotation_degrees": Bounds(0, 180, "the rotation range in degrees (+/-)"),
    "augmentation.hflip": _probability("the horizontal flip rate"),
    "augmentation.vflip": _probability("the vertical flip rate"),
    "augmentation.centre_crop": Bounds(0, 1, "the fraction of the side the centre crop keeps",
                                       low_open=True),
    "augmentation.blur_p": _probability("the blur rate"),
    "augmentation.blur_sigma": Bounds(0, 10, "each blur sigma in pixels", low_open=True),
    "augmentation.jitter_brightness": Bounds(0, 1, "the brightness jitter"),
    "augmentation.jitter_contrast": Bounds(0, 1, "the contrast jitter"),
    "augmentation.jitter_saturation": Bounds(0, 1, "the saturation jitter"),
    "augmentation.jitter_hue": Bounds(0, 0.5, "the hue jitter (a fraction of the colour wheel)"),
    "input.size": Bounds(8, 2048, "the input side in pixels"),
    "input.cache_size": Bounds(8, 2048, "the side of the decoded cache images in pixels"),
    # Probe settings: 0 is "not set" (a fine-tuning protocol); _check_probe asks a probe's head
    # for the values it reads.
    "probe.c_low": Bounds(0, 1e9, "the linear probe's smallest C (inverse L2 strength)"),
    "probe.c_high": Bounds(0, 1e9, "the linear probe's largest C"),
    "probe.c_steps": Bounds(0, 1000, "the number of C values the linear probe tries"),
    "probe.max_iter": Bounds(0, 1_000_000, "the L-BFGS iterations per C"),
    "probe.k": Bounds(0, 100_000, "the neighbours that vote in a k-NN probe"),
    "probe.temperature": Bounds(0, 100, "the k-NN vote's temperature"),
}


def check_bounds(protocol: Any, where: str) -> None:
    """Refuse a protocol (a :class:`bench.protocols.Protocol`) with a number out of its range."""
    for key, bounds in BOUNDS.items():
        section, name = key.split(".")
        value = getattr(getattr(protocol, section), name)
        if isinstance(value, str):  # input.size = "model", checked below
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if not bounds.allows(item):
                raise ProtocolError(
                    f"{where}: {key} = {item!r} is out of range: {bounds.what} must be "
                    f"{bounds}.")
    low, high = protocol.augmentation.blur_sigma
    if low > high:
        raise ProtocolError(f"{where}: augmentation.blur_sigma = [{low}, {high}]: give the "
                            f"smaller sigma first.")
