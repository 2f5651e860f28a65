"""What the records say each keyed number of a page should read, recomputed independently.

The recomputation is independent of the pages' own code where it can be: means and standard
deviations straight from the score rows, confusion counts and per-class scores from the test
predictions with scikit-learn, costs from the cost columns of the score rows. Intervals are
the seeded bootstrap of ``bench.leaderboard.intervals`` run again. A number is right when it
is the recomputed value rounded to the decimals the page shows (a value half-way between two
readings may read as either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.labels import CLASSES
from bench.leaderboard import IntervalSettings, comparable_groups, reference_group
from bench.leaderboard.intervals import Bootstrap, bootstrap_cells
from bench.metrics import PER_CLASS
from bench.site.inputs import SiteInputs, SiteSettings

NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
# mean, ± std, (n=runs), then a rank tier "T1 (1–2)" where the board's marks give one
SCORE = re.compile(r"^(?P<mean>-?[\d.]+)(?: ± (?P<std>[\d.]+))?(?: \(n=(?P<n>\d+)\))?"
                   r"(?: T\d+ \(\d+(?:–\d+)?\))?†?$")
EXACT = 10  # decimals a mean is snapped to before display (bench.leaderboard.tables)


def _snap(value: float) -> float:
    return round(value, EXACT)


def _same(shown: str, expected: float | None) -> bool:
    """Whether ``shown`` is ``expected`` rounded to the decimals shown (a tie either way)."""
    if expected is None:
        return False
    digits = len(shown.split(".")[1]) if "." in shown else 0
    return abs(float(shown.replace(",", "")) - expected) <= 0.5 * 10 ** -digits + 1e-9


class Expected:
    """Recomputes keyed quantities from the inputs, lazily and once per group."""

    def __init__(self, inputs: SiteInputs, settings: SiteSettings):
        self.inputs = inputs
        self.settings = settings
        self.groups: dict[str, Any] = {}
        if inputs.has_results:
            self.groups.update({g.slug: g for g in comparable_groups(inputs.frame)})
        for name in inputs.references:
            group = reference_group(name, inputs.names)
            self.groups[group.slug] = group
        self._boots: dict[str, Bootstrap] = {}
        self._values: dict[tuple[str, str], dict[tuple[str, str, str, str], list[float]]] = {}
        self._stats: dict[tuple[str, str, str, str], CellStats | None] = {}

    def frame(self, group: str, layout: str = "cross") -> Any:
        if group not in self.groups:
            raise KeyError(f"no board {group!r} in the records")
        found = self.groups[group]
        return found.same if layout == "same" else found.cross

    def rows(self, group: str, layout: str, model: str, source: str, target: str,
             metric: str) -> np.ndarray:
        """The runs' values of one metric of one cell (an index per frame, built once)."""
        if (group, layout) not in self._values:
            frame = self.frame(group, layout)
            index: dict[tuple[str, str, str, str], list[float]] = {}
            for key, value in zip(frame[["model", "source", "target", "metric"]].itertuples(
                    index=False, name=None), frame["value"].tolist()):
                index.setdefault(key, []).append(float(value))
            self._values[(group, layout)] = index
        return np.array(self._values[(group, layout)].get((model, source, target, metric), []))

    def score(self, group: str, layout: str, model: str, source: str, target: str,
              metric: str) -> tuple[float | None, float | None, int]:
        """Mean and sample std over seeds, in %, and the number of runs."""
        values = np.round(self.rows(group, layout, model, source, target, metric), EXACT + 2)
        if not len(values):
            return None, None, 0
        mean = _snap(float(values.mean()) * 100)
        std = _snap(float(values.std(ddof=1)) * 100) if len(values) > 1 else None
        return mean, std, len(values)

    def bootstrap(self, group: str) -> Bootstrap:
        if group not in self._boots:
            settings = IntervalSettings(resamples=self.settings.resamples,
                                        level=self.settings.level)
            self._boots[group] = bootstrap_cells(self.frame(group), self.inputs.predictions(),
                                                 settings)
        return self._boots[group]

    def stats(self, group: str, model: str, source: str, target: str) -> CellStats | None:
        """The cell's runs (in seed order) with test predictions, and their figures."""
        key = (group, model, source, target)
        if key not in self._stats:
            frame = self.frame(group)
            chosen = frame[(frame["model"] == model) & (frame["source"] == source)
                           & (frame["target"] == target)]
            predictions = self.inputs.predictions()
            ids = sorted(set(zip(chosen["seed"], chosen["run_id"])))
            runs = [(run_id, predictions[(run_id, target)]) for _, run_id in ids
                    if (run_id, target) in predictions]
            self._stats[key] = cell_stats(runs) if runs else None
        return self._stats[key]


