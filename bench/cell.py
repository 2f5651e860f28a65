"""What a run is: one cell of the benchmark matrix, and the id derived from its key.

Two processes that want the same cell derive the same id, so they meet on the same row of the
results store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# The source of a cell whose model was trained outside bench (`bench evaluate --weights`): its
# split fingerprint is the weights file's SHA-256, its initialisation ``weights:<sha12>``.
EXTERNAL = "external"


@dataclass(frozen=True)
class Cell:
    """One training of the matrix: a model on a source under a protocol with a seed."""

    model: str
    source: str
    seed: int
    protocol: str
    protocol_hash: str
    split_fingerprint: str
    init: str = "pretrained"  # or "scratch", "weights:<sha256 prefix>" (bench.weights)
    overrides: str = ""  # the recipe's differences from its named protocol, for reading only

    @property
    def id(self) -> str:
        parts = [self.model, self.source, str(self.seed), self.protocol_hash,
                 self.split_fingerprint]
        if self.init != "pretrained":  # the default keeps the id stores held before inits
            parts.append(f"init={self.init}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
