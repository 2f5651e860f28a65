"""Channels-last and torch.compile as recipe settings: they run, and each run records them."""

from __future__ import annotations

import json
import math
from importlib import resources

from fixtures.cli import invoke

import bench

RUN = ["run", "--image-size", "16", "--batch-size", "8", "--no-pretrained", "--json",
       "--model", "tiny", "--source", "colours-a", "--target", "colours-a", "--epochs", "2"]


def _device_info(run_id: str) -> dict:
    return bench.open_store().run(run_id)["summary"]["device_info"]


def test_a_run_records_the_device_amp_memory_format_and_compile_it_ran_with(
        tiny_world, tmp_path, monkeypatch):
    plain = invoke(*RUN, "--protocol", "quick")
    assert plain.exit_code == 0, plain.output
    info = _device_info(json.loads(plain.stdout)[0]["run_id"])
    assert (info["device"], info["amp"], info["channels_last"], info["memory_format"],
            info["compile"]) == ("cpu", False, False, "contiguous", "none")

    # The same recipe in NHWC and compiled; dynamo's "eager" backend captures the graph as
    # inductor would without generating code, which takes minutes on a small CPU.
    from bench.engine import training

    monkeypatch.setattr(training, "COMPILE_BACKEND", "eager")
    text = (resources.files("bench") / "protocols" / "quick.toml").read_text()
    fast = tmp_path / "quick-fast.toml"
    fast.write_text(text.replace("channels_last = false", "channels_last = true")
                    .replace("compile = false", "compile = true"))
    protocol = bench.load_protocol(fast)
    assert protocol.training.channels_last and protocol.training.compile
    assert protocol.hash != bench.load_protocol("quick").hash  # a recipe value, in the hash
    result = invoke(*RUN, "--protocol", str(fast))
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["status"] == "finished"
    info = _device_info(row["run_id"])
    assert (info["channels_last"], info["memory_format"], info["compile"]) == (
        True, "channels_last", "eager:default")
    run = bench.open_store().run(row["run_id"])
    assert run["settings"]["protocol_recipe"]["training"]["channels_last"] is True
    scores = bench.open_store().scores()
    values = scores[scores.run_id == row["run_id"]].value
    assert len(values) and all(math.isfinite(v) for v in values)


def test_loader_workers_change_where_the_cache_is_read_not_what_is_drawn(
        tiny_world, tmp_path, monkeypatch):
    """Augmentation stays in the prefetch thread: worker processes only read batches."""
    def scores(workers: int) -> dict:
        result = invoke(*RUN, "--protocol", "quick", "--workers", str(workers))
        assert result.exit_code == 0, result.output
        stored = bench.open_store().scores().set_index(["target", "metric"]).value
        return stored.to_dict()

    in_process = scores(0)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "with-workers"))
    bench.reset()
    from bench.data import prepare_dataset

    prepare_dataset("colours-a", progress=False)
    assert scores(1) == in_process
