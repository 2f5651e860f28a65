"""The split fingerprints this project publishes, per data set, read from a data file.

Which data sets exist and what their splits hash to is data (``bench/reference/
fingerprints.toml``), not code: the core names no data set, and a new published split is one
entry in that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.errors import DataError
from bench.tomlfile import parse_toml

SHIPPED = "fingerprints.toml"  # in bench/reference


@dataclass(frozen=True)
class PublishedSplit:
    """One data set's published split, and how to obtain it (``fingerprint`` "" when none)."""

    dataset: str
    fingerprint: str
    prepare: str = ""
    download: str = ""

    @property
    def published(self) -> bool:
        return bool(self.fingerprint)

    def how(self) -> str:
        """Where the split comes from, for a message: the prepare command and the download."""
        parts = [f"`{self.prepare}`" if self.prepare else "",
                 f"from {self.download}" if self.download else ""]
        return " ".join(p for p in parts if p)


def load_fingerprints(path: str | Path | None = None) -> dict[str, PublishedSplit]:
    """The published splits by data set: the shipped manifest, or the TOML file at ``path``."""
    if path is None:
        text = (resources.files("bench") / "reference" / SHIPPED).read_text(encoding="utf-8")
        where = f"bench/reference/{SHIPPED}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read the fingerprint manifest {path} "
                            f"({exc.strerror or exc}); give a TOML file like "
                            f"bench/reference/{SHIPPED}.") from exc
        where = str(path)
    data = parse_toml(text, where, DataError)
    entries = data.get("datasets")
    if not isinstance(entries, dict):
        raise DataError(f"{where}: no [datasets.NAME] tables; each names a data set's "
                        "fingerprint (or published = false) and its prepare command.")
    splits = {}
    for name, entry in entries.items():
        fingerprint = entry.get("fingerprint", "") if isinstance(entry, dict) else None
        if not isinstance(fingerprint, str) or (entry.get("published", True)
                                                and not fingerprint):
            raise DataError(f"{where}: [datasets.{name}] needs fingerprint = \"<sha256>\" or "
                            "published = false.")
        splits[name] = PublishedSplit(
            dataset=name,
            fingerprint=fingerprint if entry.get("published", True) else "",
            prepare=str(entry.get("prepare", "")),
            download=str(entry.get("download", "")),
        )
    return splits
