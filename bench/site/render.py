"""Writing the site: Jinja2 templates over the gathered content, plus the static files.

Every page is a pure function of the content and the settings (no clock, no machine path, sorted
everything), so building twice from the same records gives the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from bench.labels import CLASS_NAMES, CLASSES
from bench.leaderboard import aggregate
from bench.leaderboard.format import context_lines, number
from bench.leaderboard.groups import slugify
from bench.leaderboard.metrics import abbreviation, title
from bench.leaderboard.plots import heatmap_matrix
from bench.leaderboard.publish import records_csv
from bench.site import charts
from bench.site.content import (
    CellPage,
    SiteBoard,
    SiteContent,
    cost_of,
    model_path,
    runs_of,
)
from bench.site.tables import score_key, table_view
from bench.site.thumbnails import ThumbnailSource, open_target, write_thumbnail

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
        self.written: list[Path] = []
        import bench

        self.common = {"version": bench.__version__, "date": content.settings.date,
                       "origin": _origin(content)}

    def page(self, path: str, template: str, **context: Any) -> None:
        root = "../" * path.count("/")
        text = self.env.get_template(template).render(root=root, **self.common, **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.written.append(target)

    def file(self, path: str, text: str) -> None:
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.written.append(target)


def _origin(content: SiteContent) -> str:
    inputs = content.inputs
    if inputs.origin == "records":
        files = ", ".join(inputs.record_names) or "no records file"
        return f"published records ({files})"
    return "a results store"


def header_lines(board: SiteBoard, date: str | None) -> list[tuple[str, str]]:
    """The board's context as every format prints it, without the date unless one was given."""
    lines = context_lines(board.board.context)
    if not date:
        lines = [(label, value) for label, value in lines if label != "Rendered by"]
    return lines


def _link(content: SiteContent, group: str) -> Callable[[str, str, str], str | None]:
    return lambda model, source, target: content.cell_link(group, model, source, target)


def board_heat_map(board: SiteBoard, metric: str, model: str | None = None
                   ) -> charts.HeatMap | None:
    """Source x target of ``metric``, averaged over models (or one model's)."""
    names = board.names
    if metric not in set(board.group.cross["metric"]):
        return None
    sources, targets, matrix = heatmap_matrix(board.group, metric, names,
                                              None if model is None else [model])
    if len(sources) < 1 or len(targets) < 2:
        return None
    keys = [[["heat", board.group.slug, s, t, metric, model or "*"] for t in targets]
            for s in sources]
    label = "mean over models" if model is None else names.label("model", model)
    return charts.heat_map(f"{title(metric)} (%), {label}",
                           [names.label("dataset", s) for s in sources],
                           [names.label("dataset", t) for t in targets], matrix, keys)


def shift_chart(board: SiteBoard) -> list[tuple[str, charts.LineChart]]:
    """Score against severity: a chart per unshifted target, a panel per shift."""
    table = board.pages[0].table
    out = []
    bases = dict.fromkeys(c.key.split("~")[0] for c in table.columns)
    for base in bases:
        panels = []
        shifts = dict.fromkeys(c.key.split("/")[0].split("~")[1] for c in table.columns
                               if c.key.startswith(f"{base}~"))
        for shift in shifts:
            columns = [c for c in table.columns if c.key.startswith(f"{base}~{shift}/")
                       and c.label.isdigit()]
            if len(columns) < 2:
                continue
            lines = []
            for row in table.rows:
                points = [(float(c.label), row.value(c).mean) for c in columns
                          if row.value(c).mean is not None]
                if points:
                    lines.append((" / ".join(row.labels), points))
            panels.append((shift, lines))
        if panels:
            out.append((board.names.label("dataset", base), charts.line_chart(
                panels, x_label="severity", y_label=f"{title(table.columns[0].metric)} (%)")))
    return out


def cost_rows(content: SiteContent, board: SiteBoard, model: str | None = None
              ) -> list[dict[str, Any]]:
    """One row per run with recorded cost: the figures `cost_summary` keeps."""
    rows = []
    models = [model] if model else board.names.order("model", set(board.group.cross["model"]))
    for name in models:
        for site_board, source, seed, run_id in runs_of(content, name):
            cost = cost_of(content.runs, run_id)
            if site_board is not board or not cost:
                continue
            peak = cost.get("peak_memory") or {}
            device = (content.runs[run_id].get("summary") or {}).get("device_info") or {}
            rows.append({
                "model": board.names.label("model", name), "model_key": name,
                "source": board.names.label("dataset", source), "source_key": source,
                "seed": seed, "run_id": run_id, "cost": cost,
                "peak_mb": None if peak.get("bytes") is None else peak["bytes"] / 2**20,
                "device": ", ".join(str(device[k]) for k in ("device", "gpu", "cpu")
                                    if device.get(k)),
            })
    return rows


