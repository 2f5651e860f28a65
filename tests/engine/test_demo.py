"""`bench demo`: generate, train, test and render, end to end on tiny settings."""

from __future__ import annotations

from fixtures.cli import invoke

import bench


def test_demo_trains_on_the_complex_level_and_tests_on_both(bench_home, tmp_path):
    out = tmp_path / "demo"
    result = invoke("demo", "--train", "60", "--test", "20", "--epochs", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    board = (out / "leaderboard.md").read_text()
    assert "| resnet18 | demo-c |" in board  # timm:resnet18, labelled by its timm name
    assert "demo-b F1" in board and "demo-c F1" in board
    assert list(out.glob("*/heatmap-*.png"))
    scores = bench.open_store().scores()
    assert set(scores.target) == {"demo-b", "demo-c"}
    assert set(scores.source) == {"demo-c"}
    again = invoke("demo", "--train", "60", "--test", "20", "--epochs", "1", "--out", str(out))
    assert again.exit_code == 0 and "already finished" in again.output


def test_the_demo_model_is_the_one_a_model_plugin_offers(bench_home, monkeypatch):
    """bench names no model: `bench demo` trains what a spec's `demo` says, and says so when
    no installed plugin offers one."""
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "models")  # the generators stay
    bench.reset()
    result = invoke("demo", "--train", "10", "--test", "5", "--epochs", "1")
    assert result.exit_code == 1
    assert ("no demo model (no installed model plugin offers one): name one with "
            "`bench demo --model NAME`") in result.output
    assert not (bench_home / "datasets").exists()  # refused before composing anything


def test_the_first_party_models_offer_resnet18_for_the_demo():
    from bench.demo import demo_model

    assert demo_model() == "timm:resnet18"
    bad = bench.ModelSpec(name="mine", factory=lambda n, p: None, demo="timm:resnet18")
    assert bad.problems() == ["demo must be 'mine' or a member mine:<name>, got 'timm:resnet18'"]
