"""Plugin discovery through entry points: first party, third party, broken and clashing."""

from __future__ import annotations

import json

import pytest
from fixtures import PLUGINS
from fixtures.cli import invoke

import bench


def plugin_status() -> dict[str, dict]:
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    return {row["plugin"]: row for row in json.loads(result.stdout)}


def test_first_party_plugins_come_through_the_entry_point_group():
    rows = plugin_status()
    for name in ("datasets", "models", "generators"):
        assert rows[name]["distribution"] == "wbc-bench"
        assert rows[name]["status"] == "loaded"
        assert rows[name]["module"] == f"bench_{name}"


def test_third_party_distribution_registers_a_model(install_distribution):
    install_distribution("acme-bench", {"acme": "acme_plugin"})
    rows = plugin_status()
    assert rows["acme"]["distribution"] == "acme-bench"
    assert rows["acme"]["registers"] == {"model": ["acme-net"]}
    assert bench.get_registries().models.get("ACME").name == "acme-net"


def test_plugin_that_raises_on_import_is_named_and_the_rest_still_work(install_distribution):
    install_distribution("broken-bench", {"broken": "broken_plugin"})
    install_distribution("acme-bench", {"acme": "acme_plugin"})
    rows = plugin_status()
    assert rows["broken"]["status"] == "failed"
    assert "database exploded" in rows["broken"]["error"]
    assert rows["acme"]["status"] == "loaded"
    assert "acme-net" in bench.get_registries().models
    result = invoke("models", "list", "--json")
    assert result.exit_code == 0 and "acme-net" in result.output


def test_mistyped_hook_name_is_reported_against_its_plugin(install_distribution):
    install_distribution("typo-bench", {"typo": "typo_plugin"})
    rows = plugin_status()
    assert rows["typo"]["status"] == "failed"
    assert "register_modles" in rows["typo"]["error"]
    assert rows["models"]["status"] == "loaded"


def test_hook_returning_the_wrong_type_is_reported(install_distribution):
    install_distribution("wrong-bench", {"wrong": "wrong_plugin"})
    rows = plugin_status()
    assert "returned str" in rows["wrong"]["error"]
    assert "expected bench.ModelSpec" in rows["wrong"]["error"]


def test_reserved_and_duplicate_entry_point_names_name_both_distributions(install_distribution):
    install_distribution("squatter", {"models": "acme_plugin"})
    install_distribution("copycat", {"acme": "acme_plugin"}, {})
    install_distribution("acme-bench", {"acme": "acme_plugin"}, {})
    records = bench.get_plugins().records
    squatter = next(r for r in records if r.distribution == "squatter")
    assert squatter.status == "clash"
    assert "wbc-bench" in squatter.error and "squatter" in squatter.error
    clashes = [r for r in records if r.name == "acme" and r.status == "clash"]
    assert len(clashes) == 1
    assert "acme-bench" in clashes[0].error and "copycat" in clashes[0].error


def test_two_plugins_registering_one_name_is_an_error_naming_both(install_distribution):
    install_distribution("acme-bench", {"acme": "acme_plugin"})
    install_distribution("rival-bench", {"rival": "rival_plugin"})
    registries = bench.get_registries()
    assert any("'acme'" in p and "'rival'" in p for p in registries.problems)
    result = invoke("plugins", "--json")
    assert "registered twice" in result.output


def test_environment_variable_disables_a_plugin(install_distribution, monkeypatch):
    install_distribution("broken-bench", {"broken": "broken_plugin"})
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "broken, nonexistent")
    rows = plugin_status()
    assert rows["broken"]["status"] == "disabled"
    assert "database exploded" not in json.dumps(rows)


