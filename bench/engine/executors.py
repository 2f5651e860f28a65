"""Where the cells of a matrix train: the executors, as one table.

Each row declares an executor: its name, a line of help, its options (type, default, help,
check) and how to build it from them. `bench run` makes ``--executor`` and each executor's
options (``--ray-cpus``, ``--slurm-partition``) from this table, the options check and the
runner read it, and :class:`bench.engine.request.RunRequest` carries the chosen executor's
options as a mapping. Adding an executor is one module and one row. The table is not a plugin
hook: `bench run`'s options are made from it when the command is defined, before any plugin is
loaded, and an executor shares the runner's claim/record loop rather than a plugin's contract.

An executor is anything with ``run(claimed, listener_for)``: it pulls claimed plans from the
iterator (the runner claims each cell only when it is pulled, so a sequential executor never
holds a cell it is not about to train) and yields ``(claimed, outcome or error)`` as each ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bench.engine import ray_executor, slurm_executor
from bench.engine.dispatch import run_cell
from bench.engine.plans import Claimed, Result
from bench.engine.run_display import Listener
from bench.errors import BenchError, OptionError

Problem = Callable[[Any], "str | None"]  # what is wrong with a value, or None when it works


class Executor(Protocol):
    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]: ...


class LocalExecutor:
    """One cell after another in this process, with live progress and per-epoch records."""

    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]:
        for item in claimed:
            try:
                yield item, run_cell(item.plan, listener_for(item))
            except BenchError as exc:  # a cell's own failure: recorded, the matrix goes on
                yield item, exc


def whole_number(low: int, high: int, what: str) -> Problem:
    """A check: a whole number from ``low`` to ``high``; ``what`` the number counts."""
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{what} is a whole number"
        if not low <= value <= high:
            return f"{what} must lie between {low} and {high}"
        return None
    return problem


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "give a non-empty text"


@dataclass(frozen=True)
class ExecutorOption:
    """One option of an executor: ``--EXECUTOR-NAME`` on the command line, ``NAME`` in Python."""

    name: str
    type: type  # int or str: what the command line parses
    default: Any  # None: decided when the executor is built (help says how, in default_text)
    help: str
    check: Problem = _text
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    default_text: str | None = None

    def flag(self, executor: str) -> str:
        return f"--{executor}-{self.name.replace('_', '-')}"

    def problem(self, value: Any) -> str | None:
        if self.choices and value not in self.choices:
            return f"use {' or '.join(self.choices)}"
        return self.check(value)


@dataclass(frozen=True)
class ExecutorSpec:
    """One row of the table: an executor, its options and how to build it from them."""

    name: str
    summary: str  # a line of `bench run --help`
    build: Callable[[Mapping[str, Any]], Executor]
    options: tuple[ExecutorOption, ...] = ()
    # Cells train in this process: the device is checked here and a long run is warned of.
    trains_here: bool = False
    # What this machine must provide to submit cells (a scheduler's commands), given the
    # resolved options and --device; raises a BenchError that says how to get it.
    check_here: Callable[[Mapping[str, Any], str], None] | None = None


EXECUTORS: dict[str, ExecutorSpec] = {spec.name: spec for spec in (
    ExecutorSpec(
        name="local", summary="one cell after another in this process",
        build=lambda options: LocalExecutor(), trains_here=True,
    ),
    ExecutorSpec(
        name="ray", summary="every cell a Ray task (a GPU each when the cluster has GPUs)",
        build=lambda options: ray_executor.RayExecutor(address=options["address"],
                                                       cpus_per_cell=options["cpus"]),
        options=(
            ExecutorOption("address", str, None, "Join a Ray cluster (`auto`, "
                           "`ray://host:10001`).", default_text="start a local Ray instance"),
            ExecutorOption("cpus", int, 1, "CPUs per cell on Ray (a GPU per cell is asked "
                           "for when the cluster has GPUs).",
                           check=whole_number(1, 1024, "the number of CPUs per cell on Ray")),
        ),
    ),
    ExecutorSpec(
        name="slurm", summary="every cell a Slurm job, submitted with submitit",
        build=lambda options: slurm_executor.SlurmExecutor(**options),
        options=(
            ExecutorOption("partition", str, None, "Slurm partition of the jobs (a comma "
                           "list lets Slurm pick).", check=slurm_executor.partition_problem,
                           default_text="the cluster's default"),
            ExecutorOption("time", str, slurm_executor.DEFAULT_TIME, "Time limit of each job: "
                           f"{slurm_executor.TIME_FORMS}. A job at its limit is requeued and "
                           "resumes from its last epoch.", check=slurm_executor.time_problem),
            ExecutorOption("gpus", int, 1, "GPUs per job (0: CPU only).",
                           check=whole_number(0, 16, "the number of GPUs per job")),
            ExecutorOption("cpus", int, 4, "CPUs per job (the training loop and --workers "
                           "loader processes).",
                           check=whole_number(1, 1024, "the number of CPUs per job")),
            ExecutorOption("logs", str, None, "Folder of the job logs and submitit's files, "
                           "on a file system the compute nodes share.",
                           check=slurm_executor.logs_problem, metavar="FOLDER",
                           default_text="<data home>/slurm"),
            ExecutorOption("cluster", str, "slurm", "Submit to Slurm, or run each job as a "
                           "process here through submitit's local executor (a rehearsal "
                           "without a cluster).", choices=("slurm", "local")),
        ),
        check_here=slurm_executor.check_submission,
    ),
)}


def executor_spec(name: str) -> ExecutorSpec:
    """The row of an executor, or an :class:`OptionError` listing the executors."""
    spec = EXECUTORS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise OptionError(f"--executor {name!r}: use {', '.join(EXECUTORS)}.")
    return spec


def resolve_options(name: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every option of executor ``name``: the values given (checked), the defaults otherwise.

    None stands for "not given". An unknown key or a bad value raises :class:`OptionError`
    naming the option as the command line spells it.
    """
    spec, given = executor_spec(name), dict(given or {})
    known = {option.name: option for option in spec.options}
    for key in given:
        if key not in known:
            raise OptionError(
                f"executor option {key!r}: the {name} executor has "
                + (f"the options {', '.join(known)}." if known else "no options.")
            )
    resolved = {}
    for option in spec.options:
        value = given.get(option.name)
        if value is None:
            value = option.default
        elif problem := option.problem(value):
            raise OptionError(f"{option.flag(name)} {value!r}: {problem}.")
        resolved[option.name] = value
    return resolved


def options_given(executor: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The chosen executor's options from command-line values keyed by flag.

    A value given for another executor's option is an error rather than silently unused.
    """
    executor_spec(executor)
    chosen = {}
    for spec in EXECUTORS.values():
        for option in spec.options:
            flag = option.flag(spec.name)
            if values.get(flag) is None:
                continue
            if spec.name != executor:
                raise OptionError(f"{flag} {values[flag]}: an option of --executor {spec.name}, "
                                  f"but the cells run with --executor {executor}. Add "
                                  f"--executor {spec.name}, or leave {flag} out.")
            chosen[option.name] = values[flag]
    return chosen