@dataclass
class CellStats:
    """One cell's figures from its runs' predictions, with scikit-learn (once per cell)."""

    runs: list[tuple[str, Any]]
    confusions: list[np.ndarray]  # per run, K x K
    scores: np.ndarray  # runs x (precision, recall, F1) x K, in %
    confidence: np.ndarray  # pooled top-class probability
    correct: np.ndarray


def cell_stats(runs: list[tuple[str, Any]]) -> CellStats:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(CLASSES)))
    confusions = [confusion_matrix(run.labels, run.predicted, labels=labels) for _, run in runs]
    scores = np.array([100 * np.array(precision_recall_fscore_support(
        run.labels, run.predicted, labels=labels, zero_division=0)[:3]) for _, run in runs])
    confidence = np.concatenate([run.probabilities[np.arange(len(run.labels)), run.predicted]
                                 for _, run in runs])
    correct = np.concatenate([run.predicted == run.labels for _, run in runs])
    return CellStats(runs, confusions, scores, confidence, correct)


def check_number(expected: Expected, key: list, text: str) -> str | None:
    """None when ``text`` is what the records give for ``key``, else what they give."""
    kind, rest = key[0], key[1:]
    if kind == "score":
        mean, std, n = expected.score(*rest)
        if text == "–":
            return None if n == 0 else _score_text(mean, std, n)
        match = SCORE.match(text)
        if not match or mean is None:
            return _score_text(mean, std, n)
        ok = _same(match["mean"], mean)
        if match["std"] is not None:
            ok &= _same(match["std"], std)
        if match["n"] is not None:
            ok &= int(match["n"]) == n
        return None if ok else _score_text(mean, std, n)
    if kind in ("ci", "classci"):
        group, *cell = rest
        if kind == "ci":
            _, model, source, target, metric = cell
        else:
            model, source, target, letter, metric = cell
            metric = f"{metric}:{letter}"
        interval = expected.bootstrap(group).interval((model, source, target), metric)
        want = None if interval is None else [100 * interval[0], 100 * interval[1]]
        return _numbers(text, want, "[{:.1f}, {:.1f}]")
    if kind == "heat":
        group, source, target, metric, model = rest
        frame = expected.frame(group)
        models = sorted(set(frame["model"])) if model == "*" else [model]
        means = [m for name in models
                 if (m := expected.score(group, "cross", name, source, target, metric)[0])
                 is not None]
        return _numbers(text, [sum(means) / len(means)] if means else None, "{:.1f}")
    if kind == "drop":
        return _numbers(text, _drop(expected, *rest), "{:.1f}")
    if kind in ("confusion", "support", "class", "bin", "pooled-ece", "wrong", "wrong-count"):
        return _prediction_number(expected, kind, rest, text)
    if kind in ("cost", "wall-seconds"):
        return _cost_number(expected, kind, rest, text)
    if kind == "spec":
        return _spec_number(rest, text)
    if kind == "trained-size":
        sizes = sorted({int(s["input_size"]) for run in expected.inputs.runs().values()
                        if (s := run.get("summary") or {}).get("input_size")
                        and run.get("model") == rest[0]})
        want = ", ".join(map(str, sizes))
        return None if text == want else want or "no size in the records"
    return f"an unknown kind of number {kind!r}"


def _score_text(mean: float | None, std: float | None, n: int) -> str:
    if mean is None:
        return "no score in the records"
    return f"{mean:.1f}" + (f" ± {std:.1f}" if std is not None else "") + f" (n={n})"


def _numbers(text: str, want: list[float] | None, fmt: str) -> str | None:
    """Compare every number in ``text`` with ``want``, each at the decimals shown."""
    if want is None:
        return None if text == "–" else "nothing in the records"
    found = NUMBER.findall(text)
    if len(found) == len(want) and all(_same(s, w) for s, w in zip(found, want)):
        return None
    return fmt.format(*want)


