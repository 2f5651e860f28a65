"""Which scores may share a table: one protocol hash, one initialisation, one split per data set.

A data set re-prepared with another split, a protocol with one value changed, or models started
from other weights (pretrained, from scratch, a weights file) give scores that must never be
ranked against the old ones; they go to separate boards, each stating what it was computed under.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.errors import DataError, UnknownNameError
from bench.leaderboard.display_names import Kind, Names, loose_key
from bench.leaderboard.model import ScoreGroup
from bench.specs import KEYWORD_KINDS
from bench.weights import PRETRAINED

if TYPE_CHECKING:
    import pandas as pd

SCORE_COLUMNS = (
    "run_id", "model", "source", "seed", "protocol", "protocol_hash", "source_fingerprint",
    "target", "target_fingerprint", "metric", "value", "init", "overrides",
)
MAX_EDITIONS = 64  # fingerprint combinations per protocol before we ask the user to filter


def empty_store_error(path: object) -> DataError:
    return DataError(
        f"the results store {path} holds no finished runs. Produce results with "
        "`bench run --model MODEL --source DATASET --target all` (see `bench run --help`), "
        "or show the paper's figures with `bench leaderboard --reference zedda2024`."
    )


def filter_protocol(frame: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """Keep the rows of a protocol given by stored name, hash prefix, built-in name or file."""
    from bench.protocols import builtin_names, load_protocol

    by_name = frame[frame["protocol"] == protocol]
    if len(by_name):
        return by_name
    if len(protocol) >= 4:
        by_hash = frame[frame["protocol_hash"].str.startswith(protocol.lower())]
        if len(by_hash):
            return by_hash
    try:
        wanted = load_protocol(protocol)
    except UnknownNameError:
        known = {*builtin_names(), *frame["protocol"].unique()}
        raise UnknownNameError("protocol", protocol, known) from None
    rows = frame[frame["protocol_hash"] == wanted.hash]
    if not len(rows):
        pairs = set(zip(frame["protocol"], frame["protocol_hash"], strict=True))
        stored = ", ".join(f"{name} ({digest})" for name, digest in sorted(pairs))
        raise DataError(
            f"no results under protocol {protocol!r} (hash {wanted.hash}). Produce them with "
            f"`bench run --protocol {protocol} ...`. The store holds: {stored or 'nothing'}."
        )
    return rows


def resolve_filter(
    requested: Sequence[str], available: Sequence[str], kind: Kind, names: Names
) -> list[str]:
    """Map user-typed names onto names present in the results (aliases and spellings too)."""
    available = sorted(set(available))
    by_lower = {name.lower(): name for name in available}
    by_loose = {loose_key(name): name for name in available}
    chosen = []
    for name in requested:
        found = (
            by_lower.get(name.lower())
            or by_lower.get(names.canonical(kind, name).lower())
            or by_loose.get(loose_key(name))
        )
        if found is None:
            raise UnknownNameError(kind, name, available)
        chosen.append(found)
    return chosen


def expand_keywords(requested: Sequence[str], available: Sequence[str], names: Names
                    ) -> list[str]:
    """`all` (benchmark sets) and `all+generated`, as `bench run` reads them, among ``available``.

    A data set no plugin registers any more has no kind; `all` keeps it.
    """
    chosen: list[str] = []
    for name in requested:
        kinds = KEYWORD_KINDS.get(name.lower())
        if kinds is None:
            chosen.append(name)
            continue
        chosen += [dataset for dataset in sorted(set(available))
                   if (names.dataset_kind(dataset) or kinds[0]) in kinds]
    return list(dict.fromkeys(chosen))


def select(
    frame: pd.DataFrame,
    names: Names,
    *,
    protocol: str | None = None,
    models: Sequence[str] = (),
    sources: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> pd.DataFrame:
    """Apply the command-line filters; unknown names raise with the names that do exist."""
    if protocol:
        frame = filter_protocol(frame, protocol)
    if models:
        frame = frame[frame["model"].isin(resolve_filter(models, frame["model"], "model", names))]
    datasets = [*frame["source"], *frame["target"]]
    if sources:
        sources = expand_keywords(sources, frame["source"], names)
        frame = frame[frame["source"].isin(resolve_filter(sources, datasets, "dataset", names))]
    if targets:
        targets = expand_keywords(targets, frame["target"], names)
        frame = frame[frame["target"].isin(resolve_filter(targets, datasets, "dataset", names))]
    return frame


def slugify(text: str) -> str:
    """Make a file-name-safe stem: plugin and protocol names may hold any character."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "board"


