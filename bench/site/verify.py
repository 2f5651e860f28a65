"""`bench site verify`: read every keyed number of every page back and compare it with the records.

Every number a page shows sits in an element whose ``data-k`` names the quantity; the parser
collects each one's own text, and ``bench.site.expected`` says what the records give for it.
Links are checked too: a page refers only to files inside the site folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bench.errors import DataError
from bench.site.expected import Expected, check_number
from bench.site.inputs import SiteInputs, SiteSettings


@dataclass(frozen=True)
class Difference:
    page: str
    key: str
    shown: str
    expected: str


@dataclass
class Shown:
    """What one page shows: keyed numbers and the files it refers to."""

    numbers: list[tuple[list, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collect the text of each element with a ``data-k``, without its keyed descendants."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown = Shown()
        self.stack: list[tuple[str, int | None]] = []  # (tag, index of its keyed entry)
        self.open: list[int] = []  # keyed entries being read, innermost last
        self.texts: dict[int, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("href", "src"):
            if found.get(name):
                self.shown.links.append(found[name] or "")
        if tag in self.VOID:
            return
        index = None
        if found.get("data-k"):
            index = len(self.shown.numbers)
            self.shown.numbers.append((json.loads(found["data-k"] or "[]"), ""))
            self.texts[index] = []
            self.open.append(index)
        self.stack.append((tag, index))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("href", "src"):
            if found.get(name):
                self.shown.links.append(found[name] or "")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, index = self.stack.pop()
            if index is not None:
                self.open.remove(index)
                key, _ = self.shown.numbers[index]
                text = " ".join("".join(self.texts[index]).split())
                self.shown.numbers[index] = (key, text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.open:
            self.texts[self.open[-1]].append(data)


def read_page(path: Path) -> Shown:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.shown


def _pages(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.html"))


def _link_problems(root: Path, page: Path, links: list[str]) -> Iterator[str]:
    for link in links:
        if re.match(r"^[a-z][a-z0-9+.-]*:|^//", link, re.IGNORECASE):
            yield f"refers outside the site folder: {link}"
            continue
        target = (page.parent / link.split("#")[0]).resolve()
        if link.split("#")[0] and not target.is_file():
            yield f"links to a missing file: {link}"
        elif not target.is_relative_to(root.resolve()):
            yield f"links outside the site folder: {link}"


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / "site.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{root} holds no site.json: not a site built by `bench site build`; "
                        "give the folder that command wrote.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} cannot be read ({exc}); build the site again.") from exc


def verify_site(root: str | Path, inputs: SiteInputs) -> tuple[list[Difference], int]:
    """Every difference between the pages' numbers and the records; and how many were read."""
    root = Path(root)
    manifest = read_manifest(root)
    settings = SiteSettings.from_dict(manifest.get("settings", {}))
    expected = Expected(inputs, settings)
    differences: list[Difference] = []
    checked = 0
    shown_keys: set[str] = set()
    for page in _pages(root):
        relative = page.relative_to(root).as_posix()
        shown = read_page(page)
        for problem in _link_problems(root, page, shown.links):
            differences.append(Difference(relative, "link", problem, "a file in the site"))
        for key, text in shown.numbers:
            checked += 1
            shown_keys.add(json.dumps(key))
            try:
                problem = check_number(expected, key, text)
            except KeyError as exc:
                problem = str(exc.args[0]) if exc.args else "not in the records"
            if problem is not None:
                differences.append(Difference(relative, json.dumps(key, ensure_ascii=False),
                                              text, problem))
    for key in _expected_scores(expected, manifest):
        if json.dumps(key) not in shown_keys:
            differences.append(Difference("(every page)", json.dumps(key, ensure_ascii=False),
                                          "not shown", "a score of the records"))
    return differences, checked


def _expected_scores(expected: Expected, manifest: dict[str, Any]) -> Iterator[list]:
    """Score keys the records hold and the boards must show (shifted targets excepted)."""
    from bench.metrics import PAPER_METRICS

    metrics = manifest.get("settings", {}).get("metrics") or list(PAPER_METRICS)
    for slug, group in sorted(expected.groups.items()):
        layouts = ("same", "cross") if group.origin else ("cross",)
        for layout in layouts:
            frame = group.same if layout == "same" else group.cross
            frame = frame[frame["metric"].isin(metrics)
                          & ~frame["target"].str.contains("~", regex=False)]
            if layout == "same":
                frame = frame[frame["source"] == frame["target"]]
            cells = frame[["model", "source", "target", "metric"]].drop_duplicates()
            for model, source, target, metric in sorted(cells.itertuples(index=False)):
                yield ["score", slug, layout, model, source, target, metric]
