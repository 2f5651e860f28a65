"""Writing the site: the Jinja2 environment, the index, the static files and ``site.json``.

Every page is a pure function of the content and the settings (no clock, no machine path, sorted
everything), so building twice from the same records gives the same bytes.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from bench.labels import CLASS_NAMES
from bench.metrics import abbreviation, title
from bench.site.content import SiteContent, model_path

SITE_FORMAT = 1  # site.json's version: what `bench site verify` can read
STATIC = ("site.css", "site.js")


def environment():  # noqa: ANN201 - a jinja2.Environment
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bench.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = lambda v, d=1: "–" if v is None else f"{v:.{d}f}"
    env.globals.update(abbreviation=abbreviation, metric_title=title, CLASS_NAMES=CLASS_NAMES)
    return env


class Writer:
    """Renders templates into the site folder, each page with its way back to the root."""

    def __init__(self, out: Path, content: SiteContent):
        self.out = out
        self.content = content
        self.env = environment()
        import bench

        self.common = {"version": bench.__version__, "date": content.settings.date,
                       "origin": _origin(content)}

    def page(self, path: str, template: str, **context: Any) -> None:
        root = "../" * path.count("/")
        text = self.env.get_template(template).render(root=root, **self.common, **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def file(self, path: str, text: str) -> None:
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _origin(content: SiteContent) -> str:
    inputs = content.inputs
    if inputs.origin == "records":
        files = ", ".join(inputs.record_names) or "no records file"
        return f"published records ({files})"
    return "a results store"


def write_index(writer: Writer) -> None:
    content = writer.content
    names = content.inputs.names
    writer.page("index.html", "index.html.j2", boards=content.boards,
                models=[(names.label("model", m), model_path(m)) for m in content.models],
                cells=len(content.cells))


def write_static(out: Path) -> None:
    folder = out / "static"
    folder.mkdir(parents=True, exist_ok=True)
    for name in STATIC:
        with resources.as_file(resources.files("bench.site") / "static" / name) as path:
            shutil.copyfile(path, folder / name)


def write_manifest(writer: Writer) -> None:
    content = writer.content
    inputs = content.inputs
    manifest = {
        "site_format": SITE_FORMAT,
        "origin": inputs.origin,
        "records": list(inputs.record_names),
        "references": list(inputs.references),
        "settings": content.settings.as_dict(),
        "boards": [page.path for board in content.boards for page in board.pages],
        "models": [model_path(m) for m in content.models],
        "cells": sorted(page.path for page in content.cells.values()),
    }
    writer.file("site.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
