"""A cell's page: scores with intervals, confusion matrix, per class, reliability, mistakes."""

from __future__ import annotations

from typing import Any

from bench.labels import CLASSES
from bench.leaderboard import aggregate
from bench.metrics import METRICS, PER_CLASS
from bench.site import charts
from bench.site.content import CellPage, model_path
from bench.site.keyed_tables import score_key
from bench.site.render import Writer
from bench.site.thumbnails import ThumbnailSource, open_target, write_thumbnail


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
    metrics = metric_order(rows["metric"].unique())
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
        for metric in PER_CLASS:
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


def metric_order(metrics: Any) -> list[str]:
    """The known metrics in the boards' order, then any a plugin's engine stored."""
    present = set(metrics)
    return [m for m in METRICS if m in present] + sorted(present - set(METRICS))
