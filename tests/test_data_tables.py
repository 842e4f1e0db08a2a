"""The data chapter's tables (hmlpe.companion.data_tables), on the real data."""

import pytest

from hmlpe.companion import paper
from hmlpe.companion.data_tables import association_table, framing_table, training_box_sizes
from hmlpe.config import CropConfig
from hmlpe.data.datasets import load_dataset, training_records
from hmlpe.data.datasets.buffy import load_detections
from hmlpe.data.datasets.registry import load_registry
from hmlpe.data.source import DataSource


def test_association_rules_match_the_registry_counts(buffy_root):
    test = load_dataset("buffy", buffy_root, "test")
    table, matched = association_table(
        test, load_detections(buffy_root), paper.results()["table1"]["test_sets"]
    )
    counts = load_registry()["buffy"].counts
    by_key = table.set_index("key")
    assert by_key.loc["paper", "matched frames"] == counts["matched_paper_rule"]
    assert by_key.loc["buffy", "matched frames"] == counts["matched_buffy_rule"]
    assert (by_key["matched frames"] + by_key["unmatched (all parts wrong)"] == len(test)).all()
    assert len(matched["paper"]) == counts["matched_paper_rule"]


def test_box_sizes_per_dataset(buffy_root):
    kept, _ = training_records("buffy", buffy_root)
    table = training_box_sizes({"buffy": kept}, CropConfig())
    assert table.loc["buffy", "examples"] == len(kept)
    lo, hi = (float(v) for v in table.loc["buffy", "width 10-90 %"].split("-"))
    assert lo <= table.loc["buffy", "width median"] <= hi


def test_framing_of_the_test_rule_is_close_to_the_test_crops(buffy_root):
    table, joints = framing_table(
        CropConfig(), DataSource(buffy_root), rules=("test_rule",), datasets=("buffy",)
    )
    row = table.loc[("test_rule", "buffy")]
    assert row["ratio x"] == pytest.approx(1.0, abs=0.1)
    assert set(joints) == {("test_rule", "buffy")}
