"""TOML text to a dict, with an error that names the file: protocols, shift suites, manifests."""

from __future__ import annotations

import sys
from typing import Any

from bench.errors import BenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_toml(text: str, where: str, error: type[BenchError]) -> dict[str, Any]:
    """``text`` parsed; invalid TOML raises ``error`` naming ``where`` and the parser's reason."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where}: not valid TOML ({exc}).") from exc
