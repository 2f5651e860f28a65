"""What `bench run` asks for, as the CLI, the options check and the runner all read it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.protocols import Protocol


@dataclass
class RunRequest:
    """What `bench run` asks for; names may be `all` or lists."""

    models: Sequence[str]
    sources: Sequence[str]
    targets: Sequence[str]
    protocol: Protocol
    seeds: Sequence[int] = (0,)
    device: str = "auto"
    workers: int = 0
    pretrained: bool = True
    weights: str | None = None
    retry_failed: bool = False
    executor: str = "local"  # a name in bench.engine.executors.EXECUTORS
    # That executor's options by name ({"cpus": 2} for ray); defaults fill what is left out.
    executor_options: Mapping[str, Any] = field(default_factory=dict)
    shots: Sequence[int | str] = ()  # images per class (or "all") to train on; () the protocol's
