"""Pretrained weights for air-gapped machines, through the real download code and a local hub.

`local_hub` serves files as the Hugging Face hub does on 127.0.0.1 (HF_ENDPOINT points at it):
huggingface_hub itself downloads, bench verifies, packs, unpacks and finds them offline.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
import timm
import torch
from fixtures.cli import invoke
from safetensors.torch import save

import bench
from bench.models import build_model

REPO = "timm/test_vit.r160_in1k"
DOWNLOADS = [f"/{REPO}/resolve/main/model.safetensors"] * 2  # HEAD, then GET


def models():
    return bench.get_registries().models


def imagenet_vit() -> tuple[dict, bytes]:
    torch.manual_seed(3)
    state = {k: v.contiguous() for k, v in timm.create_model("test_vit").state_dict().items()}
    return state, save(state)


def bench_command(*args: str):
    """The command; an exception it raises fails the test with its traceback."""
    return invoke(*args, catch_exceptions=False)


@pytest.fixture
def no_hub_calls(monkeypatch):
    """Fail the test if huggingface_hub is asked to download anything."""
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("hf_hub_download was called")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse)


def test_offline_a_missing_weight_fails_at_once_without_any_request(local_hub, monkeypatch,
                                                                     no_hub_calls):
    local_hub(REPO, {"model.safetensors": imagenet_vit()[1]})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(bench.WeightsUnavailable) as caught:
        build_model(models().get("timm:test_vit"))
    assert local_hub.server.requests == []  # not even the connection probe
    message = str(caught.value)
    assert "HF_HUB_OFFLINE is set" in message and "Three ways out" in message
    assert "`bench weights download timm:test_vit --to DIR`" in message


def test_an_unreachable_hub_fails_after_one_connection_attempt(monkeypatch, no_hub_calls):
    import socket

    attempts = []

    def refused(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example:443")
    monkeypatch.setattr(socket, "create_connection", refused)
    with pytest.raises(bench.WeightsUnavailable, match=r"https://hub\.example:443 cannot be "
                                                       r"reached \(Connection refused; one "
                                                       r"connection tried"):
        build_model(models().get("timm:test_vit"))
    assert attempts == [("hub.example", 443)]  # one attempt, no retries, no download


def test_download_pack_unpack_round_trip_through_the_local_hub(local_hub, tmp_path,
                                                               monkeypatch):
    state, body = imagenet_vit()
    local_hub(REPO, {"model.safetensors": body})
    online = tmp_path / "online-weights"
    result = bench_command("weights", "download", "timm:test_vit", "--to", str(online), "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)[0]
    assert row["status"] == "downloaded" and row["sha256"] == hashlib.sha256(body).hexdigest()
    assert [path for path, _ in local_hub.server.requests] == DOWNLOADS
    again = json.loads(bench_command("weights", "download", "timm:test_vit", "--to", str(online),
                                     "--json").output)[0]
    assert again["status"] == "present" and len(local_hub.server.requests) == 2

    archive = tmp_path / "weights.tar"
    packed = json.loads(bench_command("weights", "pack", str(archive), "--from", str(online),
                                      "--json").output)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "bench-weights.json" and f"models--timm--test_vit.r160_in1k/snapshots/" \
        f"{local_hub.server.headers[DOWNLOADS[0]]['X-Repo-Commit']}/model.safetensors" in names
    assert packed["files"] == 3 and packed["bytes"] > len(body)  # the blob, refs/main, a tag

    # The air-gapped machine: offline, an empty Hugging Face cache, the archive copied over.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("BENCH_WEIGHTS", str(tmp_path / "air-gapped"))
    unpacked = json.loads(bench_command("weights", "unpack", str(archive), "--json").output)
    assert unpacked["files"] == 3 and unpacked["folder"] == str(tmp_path / "air-gapped")
    listed = json.loads(bench_command("weights", "list", "--json").output)
    assert [f["file"] for f in listed["files"]] == [f"{REPO}/model.safetensors"]
    built = build_model(models().get("timm:test_vit"))
    assert built.weights["source"] == "weights-folder"
    assert built.weights["sha256"] == hashlib.sha256(body).hexdigest()
    loaded = built.module.state_dict()
    assert all(torch.equal(state[k], loaded[k]) for k in loaded if not k.startswith("head."))
    assert len(local_hub.server.requests) == 2  # nothing more was fetched


def test_the_weights_folder_can_be_set_in_the_data_home(local_hub, bench_home, tmp_path):
    local_hub(REPO, {"model.safetensors": imagenet_vit()[1]})
    (bench_home / "settings.toml").write_text('weights = "shared-weights"\n')
    result = bench_command("weights", "download", "timm:test_vit", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["path"].startswith(str(bench_home / "shared-weights"))
    assert build_model(models().get("timm:test_vit")).weights["source"] == "weights-folder"


def test_a_download_that_does_not_match_the_hubs_checksum_is_removed(local_hub, tmp_path):
    _, body = imagenet_vit()
    local_hub(REPO, {"model.safetensors": body})
    path = f"/{REPO}/resolve/main/model.safetensors"
    local_hub.server.files[path] = body[:-1] + bytes([body[-1] ^ 1])  # one bit flipped in transit
    with pytest.raises(bench.RunError, match="model.safetensors is corrupt: its SHA-256 is"):
        bench.hub.fetch(bench.WeightFile(repo=REPO, filenames=("model.safetensors",)),
                        tmp_path / "w")
    assert not [p for p in (tmp_path / "w").rglob("*") if p.is_file()
                and p.parent.name in ("blobs", "snapshots")]


def _packed(tmp_path, local_hub) -> tuple:
    local_hub(REPO, {"model.safetensors": imagenet_vit()[1]})
    bench_command("weights", "download", "timm:test_vit", "--to", str(tmp_path / "w"))
    archive = tmp_path / "weights.tar"
    bench_command("weights", "pack", str(archive), "--from", str(tmp_path / "w"))
    return archive


def test_a_damaged_archive_unpacks_nothing(local_hub, tmp_path):
    archive = _packed(tmp_path, local_hub)
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        blob = next(m for m in tar.getmembers() if m.isfile() and "blobs" in m.name)
    data[blob.offset_data + 100] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = bench_command("weights", "unpack", str(archive), "--to", str(tmp_path / "target"))
    assert result.exit_code == 1
    assert "is damaged, nothing was unpacked" in result.output
    assert "SHA-256 differs" in result.output
    assert not [p for p in (tmp_path / "target").rglob("*") if not p.is_dir()]


def test_an_archive_member_outside_the_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        body = json.dumps({"format": 1, "files": {}}).encode()
        info = tarfile.TarInfo("bench-weights.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
        info = tarfile.TarInfo("../escaped.bin")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    result = bench_command("weights", "unpack", str(archive), "--to", str(tmp_path / "target"))
    assert result.exit_code == 1 and "outside the weights folder" in result.output
    assert not (tmp_path / "escaped.bin").exists()


def test_download_names_models_it_cannot_fetch(local_hub):
    result = bench_command("weights", "download", "timm")
    assert result.exit_code == 1 and "is a family of models" in result.output
    assert "name one as timm:<name>, e.g. timm:resnet18." in result.output  # its demo model
    result = bench_command("weights", "download", "hf-hub")
    assert result.exit_code == 1 and "name one as hf-hub:<name>." in result.output
    result = bench_command("weights", "download", "no-such-model")
    assert result.exit_code == 1 and "unknown model 'no-such-model'" in result.output


def test_a_timm_model_from_the_hub_by_repo_name(local_hub, tmp_path):
    torch.manual_seed(5)
    source = timm.create_model("test_resnet", num_classes=7)
    config = {"architecture": "test_resnet", "num_classes": 7,
              "pretrained_cfg": {"input_size": [3, 96, 96], "mean": [0.5, 0.5, 0.5],
                                 "std": [0.25, 0.25, 0.25], "interpolation": "bicubic",
                                 "classifier": "fc"}}
    local_hub("acme/tiny-resnet", {
        "config.json": json.dumps(config).encode(),
        "model.safetensors": save({k: v.contiguous() for k, v in source.state_dict().items()}),
    })
    spec = models().get("hf-hub:acme/tiny-resnet")
    assert spec.name == "hf-hub:acme/tiny-resnet" and spec.pretraining_data is None
    built = build_model(spec)
    assert (built.input_size, built.mean, built.interpolation) == (96, (0.5,) * 3, "bicubic")
    assert built.weights["source"] == "hub" and built.module.fc.out_features == 5
    loaded = built.module.state_dict()
    assert all(torch.equal(source.state_dict()[k], loaded[k]) for k in loaded
               if not k.startswith("fc."))
    result = bench_command("weights", "download", "hf-hub:acme/tiny-resnet", "--to",
                           str(tmp_path / "w"), "--json")
    assert [row["file"] for row in json.loads(result.output)] == [
        "acme/tiny-resnet/config.json", "acme/tiny-resnet/model.safetensors"]


def test_a_plain_url_is_fetched_into_the_folder_and_checked_against_its_pinned_sha256(
        local_hub, tmp_path, monkeypatch):
    body = b"weights of a plugin that publishes a plain file"
    local_hub.server.files["/release/w.pth"] = body
    url = f"{local_hub.server.url}/release/w.pth"
    pinned = bench.WeightFile(url=url, sha256=hashlib.sha256(body).hexdigest())
    path = bench.hub.fetch(pinned, tmp_path / "w")
    assert path == tmp_path / "w" / "urls" / "w.pth" and path.read_bytes() == body
    monkeypatch.setenv("BENCH_WEIGHTS", str(tmp_path / "w"))
    assert bench.kit.pretrained_file(pinned) == (path, "weights-folder")
    wrong = bench.WeightFile(url=url, sha256="0" * 64)
    with pytest.raises(bench.RunError, match="sha256 .* does not match the publisher's 0000"):
        bench.hub.fetch(wrong, tmp_path / "other")
