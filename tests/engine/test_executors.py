"""The table of executors drives the command line, the options check and the runner."""

from __future__ import annotations

import pytest
from fixtures.cli import invoke

import bench
from bench.engine.executors import (
    EXECUTORS,
    ExecutorOption,
    ExecutorSpec,
    LocalExecutor,
    resolve_options,
)
from bench.engine.runner import RunRequest, run_benchmark
from bench.engine.slurm_executor import time_limit_minutes


def test_bench_run_offers_every_executor_and_every_option_of_the_table():
    shown = " ".join(invoke("run", "--help").output.split())
    assert f"[{'|'.join(EXECUTORS)}]" in shown
    for spec in EXECUTORS.values():
        assert f"{spec.name}: {spec.summary}" in shown
        for option in spec.options:
            default = option.default_text or option.default
            assert option.flag(spec.name) in shown
            assert f"[--executor {spec.name}; default: {default}]" in shown


def test_the_defaults_of_every_executor_pass_its_own_checks():
    for spec in EXECUTORS.values():
        resolved = resolve_options(spec.name, {})
        assert list(resolved) == [option.name for option in spec.options]
        for option in spec.options:
            assert option.default is None or option.problem(option.default) is None, option


class TaggingExecutor(LocalExecutor):
    """A new executor in one row: trains here, and tells which tag it was given."""

    def __init__(self, tag: str):
        self.tag = tag

    def run(self, claimed, listener_for):
        for item, outcome in super().run(claimed, listener_for):
            outcome.summary["tag"] = self.tag
            yield item, outcome


def test_an_executor_added_as_one_row_runs_a_matrix(tiny_world, monkeypatch):
    monkeypatch.setitem(EXECUTORS, "tagging", ExecutorSpec(
        name="tagging", summary="the local executor, tagged",
        build=lambda options: TaggingExecutor(options["tag"]), trains_here=True,
        options=(ExecutorOption("tag", str, "plain", "A tag for the summary."),),
    ))
    request = RunRequest(models=["tiny"], sources=["colours-a"], targets=["colours-b"],
                         protocol=bench.load_protocol("quick").with_overrides(
                             training={"max_epochs": 1, "batch_size": 8}, input={"size": 16}),
                         pretrained=False, executor="tagging", executor_options={"tag": ""})
    with pytest.raises(bench.OptionError, match="--tagging-tag '': give a non-empty text"):
        run_benchmark(request)
    request.executor_options = {"tag": "blue"}
    [result] = run_benchmark(request)
    assert result.status == "finished"
    run = bench.open_store().run(result.cell.id)
    assert run["summary"]["tag"] == "blue"
    assert run["provenance"]["executor"] == "tagging"
    assert run["provenance"]["executor_options"] == {"tag": "blue"}


@pytest.mark.parametrize(("text", "minutes"), [
    ("90", 90), ("45:30", 46), ("1:30:00", 90), ("2-00", 2880), ("1-12:30", 2190),
    ("0-00:10:00", 10), (" 4:00:00 ", 240),
])
def test_slurm_time_limits_read_as_sbatch_reads_them(text, minutes):
    assert time_limit_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "4h", "1:60:00", "1-24:00", "1:2:3:4", "-5"])
def test_slurm_time_limits_sbatch_would_refuse_are_refused(text):
    with pytest.raises(ValueError):
        time_limit_minutes(text)
