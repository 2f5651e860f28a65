"""Nothing bench reads back from disk is unpickled: a planted payload is refused, never run."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures.cli import invoke

import bench

ROOT = Path(__file__).resolve().parents[2]
RUN = ["run", "--protocol", "quick", "--image-size", "16", "--batch-size", "8", "--no-pretrained",
       "--json", "--model", "tiny", "--source", "colours-a"]


class Payload:
    """Unpickling this creates ``marker``: proof that code from a file ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "payload-ran"
    pickle.loads(pickle.dumps(Payload(path)))  # the payload is live ...
    assert path.exists()
    path.unlink()  # ... and every test below proves bench never runs it
    return path


def plant_torch(path: Path, marker: Path) -> None:
    torch.save({"model": Payload(marker), "epoch": 1}, path)


def test_no_source_file_loads_with_pickle():
    pattern = re.compile(r"weights_only\s*=\s*False|allow_pickle\s*=\s*True|pickle\.loads?\(|"
                         r"import (cloud)?pickle|joblib\.load|torch\.load\((?![^)]*weights_only)")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("bench", "plugins") for path in (ROOT / folder).rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line) and "UnpicklingError" not in line]
    assert offenders == []


@pytest.mark.parametrize("file", ["last.pt", "best.pt"])
def test_a_payload_in_a_run_checkpoint_is_refused(tiny_world, bench_home, marker, file):
    assert invoke(*RUN, "--target", "colours-a", "--epochs", "1").exit_code == 0
    [folder] = (bench_home / "runs").iterdir()
    plant_torch(folder / file, marker)
    if file == "last.pt":  # resumed by a retry of the cell
        bench.open_store().fail(folder.name, "interrupted")
        result = invoke(*RUN, "--target", "colours-a", "--epochs", "1", "--retry-failed")
    else:  # read to test the trained model on a new target
        result = invoke(*RUN, "--target", "colours-b", "--epochs", "1")
    assert result.exit_code == 1
    assert "never unpickles" in result.output and file in result.output
    assert not marker.exists()


def test_a_payload_given_as_weights_is_refused(tiny_world, tmp_path, marker):
    weights = tmp_path / "weights.pt"
    plant_torch(weights, marker)
    result = invoke(*RUN, "--target", "colours-a", "--weights", str(weights))
    assert result.exit_code == 1 and "pickled" in result.output
    assert not marker.exists()


def test_a_payload_in_a_decoded_cache_is_refused(tiny_world, marker):
    dataset = bench.data.load_prepared("colours-a")
    size = dataset.cached_sizes()[0]
    (dataset.folder.cache_dir(size) / "images.npy").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(bench.DataError, match="damaged"):
        bench.data.cache.open_split(dataset.folder, size, "train")
    result = invoke("datasets", "verify", "colours-a")
    assert "cache" in result.output and result.exit_code == 1
    assert bench.data.prepare_dataset("colours-a", progress=False).repaired
    assert not marker.exists()


def test_payloads_in_every_ddpm_file_are_refused(tmp_path, marker):
    from bench_generators.procedural import ProceduralCells

    cells = ProceduralCells().generate("L", 6, partition="A", seed=0)
    generator = bench.kit.cell_generator(f"ddpm:{tmp_path / 'ddpm'}")
    generator.train("L", cells, partition="A", config="tiny", max_steps=2, checkpoint_every=2)
    folder = tmp_path / "ddpm" / "A" / "Lymphocyte"
    files = [folder / "state" / "training.pt", folder / "state" / "model.safetensors"]
    for planted in files:
        backup = planted.read_bytes()
        if planted.suffix == ".pt":
            plant_torch(planted, marker)
        else:
            planted.write_bytes(pickle.dumps(Payload(marker)))
        with pytest.raises(bench.RunError, match="never unpickles"):
            generator.train("L", cells, partition="A", max_steps=4)
        planted.write_bytes(backup)
    unet = folder / "unet" / "diffusion_pytorch_model.safetensors"
    unet.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(Exception):  # noqa: B017 - refused by safetensors, whatever its words
        bench.kit.cell_generator(f"ddpm:{tmp_path / 'ddpm'}").generate(
            "L", 1, partition="A", seed=0)
    assert not marker.exists()
    assert json.loads((folder / "training.json").read_text())["step"] == 2


def test_a_payload_in_a_cached_cell_chunk_is_drawn_again_not_run(tmp_path, marker):
    from bench_generators.compositor import Compositor, _Drawer
    from bench_generators.procedural import ProceduralCells

    drawer = _Drawer(tmp_path / "cells", "A", 0, 64, Compositor("base"), lambda *a: None, "")
    chunk = drawer._path("L", 0, 2)
    chunk.parent.mkdir(parents=True)
    np.savez(chunk, **{"0000": np.array([Payload(marker)], dtype=object)})
    cells = drawer._chunk(ProceduralCells(), "L", 0, 2)
    assert len(cells) == 2 and all(c.dtype == np.uint8 for c in cells)
    assert not marker.exists()
