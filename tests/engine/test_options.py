"""The run options checked before any cell starts, through the Python API (bench.engine)."""

from __future__ import annotations

import importlib.util

import pytest

import bench
from bench.engine.options import check_weights, seeds_from
from bench.engine.runner import RunRequest, run_benchmark


def request(**changes) -> RunRequest:
    fields = {"models": ["timm:test_resnet"], "sources": ["nowhere"], "targets": ["all"],
              "protocol": bench.load_protocol("quick"), "pretrained": False, **changes}
    return RunRequest(**fields)


@pytest.mark.parametrize(("count", "listed", "seeds"), [
    (None, None, [0]), ("3", None, [0, 1, 2]), (2, None, [0, 1]), (None, "5", [5]),
    (None, "0, 5,7", [0, 5, 7]),
])
def test_a_seed_count_and_a_seed_list_read_as_documented(count, listed, seeds):
    assert seeds_from(count, listed) == seeds


def test_a_request_without_seeds_is_an_error_not_an_empty_run(bench_home):
    with pytest.raises(bench.OptionError, match="no seeds to run, so no cell is selected"):
        run_benchmark(request(seeds=[]))
    assert not (bench_home / "runs").exists()  # nothing was planned


@pytest.mark.parametrize(("changes", "says"), [
    ({"protocol": bench.load_protocol("quick").with_overrides(training={"max_epochs": 0})},
     "--epochs 0"),
    ({"protocol": bench.load_protocol("quick").with_overrides(training={"batch_size": -2})},
     "--batch-size -2"),
    ({"protocol": bench.load_protocol("quick").with_overrides(input={"size": 4})},
     "--image-size 4"),
    ({"seeds": [-1]}, "seed -1"),
    ({"workers": -1}, "--workers -1"),
    ({"executor": "dask"}, "--executor 'dask'"),
    ({"executor": "ray", "executor_options": {"cpus": 0}}, "--ray-cpus 0: the number of CPUs"),
    ({"executor": "ray", "executor_options": {"cpu": 2}},
     "'cpu': the ray executor has the options address, cpus"),
    ({"executor_options": {"cpus": 2}}, "'cpus': the local executor has no options"),
    ({"executor": "slurm", "executor_options": {"time": "0:05:00"}},
     "--slurm-time '0:05:00': 5 minute(s) is too short"),
    ({"executor": "slurm", "executor_options": {"gpus": "two"}},
     "--slurm-gpus 'two': the number of GPUs per job is a whole number"),
    ({"executor": "slurm", "executor_options": {"cluster": "mars"}},
     "--slurm-cluster 'mars': use slurm or local"),
    ({"models": [" , "]}, "--model"),
])
def test_bad_values_from_python_callers_name_the_option(changes, says, bench_home):
    with pytest.raises(bench.OptionError) as raised:
        run_benchmark(request(**changes))
    assert says in str(raised.value)


def test_cuda_is_checked_here_for_local_cells_only(bench_home):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(bench.RunError, match="--device cuda: .* Use --device cpu"):
        run_benchmark(request(device="cuda"))
    # Ray and Slurm cells run on the cluster's machines: the driver's missing GPU says nothing
    # about them, so the run goes on to the next check (here: the unknown data set).
    with pytest.raises(bench.UnknownNameError, match="nowhere"):
        run_benchmark(request(device="cuda", executor="ray"))
    if importlib.util.find_spec("submitit"):
        with pytest.raises(bench.UnknownNameError, match="nowhere"):
            run_benchmark(request(device="cuda", executor="slurm",
                                  executor_options={"cluster": "local"}))


def test_a_weights_file_is_read_with_the_loader_runs_use(tmp_path):
    torch = pytest.importorskip("torch")
    good = tmp_path / "good.pt"
    torch.save({"layer.weight": torch.ones(2, 2)}, good)
    check_weights(good)  # a plain state dict passes
    wrapped = tmp_path / "wrapped.pt"
    torch.save([torch.ones(1)], wrapped)  # tensors, but not a state dict
    with pytest.raises(bench.RunError, match="not a state dict"):
        check_weights(wrapped)