def edition(fingerprints: Sequence[tuple[str, str]]) -> str:
    text = ";".join(f"{dataset}={fp}" for dataset, fp in fingerprints)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def comparable_groups(frame: pd.DataFrame) -> list[ScoreGroup]:
    """Split scores by protocol hash and initialisation, then by every data set's split.

    When a data set has several fingerprints, each combination of them makes its own group,
    holding every row consistent with it; groups that another one contains are dropped.
    """
    groups: list[ScoreGroup] = []
    if "init" not in frame.columns:  # scores from before inits were recorded
        frame = frame.assign(init=PRETRAINED, overrides="")
    by_recipe = {
        (str(digest), str(init)): (", ".join(sorted(rows["protocol"].unique())), rows)
        for (digest, init), rows in frame.groupby(["protocol_hash", "init"], sort=True)
    }
    for (digest, init), (protocol, rows) in sorted(
            by_recipe.items(), key=lambda item: (item[1][0], item[0][1] != PRETRAINED, item[0])):
        overrides = next((str(o) for o in rows["overrides"].unique() if o), "")
        # A run tested on a different split of its own data set may have seen its test images.
        leaked = (rows["source"] == rows["target"]) & (
            rows["source_fingerprint"] != rows["target_fingerprint"]
        )
        notes: tuple[str, ...] = ()
        if leaked.any():
            bad = sorted(rows.loc[leaked, "source"].unique())
            notes = (
                f"{int(leaked.sum())} score rows left out: trained and tested on different "
                f"splits of {', '.join(bad)} (re-run them).",
            )
            rows = rows[~leaked]
        fingerprints: dict[str, set[str]] = {}
        for dataset_column, fp_column in (("source", "source_fingerprint"),
                                          ("target", "target_fingerprint")):
            pairs = rows[[dataset_column, fp_column]].drop_duplicates()
            for dataset, fp in pairs.itertuples(index=False):
                fingerprints.setdefault(dataset, set()).add(fp)
        conflicted = sorted(d for d, fps in fingerprints.items() if len(fps) > 1)
        choices = [sorted(fingerprints[d]) for d in conflicted]
        count = 1
        for options in choices:
            count *= len(options)
        if count > MAX_EDITIONS:
            listing = "; ".join(f"{d}: {len(fingerprints[d])}" for d in conflicted)
            raise DataError(
                f"protocol {protocol} ({digest}) has results on {count} combinations of split "
                f"fingerprints ({listing}). Narrow the board with --sources/--targets, or "
                "re-run the old results on the current splits."
            )
        candidates: list[pd.DataFrame] = []
        for combination in itertools.product(*choices):
            chosen = dict(zip(conflicted, combination, strict=True))
            keep = ~rows["source"].isin(conflicted).to_numpy() | (
                rows["source_fingerprint"].to_numpy() == rows["source"].map(chosen).to_numpy()
            )
            keep &= ~rows["target"].isin(conflicted).to_numpy() | (
                rows["target_fingerprint"].to_numpy() == rows["target"].map(chosen).to_numpy()
            )
            if keep.any():
                candidates.append(rows[keep])
        indexes = list(dict.fromkeys(frozenset(candidate.index) for candidate in candidates))
        kept = [
            rows.loc[sorted(index)]
            for index in indexes
            if not any(index < other for other in indexes)
        ]
        for candidate in kept:
            pairs = sorted({
                *zip(candidate["source"].tolist(), candidate["source_fingerprint"].tolist(),
                     strict=True),
                *zip(candidate["target"].tolist(), candidate["target_fingerprint"].tolist(),
                     strict=True),
            })
            slug = slugify(f"{protocol.split(', ')[0]}-{str(digest)[:8]}")
            if init != PRETRAINED:  # the default keeps the slug boards were published under
                slug += f"-{slugify(init)}"
            if len(kept) > 1:
                slug += f"-{edition(pairs)}"
            groups.append(
                ScoreGroup(
                    protocol=protocol,
                    protocol_hash=str(digest),
                    fingerprints=tuple(pairs),
                    same=candidate,
                    cross=candidate,
                    slug=slug,
                    notes=notes,
                    init=init,
                    overrides=overrides,
                )
            )
    return groups
