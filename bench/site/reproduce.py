"""The "how to reproduce" box of a board: the `bench run` command, hashes and versions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.leaderboard import Board, ScoreGroup
from bench.weights import PRETRAINED

# Recipe overrides that `bench run` takes as options; others need a protocol file.
RUN_OPTIONS = {"training.max_epochs": "--epochs", "training.batch_size": "--batch-size",
               "input.size": "--image-size"}


@dataclass
class Reproduce:
    commands: list[str]
    protocol: str
    protocol_hash: str
    fingerprints: list[tuple[str, str]]
    versions: list[tuple[str, str]] = field(default_factory=list)  # (package, version(s))
    notes: list[str] = field(default_factory=list)


def _names(values: object) -> str:
    return ",".join(sorted({str(v) for v in values}))


def _overrides(text: str) -> tuple[list[str], list[str]]:
    """Options for the overrides `bench run` has, and the rest (for a protocol file)."""
    options, rest = [], []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        if key in RUN_OPTIONS:
            options.append(f"{RUN_OPTIONS[key]} {json.loads(value)}")
        else:
            rest.append(part)
    return options, rest


def for_results(group: ScoreGroup, board: Board, runs: Mapping[str, Mapping[str, Any]], *,
                shift: bool = False) -> Reproduce:
    frame = group.cross
    protocol = group.protocol.split(", ")[0]
    seeds = _names(frame["seed"])
    command = (f"bench run --model {_names(frame['model'])} --source {_names(frame['source'])} "
               f"--target {_names(frame['target'])} --protocol {protocol} --seed {seeds}")
    options, rest = _overrides(group.overrides)
    notes = []
    if options:
        command += " " + " ".join(options)
    if rest:
        notes.append(f"The recipe also differs from {protocol} in {', '.join(rest)}: give a "
                     "protocol file with those values (--protocol FILE).")
    if group.init == "scratch":
        command += " --no-pretrained"
    elif group.init != PRETRAINED:
        command += " --weights PATH"
        notes.append(f"--weights: the file whose sha256 starts with {group.init.split(':')[-1]}.")
    versions: dict[str, set[str]] = {}
    for run_id in sorted(set(frame["run_id"])):
        recorded = (runs.get(run_id) or {}).get("provenance", {})
        for package, version in sorted((recorded.get("versions") or {}).items()):
            if version:
                versions.setdefault(package, set()).add(str(version))
        if recorded.get("python"):
            versions.setdefault("python", set()).add(str(recorded["python"]))
    if not versions:
        notes.append("Package versions: not in the records (the results store keeps them).")
    layout = "--shift" if shift else "--cross"
    cross = f"bench leaderboard {layout} --protocol {group.protocol_hash}"
    return Reproduce(
        commands=[command, cross], protocol=protocol, protocol_hash=group.protocol_hash,
        fingerprints=list(board.context.fingerprints),
        versions=[(name, ", ".join(sorted(found))) for name, found in sorted(versions.items())],
        notes=notes,
    )


def for_reference(group: ScoreGroup, board: Board) -> Reproduce:
    return Reproduce(
        commands=[f"bench run --model all --source all --target all --protocol {group.protocol}",
                  f"bench leaderboard --cross --compare {group.slug}"],
        protocol=group.protocol, protocol_hash="published (no recipe hash)",
        fingerprints=list(board.context.fingerprints),
        notes=["Figures as published; the paper ships no split files, so its splits cannot be "
               "fingerprinted. The commands run its recipe here and put the results beside it."],
    )
