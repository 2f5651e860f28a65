"""What the names of `bench run` and `bench evaluate` stand for: data sets, models, keywords.

`all` takes the prepared benchmark sets, `all+generated` the generated ones too; `NAME~SHIFT`
names shifted test sets. One resolver, so every command reads a name the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.errors import DataError, RunError
from bench.host import get_registries
from bench.specs import KEYWORD_KINDS

if TYPE_CHECKING:
    from bench.engine.run_display import Listener

ALL = "all"
ALL_GENERATED = "all+generated"  # `all` and the generated sets (the demo's among them)


def open_dataset(name: str):
    """Read a prepared data set; a generated one that lies here is prepared on first use."""
    from bench.data import ensure_prepared
    from bench.shifts.dataset import open_target

    return open_target(name, ensure_prepared)  # NAME~SHIFT:LEVEL: a shifted test set


def expand(kind: str, requested: Sequence[str], everything: Mapping[str, list[str]]
           ) -> list[str]:
    """Names, comma lists and keywords (``everything``: `all` and the like -> their names)."""
    from bench.shifts.target_names import expand_names, is_shifted

    names: list[str] = []
    for item in requested:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if kind == "datasets" and is_shifted(part):  # NAME~SHIFT[:LEVELS], all~SHIFT
                names.extend(expand_names(part, lambda base: expand(kind, [base], everything)))
            elif part.lower() in everything:
                names.extend(everything[part.lower()])
            elif kind == "datasets" and ":" in part:
                # A family member (folder:PATH) is registered under its own name once prepared.
                names.append(open_dataset(part).name)
            else:
                registry = getattr(get_registries(), kind)
                names.append(registry.get(part).name)
    return list(dict.fromkeys(names))


def keywords_in(requested: Sequence[str]) -> set[str]:
    return {part.strip().lower() for item in requested for part in str(item).split(",")
            if part.strip().lower() in KEYWORD_KINDS}


@dataclass
class DatasetChoice:
    """Which registered data sets `all` and `all+generated` stand for, and what they leave out."""

    keywords: dict[str, list[str]]  # keyword -> prepared data sets it takes in
    unprepared: list[str]  # benchmark sets `all` would take once prepared
    kinds: dict[str, str]  # prepared data set -> its spec's kind

    @classmethod
    def here(cls) -> DatasetChoice:
        datasets = [s for s in get_registries().datasets if s.resolve_argument is None]
        prepared, unprepared, kinds = [], [], {}
        for spec in datasets:
            try:
                open_dataset(spec.name)
            except DataError:
                if spec.kind == "benchmark":
                    unprepared.append(spec.name)
                continue
            prepared.append(spec.name)
            kinds[spec.name] = spec.kind
        keywords = {word: [n for n in prepared if kinds[n] in taken]
                    for word, taken in KEYWORD_KINDS.items()}
        return cls(keywords, unprepared, kinds)

    def resolve(self, requested: Sequence[str]) -> list[str]:
        """The data sets an option names: names, comma lists, `all`, `all+generated`."""
        return expand("datasets", requested, self.keywords)

    def notices(self, options: Mapping[str, Sequence[str]], chosen: Collection[str]
                ) -> list[str]:
        """What a keyword did not take in: unprepared benchmark sets, the rest by kind."""
        from bench.data.prepared import prepare_command

        found = []
        registry = get_registries().datasets
        if keywords_in(options.get("--target", ())) and self.unprepared:
            found.append("not prepared, so not tested: " + "; ".join(
                f"{n} (`{prepare_command(registry.get(n))}`)" for n in self.unprepared))
        left_out = self._left_out(options, chosen)
        return found + ([left_out] if left_out else [])

    def _left_out(self, options: Mapping[str, Sequence[str]], chosen: Collection[str]
                  ) -> str | None:
        """One notice: what `all` left out of the options that used it, and how to add it."""
        used = {option: keywords_in(values) for option, values in options.items()}
        if not any(ALL in keywords for keywords in used.values()):
            return None
        generated = [n for n, kind in self.kinds.items() if kind == "generated" and n not in chosen]
        own = [n for n, kind in self.kinds.items() if kind == "user" and n not in chosen]
        if not generated and not own:
            return None
        option = next(o for o, keywords in used.items() if ALL in keywords)
        parts = []
        if generated:
            parts.append(f"generated data sets {', '.join(generated)} "
                         f"(`{option} {ALL_GENERATED}` adds them)")
        if own:
            parts.append(f"your own data sets {', '.join(own)} (name them: "
                         f"`{option} {ALL},{own[0]}`)")
        return f"`{ALL}` means the prepared benchmark data sets; left out: " + "; ".join(parts)


def prepared_targets(requested: Sequence[str], listener: Listener
                     ) -> tuple[list[str], dict[str, str]]:
    """The targets a command names that are prepared here, with their split fingerprints."""
    choice = DatasetChoice.here()
    targets = choice.resolve(requested)
    for notice in choice.notices({"--target": requested}, targets):
        listener.notice(notice)
    if not targets:
        raise RunError("nothing to evaluate on: no target is prepared. Prepare one first "
                       "(`bench datasets list` shows them and how).")
    return targets, {name: open_dataset(name).fingerprint for name in targets}
