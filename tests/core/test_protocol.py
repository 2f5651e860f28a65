"""Protocols: validated data files whose hash follows the recipe and nothing else."""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest

import bench
from bench.protocols import parse

ZEDDA = (resources.files("bench") / "protocols" / "zedda2024.toml").read_text()


def test_builtin_protocols_load_with_the_papers_recipe():
    protocol = bench.load_protocol("zedda2024")
    assert protocol.training.optimizer == "sgd"
    assert protocol.training.lr == 0.001
    assert protocol.training.batch_size == 32
    assert protocol.training.max_epochs == 100
    assert protocol.splits.real == (0.6, 0.2, 0.2)
    assert protocol.splits.synthetic_val_fraction == 0.25
    assert bench.load_protocol("quick").hash != protocol.hash


# What the paper itself gives (values, or the thing the value names). Every other key of the
# zedda2024 file is this project's choice and must say "# chosen" on its line.
PAPER_KEYS = {
    "protocol.name", "protocol.version", "protocol.description",  # about the file, not a recipe
    "splits.real", "splits.synthetic_val_fraction",
    "training.optimizer", "training.lr", "training.batch_size", "training.max_epochs",
    "training.sampler", "metrics.average",
}


def test_every_value_the_paper_does_not_give_is_marked_chosen():
    import re

    from bench.tomlfile import tomllib  # tomli before Python 3.11

    section, marked = "", {}
    for line in ZEDDA.splitlines():
        if match := re.match(r"\[(\w+)\]", line):
            section = match[1]
        elif match := re.match(r"(\w+)\s*=", line):
            marked[f"{section}.{match[1]}"] = "# chosen" in line
    keys = {f"{table}.{key}" for table, values in tomllib.loads(ZEDDA).items() for key in values}
    assert set(marked) == keys  # one line per key: the marker sits beside its value
    assert PAPER_KEYS <= keys
    unmarked = sorted(key for key in keys - PAPER_KEYS if not marked[key])
    assert not unmarked, f"chosen but not marked '# chosen': {unmarked}"
    assert not [key for key in PAPER_KEYS if marked[key]]
    for key in ("training.amp", "augmentation.centre_crop", "augmentation.hflip"):
        assert marked[key]


def test_the_readme_protocol_table_names_every_choice_the_issue_review_found():
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    if not readme.is_file():
        pytest.skip("no README beside this checkout")
    text = readme.read_text()
    table = text[text.index("## The protocol"):text.index("## Data sets")]
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| setting")}
    assert "chosen" in rows["mixed precision (`amp`)"]
    assert "evaluation" in rows["centre crop"] and "chosen" in rows["centre crop"]
    assert "21k" in rows["model"] and "chosen" in rows["model"]
    assert "train split" in rows["synthetic training data (DDPM)"]
    assert "chosen" in rows["synthetic training data (DDPM)"]


def leaves(recipe: dict, prefix: tuple = ()):
    for key, value in recipe.items():
        if isinstance(value, dict):
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1 if isinstance(value, int) else value * 1.5 + 0.01
    if isinstance(value, tuple):
        return (changed(value[0]), *value[1:])
    return value + "x"


def test_hash_changes_when_any_recipe_value_changes():
    protocol = bench.load_protocol("zedda2024")
    seen = {protocol.hash}
    for path, value in leaves(protocol.recipe):
        section, field = path
        altered = dataclasses.replace(
            protocol,
            **{section: dataclasses.replace(getattr(protocol, section), **{field: changed(value)})},
        )
        assert altered.hash not in seen, f"{section}.{field} does not change the hash"
        seen.add(altered.hash)
    assert len(seen) == len(list(leaves(protocol.recipe))) + 1


