"""First-party models: the paper's seven, DinoBloom S/B/L/G, any timm model, from the hub too.

Any timm architecture is ``timm:<name>``, a timm model pushed to the hub ``hf-hub:<org>/<repo>``.

Registered through the same entry point a third party uses, with the public API only.

Which timm variant and which pretrained weights, and why. The paper names architectures, not
weights; a 2024 PyTorch paper asking for "the ImageNet-pretrained X" most likely got
torchvision's weights for the classic CNNs, so those are used where timm hosts them:

- VGG-19 -> ``vgg19.tv_in1k``: plain VGG-19 (no batch norm, as named), torchvision's weights,
  the only ImageNet weights timm has for it.
- ResNet-152 -> ``resnet152.tv_in1k``: torchvision's original weights. timm's default
  (``a1h_in1k``) comes from timm's own 2021 recipe ("ResNet strikes back"), not from the
  weights most papers fine-tune.
- MobileNet-V3 -> ``mobilenetv3_large_100.ra_in1k``: the Large model at width 1.0, the variant
  torchvision calls ``mobilenet_v3_large``; timm does not host torchvision's weights for it,
  and ``ra_in1k`` is its long-standing ImageNet-1k default, of similar accuracy.
- DenseNet-121 -> ``densenet121.tv_in1k``: torchvision's weights (timm's default is its own
  ``ra_in1k``).
- Inception-V3 -> ``inception_v3.tv_in1k``: torchvision's weights, 299x299 input. The checkpoint
  carries the auxiliary classifier; timm builds the model without it (``aux_logits=False``), so
  the module returns one logits tensor in train and eval mode and the engine needs no case.
- ViT -> ``vit_base_patch16_224.augreg2_in21k_ft_in1k``: ViT-B/16 at 224, timm's default
  weights. ViTs trained on ImageNet-1k alone fall well short; the official releases pretrain
  on ImageNet-21k and fine-tune on 1k.
- Swin -> ``swin_base_patch4_window7_224.ms_in22k_ft_in1k``: Swin-B, the size counterpart of
  ViT-B (86.7M and 85.8M parameters with a 5-way head), with Microsoft's official 22k-then-1k
  weights, so the two transformers differ in their hierarchy, not in size or pretraining data.

Input size and normalisation are never typed here: ``TimmFactory.data_config`` reads them from
timm's configuration of each pretrained tag.
"""

from __future__ import annotations

from bench_models.dinobloom import dinobloom_specs
from bench_models.timm_backend import (
    HUB_PREFIX,
    resolve_hub_spec,
    resolve_timm_spec,
    timm_model_spec,
)

import bench

# name, paper spelling, timm name, pretrained tag, family, extra aliases, description
PAPER_MODELS = (
    ("vgg19", "VGG-19", "vgg19", "tv_in1k", "linear CNN", ("vgg",),
     "VGG-19: a plain stack of 3x3 convolutions"),
    ("resnet152", "ResNet-152", "resnet152", "tv_in1k", "residual CNN", ("resnet",),
     "ResNet-152: bottleneck residual blocks"),
    ("mobilenetv3", "MobileNet-V3", "mobilenetv3_large_100", "ra_in1k", "lightweight CNN",
     ("mobilenet", "mobilenetv3-large", "mobilenet-v3-large"),
     "MobileNet-V3 Large: inverted residuals with squeeze-excitation"),
    ("densenet121", "DenseNet-121", "densenet121", "tv_in1k", "dense CNN", ("densenet",),
     "DenseNet-121: densely connected blocks"),
    ("inceptionv3", "Inception-V3", "inception_v3", "tv_in1k", "inception CNN", ("inception",),
     "Inception-V3: factorised multi-branch blocks, 299x299 input"),
    ("vit", "ViT", "vit_base_patch16_224", "augreg2_in21k_ft_in1k", "transformer",
     ("vit-b/16", "vit-b16"), "ViT-B/16: a transformer over 16x16 patches"),
    ("swin", "Swin", "swin_base_patch4_window7_224", "ms_in22k_ft_in1k",
     "hierarchical transformer", ("swin-b",),
     "Swin-B: shifted-window attention over a feature pyramid"),
)


def _timm_family_factory(num_classes: int, pretrained: bool):
    """Reached only when ``timm`` is named alone: the family needs an architecture."""
    raise bench.RunError("'timm' is a family of models: name one, e.g. timm:resnet18")


def _hub_family_factory(num_classes: int, pretrained: bool):
    """Reached only when ``hf-hub`` is named alone: the family needs a repo."""
    raise bench.RunError(f"'{HUB_PREFIX}' is a family of models: name one, e.g. "
                         f"{HUB_PREFIX}:timm/resnet18.a1_in1k")


@bench.hookimpl
def register_models():
    specs = [
        timm_model_spec(
            name, timm_name, tag, display_name=display,
            aliases=(display, *aliases), family=family, description=description,
        )
        for name, display, timm_name, tag, family, aliases, description in PAPER_MODELS
    ]
    specs.append(
        bench.ModelSpec(
            name="timm",
            description="any timm architecture: timm:<name> or timm:<name>.<pretrained tag>",
            family="timm",
            factory=_timm_family_factory,
            resolve_argument=resolve_timm_spec,
            demo="timm:resnet18",  # learns from scratch in a few CPU epochs
        )
    )
    specs.append(
        bench.ModelSpec(
            name=HUB_PREFIX,
            description=f"any timm model on the Hugging Face hub: {HUB_PREFIX}:<org>/<repo>",
            family="timm",
            factory=_hub_family_factory,
            resolve_argument=resolve_hub_spec,
        )
    )
    return specs + dinobloom_specs()