def cost_chart(content: SiteContent, board: SiteBoard, metric: str
               ) -> tuple[charts.Scatter | None, list[dict[str, Any]]]:
    """Score on the source's own test split against training time, a point per model and source."""
    seconds: dict[tuple[str, str], list[float]] = {}
    for row in cost_rows(content, board):
        if row["cost"].get("train_seconds") is not None:
            seconds.setdefault((row["model_key"], row["source_key"]), []).append(
                float(row["cost"]["train_seconds"]))
    cells = aggregate(board.group.cross[board.group.cross["metric"] == metric])
    shown = []
    names = board.names
    for (model, source), times in seconds.items():
        score = cells.get((model, source, source, metric))
        if score is None or score.mean is None:
            continue
        shown.append({"model": names.label("model", model),
                      "source": names.label("dataset", source),
                      "seconds": sum(times) / len(times), "score": score.mean, "runs": len(times),
                      "key": ["train-seconds", board.group.slug, model, source],
                      "score_key": score_key(board.group.slug, "cross", model, source, source,
                                             metric)})
    if not shown:
        return None, []
    chart = charts.scatter([(p["model"], p["seconds"], p["score"],
                             f"{p['model']} on {p['source']}: {number(p['score'], 'score')} "
                             f"after {p['seconds']:.0f} s") for p in shown],
                           x_label="training time (s, log scale)",
                           y_label=f"{title(metric)} on the source's test split (%)")
    return chart, shown


def write_board(writer: Writer, board: SiteBoard) -> None:
    content = writer.content
    focus = (list(content.settings.metrics) or ["f1"])[0]
    for page in board.pages:
        view = table_view(page.table, group=board.group.slug, frame=page.frame,
                          id=f"t-{page.table.name}", link=_link(content, board.group.slug))
        heat = shifts = None
        scatter, scatter_rows = None, []
        if page.table.name == "cross":
            heat = board_heat_map(board, focus if board.kind != "reference" else "f1")
            if board.kind == "results":
                scatter, scatter_rows = cost_chart(content, board, focus)
        if board.kind == "shift":
            shifts = shift_chart(board)
        writer.page(page.path, "board.html.j2", board=board, page=page, view=view,
                    lines=header_lines(board, content.settings.date), heat=heat,
                    shifts=shifts, scatter=scatter, scatter_rows=scatter_rows,
                    siblings=board.pages, focus=focus)
    if board.records_file:
        writer.file(board.records_file, records_csv(board.group.cross))


def model_spec(model: str, content: SiteContent) -> list[tuple[str, Any, list | None]]:
    """(label, value, key) rows: what the registry says, then what the runs recorded."""
    from bench.host import get_registries

    rows: list[tuple[str, Any, list | None]] = [("name", model, None)]
    registry = get_registries().models
    spec = None
    if model in registry:
        try:
            spec = registry.get(model)
        except Exception:  # noqa: BLE001 - a clashing or broken spec: the page says so
            spec = None
    if spec is None:
        rows.append(("plugin", "not registered on the machine that built this site", None))
    else:
        from bench.models import data_config, describe, parameter_count

        rows.append(("display name", spec.label, None))
        try:
            described = describe(spec)
            rows.append(("architecture", described.get("architecture") or "–", None))
            rows.append(("pretrained weights", described.get("weights") or "–", None))
            size = data_config(spec)[0]
            rows.append(("input size (px)", size, ["spec", model, "input_size"]))
            count = parameter_count(spec)
            rows.append(("parameters (5-way head)", f"{count:,}", ["spec", model, "parameters"]))
        except Exception as exc:  # noqa: BLE001 - a factory that cannot run on meta tensors
            rows.append(("spec", f"cannot be described here: {type(exc).__name__}", None))
        owner = registry.owner(model)
        rows.append(("plugin", owner, None))
        rows.append(("plugin version", _plugin_version(owner), None))
    recorded = {}
    for _, _, _, run_id in runs_of(content, model):
        summary = (content.runs.get(run_id) or {}).get("summary") or {}
        weights = summary.get("weights") or {}
        if isinstance(weights, dict) and weights.get("tag"):
            recorded.setdefault("weights used", set()).add(str(weights["tag"]))
        if summary.get("input_size"):
            recorded.setdefault("input size trained at (px)", set()).add(
                str(summary["input_size"]))
    rows += [(label, ", ".join(sorted(values)), None) for label, values in recorded.items()]
    return rows


