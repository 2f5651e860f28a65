"""The DDPM cell generator: the paper network, real (tiny) training, sampling, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import invoke
from PIL import Image

import bench
from bench.generation.contract import cell_generator
from bench.generation.datasets import generate_dataset

torch = pytest.importorskip("torch")


@pytest.fixture
def lymphocytes(procedural):
    return procedural.generate("L", 6, partition="A", seed=0)


def _parameters(unet) -> int:
    return sum(p.numel() for p in unet.parameters())


def test_paper_network_is_what_the_paper_describes():
    from bench_generators.ddpm_model import PRESETS, build_unet
    from diffusers.models.upsampling import Upsample2D

    with torch.device("meta"):  # the layout, without allocating 67M parameters
        unet = build_unet(PRESETS["paper"])
        diffusers_layout = build_unet(PRESETS["diffusers"])
    config = unet.config
    assert config.sample_size == 64
    assert tuple(config.block_out_channels) == (128, 128, 256, 256, 512)
    assert config.layers_per_block == 2
    assert list(config.down_block_types) == ["AttnDownBlock2D"] * 5
    assert list(config.up_block_types) == ["AttnUpBlock2D"] * 5
    # every block, down and up, is two ResNet layers, each followed by attention
    for block in (*unet.down_blocks, *unet.up_blocks):
        assert len(block.resnets) == 2 and len(block.attentions) == 2
    assert config.upsampling == "transposed-conv"
    # diffusers' own up blocks (layers_per_block + 1) stay available as a named preset
    assert [len(b.resnets) for b in diffusers_layout.up_blocks] == [3] * 5
    assert (_parameters(unet), _parameters(diffusers_layout)) == (66_810_371, 81_543_683)
    downsamplers = [b.downsamplers[0].conv for b in unet.down_blocks if b.downsamplers]
    assert len(downsamplers) == 4 and all(c.stride == (2, 2) for c in downsamplers)
    upsamplers = [b.upsamplers[0] for b in unet.up_blocks if b.upsamplers]
    assert len(upsamplers) == 4
    assert all(isinstance(u, Upsample2D) and isinstance(u.conv, torch.nn.ConvTranspose2d)
               for u in upsamplers)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_paper_up_blocks_use_every_skip_and_survive_a_save(tmp_path, layers):
    """Five levels as in the paper, small channels: the skips line up in shape and number."""
    from bench_generators.ddpm_model import build_unet, config_from_json, load_unet, make_config

    config = make_config("paper", resolution=16, channels=(8, 8, 16, 16, 32), norm_groups=4,
                         layers_per_block=layers)
    unet = build_unet(config).eval()
    assert [len(b.resnets) for b in unet.up_blocks] == [layers] * 5
    skips = []  # what each down block leaves for the up blocks, after the layout's own hook
    for block in unet.down_blocks:
        block.register_forward_hook(lambda block, args, out: skips.append(len(out[1])))
    x = torch.randn(2, 3, 16, 16)
    with torch.inference_mode():
        out = unet(x, torch.tensor([3, 700])).sample
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert 1 + sum(skips) == 5 * layers  # the stem's skip and the blocks': each used once
    unet.save_pretrained(tmp_path)
    again = load_unet(tmp_path)
    assert [len(b.resnets) for b in again.up_blocks] == [layers] * 5
    with torch.inference_mode():
        assert torch.equal(again(x, torch.tensor([3, 700])).sample, out)
    # a checkpoint saved before the setting existed has diffusers' up blocks
    assert config_from_json({"layers_per_block": 2}).up_blocks == "diffusers"
    legacy = tmp_path / "legacy"
    build_unet(make_config(config, up_blocks="diffusers")).save_pretrained(legacy)
    assert [len(b.resnets) for b in load_unet(legacy).up_blocks] == [layers + 1] * 5


def test_attention_placement_and_bad_configs():
    from bench_generators.ddpm_model import build_unet, make_config

    config = make_config("tiny", attention=(False, True))
    assert list(build_unet(config).config.down_block_types) == ["DownBlock2D",
                                                                "AttnDownBlock2D"]
    with pytest.raises(bench.DataError, match="one per level"):
        make_config("tiny", attention=(True,))
    with pytest.raises(bench.DataError, match="divisible"):
        make_config("paper", resolution=40)
    with pytest.raises(bench.DataError, match="unknown DDPM configuration"):
        make_config("huge")
    with pytest.raises(bench.DataError, match="up_blocks='mirror': use one of paper"):
        make_config("paper", up_blocks="mirror")


def test_tiny_model_trains_saves_samples_with_every_scheduler(tmp_path, lymphocytes):
    from safetensors.torch import load_file

    generator = cell_generator(f"ddpm:{tmp_path}")
    info = generator.train("L", lymphocytes, partition="A", config="tiny")
    folder = tmp_path / "A" / "Lymphocyte"
    assert info["step"] == 4 and np.isfinite(info["loss"]) and info["images"] == 6
    assert (folder / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    assert json.loads((folder / "unet" / "config.json").read_text())["sample_size"] == 16
    assert (folder / "scheduler" / "scheduler_config.json").is_file()
    assert json.loads((folder / "training.json").read_text())["step"] == 4
    # the sampling weights are the EMA's, not the raw ones
    ema = load_file(folder / "unet" / "diffusion_pytorch_model.safetensors")
    raw = load_file(folder / "state" / "model.safetensors")
    assert any(not torch.equal(ema[k], raw[k]) for k in raw)

    for scheduler in ("ddpm", "ddim", "dpm-solver"):
        sampler = cell_generator(f"ddpm:{tmp_path}", scheduler=scheduler, steps=4,
                                 batch_size=2)
        cells = sampler.generate("L", 3, partition="A", seed=7)
        assert [c.shape for c in cells] == [(16, 16, 3)] * 3
        assert all(c.dtype == np.uint8 for c in cells)
        assert not np.array_equal(cells[0], cells[1])
        # a cell depends on its index, not on the batch it was drawn in
        again = cell_generator(f"ddpm:{tmp_path}", scheduler=scheduler, steps=4,
                               batch_size=5).generate("L", 2, partition="A", seed=7, start=1)
        assert np.array_equal(cells[1], again[0]) and np.array_equal(cells[2], again[1])


def test_faithful_sampler_is_the_default():
    from bench_generators.ddpm_model import make_scheduler

    sampler = cell_generator("ddpm:anywhere")
    assert (sampler.scheduler, sampler.steps) == ("ddpm", 1000)
    scheduler = make_scheduler("ddpm")
    scheduler.set_timesteps(sampler.steps)
    assert len(scheduler.timesteps) == 1000 and type(scheduler).__name__ == "DDPMScheduler"
    assert cell_generator("ddpm:x", scheduler="ddim").steps == 50
    assert cell_generator("ddpm:x", scheduler="dpm-solver").steps == 20
    with pytest.raises(bench.DataError, match="scheduler"):
        cell_generator("ddpm:x", scheduler="euler")


def test_an_interrupted_training_resumes_to_the_same_model(tmp_path, lymphocytes):
    from safetensors.torch import load_file

    once = cell_generator(f"ddpm:{tmp_path / 'once'}")
    once.train("L", lymphocytes, partition="B", config="tiny", max_steps=6, checkpoint_every=3)

    class Interrupted(Exception):
        pass

    def stop_after_four(step, total, loss):
        if step == 4:  # one step past the checkpoint at 3: that step is lost and redone
            raise Interrupted

    twice = cell_generator(f"ddpm:{tmp_path / 'twice'}")
    with pytest.raises(Interrupted):
        twice.train("L", lymphocytes, partition="B", config="tiny", max_steps=6,
                    checkpoint_every=3, progress=stop_after_four)
    saved = json.loads((tmp_path / "twice" / "B" / "Lymphocyte" / "training.json").read_text())
    assert saved["step"] == 3
    info = twice.train("L", lymphocytes, partition="B")  # resumes with the saved config
    assert info["step"] == 6
    for part in ("state/model.safetensors", "unet/diffusion_pytorch_model.safetensors"):
        a = load_file(tmp_path / "once" / "B" / "Lymphocyte" / part)
        b = load_file(tmp_path / "twice" / "B" / "Lymphocyte" / part)
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    longer = twice.train("L", lymphocytes, partition="B", max_steps=8)  # more steps later
    assert longer["step"] == 8
    with pytest.raises(bench.RunError, match="different network"):
        twice.train("L", lymphocytes, partition="B", config="tiny", channels=(8, 16))


def test_missing_checkpoint_and_too_few_images(tmp_path, lymphocytes):
    with pytest.raises(bench.DataError, match="no DDPM checkpoint for Monocyte.*train-ddpm"):
        cell_generator(f"ddpm:{tmp_path}").generate("M", 1, partition="A", seed=0)
    with pytest.raises(bench.DataError, match="--rbc-cells procedural"):
        cell_generator(f"ddpm:{tmp_path}").generate("RBC", 1, partition="B", seed=0)
    with pytest.raises(bench.DataError, match="at least 16 .*min_images"):
        cell_generator(f"ddpm:{tmp_path}").train("L", lymphocytes, partition="A",
                                                 config="paper")


def test_plain_ddpm_reads_the_default_folder_in_the_data_home(bench_home):
    assert cell_generator("ddpm").directory == bench_home / "generators" / "ddpm-raabin"
    assert cell_generator("ddpm:mine").directory == bench_home / "generators" / "mine"


def _rbc_folder(root: Path, procedural) -> Path:
    folder = root / "cell_images" / "Uninfected"
    folder.mkdir(parents=True)
    for i, cell in enumerate(procedural.generate("RBC", 6, partition="A", seed=3)):
        image = np.zeros((*cell.shape[:2], 3), np.uint8)  # NIH crops: the cell on black
        alpha = cell[..., 3:4] / 255
        image[:] = np.rint(cell[..., :3] * alpha)
        Image.fromarray(image[:, 2:]).save(folder / f"C{i}_cell.png")  # not square
    return root / "cell_images"


def test_cli_trains_from_a_prepared_data_set_then_composes_from_ddpm(tmp_path, procedural):
    generate_dataset("source", train=40, test=5, size=32, level="base", workers=1)
    out = tmp_path / "models"
    result = invoke(
        "generate", "train-ddpm", "--dataset", "source", "--partition", "both", "--classes",
        "L,M,N,E,B,RBC", "--rbc", str(_rbc_folder(tmp_path, procedural)), "--config", "tiny",
        "--steps", "2", "--out", str(out), "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # progress goes to stderr
    assert len(rows) == 12 and {r["partition"] for r in rows} == {"A", "B"}
    # 40 official train images: 30 in the train split, 6 per class, 3 per half
    assert all(r["step"] == 2 and r["images"] == 3 for r in rows if r["label"] != "RBC")
    assert len({r["halving"] for r in rows if r["label"] != "RBC"}) == 1  # one fixed halving
    assert {r["images"] for r in rows if r["label"] == "RBC"} == {3}
    assert (out / "B" / "RBC" / "unet" / "config.json").is_file()
    shown = invoke("generators", "show", f"ddpm:{out}", "--json")
    trained = json.loads(shown.stdout)["trained"]
    assert len(trained) == 12 and {t["step"] for t in trained} == {2}

    # an untrained DDPM draws noise: no cell to cut out, which is counted and then refused
    result = invoke(
        "generate", "dataset", "from-ddpm", "--cells", f"ddpm:{out}", "--scheduler", "ddim",
        "--steps", "2", "--train", "5", "--test", "5", "--size", "32", "--no-prepare",
    )
    assert result.exit_code == 1 and "no plain background" in result.output
    # sampler options belong to the DDPM cells; procedural background cells just ignore them
    result = invoke(
        "generate", "dataset", "from-ddpm-2", "--cells", f"ddpm:{out}", "--rbc-cells",
        "procedural", "--scheduler", "ddim", "--steps", "2", "--train", "5", "--test", "5",
        "--size", "32", "--no-prepare",
    )
    assert "has no option scheduler" not in result.output


def test_cli_train_ddpm_bad_input(tmp_path):
    generate_dataset("small", train=10, test=5, size=32, level="base", workers=1)
    result = invoke("generate", "train-ddpm", "--dataset", "small", "--out", str(tmp_path))
    assert result.exit_code == 1 and "too few images" in result.output
    assert not list(tmp_path.iterdir())  # refused before training anything
    result = invoke("generate", "train-ddpm", "--dataset", "small", "--config",
                    "huge", "--out", str(tmp_path))
    assert result.exit_code == 2 and "'paper', 'diffusers', 'tiny'" in result.output
    result = invoke("generate", "train-ddpm", "--dataset", "no-such-set",
                    "--classes", "L", "--out", str(tmp_path))
    assert result.exit_code == 1 and "unknown dataset" in result.output.lower()
    result = invoke("generate", "train-ddpm", "--classes", "RBC", "--out", str(tmp_path))
    assert result.exit_code == 1 and "--rbc PATH" in result.output
    result = invoke("generate", "train-ddpm", "--classes", "RBC", "--rbc",
                    str(tmp_path / "missing"), "--out", str(tmp_path))
    assert result.exit_code == 2 and "does not exist" in result.output  # a usage error now


def test_a_missing_model_hint_names_the_data_set_and_config_of_the_trained_ones(
        tmp_path, lymphocytes):
    cell_generator(f"ddpm:{tmp_path}").train("L", lymphocytes, partition="A", config="tiny",
                                             max_steps=1,
                                             record={"source": "my-cells (train split)"})
    result = invoke("generate", "sample", "--cells", f"ddpm:{tmp_path}",
                    "--classes", "L", "--partition", "B", "--per-class", "1",
                    "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert (f"bench generate train-ddpm --dataset my-cells --config tiny --partition B --out "
            f"{tmp_path}") in result.output


def test_train_ddpm_dry_run_times_one_step_sizes_the_checkpoints_and_writes_nothing(tmp_path):
    generate_dataset("source", train=40, test=5, size=32, level="base", workers=1)
    out = tmp_path / "models"
    args = ["generate", "train-ddpm", "--dataset", "source", "--classes", "L,M", "--config",
            "tiny", "--steps", "3", "--out", str(out)]
    result = invoke(*args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    models = plan["models"]
    assert sorted((m["label"], m["partition"]) for m in models) == [
        ("L", "A"), ("L", "B"), ("M", "A"), ("M", "B")]
    assert {(m["steps"], m["max_steps"]) for m in models} == {(3, 3)}
    assert all(m["seconds_per_step"] > 0 and m["seconds"] == 3 * m["seconds_per_step"]
               for m in models)
    assert plan["seconds"] == sum(m["seconds"] for m in models)
    assert not out.exists()  # no checkpoint, not even the folder

    text = invoke(*args, "--dry-run")
    assert text.exit_code == 0, text.output
    assert "dry run: 4 models" in text.output and "Nothing was trained" in text.output
    assert not out.exists()

    # the disk figure is what a real checkpoint of that model takes (within the files' own
    # overhead per tensor, a few percent for a network this small)
    trained = invoke(*args[:5], "L", *args[6:], "--partition", "A")
    assert trained.exit_code == 0, trained.output
    folder = out / "A" / "Lymphocyte"
    written = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert 0.9 * written < models[0]["checkpoint_bytes"] <= written
