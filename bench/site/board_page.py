"""A board's pages: its tables, heat map, shift curves, cost plot and how-to-reproduce box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.leaderboard import aggregate
from bench.leaderboard.format import context_lines, number
from bench.leaderboard.plots import heatmap_matrix
from bench.leaderboard.publish import records_csv
from bench.metrics import title
from bench.site import charts
from bench.site.content import SiteBoard, SiteContent, cost_of, runs_of
from bench.site.render import Writer
from bench.site.tables import score_key, table_view


def header_lines(board: SiteBoard, date: str | None) -> list[tuple[str, str]]:
    """The board's context as every format prints it, without the date unless one was given."""
    lines = context_lines(board.board.context)
    if not date:
        lines = [(label, value) for label, value in lines if label != "Rendered by"]
    return lines


def cell_links(content: SiteContent, group: str) -> Callable[[str, str, str], str | None]:
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
                          id=f"t-{page.table.name}",
                          link=cell_links(content, board.group.slug))
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
