"""Run every cell of the matrix as a Slurm job, submitted with submitit.

What runs where: `bench run --executor slurm` (the driver) stays on the login node, claims each
cell in the results store, submits one job per cell and records each outcome as its job ends;
only the driver writes the store. Jobs run the same training function as the local executor,
reading the prepared data sets and writing epoch checkpoints under the data home, so the data
home must be on a file system the compute nodes share; submitit's files and each job's log go
to the logs folder (by default ``<data home>/slurm/<job id>/``), shared as well.

A job warned of its time limit (or preempted) is requeued by submitit and resumes from the
cell's last epoch checkpoint. A job that ends without a result (killed, its node lost, out of
memory) is submitted again, up to :data:`JOB_RETRIES` times, and resumes likewise. Ctrl-C
cancels the jobs still running; the same command then resumes their cells.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import BenchError, OptionError, RunError
from bench.home import data_home

if TYPE_CHECKING:
    from bench.engine.plans import CellPlan, Claimed, Outcome, Result
    from bench.engine.run_display import Listener

JOB_RETRIES = 3  # a job lost without a result (killed, node failure) is submitted again this often
POLL_SECONDS = 1.0  # how often the driver looks at its jobs (submitit spaces its sacct calls)
DEFAULT_TIME = "4:00:00"
MIN_MINUTES = 10  # a job is warned 90 s before its limit to requeue itself; less is a typo
TIME_FORMS = "minutes (90), H:MM:SS (4:00:00) or D-HH:MM:SS (2-00:00:00), as sbatch --time"
_TIME = re.compile(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?")
_PARTITION = re.compile(r"[A-Za-z0-9_.\-]+(,[A-Za-z0-9_.\-]+)*")


def time_limit_minutes(text: str) -> int:
    """Minutes of a Slurm time limit (``90``, ``1:30:00``, ``2-00``); ValueError says why not."""
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a time limit; give {TIME_FORMS}")
    days, first, second, third = (None if g is None else int(g) for g in match.groups())
    if days is not None:  # D-H, D-H:M, D-H:M:S
        fields, limits = (first, second or 0, third or 0), (24, 60, 60)
        seconds = days * 86400 + fields[0] * 3600 + fields[1] * 60 + fields[2]
    elif third is not None:  # H:M:S
        fields, limits = (second, third), (60, 60)
        seconds = first * 3600 + second * 60 + third
    elif second is not None:  # M:S
        fields, limits = (second,), (60,)
        seconds = first * 60 + second
    else:  # M
        fields, limits, seconds = (), (), first * 60
    if any(value >= limit for value, limit in zip(fields, limits)):
        raise ValueError(f"a field is out of range; give {TIME_FORMS}")
    return math.ceil(seconds / 60)


def time_problem(value: Any) -> str | None:
    try:
        minutes = time_limit_minutes(value)
    except ValueError as exc:
        return str(exc)
    if minutes < MIN_MINUTES:
        return (f"{minutes} minute(s) is too short for a cell (sbatch reads a bare number as "
                f"minutes); give at least {MIN_MINUTES} minutes, e.g. 4:00:00 for four hours")
    return None


def partition_problem(value: Any) -> str | None:
    if isinstance(value, str) and _PARTITION.fullmatch(value):
        return None
    return ("a partition name is letters, digits, '-', '_' and '.' (several: a comma list "
            "without spaces); `sinfo -s` lists the partitions of the cluster")


def logs_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "give the path of a folder"
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        return "is a file; give a folder (it is made when missing)"
    existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    if not os.access(existing, os.W_OK):
        return (f"{existing} is not writable; give a folder you can write, on a file system "
                f"the compute nodes share")
    return None


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError as exc:
        raise RunError(
            "the Slurm executor needs submitit, which is not installed here. Install the extra: "
            "pip install 'wbc-bench[slurm]' (or: pip install submitit)"
        ) from exc
    return submitit


def check_submission(options: Mapping[str, Any], device: str) -> None:
    """What this machine needs to submit the cells: submitit, and sbatch unless rehearsing."""
    if options["gpus"] == 0 and device == "cuda":
        raise OptionError("--device cuda with --slurm-gpus 0: the jobs get no GPU. Give "
                          "--slurm-gpus 1 (or more), or --device cpu.")
    _import_submitit()
    missing = [tool for tool in ("sbatch", "srun") if shutil.which(tool) is None]
    if options["cluster"] == "slurm" and missing:
        raise RunError(f"--executor slurm: {' and '.join(missing)} not on the PATH here, so no "
                       f"job can be submitted. Run bench on a login node of the cluster (where "
                       f"`sbatch --version` works), or add --slurm-cluster local to rehearse "
                       f"with one process per job on this machine.")


class CellJob:
    """What a job runs: the local executor's training, its progress as lines in the job's log.

    ``checkpoint`` makes it resumable for submitit: a job warned of its time limit or of
    preemption is requeued with the same call, which resumes from the last epoch checkpoint.
    """

    def __call__(self, plan: CellPlan, home: str, threads: int) -> Outcome | BenchError:
        import torch
        from rich.console import Console

        from bench.engine.dispatch import run_cell
        from bench.engine.run_display import LineListener

        os.environ["BENCH_HOME"] = home
        torch.set_num_threads(threads)
        log = LineListener(Console(file=sys.stdout, soft_wrap=True))
        log.on_matrix_start(1)
        try:
            return run_cell(plan, log)
        except BenchError as exc:  # the cell's own failure, handed back as a plain error
            return BenchError(str(exc))
        finally:
            log.close()

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self, *args, **kwargs)


class SlurmExecutor:
    """Every claimed cell becomes a job at once; outcomes are yielded as jobs end."""

    def __init__(self, *, partition: str | None = None, time: str = DEFAULT_TIME, gpus: int = 1,
                 cpus: int = 4, logs: str | None = None, cluster: str = "slurm"):
        self.partition, self.gpus, self.cpus, self.cluster = partition, gpus, cpus, cluster
        self.minutes, self.time = time_limit_minutes(time), time
        self.logs = logs

    def _submitter(self, folder: Path) -> Any:
        submitit = _import_submitit()
        submitter = submitit.AutoExecutor(folder=folder / "%j", cluster=self.cluster)
        submitter.update_parameters(timeout_min=self.minutes, gpus_per_node=self.gpus,
                                    cpus_per_task=self.cpus, nodes=1, tasks_per_node=1,
                                    **({"slurm_partition": self.partition}
                                       if self.partition else {}))
        return submitter

    def run(self, claimed: Iterable[Claimed],
            listener_for: Callable[[Claimed], Listener]) -> Iterator[Result]:
        home = data_home()
        folder = (Path(self.logs).expanduser() if self.logs else home / "slurm").absolute()
        submitter = self._submitter(folder)

        def submit(item: Claimed) -> Any:
            submitter.update_parameters(name=f"bench-{item.run_id}")
            try:
                return submitter.submit(CellJob(), item.plan, str(home), self.cpus)
            except Exception as exc:  # sbatch refused: a partition, an account, a limit
                raise RunError(f"Slurm refused the job of {item.label}: "
                               f"{str(exc).strip() or type(exc).__name__}. Check the "
                               f"--slurm-* options (`sinfo -s` lists the partitions).") from exc

        pending: dict[Any, tuple[Claimed, int]] = {}
        try:
            for item in claimed:
                pending[submit(item)] = (item, 1)
            if pending:
                first = next(iter(pending.values()))[0]
                listener_for(first).notice(
                    f"{len(pending)} cell(s) submitted to Slurm as job(s) "
                    f"{', '.join(job.job_id for job in pending)}; their logs: "
                    f"{folder}/<job id>/")
            while pending:
                for job in [job for job in pending if job.done()]:
                    item, tries = pending.pop(job)
                    outcome = _outcome(job, tries, self.time)
                    if outcome is not None:
                        yield item, outcome
                        continue
                    again = submit(item)
                    pending[again] = (item, tries + 1)
                    listener_for(item).notice(
                        f"{item.label}: Slurm job {job.job_id} ended without a result "
                        f"({job.state}); submitted again as job {again.job_id}, resuming from "
                        f"its last epoch checkpoint (try {tries + 1} of {JOB_RETRIES + 1})")
                if pending:
                    time.sleep(POLL_SECONDS)
        finally:  # Ctrl-C or an error: no job trains on for a driver that records nothing
            for job in pending:
                job.cancel(check=False)


def _outcome(job: Any, tries: int, time_limit: str) -> Outcome | BenchError | None:
    """A finished job's outcome or error; None when it should be submitted again."""
    from submitit.core.utils import FailedJobError, UncompletedJobError

    log = job.paths.stdout
    try:
        return job.result()  # the outcome, or the cell's own error returned as a value
    except FailedJobError as exc:  # the job raised: out of time too often, or a bug
        if "timed-out too many times" in str(exc):
            return RunError(f"Slurm job {job.job_id} reached its time limit ({time_limit}) too "
                            f"many times; give a longer --slurm-time and the same command with "
                            f"--retry-failed: it resumes from its last epoch. Its log: {log}")
        lines = [line for line in str(exc).splitlines() if line.strip()]
        cause = next((line for line in reversed(lines) if "Error" in line),
                     lines[-1] if lines else "no error text")
        return RunError(f"Slurm job {job.job_id} failed: {cause.strip()}. Its log: {log}")
    except UncompletedJobError:  # no result: killed, its node lost, out of memory
        state = job.state
        if state.startswith("CANCELLED"):
            return RunError(f"Slurm job {job.job_id} was cancelled; give the same command with "
                            f"--retry-failed to resume it from its last epoch. Its log: {log}")
        if tries <= JOB_RETRIES:
            return None
        return RunError(f"Slurm job {job.job_id} ended without a result {tries} times (last "
                        f"state {state}). Its log: {log}")
