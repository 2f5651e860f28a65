"""What plugins register: small, typed descriptions with lazy factories.

A spec must be cheap to build: listing plugins never imports torch, timm or diffusers, so
factories import them when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SplitPolicy = Literal["stratified", "official_test"]
# Which keyword takes a data set in: `all` the benchmark sets, `all+generated` the generated ones
# too (composed on this machine, the demo's among them); a user's own sets only when named.
DatasetKind = Literal["benchmark", "generated", "user"]
DATASET_KINDS: tuple[str, ...] = ("benchmark", "generated", "user")
KEYWORD_KINDS: dict[str, tuple[str, ...]] = {"all": ("benchmark",),
                                             "all+generated": ("benchmark", "generated")}


@dataclass(frozen=True, kw_only=True)
class Spec:
    """Fields every registered thing shares.

    ``resolve_argument`` makes a spec a family: ``timm:resnet18`` looks up the spec ``timm`` and
    calls ``resolve_argument("resnet18")`` to get the concrete spec.
    """

    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    display_name: str = ""  # as printed in papers, e.g. "ResNet-152" or "WBC-USID-B"
    resolve_argument: Callable[[str], Spec] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def problems(self) -> list[str]:
        """What makes this spec unusable; the registry refuses a spec that has any."""
        return []


@dataclass(frozen=True)
class SourceImage:
    """One image found in an official download, before class mapping and splitting."""

    path: Path
    relpath: str  # POSIX, relative to the download root: the manifest key (never the bare name)
    source_class: str  # the publisher's class name (folder, code)
    official_split: str | None = None  # "train" or "test" where the publisher fixes one


@dataclass(frozen=True)
class Download:
    """One file a publisher serves, and what it should be (any of size, md5, sha256)."""

    url: str
    filename: str
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, kw_only=True)
class DatasetSpec(Spec):
    """A data set as its publisher ships it, and how it maps onto L, M, N, E, B.

    Example::

        DatasetSpec(
            name="pbc",
            scan=scan_class_folders,  # Path -> Iterable[SourceImage]
            class_map={"lymphocyte": "L", "platelet": None},  # None: dropped, and counted
        )
    """

    scan: Callable[[Path], Iterable[SourceImage]]
    class_map: Mapping[str, str | None]
    split_policy: SplitPolicy = "stratified"
    homepage: str = ""
    citation: str = ""
    licence: str = ""
    image_size: tuple[int, int] | None = None  # as published: the audit flags images far from it
    paper_counts: Mapping[str, int] | None = None  # per canonical label, as the paper reports
    download_hint: str = ""  # how to obtain the official download
    # Open data: the files to fetch (may ask the publisher's API, so it is called lazily).
    downloads: Callable[[], Sequence[Download]] | None = field(default=None, compare=False)
    default_source: Path | None = None  # where the data already lie, if anywhere (generated sets)
    synthetic: bool = False
    kind: DatasetKind = "benchmark"  # what `--target all` takes in (see DatasetKind)
    # Data sets published in one download share a group name, which `bench datasets download`
    # and `prepare` accept for all of them (WBC-USID's two levels: "wbc-usid").
    group: str = ""
    # Images per label in each part of the publisher's download, as published, e.g.
    # {"Train": {"L": 2427, ...}, "TestA": {...}}: a prepare far from them (and from
    # paper_counts) warns, naming the data set whose download it looks like.
    published_counts: Mapping[str, Mapping[str, int]] | None = None
    # False when no public source confirms the download's layout: `datasets list` says so, and
    # download_hint should say how to prepare what the user received.
    layout_confirmed: bool = True

    def problems(self) -> list[str]:
        from bench.labels import CLASSES

        found = []
        if not callable(self.scan):
            found.append(f"scan must be a function Path -> SourceImages, got {self.scan!r}")
        if not isinstance(self.class_map, Mapping):
            found.append(f"class_map must be a mapping, got {type(self.class_map).__name__}")
        else:
            found += [f"class_map[{name!r}] = {label!r}: use one of {', '.join(CLASSES)}, "
                      f"or None to drop the class"
                      for name, label in self.class_map.items()
                      if label is not None and label not in CLASSES]
        if self.split_policy not in ("stratified", "official_test"):
            found.append(f"split_policy {self.split_policy!r}: use stratified or official_test")
        if self.kind not in DATASET_KINDS:
            found.append(f"kind {self.kind!r}: use {', '.join(DATASET_KINDS)}")
        return found


@dataclass(frozen=True, kw_only=True)
class ModelSpec(Spec):
    """An architecture: a factory that builds an ``nn.Module`` with ``num_classes`` outputs.

    ``factory`` is either a plain callable ``(num_classes, pretrained) -> nn.Module``, with
    ``input_size``, ``mean`` and ``std`` given here, or a :class:`bench.ModelFactory`, which can
    also say its own preprocessing and find its pretrained weights (values given here win).

    Example::

        ModelSpec(name="tiny-cnn", factory=build_tiny_cnn, input_size=64,
                  mean=(0.5,) * 3, std=(0.25,) * 3, pretraining_data=("imagenet-1k",))
    """

    factory: Any  # Callable[[int, bool], nn.Module] or bench.ModelFactory
    family: str = ""
    input_size: int | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    interpolation: str | None = None  # "bilinear" when neither the spec nor the factory says
    # What the pretrained weights were trained on: data-set names (a tuple, matched against the
    # benchmark's data sets to mark contaminated cells), free text (a str, shown, never
    # matched), () for nothing, None for unknown. See bench.pretraining.
    pretraining_data: tuple[str, ...] | str | None = None
    # The model `bench demo` trains when none is named: this spec's name or one of its family
    # (``timm:resnet18``); it must learn from scratch in a few CPU epochs. At most one spec sets it.
    demo: str = ""

    def problems(self) -> list[str]:
        found = []
        if self.demo and self.demo != self.name and not self.demo.startswith(f"{self.name}:"):
            found.append(f"demo must be {self.name!r} or a member {self.name}:<name>, "
                         f"got {self.demo!r}")
        if not callable(self.factory) and not hasattr(self.factory, "build"):
            found.append(f"factory must be a callable (num_classes, pretrained) -> nn.Module or "
                         f"a bench.ModelFactory, got {self.factory!r}")
        data = self.pretraining_data
        if not (data is None or isinstance(data, str) or (
                isinstance(data, tuple) and all(isinstance(n, str) and n for n in data))):
            found.append(f"pretraining_data must be a tuple of data-set names, a str of free "
                         f"text, () for none or None for unknown; got {data!r}")
        return found


@dataclass(frozen=True, kw_only=True)
class GeneratorSpec(Spec):
    """A source of synthetic images: single cells (``cells``) or data sets (``compositor``)."""

    kind: Literal["cells", "compositor"]
    factory: Callable[..., Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    trainable: bool = False  # its generator learns from example cells (train(), trained())
    # The generator of its kind that commands use when none is named (at most one per kind).
    default: bool = False

    def problems(self) -> list[str]:
        found = []
        if self.kind not in ("cells", "compositor"):
            found.append(f"kind {self.kind!r}: use cells or compositor")
        if not callable(self.factory):
            found.append(f"factory must be callable, got {self.factory!r}")
        return found
