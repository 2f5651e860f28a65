"""The split rule: stratified quotas, the official-test policy, determinism, duplicates."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

import bench
from bench.data.splits import SplitItem, SplitRule, assign_splits

RULE = SplitRule.from_protocol(bench.load_protocol("zedda2024").splits, "stratified")
OFFICIAL = SplitRule.from_protocol(bench.load_protocol("zedda2024").splits, "official_test")


def items(per_class: dict[str, int], official: str | None = None) -> list[SplitItem]:
    made = []
    for label, count in per_class.items():
        for index in range(count):
            path = f"{official or 'all'}/{label}/{index}.png"
            made.append(SplitItem(path, hashlib.sha256(path.encode()).hexdigest(), label, official))
    return made


def per_label(assigned: dict[str, str], pool: list[SplitItem]) -> dict[str, Counter]:
    table: dict[str, Counter] = {}
    for item in pool:
        table.setdefault(item.label, Counter())[assigned[item.relpath]] += 1
    return table


def test_stratified_fractions_per_class() -> None:
    pool = items({"L": 242, "E": 201, "B": 10})
    table = per_label(assign_splits(pool, RULE), pool)
    assert table["L"] == Counter(train=146, val=48, test=48)
    assert table["E"] == Counter(train=121, val=40, test=40)
    assert table["B"] == Counter(train=6, val=2, test=2)


def test_small_classes_still_reach_every_split() -> None:
    pool = items({"B": 3})
    assert Counter(assign_splits(pool, RULE).values()) == Counter(train=1, val=1, test=1)


def test_official_test_policy_keeps_test_and_splits_train_75_25() -> None:
    pool = items(dict.fromkeys("LMNEB", 200), "train") + items(dict.fromkeys("LMNEB", 200), "test")
    assigned = assign_splits(pool, OFFICIAL)
    assert all(assigned[i.relpath] == "test" for i in pool if i.official_split == "test")
    table = per_label(assigned, [i for i in pool if i.official_split == "train"])
    assert all(counts == Counter(train=150, val=50) for counts in table.values())


def test_official_policy_requires_the_publishers_partition() -> None:
    with pytest.raises(bench.DataError, match="official_test"):
        assign_splits(items({"L": 4}), OFFICIAL)


def test_input_order_does_not_matter_and_seed_does() -> None:
    pool = items({"L": 50, "M": 30})
    shuffled = pool[:]
    random.Random(3).shuffle(shuffled)
    assert assign_splits(pool, RULE) == assign_splits(shuffled, RULE)
    other_seed = SplitRule("stratified", 7, RULE.real, RULE.synthetic_val_fraction)
    assert assign_splits(pool, RULE) != assign_splits(pool, other_seed)


def test_identical_content_always_shares_a_split() -> None:
    pool = items({"N": 40})
    copies = [SplitItem(f"copy/{i.relpath}", i.sha256, i.label) for i in pool[:15]]
    assigned = assign_splits(pool + copies, RULE)
    assert all(assigned[c.relpath] == assigned[c.relpath[5:]] for c in copies)


def test_rule_round_trips_through_prepared_json() -> None:
    assert SplitRule.from_dict(RULE.as_dict()) == RULE
    with pytest.raises(bench.DataError, match="split policy"):
        SplitRule.from_protocol(bench.load_protocol("zedda2024").splits, "random")
