"""DinoBloom S/B/L/G (Koch et al., MICCAI 2024): DINOv2 ViTs trained on public blood-cell sets.

The weights are the authors' release on the Hugging Face hub, ``MarrLab/DinoBloom``
(``pytorch_model_{s,b,l,g}.bin``: plain state dicts of the DINOv2 hub models, the same weights
as ``DinoBloom-{S,B,L,G}.pth`` of Zenodo record 10908163). They are loaded into timm's DINOv2
ViTs, built at the 224-pixel input the authors train and evaluate at (position embeddings for
16x16 patches of 14 pixels plus the class token), normalised with ImageNet's mean and standard
deviation, resized bilinearly (torchvision's default in their evaluation code).

The key mapping follows the authors' loader (``get_dino_finetuned_downloaded`` in
github.com/marrlab/DinoBloom): of a training checkpoint (the Zenodo ``.pth``) the ``teacher``'s
``backbone.*`` keys, without the DINO and iBOT heads; DINOv2's names are timm's but for the
mask token (dropped: used only in training) and ViT-G's fused SwiGLU (``mlp.w12`` -> ``mlp.fc1``,
``mlp.w3`` -> ``mlp.fc2``, same packing). DINOv2 has no classifier; bench adds a fresh one, and
without it (a probe) the model returns DinoBloom's embedding: the normalised class token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bench

REPO = "MarrLab/DinoBloom"
ZENODO = "https://zenodo.org/records/10908163"
INPUT_SIZE = 224
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# name, paper name, timm architecture, file in the repo
VARIANTS = (
    ("dinobloom-s", "DinoBloom-S", "vit_small_patch14_dinov2", "pytorch_model_s.bin"),
    ("dinobloom-b", "DinoBloom-B", "vit_base_patch14_dinov2", "pytorch_model_b.bin"),
    ("dinobloom-l", "DinoBloom-L", "vit_large_patch14_dinov2", "pytorch_model_l.bin"),
    ("dinobloom-g", "DinoBloom-G", "vit_giant_patch14_dinov2", "pytorch_model_g.bin"),
)
# The public blood-cell sets of the authors' README ("Overview of publicly available Blood Cell
# Datasets"), as its table names them, PBC (Acevedo et al.) and AML-Cytomorphology_LMU (Matek
# et al. 2019) by the names bench knows them by. The paper trains on 13 public sets and the table
# lists 15: all are declared, so no contaminated cell goes unmarked. DinoBloom starts from
# DINOv2's weights, hence LVD-142M.
PRETRAINING = (
    "LVD-142M", "BMC", "AML Hehr", "AML-Cytomorphology_LMU", "PBC", "Raabin-WBC", "NuClick",
    "Warty pig", "LISC", "KRD-WBC", "SSL Seg", "BCCD", "Aslan", "Raabin Leukemia", "APL_AML",
    "White-Blood-Cell-dataset",
)
TRAINING_HEADS = ("dino_head.", "ibot_head.")


def dinov2_to_timm(state: dict[str, Any]) -> dict[str, Any]:
    """DINOv2 (or a DinoBloom training checkpoint's teacher) keys onto timm's ViT keys."""
    mapped = {}
    for key, tensor in state.items():
        key = key.removeprefix("backbone.")
        if key.startswith(TRAINING_HEADS) or key == "mask_token":
            continue
        mapped[key.replace(".mlp.w12.", ".mlp.fc1.").replace(".mlp.w3.", ".mlp.fc2.")] = tensor
    return mapped


@dataclass(frozen=True)
class DinoBloomFactory(bench.ModelFactory):
    """One DinoBloom variant: a timm DINOv2 ViT at 224 pixels with the authors' weights."""

    architecture: str
    filename: str
    repo: str = REPO

    def weight_files(self) -> list[bench.WeightFile]:
        return [bench.WeightFile(repo=self.repo, filenames=(self.filename,))]

    def build(self, num_classes: int, pretrained: bool,
              input_size: int | None = None) -> tuple[Any, dict]:
        import timm

        module = timm.create_model(self.architecture, pretrained=False, num_classes=num_classes,
                                   img_size=input_size or INPUT_SIZE)
        if not pretrained:
            return module, bench.kit.weights_record("none")
        path, source = bench.kit.pretrained_file(self.weight_files()[0])
        record = bench.kit.load_weights_file(module, path, num_classes=num_classes,
                                         heads=self.classifier_prefixes(module),
                                         convert=lambda state: self._fit(state, module))
        record.update(source=source, tag=f"{self.repo}/{self.filename}", repo=self.repo)
        return module, record

    def _fit(self, state: dict[str, Any], module: Any) -> dict[str, Any]:
        """Map the keys; resample the position embeddings when built for another input size."""
        from timm.layers import resample_abs_pos_embed

        state = self.convert_state_dict(state)
        wanted = module.pos_embed.shape
        if "pos_embed" in state and state["pos_embed"].shape != wanted:
            grid = module.patch_embed.grid_size
            state["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], list(grid),
                                                        num_prefix_tokens=1)
        return state

    def convert_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        return dinov2_to_timm(state)

    def data_config(self) -> bench.DataConfig:
        return bench.DataConfig(INPUT_SIZE, MEAN, STD, "bilinear")

    def ensure_weights(self, label: str) -> None:
        bench.kit.pretrained_file(self.weight_files()[0])

    def classifier_prefixes(self, module: Any) -> tuple[str, ...]:
        return ("head.",)

    def describe(self) -> dict[str, str | None]:
        return {"architecture": self.architecture, "weights": self.repo}


def dinobloom_specs() -> list[bench.ModelSpec]:
    return [
        bench.ModelSpec(
            name=name, display_name=display, aliases=(display,), family="foundation ViT",
            factory=DinoBloomFactory(architecture, filename), pretraining_data=PRETRAINING,
            description=f"{display}: DINOv2 ViT trained on public blood-cell sets "
                        f"(MICCAI 2024; weights {REPO}, also {ZENODO})",
        )
        for name, display, architecture, filename in VARIANTS
    ]
