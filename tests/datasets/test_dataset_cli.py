"""`bench datasets list|prepare|show|verify`, with and without --json."""

from __future__ import annotations

import json
from pathlib import Path

from dataset_fakes import write_image
from fixtures.cli import invoke
from PIL import Image


def run(*args: str, code: int = 0):
    result = invoke(*args)
    assert result.exit_code == code, result.output
    return result


def test_list_shows_every_data_set_with_paper_counts_until_prepared() -> None:
    rows = json.loads(run("datasets", "list", "--json").stdout)
    by_name = {row["name"]: row for row in rows}
    assert {"raabin", "raabin-cropped", "aml", "pbc", "ldwbc", "wbc-usid-b", "wbc-usid-c",
            "folder:PATH"} <= set(by_name)
    pbc = by_name["pbc"]
    assert pbc["prepared"] is False
    assert pbc["per_class"] == "L 1214, M 1420, N 3329, E 3117, B 1218 (paper)"
    assert pbc["licence"] == "CC BY 4.0" and "10.17632/snkd93bnjr.1" in pbc["download"]
    assert "Data sets" in run("datasets", "list").output


def test_prepare_then_list_show_verify(pbc_download: Path, tmp_path: Path) -> None:
    prepared = json.loads(run("datasets", "prepare", "PBC", "--from", str(pbc_download),
                              "--cache-size", "16", "--json").stdout)
    assert prepared["reused"] is False and len(prepared["fingerprint"]) == 64
    assert prepared["dropped"]["classes"] == {"erythroblast": 2, "ig": 3, "platelet": 2}
    again = run("datasets", "prepare", "pbc", "--from", str(pbc_download), "--cache-size", "16")
    assert "already prepared, nothing new to do" in again.output

    listed = {r["name"]: r for r in json.loads(run("datasets", "list", "--json").stdout)}
    assert listed["pbc"]["prepared"] is True
    assert listed["pbc"]["fingerprint"] == prepared["fingerprint"]
    assert listed["pbc"]["counts"]["L"]["train"] > 0

    grid = tmp_path / "grid.png"
    shown = json.loads(run("datasets", "show", "pbc", "--grid", str(grid), "--per-class", "3",
                           "--json").stdout)
    assert shown["fingerprint"] == prepared["fingerprint"]
    assert Image.open(grid).size == (150 + 3 * 96, 5 * 96)  # one row per class
    assert shown["count_rows"][-1]["total"] == sum(
        sum(c.values()) for c in shown["counts"].values())
    messages = [f["message"] for f in shown["audit"]["findings"]]
    assert any("BROKEN_0001.jpg" in m for m in messages)
    human = run("datasets", "show", "pbc").output
    assert "sample grid written to" in human and "fingerprint" in human

    verified = json.loads(run("datasets", "verify", "pbc", "--json").stdout)
    assert verified["ok"] is True
    assert "no drift" in run("datasets", "verify", "pbc").output


def test_verify_reports_drift_and_exits_1(pbc_download: Path) -> None:
    run("datasets", "prepare", "pbc", "--from", str(pbc_download), "--cache-size", "16")
    root = pbc_download / "PBC_dataset_normal_DIB"
    changed = sorted((root / "basophil").iterdir())[0]
    write_image(changed, fmt="JPEG")  # same name, new content
    sorted((root / "eosinophil").iterdir())[0].unlink()
    write_image(root / "monocyte" / "added.jpg")
    result = run("datasets", "verify", "pbc", "--json", code=1)
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["file hashes"]["status"] == "drift"
    assert f"basophil/{changed.name}" in checks["file hashes"]["detail"]
    assert checks["files present"]["status"] == "drift"
    assert "monocyte/added.jpg" in checks["new files"]["detail"]
    assert checks["manifest fingerprint"]["status"] == "ok"
    assert "drift found" in run("datasets", "verify", "pbc", code=1).output


def test_leakage_is_printed_loudly(leaky_wbc_usid: Path) -> None:
    output = " ".join(run("datasets", "prepare", "wbc-usid-b", "--from", str(leaky_wbc_usid),
                          "--cache-size", "16").output.split())  # undo rich's line wrapping
    assert "error: LEAKAGE: identical image in test and" in output
    assert "test/Monocyte/smear_3.png (test)" in output


def test_errors_are_one_clear_message() -> None:
    missing = run("datasets", "prepare", "aml", code=1)
    assert "Error:" in missing.output and "bench datasets prepare aml --from PATH" in missing.output
    assert "Traceback" not in missing.output
    unknown = run("datasets", "show", "pcb", code=1)
    assert "Did you mean: pbc" in unknown.output
    assert "not prepared" in run("datasets", "verify", "raabin", code=1).output


def test_generated_set_prepares_without_from(generated_set: Path) -> None:
    prepared = json.loads(run("datasets", "prepare", "ddpm-level2", "--cache-size", "16",
                              "--json").stdout)
    assert prepared["source"] == str(generated_set)
    assert sum(c["test"] for c in prepared["counts"].values()) == 20



def test_prepare_of_a_group_name_prepares_every_data_set_of_the_download(
        fake_wbc_usid: Path, install_distribution) -> None:
    install_distribution("lookalike", {"lookalike": "lookalike_plugin"})
    result = invoke("datasets", "prepare", "wbc-usid", "--from", str(fake_wbc_usid), "--json")
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in json.loads(result.stdout)] == ["wbc-usid-b", "wbc-usid-c"]
    from bench.download import _specs_for

    assert [spec.name for spec in _specs_for("WBC-USID")] == ["wbc-usid-b", "wbc-usid-c"]
    unknown = invoke("datasets", "prepare", "wbc-usi", "--from", str(fake_wbc_usid))
    assert unknown.exit_code == 1 and "unknown dataset 'wbc-usi'" in unknown.output