def test_a_plugin_whose_commands_or_find_datasets_hook_raises_shows_as_failed(
        install_distribution):
    for name in ("cmds", "finder"):
        install_distribution(f"{name}-bench", {name: f"{name}_plugin"})
    bench.reset()
    rows = plugin_status()
    for name, hook in (("cmds", "register_commands"), ("finder", "find_datasets")):
        assert rows[name]["status"] == "failed", rows[name]
        assert hook in rows[name]["error"] and "hook exploded" in rows[name]["error"]
    assert rows["models"]["status"] == "loaded"


def test_running_a_model_whose_plugin_failed_names_that_plugin_and_its_error(
        install_distribution):
    install_distribution("broken-bench", {"broken": "broken_plugin"})
    result = invoke("run", "--model", "acme-net", "--source", "demo-b", "--target", "demo-b")
    assert result.exit_code == 1
    assert "unknown model 'acme-net'" in result.output
    assert "plugin 'broken' (broken-bench) failed" in result.output
    assert "database exploded" in result.output


def test_a_duplicate_name_blocks_only_that_name_and_both_plugins_say_so(install_distribution):
    for name in ("one", "two"):
        install_distribution(f"{name}-bench", {name: f"{name}_plugin"},
                             {f"{name}_plugin": PLUGINS / "shared_net_plugin.py"},
                             settings={"own": f"{name}-net"})
    models = bench.get_registries().models
    assert models.get("one-net").name == "one-net" and models.get("two-net").name == "two-net"
    with pytest.raises(bench.DuplicateNameError, match="plugin 'one'.*plugin 'two'"):
        models.get("shared-net")
    rows = plugin_status()
    for name in ("one", "two"):
        assert rows[name]["status"] == "loaded"
        assert rows[name]["registers"] == {"model": [f"{name}-net"]}
        assert "'shared-net' is registered twice" in rows[name]["error"]


def test_disabling_an_unknown_plugin_warns_and_names_the_known_ones(monkeypatch):
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "modles")
    # Any third-party plugin the user installed is listed too, among the first-party ones.
    listed = r"'modles'.*plugins are: (.*, )?datasets, (.*, )?generators, (.*, )?models\b"
    with pytest.warns(UserWarning, match=listed):
        bench.get_plugins()


def test_a_data_set_without_a_scan_is_refused_at_registration(install_distribution):
    install_distribution("noscan-bench", {"noscan": "noscan_plugin"})
    assert "no-scan" not in bench.get_registries().datasets
    rows = plugin_status()
    assert "'no-scan' is refused: scan must be a function" in rows["noscan"]["error"]


def test_plugins_check_runs_the_contract_checks_and_fails_with_the_reason(install_distribution):
    install_distribution("checked-bench", {"checked": "checked_plugin"})
    result = invoke("plugins", "check", "checked", "--json")
    assert result.exit_code == 1, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"good-net", "silent-net", "three-net", "checked-cells"}
    assert rows["good-net"]["result"] == rows["checked-cells"]["result"] == "pass"
    assert rows["silent-net"]["result"] == "warn"  # builds and trains, but says nothing of
    assert "declares no pretraining_data" in rows["silent-net"]["reason"]  # what it has seen
    assert rows["three-net"]["result"] == "fail"
    assert "expected (2, 5)" in rows["three-net"]["reason"]
    table = invoke("plugins", "check", "checked")
    assert table.exit_code == 1 and "three-net" in table.stdout and "fail" in table.stdout


def test_plugins_check_of_a_plugin_that_did_not_load_fails_and_an_unknown_one_is_named(
        install_distribution):
    install_distribution("broken-bench", {"broken": "broken_plugin"})
    result = invoke("plugins", "check", "broken", "--json")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert row["result"] == "fail" and "database exploded" in row["reason"]
    passing = invoke("plugins", "check", "generators", "--json")
    assert passing.exit_code == 0, passing.output
    assert {row["result"] for row in json.loads(passing.stdout)} <= {"pass", "skip"}
    unknown = invoke("plugins", "check", "nope")
    assert unknown.exit_code == 1 and "Known plugins: broken, datasets" in unknown.output
    assert invoke("plugins", "--json").exit_code == 0  # still a listing