def test_hash_ignores_name_description_comments_and_layout():
    reference = parse(ZEDDA, "original").hash
    cosmetic = (
        ZEDDA.replace('name = "zedda2024"', 'name = "renamed"')
        .replace("description =", 'description = "other" #')
        .replace("# chosen", "# a different comment")
        .replace("lr = 0.001", "lr   =   1e-3")
    )
    assert parse(cosmetic, "cosmetic").hash == reference
    assert parse(ZEDDA.replace("lr = 0.001", "lr = 0.002"), "real change").hash != reference


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("batch_size = 32", 'batch_size = "32"'), "training.batch_size: expected int"),
        (("patience = 10", "patiense = 10"), "unknown field(s) patiense"),
        (("amp = true", ""), "missing field(s) amp"),
        (("real = [0.6, 0.2, 0.2]", "real = [0.6, 0.3, 0.2]"), "summing to 1"),
        (('monitor = "val_f1"', 'monitor = "f2"'), "early_stopping.monitor must be one of"),
        (("[metrics]", "[metrics"), "not valid TOML"),
        (('average = "weighted"', 'average = "micro"'), "metrics.average: only 'weighted'"),
    ],
)
def test_malformed_protocol_file_names_the_file_and_the_field(tmp_path, edit, message):
    path = tmp_path / "mine.toml"
    path.write_text(ZEDDA.replace(*edit))
    with pytest.raises(bench.ProtocolError) as caught:
        bench.load_protocol(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unknown_protocol_name_lists_the_builtins():
    with pytest.raises(bench.UnknownNameError, match="Did you mean: zedda2024"):
        bench.load_protocol("zedda2023")


def test_overrides_make_a_new_recipe():
    protocol = bench.load_protocol("zedda2024")
    shorter = protocol.with_overrides(training={"max_epochs": 3, "batch_size": None})
    assert shorter.training.max_epochs == 3 and shorter.training.batch_size == 32
    assert shorter.hash != protocol.hash
    assert protocol.with_overrides(training={"max_epochs": None}) is protocol


# Published boards and stores name these hashes: a schema change that moved one would orphan
# every result made under it. A setting added later has a default and stays out of the hash
# while it holds it (Protocol.recipe).
PINNED_HASHES = {"zedda2024": "2feb237d1c7a68ab", "quick": "30da9fa2b5fec96f",
                 "cpu-small": "ef355e1d4bbb830c", "linear-probe": "c71cb647a5437fe2",
                 "knn": "e714f4a4c5c9b5cd"}


@pytest.mark.parametrize("name", sorted(PINNED_HASHES))
def test_builtin_protocol_hashes_never_move(name):
    assert bench.load_protocol(name).hash == PINNED_HASHES[name]


def test_a_setting_added_with_a_default_leaves_old_recipes_and_hashes_alone():
    from bench import protocols as protocol_module

    @dataclasses.dataclass(frozen=True)
    class Training(protocol_module.Training):
        channels_last: bool = False

    base = bench.load_protocol("quick")
    extended = dataclasses.replace(base, training=Training(**dataclasses.asdict(base.training)))
    assert extended.hash == base.hash and "channels_last" not in extended.recipe["training"]
    changed = dataclasses.replace(extended, training=dataclasses.replace(
        extended.training, channels_last=True))
    assert changed.hash != base.hash and changed.recipe["training"]["channels_last"] is True


# One value out of range for every bounded setting: (line in zedda2024.toml, its replacement).
OUT_OF_RANGE = {
    "splits.seed": ("seed = 2024", "seed = -1"),
    "splits.real": ("real = [0.6, 0.2, 0.2]", "real = [1.2, -0.1, -0.1]"),
    "splits.synthetic_val_fraction": ("synthetic_val_fraction = 0.25",
                                      "synthetic_val_fraction = 1.0"),
    "training.lr": ("lr = 0.001", "lr = -0.1"),
    "training.momentum": ("momentum = 0.0", "momentum = 1.0"),
    "training.weight_decay": ("weight_decay = 0.0", "weight_decay = -0.01"),
    "training.batch_size": ("batch_size = 32", "batch_size = 0"),
    "training.max_epochs": ("max_epochs = 100", "max_epochs = 0"),
    "early_stopping.patience": ("patience = 10", "patience = 0"),
    "early_stopping.min_delta": ("min_delta = 0.0", "min_delta = -0.5"),
    "augmentation.rotation_degrees": ("rotation_degrees = 180.0", "rotation_degrees = 720.0"),
    "augmentation.hflip": ("hflip = 0.5", "hflip = 1.5"),
    "augmentation.vflip": ("vflip = 0.5", "vflip = -0.5"),
    "augmentation.centre_crop": ("centre_crop = 0.9", "centre_crop = 0.0"),
    "augmentation.blur_p": ("blur_p = 0.3", "blur_p = 2"),
    "augmentation.blur_sigma": ("blur_sigma = [0.1, 1.5]", "blur_sigma = [0.0, 1.5]"),
    "augmentation.jitter_brightness": ("jitter_brightness = 0.2", "jitter_brightness = 3.0"),
    "augmentation.jitter_contrast": ("jitter_contrast = 0.2", "jitter_contrast = -0.2"),
    "augmentation.jitter_saturation": ("jitter_saturation = 0.2", "jitter_saturation = 1.5"),
    "augmentation.jitter_hue": ("jitter_hue = 0.02", "jitter_hue = 0.75"),
    "input.size": ('size = "model"', "size = 4"),
    "input.cache_size": ("cache_size = 256", "cache_size = 100000"),
}


# The probe settings, out of range in the built-in probe protocol that states them.
PROBE_OUT_OF_RANGE = {
    "probe.c_low": ("linear-probe", "c_low = 1e-4", "c_low = -1.0"),
    "probe.c_high": ("linear-probe", "c_high = 1e4", "c_high = 1e12"),
    "probe.c_steps": ("linear-probe", "c_steps = 9", "c_steps = 5000"),
    "probe.max_iter": ("linear-probe", "max_iter = 1000", "max_iter = -3"),
    "probe.k": ("knn", "k = 20", "k = -20"),
    "probe.temperature": ("knn", "temperature = 0.07", "temperature = 1000.0"),
}


@pytest.mark.parametrize("key", sorted(PROBE_OUT_OF_RANGE))
def test_a_probe_value_out_of_range_is_named_with_its_bounds(tmp_path, key):
    name, old, new = PROBE_OUT_OF_RANGE[key]
    text = (resources.files("bench") / "protocols" / f"{name}.toml").read_text()
    assert old in text
    path = tmp_path / "mine.toml"
    path.write_text(text.replace(old, new))
    with pytest.raises(bench.ProtocolError, match=f"{key} = .* is out of range"):
        bench.load_protocol(path)


@pytest.mark.parametrize("key", sorted(OUT_OF_RANGE))
def test_a_value_out_of_range_is_named_with_its_file_and_its_bounds(tmp_path, key):
    path = tmp_path / "mine.toml"
    old, new = OUT_OF_RANGE[key]
    assert old in ZEDDA
    path.write_text(ZEDDA.replace(old, new))
    with pytest.raises(bench.ProtocolError) as caught:
        bench.load_protocol(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key} = ") and "is out of range" in message
    assert "must be at least" in message or "must be above" in message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_value_is_out_of_range(tmp_path, value):
    path = tmp_path / "mine.toml"
    path.write_text(ZEDDA.replace("lr = 0.001", f"lr = {value}"))
    with pytest.raises(bench.ProtocolError, match=f"training.lr = {value} is out of range"):
        bench.load_protocol(path)


def test_blur_sigmas_in_the_wrong_order_are_refused(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(ZEDDA.replace("blur_sigma = [0.1, 1.5]", "blur_sigma = [1.5, 0.1]"))
    with pytest.raises(bench.ProtocolError, match="smaller sigma first"):
        bench.load_protocol(path)


def test_every_number_a_protocol_holds_has_bounds():
    from bench.protocols import BOUNDS, Protocol

    numeric = set()
    for section in dataclasses.fields(Protocol):
        value = getattr(bench.load_protocol("zedda2024"), section.name)
        if not dataclasses.is_dataclass(value):
            continue
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            item = item[0] if isinstance(item, tuple) else item
            if isinstance(item, (int, float)) and not isinstance(item, bool) \
                    or field.name == "size":
                numeric.add(f"{section.name}.{field.name}")
    assert numeric == set(BOUNDS) == set(OUT_OF_RANGE) | set(PROBE_OUT_OF_RANGE)
    for name in PINNED_HASHES:  # the built-ins lie inside their bounds (and keep their hashes)
        bench.load_protocol(name)


def test_a_protocol_changed_in_code_is_checked_before_any_cell(bench_home):
    from bench.engine.runner import RunRequest, run_benchmark

    bad = bench.load_protocol("quick").with_overrides(training={"lr": -0.1})
    with pytest.raises(bench.ProtocolError, match="training.lr = -0.1 is out of range"):
        run_benchmark(RunRequest(models=["anything"], sources=["anything"], targets=["all"],
                                 protocol=bad))
    assert bench.open_store(read_only=True).runs().empty


def test_the_probe_protocols_freeze_the_backbone_and_name_their_heads():
    linear, knn = bench.load_protocol("linear-probe"), bench.load_protocol("knn")
    assert linear.is_probe and knn.is_probe and not bench.load_protocol("zedda2024").is_probe
    assert (linear.probe.head, knn.probe.head) == ("linear", "knn")
    assert (knn.probe.k, knn.probe.temperature) == (20, 0.07)  # DINO's
    assert linear.probe.max_iter == 1000 and linear.cell_epochs == linear.probe.c_steps == 9
    assert {"c_low", "c_high", "c_steps", "max_iter"} <= set(linear.recipe["probe"])  # hashed
    assert {"k", "temperature"} <= set(knn.recipe["probe"])
    for protocol in (linear, knn):  # no augmentation: each image is embedded once
        aug = protocol.augmentation
        assert aug.rotation_degrees == aug.hflip == aug.vflip == aug.blur_p == 0
        assert aug.jitter_brightness == aug.jitter_hue == 0
        assert protocol.splits == bench.load_protocol("zedda2024").splits


def test_shots_is_a_recipe_value_and_every_board_header_says_it():
    knn = bench.load_protocol("knn")
    five = knn.with_overrides(training={"shots": 5})
    assert five.hash != knn.hash and five.recipe["training"]["shots"] == 5
    assert five.overrides() == [("training.shots", 5)]
    assert knn.with_overrides(training={"shots": "all"}).hash == knn.hash  # the default


def test_a_protocol_file_of_its_own_lists_the_settings_added_later_it_sets(tmp_path):
    from bench.protocols import recipe_differences

    path = tmp_path / "mine.toml"
    probe = '[probe]\nhead = "knn"\nk = 5\ntemperature = 0.1\n\n[metrics]'
    shots = "amp = true\nshots = 3"
    path.write_text(ZEDDA.replace("[metrics]", probe).replace("amp = true", shots))
    mine = bench.load_protocol(path)
    assert mine.is_probe
    assert recipe_differences("mine", mine.recipe) == [
        ("training.shots", 3), ("probe.head", "knn"), ("probe.k", 5), ("probe.temperature", 0.1)]


@pytest.mark.parametrize(
    ("original", "replacement"),
    [
        ('head = "linear"', 'head = "svm"'),
        ("k = 20", "k = 0"),
        ("temperature = 0.07", "temperature = 0.0"),
    ],
)
def test_a_malformed_probe_section_names_the_field(tmp_path, original, replacement):
    source = "linear-probe" if "linear" in original else "knn"
    text = (resources.files("bench") / "protocols" / f"{source}.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text.replace(original, replacement))
    with pytest.raises(bench.ProtocolError, match="probe"):
        bench.load_protocol(path)
