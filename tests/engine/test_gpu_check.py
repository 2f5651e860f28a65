"""benchmarks/gpu_check.py: its CPU smoke measures every part; its GPU plan is complete.

The smoke is the same code the GPU runs, with tiny sizes; the GPU plan and the JSON driver are
checked here on the CPU (budget 0: every item planned, none run), so the first minute on a GPU
already measures.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_check", None)


def _positive(values) -> bool:
    return bool(values) and all(math.isfinite(v) and v > 0 for v in values)


def test_cpu_smoke_measures_every_part_and_writes_its_json(tmp_path):
    out = tmp_path / "smoke.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--cpu-smoke", "--out", str(out)],
                          env=os.environ.copy(), capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(out.read_text())
    assert report == json.loads(done.stdout)
    assert report["mode"] == "cpu-smoke" and report["complete"], (report["errors"],
                                                                  report["skipped"])
    assert report["machine"]["device"] == "cpu"

    rows = report["throughput"]
    assert [(r["memory_format"], r["compile"]) for r in rows[:2]] == [("nchw", "none"),
                                                                       ("channels_last", "none")]
    assert len(rows) == 3 and rows[2]["compile"] == "eager"  # dynamo, without inductor
    for row in rows:
        assert row["model"] == "timm:test_resnet" and row["input_size"] == 32
        assert len(row["bench_images_per_second"]) == len(row["timm_images_per_second"]) == 2
        assert _positive(row["bench_images_per_second"] + row["timm_images_per_second"])
        assert row["ratio_bench_to_timm"] > 0

    run = report["bench_run"]
    assert run["status"] == "finished" and run["epochs"] == 3 and run["scores_finite"]
    assert run["data"].startswith("stand-in")
    assert (run["device_info"]["device"], run["device_info"]["memory_format"],
            run["device_info"]["compile"]) == ("cpu", "contiguous", "none")
    assert run["dry_run"]["estimate_seconds"] > 0 and run["dry_run"]["measured_seconds"] > 0
    resume = run["resume"]
    assert resume["killed_after_first_epoch"], "the kill came after the run had finished"
    assert resume["equal"] and resume["max_abs_difference"] == 0 and resume["metrics_compared"]

    (channels_last,) = report["setting_runs"]
    assert channels_last["setting"] == "channels_last" and channels_last["scores_finite"]
    assert channels_last["device_info"]["memory_format"] == "channels_last"
    assert channels_last["scores_vs_default"]["metrics_compared"] == resume["metrics_compared"]
    assert channels_last["speed_up"] > 0

    ddpm = report["ddpm"]
    assert ddpm["config"] == "tiny" and ddpm["training_loop"]["steps_per_second"] > 0
    assert set(ddpm["sampling"]) == {"ddpm", "ddim", "dpm-solver"}
    assert _positive([s["images_per_second"] for s in ddpm["sampling"].values()])


def test_the_gpu_plan_has_the_seven_paper_models_at_their_sizes_in_both_formats(
        gpu_check, tmp_path, bench_home):
    settings = gpu_check.Settings.gpu()
    context = gpu_check.Context(settings, tmp_path, None, None)
    items = gpu_check.plan(settings, context)
    names = [item.name for item in items]
    assert len(settings.models) == 7 and settings.batch == 32
    for model in settings.models:
        assert f"{model} nchw eager" in names and f"{model} channels_last eager" in names
        assert f"{model} compile" in names
    # Most important first: every eager item, the run and DDPM before any compilation; and
    # those fit the default budget by their estimates.
    first_compile = min(i for i, name in enumerate(names) if name.endswith("compile"))
    assert {"bench run", "ddpm", "bench run channels_last"} <= set(names[:first_compile])
    assert names[first_compile] == "bench run compile"  # the scores' evidence before speed
    assert sum(item.estimate for item in items[:first_compile]) <= settings.budget
    sizes = {model: context._model_row(model) for model in settings.models}
    assert sizes["inceptionv3"] == ("inception_v3", 299)
    assert sizes["vit"] == ("vit_base_patch16_224", 224)
    assert {size for _, size in sizes.values()} == {224, 299}


def test_the_driver_skips_what_the_budget_leaves_no_time_for_and_still_writes_json(
        gpu_check, tmp_path, bench_home):
    out = tmp_path / "gpu.json"
    report = gpu_check.run_check(gpu_check.Settings.gpu(budget=0), None, out)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report, default=str))
    assert not report["complete"] and not report["errors"]
    assert len(report["skipped"]) == 1 + 7 * 3 + 2 + 2
    assert all("time budget" in entry["reason"] for entry in report["skipped"])
    assert report["settings"]["device"] == "cuda"


def test_timm_benchmark_flags_hold_only_while_timms_side_runs(gpu_check):
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark
    with gpu_check.timm_benchmark_flags("cuda"):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.benchmark
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark) == before
    assert gpu_check.memory_baseline("cpu") is None and gpu_check.peak_above("cpu", None) is None


def test_score_comparison_finds_any_difference(gpu_check):
    same = {"t": {"f1": 0.5, "accuracy": 0.25}}
    assert gpu_check.compare_scores(same, json.loads(json.dumps(same)))["equal"]
    other = gpu_check.compare_scores(same, {"t": {"f1": 0.5, "accuracy": 0.5}})
    assert not other["equal"] and other["max_abs_difference"] == 0.25
    missing = gpu_check.compare_scores(same, {"t": {"f1": 0.5}})
    assert not missing["equal"] and math.isnan(missing["max_abs_difference"])