def _plugin_version(owner: str) -> str:
    from bench.host import get_host

    for record in get_host().plugins.records:
        if record.name == owner:
            return f"{record.distribution} {record.version}"
    return "–"


def write_model(writer: Writer, model: str) -> None:
    content = writer.content
    focus = (list(content.settings.metrics) or ["f1"])[0]
    sections = []
    for board in content.boards:
        for page in board.pages:
            view = table_view(page.table, group=board.group.slug, frame=page.frame,
                              id=f"m-{slugify(board.slug)}-{page.table.name}",
                              rows=lambda row: row.key[0] == model,
                              link=_link(content, board.group.slug))
            if view.rows:
                heat = (board_heat_map(board, focus if board.kind != "reference" else "f1",
                                       model) if page.table.name == "cross" else None)
                sections.append({"board": board, "page": page, "view": view, "heat": heat})
    cost = [row for board in content.boards if board.kind == "results"
            for row in cost_rows(content, board, model)]
    cells = [page for (_, m, _, _), page in sorted(content.cells.items()) if m == model]
    names = content.inputs.names
    writer.page(model_path(model), "model.html.j2", model=model,
                label=names.label("model", model), spec=model_spec(model, content),
                sections=sections, cost=cost, cells=cells)


def write_cell(writer: Writer, page: CellPage, sources: dict[tuple[str, str], ThumbnailSource]
               ) -> None:
    content = writer.content
    detail = page.detail
    names = page.board.names
    group = page.group
    frame = group.cross
    rows = frame[(frame["model"] == detail.model) & (frame["source"] == detail.source)
                 & (frame["target"] == detail.target)]
    cells = aggregate(rows)
    metrics = [m for m in names_order(rows["metric"].unique())]
    boot = page.bootstrap
    key = (detail.model, detail.source, detail.target)
    scores = []
    for metric in metrics:
        value = cells[(*key, metric)]
        interval = boot.interval(key, metric) if boot else None
        scores.append({"metric": metric, "value": value,
                       "key": score_key(group.slug, "cross", *key, metric),
                       "ci": None if interval is None else
                       f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"})
    per_class = []
    for letter in detail.classes:
        entry = {"class": letter, "support": detail.support[letter], "scores": []}
        for metric in ("precision", "recall", "f1"):
            mean, std = detail.per_class[(metric, letter)]
            interval = boot.interval(key, f"{metric}:{letter}") if boot else None
            entry["scores"].append({
                "metric": metric, "mean": mean, "std": std,
                "key": ["class", group.slug, *key, letter, metric],
                "ci": None if interval is None else
                f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"})
        per_class.append(entry)
    counts, confidence, accuracy = detail.bins
    bins = [{"index": i, "low": i / len(counts), "high": (i + 1) / len(counts),
             "images": int(n), "confidence": 100 * confidence[i], "accuracy": 100 * accuracy[i]}
            for i, n in enumerate(counts) if n]
    limit = content.settings.thumbnails
    shown = []
    fingerprint = dict(group.fingerprints).get(detail.target, "")
    if limit:
        if (detail.target, fingerprint) not in sources:
            sources[(detail.target, fingerprint)] = open_target(detail.target, fingerprint)
        source = sources[(detail.target, fingerprint)]
        for wrong in detail.misclassified[:limit]:
            shown.append({"wrong": wrong, "thumb": write_thumbnail(source, detail.target,
                                                                  wrong.path, writer.out)})
        reason = source.reason
    else:
        reason = "thumbnails were left out (--thumbnails 0)"
    top = max((int(v) for row in detail.confusion for v in row), default=0)
    writer.page(page.path, "cell.html.j2", page=page, detail=detail, names=names,
                classes=CLASSES, scores=scores, per_class=per_class, bins=bins,
                reliability=charts.reliability(counts, confidence, accuracy), shown=shown,
                thumbs_reason=reason if not any(s["thumb"] for s in shown) else "",
                confusion_top=top, key=key, group=group, multi=len(detail.runs) > 1,
                model_link=model_path(detail.model))


def names_order(metrics: Any) -> list[str]:
    from bench.leaderboard import KNOWN_METRICS

    present = set(metrics)
    return [m for m in KNOWN_METRICS if m in present] + sorted(present - set(KNOWN_METRICS))


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
