"""A model's page: its spec, its rows on every board, its heat maps and its cost per run."""

from __future__ import annotations

from typing import Any

from bench.leaderboard.groups import slugify
from bench.metrics import DEFAULT_METRIC
from bench.site.board_page import board_heat_map, cell_links, cost_rows
from bench.site.content import SiteContent, model_path, runs_of
from bench.site.keyed_tables import table_view
from bench.site.render import Writer


def model_spec(model: str, content: SiteContent) -> list[tuple[str, Any, list | None]]:
    """(label, value, key) rows: what the registry says, then what the runs recorded."""
    from bench.host import get_registries

    rows: list[tuple[str, Any, list | None]] = [("name", model, None)]
    registry = get_registries().models
    try:  # a name, or a family member such as timm:resnet18
        spec = registry.get(model)
    except Exception:  # noqa: BLE001 - unknown here, clashing or broken: the page says so
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
        # A family's members (timm:<name>) belong to the plugin that registered the family.
        owner = registry.owner(model) or registry.owner(model.partition(":")[0])
        rows.append(("plugin", owner, None))
        rows.append(("plugin version", _plugin_version(owner), None))
    recorded = {}
    for _, _, _, run_id in runs_of(content, model):
        summary = (content.runs.get(run_id) or {}).get("summary") or {}
        weights = summary.get("weights") or {}
        if isinstance(weights, dict) and (weights.get("tag") or weights.get("source")):
            used = weights.get("tag") or {"none": "none (from scratch)"}.get(
                weights["source"], weights["source"])
            recorded.setdefault("weights used", set()).add(str(used))
        if summary.get("input_size"):
            recorded.setdefault("input size trained at (px)", set()).add(
                str(summary["input_size"]))
    keys = {"input size trained at (px)": ["trained-size", model]}
    rows += [(label, ", ".join(sorted(values, key=_natural)), keys.get(label))
             for label, values in recorded.items()]
    return rows


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def _plugin_version(owner: str) -> str:
    from bench.host import get_host

    for record in get_host().plugins.records:
        if record.name == owner:
            return f"{record.distribution} {record.version}"
    return "–"


def write_model(writer: Writer, model: str) -> None:
    content = writer.content
    focus = (list(content.settings.metrics) or [DEFAULT_METRIC])[0]
    sections = []
    for board in content.boards:
        for page in board.pages:
            view = table_view(page.table, group=board.group.slug, frame=page.frame,
                              id=f"m-{slugify(board.slug)}-{page.table.name}",
                              rows=lambda row: row.key[0] == model,
                              link=cell_links(content, board.group.slug))
            if view.rows:
                shown = focus if board.kind != "reference" else DEFAULT_METRIC
                heat = (board_heat_map(board, shown, model) if page.table.name == "cross"
                        else None)
                sections.append({"board": board, "page": page, "view": view, "heat": heat})
    cost = [row for board in content.boards if board.kind == "results"
            for row in cost_rows(board, model)]
    cells = [page for (_, m, _, _), page in sorted(content.cells.items()) if m == model]
    names = content.inputs.names
    writer.page(model_path(model), "model.html.j2", model=model,
                label=names.label("model", model), spec=model_spec(model, content),
                sections=sections, cost=cost, cells=cells)
