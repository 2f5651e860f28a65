"""``folder:PATH``: any folder of images you hold becomes a data set (private data too).

PATH is one of:

- a folder of class folders (``PATH/<class>/*``): split 60/20/20 like a real data set;
- a folder with ``train/`` and ``test/`` folders of class folders: the official-test split;
- a CSV of ``path,label`` rows (paths relative to the CSV);
- a mapping file ``*.toml`` describing any of the above (also read from
  ``PATH/bench-dataset.toml`` when present).

Class folder names are mapped with the common WBC spellings (lymphocyte, lym, EOS, ...) unless
a mapping file says otherwise; a name that maps nowhere is an error that lists it. The mapping
file::

    name = "my-cells"            # optional; default folder-<folder name>-<short path hash>
    root = "images"              # optional, relative to the file (default: its folder)
    split_policy = "stratified"  # optional: stratified or official_test
    synthetic = false            # optional
    [classes]                    # every class folder (or CSV label): L, M, N, E, B,
    lym = "L"                    # a full name (lymphocyte, ...), or "-" to drop it
    mono = "monocyte"
    artefact = "-"

Prepared folder data sets are registered under their name too, so ``bench run --source
my-cells`` works after ``bench datasets prepare folder:PATH``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import bench
from bench.kit import (
    has_split_folders,
    prepared_requests,
    scan_class_folders,
    scan_csv,
    scan_split_folders,
    wbc_class_map,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAPPING_FILE = "bench-dataset.toml"
PREFIX = "folder:"
DROP = {"-", "", "drop", "none"}


def _label(value: object, where: str) -> str | None:
    text = str(value).strip()
    if text.lower() in DROP:
        return None
    if text.upper() in bench.CLASSES:
        return text.upper()
    for letter, name in bench.CLASS_NAMES.items():
        if name == text.lower():
            return letter
    raise bench.DataError(
        f"{where}: {text!r} is not a class: use one of {', '.join(bench.CLASSES)}, a full name "
        f"({', '.join(bench.CLASS_NAMES.values())}) or '-' to drop"
    )


def _read_mapping(path: Path) -> dict:
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise bench.DataError(f"cannot read the mapping file {path}: {exc}") from exc
    unknown = set(config) - {"name", "display_name", "root", "split_policy", "synthetic",
                             "classes", "description"}
    if unknown:
        raise bench.DataError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    return config


def _scan(root: Path):
    def scan(source: Path) -> list[bench.SourceImage]:
        if source.is_file():
            if source.suffix.lower() != ".csv":
                raise bench.DataError(f"{source}: expected a folder or a CSV of path,label rows")
            return scan_csv(source)
        if has_split_folders(source):
            return scan_split_folders(source)
        return scan_class_folders(source)

    return scan


def resolve_folder(argument: str) -> bench.DatasetSpec:
    """Build the spec for ``folder:ARGUMENT`` (a folder, a CSV or a mapping TOML)."""
    if not argument.strip():
        raise bench.DataError("folder: needs a path, e.g. folder:/data/my-cells")
    given = Path(argument).expanduser().resolve()
    config: dict = {}
    if given.suffix.lower() == ".toml":
        config, root = _read_mapping(given), given.parent
    elif (given / MAPPING_FILE).is_file():
        config, root = _read_mapping(given / MAPPING_FILE), given
    else:
        root = given
    if "root" in config:
        root = (root / str(config["root"])).resolve()
    if not root.exists():
        raise bench.DataError(
            f"{root} does not exist (folder:PATH needs a folder of class folders, a CSV of "
            f"path,label rows or a {MAPPING_FILE})"
        )
    where = str(given)
    classes = config.get("classes")
    class_map = ({str(k): _label(v, f"{where}: classes.{k}") for k, v in classes.items()}
                 if isinstance(classes, dict) else wbc_class_map())
    official = root.is_dir() and has_split_folders(root)
    policy = str(config.get("split_policy") or ("official_test" if official else "stratified"))
    slug = re.sub(r"[^a-z0-9]+", "-", root.stem.lower()).strip("-") or "data"
    default_name = f"folder-{slug}-{hashlib.sha256(str(root).encode()).hexdigest()[:6]}"
    return bench.DatasetSpec(
        name=str(config.get("name") or default_name),
        display_name=str(config.get("display_name") or root.stem),
        description=str(config.get("description") or f"user data set at {root}"),
        scan=_scan(root),
        class_map=class_map,
        split_policy=policy,  # type: ignore[arg-type]
        synthetic=bool(config.get("synthetic", False)),
        kind="user",  # tested on only when named: `all` stays the benchmark
        default_source=root,
        licence="the user's own data",
        download_hint=f"on this machine: {root}",
    )


def prepared_folder_specs(taken: set[str]) -> list[bench.DatasetSpec]:
    """Specs of folder data sets prepared earlier, under the name each was prepared as."""
    specs = []
    for name, requested in prepared_requests().items():
        if not requested.lower().startswith(PREFIX):
            continue
        try:
            spec = resolve_folder(requested[len(PREFIX):])
        except (OSError, ValueError, bench.BenchError):
            continue  # its folder is gone or its mapping broke: `prepare` will say why
        if spec.name == name and spec.name.lower() not in taken:
            specs.append(spec)
            taken.add(spec.name.lower())
    return specs


SPEC = bench.DatasetSpec(
    name="folder",
    description="any folder of class folders, train/test folders or a path,label CSV: folder:PATH",
    scan=lambda source: _scan(source)(source),
    class_map=wbc_class_map(),
    resolve_argument=resolve_folder,
    kind="user",
    licence="the user's own data",
    download_hint="your own images: bench datasets prepare folder:PATH",
)
