"""`bench compare --sources` end to end: tiny models trained on two sources, three seeds each."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures.cli import invoke
from scipy import stats

import bench

RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--epochs", "1", "--json", "--model", "tiny", "--source", "all", "--target", "all"]


def compare(*args: str):
    return invoke("compare", "--sources", "colours-a,colours-b", "--model",
                  "tiny", "--resamples", "300", *args)


@pytest.fixture
def trained(tiny_world):
    result = invoke(*RUN, "--seeds", "3")
    assert result.exit_code == 0, result.output
    return bench.open_store()


def _accuracy(store, source: str, target: str) -> list[float]:
    runs = store.runs()
    ids = runs[(runs.model == "tiny") & (runs.source == source)].sort_values("seed")["id"]
    out = []
    for run_id in ids:
        predictions = store.predictions(run_id, target)
        out.append(float((predictions.label == predictions.predicted).mean()))
    return out


def test_a_source_comparison_is_paired_per_target_over_three_seeds(trained):
    result = compare("--target", "all", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["a"]["target"] for d in data] == ["colours-a", "colours-b"]
    for comparison in data:
        target = comparison["a"]["target"]
        assert (comparison["a"]["source"], comparison["b"]["source"]) == ("colours-a",
                                                                          "colours-b")
        assert comparison["a"]["seeds"] == comparison["b"]["seeds"] == [0, 1, 2]
        assert comparison["unit"] == "recipe" and comparison["unpaired"] == 0
        accuracy = next(d for d in comparison["differences"] if d["metric"] == "accuracy")
        a, b = _accuracy(trained, "colours-a", target), _accuracy(trained, "colours-b", target)
        assert accuracy["value_a"] == pytest.approx(100 * np.mean(a), abs=1e-4)
        assert accuracy["difference"] == pytest.approx(100 * (np.mean(a) - np.mean(b)), abs=1e-4)
        assert accuracy["ci_low"] <= accuracy["difference"] <= accuracy["ci_high"]
        assert 0 < accuracy["p_value"] <= 1
        for pair in comparison["pairs"]:  # McNemar per seed, equal to scipy's binomial test
            run_a, run_b = pair["run_a"], pair["run_b"]
            pa, pb = trained.predictions(run_a, target), trained.predictions(run_b, target)
            right_a = (pa.label == pa.predicted).to_numpy()
            right_b = (pb.label == pb.predicted).to_numpy()
            only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
            assert (pair["mcnemar"]["only_a"], pair["mcnemar"]["only_b"]) == (only_a, only_b)
            expected = 1.0 if only_a + only_b == 0 else stats.binomtest(
                only_a, only_a + only_b).pvalue
            assert pair["mcnemar"]["p_value"] == pytest.approx(expected, rel=1e-9)
        assert [p["seed_a"] for p in comparison["pairs"]] == [0, 1, 2]
    table = compare("--target", "colours-b", "--metric", "f1")
    assert table.exit_code == 0, table.output
    assert "from colours-a" in table.output and "the recipes (3 and 3 seeds" in table.output
    # Trained once (six runs), checked three ways.
    _other_pairs_each_model_on_the_other_sources_split_by_image_key(trained)
    _source_comparison_refuses_bad_input_clearly()


def _other_pairs_each_model_on_the_other_sources_split_by_image_key(trained):
    result = compare("--target", "other", "--json")
    store = trained
    runs = store.runs()
    a_id = runs[(runs.source == "colours-a") & (runs.seed == 0)]["id"].iloc[0]
    b_id = runs[(runs.source == "colours-b") & (runs.seed == 0)]["id"].iloc[0]
    on_b = store.predictions(a_id, "colours-b")  # A's model on B's test split
    on_a = store.predictions(b_id, "colours-a")
    common = sorted(set(on_b.path) & set(on_a.path))
    assert common  # the colour sets name their images alike (L/000.png)
    assert result.exit_code == 0, result.output
    (data,) = json.loads(result.stdout)
    assert (data["a"]["target"], data["b"]["target"]) == ("colours-b", "colours-a")
    assert data["images"] == len(common)
    assert data["unpaired"] == len(on_b) + len(on_a) - 2 * len(common)
    mine = on_b.set_index("path").loc[common]
    theirs = on_a.set_index("path").loc[common]
    (first,) = [p for p in data["pairs"] if p["seed_a"] == 0]
    right_a = (mine.label == mine.predicted).to_numpy()
    right_b = (theirs.label == theirs.predicted).to_numpy()
    assert first["mcnemar"]["only_a"] == int((right_a & ~right_b).sum())
    assert first["images"] == len(common)


def _source_comparison_refuses_bad_input_clearly():
    both = invoke("compare", "--sources", "colours-a,colours-b", "--models",
                  "tiny,tiny2", "--target", "colours-a")
    assert both.exit_code == 2 and "either --models" in both.output
    no_model = invoke("compare", "--sources", "colours-a,colours-b", "--target", "colours-a")
    assert no_model.exit_code == 2 and "needs --model" in no_model.output
    same = compare("--target", "colours-a", "--sources", "colours-a,colours-a")
    assert same.exit_code != 0
    typo = compare("--target", "colours-x")
    assert typo.exit_code == 1 and "colours-a" in typo.output
