"""DinoBloom: the authors' files, in their published key layout, served by a local hub.

The layouts are written out from DINOv2's module structure (github.com/facebookresearch/dinov2,
as DinoBloom vendors it), not derived from timm, so the key mapping is tested, not assumed.
"""

from __future__ import annotations

import io

import pytest
import timm
import torch
import torch.nn.functional as F

import bench
from bench.models import build_model

# DINOv2 sizes: embedding width, depth, MLP hidden width, fused SwiGLU (ViT-G)
DINOV2 = {"s": (384, 12, 1536, False), "b": (768, 12, 3072, False),
          "l": (1024, 24, 4096, False), "g": (1536, 40, 4096, True)}
TIMM = {"s": "vit_small_patch14_dinov2", "b": "vit_base_patch14_dinov2",
        "l": "vit_large_patch14_dinov2", "g": "vit_giant_patch14_dinov2"}


def dinov2_shapes(variant: str) -> dict[str, tuple[int, ...]]:
    """Key -> shape of DINOv2's ViT at 224 px, as `model.state_dict()` of the hub model has it."""
    width, depth, hidden, swiglu = DINOV2[variant]
    shapes = {"cls_token": (1, 1, width), "pos_embed": (1, 257, width), "mask_token": (1, width),
              "patch_embed.proj.weight": (width, 3, 14, 14), "patch_embed.proj.bias": (width,)}
    for block in range(depth):
        mlp = ({"mlp.w12.weight": (2 * hidden, width), "mlp.w12.bias": (2 * hidden,),
                "mlp.w3.weight": (width, hidden), "mlp.w3.bias": (width,)} if swiglu else
               {"mlp.fc1.weight": (hidden, width), "mlp.fc1.bias": (hidden,),
                "mlp.fc2.weight": (width, hidden), "mlp.fc2.bias": (width,)})
        parts = {"norm1.weight": (width,), "norm1.bias": (width,),
                 "attn.qkv.weight": (3 * width, width), "attn.qkv.bias": (3 * width,),
                 "attn.proj.weight": (width, width), "attn.proj.bias": (width,),
                 "ls1.gamma": (width,), "norm2.weight": (width,), "norm2.bias": (width,),
                 **mlp, "ls2.gamma": (width,)}
        shapes.update({f"blocks.{block}.{key}": shape for key, shape in parts.items()})
    return {**shapes, "norm.weight": (width,), "norm.bias": (width,)}


@pytest.mark.parametrize("variant", list(DINOV2))
def test_each_published_layout_maps_onto_its_timm_vit_key_for_key(variant):
    from bench_models.dinobloom import dinov2_to_timm

    published = {key: torch.empty(shape, device="meta")
                 for key, shape in dinov2_shapes(variant).items()}
    teacher = {f"backbone.{key}": value for key, value in published.items()}
    teacher["dino_head.mlp.0.weight"] = torch.empty(2048, DINOV2[variant][0], device="meta")
    with torch.device("meta"):
        module = timm.create_model(TIMM[variant], img_size=224, num_classes=5)
    wanted = {k: tuple(v.shape) for k, v in module.state_dict().items()
              if not k.startswith("head.")}
    for layout in (published, teacher):  # the hub's plain file, Zenodo's training checkpoint
        mapped = {k: tuple(v.shape) for k, v in dinov2_to_timm(layout).items()}
        assert mapped == wanted


def dinobloom_s_file(seed: int = 0) -> dict[str, torch.Tensor]:
    """DinoBloom-S's published layout with random values; blocks silenced (LayerScale 0)."""
    generator = torch.Generator().manual_seed(seed)
    state = {key: torch.randn(shape, generator=generator) * 0.02
             for key, shape in dinov2_shapes("s").items()}
    for key in state:
        if key.endswith(("ls1.gamma", "ls2.gamma")):
            state[key] = torch.zeros_like(state[key])
    return state


def test_dinobloom_s_loads_the_served_file_and_embeds_an_image(local_hub):
    published = dinobloom_s_file()
    buffer = io.BytesIO()
    torch.save(published, buffer)
    local_hub("MarrLab/DinoBloom", {"pytorch_model_s.bin": buffer.getvalue()})

    spec = bench.get_registries().models.get("DinoBloom-S")
    assert "PBC" in spec.pretraining_data and "Raabin-WBC" in spec.pretraining_data
    built = build_model(spec)
    assert (built.input_size, built.mean, built.std) == (224, (0.485, 0.456, 0.406),
                                                         (0.229, 0.224, 0.225))
    assert built.weights["source"] == "hub" and built.weights["repo"] == "MarrLab/DinoBloom"
    assert any("no classifier head" in note for note in built.weights["notes"])
    loaded = built.module.state_dict()
    assert torch.equal(loaded["blocks.3.attn.qkv.weight"], published["blocks.3.attn.qkv.weight"])
    assert torch.equal(loaded["pos_embed"], published["pos_embed"])
    assert loaded["head.weight"].shape == (5, 384)  # a fresh classifier for the five classes

    # Without its classifier the model gives DinoBloom's embedding, the normalised class token:
    # with every block silenced, LayerNorm(cls_token + the class token's position embedding).
    module = built.module.eval()
    module.reset_classifier(0)
    image = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        embedding = module(image)
    token = published["cls_token"][0] + published["pos_embed"][:, 0]
    expected = F.layer_norm(token, (384,), published["norm.weight"], published["norm.bias"],
                            eps=1e-6)
    assert embedding.shape == (1, 384)
    assert torch.allclose(embedding, expected, atol=1e-5)


def test_the_zenodo_training_checkpoint_loads_with_weights(tmp_path):
    published = dinobloom_s_file(seed=1)
    teacher = {f"backbone.{key}": value for key, value in published.items()}
    teacher["dino_head.last_layer.weight"] = torch.zeros(8, 4)
    teacher["ibot_head.last_layer.weight"] = torch.zeros(8, 4)
    path = tmp_path / "DinoBloom-S.pth"
    torch.save({"teacher": teacher}, path)
    built = build_model(bench.get_registries().models.get("dinobloom-s"), weights=path)
    assert built.weights["source"] == "file"
    assert torch.equal(built.module.state_dict()["norm.bias"], published["norm.bias"])


def test_another_input_size_resamples_the_position_embeddings(local_hub):
    buffer = io.BytesIO()
    torch.save(dinobloom_s_file(), buffer)
    local_hub("MarrLab/DinoBloom", {"pytorch_model_s.bin": buffer.getvalue()})
    built = build_model(bench.get_registries().models.get("dinobloom-s"), input_size=112)
    assert built.input_size == 112 and built.module.pos_embed.shape == (1, 65, 384)
