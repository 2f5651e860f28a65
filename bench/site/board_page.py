"""A board's pages: its tables, heat map, shift curves, cost plot and how-to-reproduce box."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.leaderboard import aggregate
from bench.leaderboard.cost import device_text, has_costs
from bench.leaderboard.format import context_lines, number
from bench.leaderboard.plots import heatmap_matrix
from bench.leaderboard.submissions.publish import records_csv
from bench.metrics import DEFAULT_METRIC, title
from bench.site import charts
from bench.site.content import SiteBoard, SiteContent
from bench.site.keyed_tables import score_key, table_view
from bench.site.render import Writer


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


def _float(text: Any) -> float | None:
    return float(text) if isinstance(text, str) and text else None


def cost_rows(board: SiteBoard, model: str | None = None) -> list[dict[str, Any]]:
    """One row per run from the cost columns of its score rows (the store's or the records').

    Test images/s is the mean over the run's targets; the rest is the run's own figure.
    """
    frame = board.group.cross
    if not has_costs(frame):
        return []
    runs = frame.drop_duplicates(["run_id", "target"])
    names = board.names
    rows = []
    for name in [model] if model else names.order("model", set(runs["model"])):
        mine = runs[runs["model"] == name]
        for source, seed, run_id in sorted(set(mine[["source", "seed", "run_id"]].itertuples(
                index=False, name=None)), key=lambda r: (names.order("dataset", set(
                    mine["source"])).index(r[0]), r[1], r[2])):
            run = mine[mine["run_id"] == run_id]
            first = run.iloc[0]
            tests = [v for v in map(_float, run["eval_images_per_second"]) if v is not None]
            memory = _float(first["peak_memory_bytes"])
            rows.append({
                "model": names.label("model", name), "model_key": name,
                "source": names.label("dataset", source), "source_key": source,
                "seed": int(seed), "run_id": run_id,
                "key": ["cost", board.group.slug, run_id],
                "train": _float(first["train_images_per_second"]),
                "test": sum(tests) / len(tests) if tests else None,
                "wall": _float(first["wall_seconds"]),
                "memory": None if memory is None else memory / 2**20,
                "device": device_text(json.loads(first["device"])) if first["device"] else "–",
            })
    return rows


def cost_chart(board: SiteBoard, metric: str
               ) -> tuple[charts.Scatter | None, list[dict[str, Any]]]:
    """Score on the source's own test split against the run's wall time, per model and source."""
    seconds: dict[tuple[str, str], list[float]] = {}
    for row in cost_rows(board):
        if row["wall"] is not None:
            seconds.setdefault((row["model_key"], row["source_key"]), []).append(row["wall"])
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
                      "key": ["wall-seconds", board.group.slug, model, source],
                      "score_key": score_key(board.group.slug, "cross", model, source, source,
                                             metric)})
    if not shown:
        return None, []
    chart = charts.scatter([(p["model"], p["seconds"], p["score"],
                             f"{p['model']} on {p['source']}: {number(p['score'], 'score')} "
                             f"after {p['seconds']:.0f} s") for p in shown],
                           x_label="wall time of a run (s, log scale): training, validation, "
                                   "testing",
                           y_label=f"{title(metric)} on the source's test split (%)")
    return chart, shown


def write_board(writer: Writer, board: SiteBoard) -> None:
    content = writer.content
    focus = (list(content.settings.metrics) or [DEFAULT_METRIC])[0]
    for page in board.pages:
        view = table_view(page.table, group=board.group.slug, frame=page.frame,
                          id=f"t-{page.table.name}",
                          link=cell_links(content, board.group.slug))
        heat = shifts = None
        scatter, scatter_rows = None, []
        if page.table.name == "cross":
            heat = board_heat_map(board, focus if board.kind != "reference" else DEFAULT_METRIC)
            if board.kind == "results":
                scatter, scatter_rows = cost_chart(board, focus)
        if board.kind == "shift":
            shifts = shift_chart(board)
        writer.page(page.path, "board.html.j2", board=board, page=page, view=view,
                    lines=header_lines(board, content.settings.date), heat=heat,
                    shifts=shifts, scatter=scatter, scatter_rows=scatter_rows,
                    siblings=board.pages, focus=focus)
    if board.records_file:
        writer.file(board.records_file, records_csv(board.group.cross))
