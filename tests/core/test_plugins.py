"""Plugin discovery through entry points: first party, third party, broken and clashing."""

from __future__ import annotations

import json

from click.testing import CliRunner

import bench
from bench.cli import cli

GOOD_PLUGIN = """
import bench

def _factory(num_classes, pretrained):
    raise NotImplementedError

@bench.hookimpl
def register_models():
    return [bench.ModelSpec(name="acme-net", aliases=("acme",), factory=_factory,
                            description="ACME's network")]
"""


def plugin_status() -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    return {row["plugin"]: row for row in json.loads(result.output)}


def test_first_party_plugins_come_through_the_entry_point_group():
    rows = plugin_status()
    for name in ("datasets", "models", "generators"):
        assert rows[name]["distribution"] == "wbc-bench"
        assert rows[name]["status"] == "loaded"
        assert rows[name]["module"] == f"bench_{name}"


def test_third_party_distribution_registers_a_model(install_distribution):
    install_distribution("acme-bench", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    rows = plugin_status()
    assert rows["acme"]["distribution"] == "acme-bench"
    assert rows["acme"]["registers"] == {"model": ["acme-net"]}
    assert bench.get_registries().models.get("ACME").name == "acme-net"


def test_plugin_that_raises_on_import_is_named_and_the_rest_still_work(install_distribution):
    install_distribution("broken-bench", {"broken": "broken_plugin"},
                         {"broken_plugin": "raise RuntimeError('database exploded')"})
    install_distribution("acme-bench", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    rows = plugin_status()
    assert rows["broken"]["status"] == "failed"
    assert "database exploded" in rows["broken"]["error"]
    assert rows["acme"]["status"] == "loaded"
    assert "acme-net" in bench.get_registries().models
    result = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert result.exit_code == 0 and "acme-net" in result.output


def test_mistyped_hook_name_is_reported_against_its_plugin(install_distribution):
    code = "import bench\n\n@bench.hookimpl\ndef register_modles():\n    return []\n"
    install_distribution("typo-bench", {"typo": "typo_plugin"}, {"typo_plugin": code})
    rows = plugin_status()
    assert rows["typo"]["status"] == "failed"
    assert "register_modles" in rows["typo"]["error"]
    assert rows["models"]["status"] == "loaded"


def test_hook_returning_the_wrong_type_is_reported(install_distribution):
    code = "import bench\n\n@bench.hookimpl\ndef register_models():\n    return ['resnet']\n"
    install_distribution("wrong-bench", {"wrong": "wrong_plugin"}, {"wrong_plugin": code})
    rows = plugin_status()
    assert "returned str" in rows["wrong"]["error"]
    assert "expected bench.ModelSpec" in rows["wrong"]["error"]


def test_reserved_and_duplicate_entry_point_names_name_both_distributions(install_distribution):
    install_distribution("squatter", {"models": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
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
    other = GOOD_PLUGIN.replace('aliases=("acme",)', 'aliases=()')
    install_distribution("acme-bench", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    install_distribution("rival-bench", {"rival": "rival_plugin"}, {"rival_plugin": other})
    registries = bench.get_registries()
    assert any("'acme'" in p and "'rival'" in p for p in registries.problems)
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert "registered twice" in result.output


def test_environment_variable_disables_a_plugin(install_distribution, monkeypatch):
    install_distribution("broken-bench", {"broken": "broken_plugin"},
                         {"broken_plugin": "raise RuntimeError('boom')"})
    monkeypatch.setenv("BENCH_DISABLE_PLUGINS", "broken, nonexistent")
    rows = plugin_status()
    assert rows["broken"]["status"] == "disabled"
    assert "boom" not in json.dumps(rows)