def _drop(expected: Expected, group: str, model: str, source: str, series: str,
          metric: str) -> list[float] | None:
    frame = expected.frame(group)
    base = series.split("~")[0]
    zero = expected.score(group, "cross", model, source, base, metric)[0]
    shifted = [t for t in set(frame["target"]) if t.startswith(f"{series}:")
               and t.rsplit(":", 1)[1].isdigit()]
    values = [v for t in shifted
              if (v := expected.score(group, "cross", model, source, t, metric)[0]) is not None]
    if not zero or not values:
        return None
    from bench.metrics import better

    sign = 1 if better(metric) == "higher" else -1
    return [sum(sign * (zero - v) / zero * 100 for v in values) / len(values)]


def _prediction_number(expected: Expected, kind: str, rest: list, text: str) -> str | None:
    group, model, source, target, *detail = rest
    stats = expected.stats(group, model, source, target)
    if stats is None:
        return "no test predictions in the records"
    if kind == "confusion":
        true, predicted = (CLASSES.index(c) for c in detail)
        total = sum(int(m[true, predicted]) for m in stats.confusions)
        return None if text == str(total) else str(total)
    if kind == "support":
        count = int(stats.confusions[0][CLASSES.index(detail[0])].sum())
        return None if text == str(count) else str(count)
    if kind == "class":
        letter, metric = detail
        values = stats.scores[:, PER_CLASS.index(metric),
                              CLASSES.index(letter)]
        want = [float(values.mean())] + ([float(values.std(ddof=1))] if len(values) > 1 else [])
        return _numbers(text, want, " ± ".join(["{:.1f}"] * len(want)))
    if kind == "pooled-ece":
        from bench.metrics import expected_calibration_error

        ece = expected_calibration_error(stats.confidence, stats.correct)
        return _numbers(text, [100 * ece], "{:.1f}")
    if kind == "bin":
        index, what = detail
        from bench.metrics import confidence_bins

        members = confidence_bins(stats.confidence) == index
        if not members.any():
            return "an empty bin"
        values = {"images": float(members.sum()),
                  "confidence": 100 * float(stats.confidence[members].mean()),
                  "accuracy": 100 * float(stats.correct[members].mean())}
        return _numbers(text, [values[what]], "{:.1f}")
    if kind == "wrong-count":
        count = sum(int(m.sum() - np.trace(m)) for m in stats.confusions)
        return None if text == str(count) else str(count)
    run_id, path = detail  # "wrong": one misclassified image
    found = dict(stats.runs).get(run_id)
    if found is None or path not in found.paths:
        return "no such image in the run's predictions"
    i = found.paths.index(path)
    true, predicted = CLASSES[found.labels[i]], CLASSES[found.predicted[i]]
    prefix = f"{true} → {predicted} "
    want = 100 * float(found.probabilities[i, found.predicted[i]])
    if true == predicted:
        return "the image is classified correctly"
    if not text.startswith(prefix):
        return f"{prefix}{want:.1f} %"
    return _numbers(text[len(prefix):], [want], prefix + "{:.1f} %")


def _cost_number(expected: Expected, kind: str, rest: list, text: str) -> str | None:
    """The cost columns of the score rows: a run's own figure, test images/s over targets."""
    frame = expected.frame(rest[0])
    if kind == "cost":
        _, run_id, field = rest
        column = {"train": "train_images_per_second", "test": "eval_images_per_second",
                  "wall": "wall_seconds", "memory": "peak_memory_bytes"}[field]
        rows = frame[(frame["run_id"] == run_id)
                     & ~frame["target"].str.contains("~", regex=False)]  # as the board's
        values = [float(v) for v in rows.drop_duplicates("target")[column]
                  if isinstance(v, str) and v]
        if field != "test":
            values = values[:1]
        want = sum(values) / len(values) / (2**20 if field == "memory" else 1) if values \
            else None
        return None if want is None and text == "–" else _numbers(
            text, None if want is None else [want], "{:.1f}")
    _, model, source = rest  # "wall-seconds": the mean over the cell's runs
    runs = frame[(frame["model"] == model) & (frame["source"] == source)].drop_duplicates(
        "run_id")
    seconds = [float(v) for v in runs["wall_seconds"] if isinstance(v, str) and v]
    return _numbers(text, [sum(seconds) / len(seconds)] if seconds else None, "{:.1f}")


def _spec_number(rest: list, text: str) -> str | None:
    from bench.host import get_registries
    from bench.models import data_config, parameter_count

    model, name = rest
    spec = get_registries().models.get(model)
    value = parameter_count(spec) if name == "parameters" else data_config(spec)[0]
    return None if text.replace(",", "") == str(value) else f"{value:,}"
