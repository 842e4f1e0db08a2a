"""companion.probes on the committed recipe probes: the table, and the choice written in
profiles.RECIPE_ON_VALIDATION is the one the validation columns make."""

from __future__ import annotations

import json

import pytest

from hmlpe.companion.probes import probe_table
from hmlpe.engine.profiles import RECIPE_ON_VALIDATION
from hmlpe.paths import PROJECT_ROOT

RECIPES = PROJECT_ROOT / "results" / "probes" / "recipes"


def test_probe_table_reads_config_and_last_evaluated_epoch(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    cfg = {
        "config": {
            "optim": {
                "name": "adam",
                "lr": 1e-3,
                "batch_size": 32,
                "warmup": 0.05,
                "schedule": "step",
                "weight_decay": 5e-4,
            },
            "model": {"init": "kaiming_trunk"},
        }
    }
    (run / "config.json").write_text(json.dumps(cfg))
    rows = [
        {
            "epoch": 1,
            "visits": 10,
            "train_seconds": 60.0,
            "val_regression": 0.3,
            "val_regression_mc16": 0.2,
            "dead_maps_conv2": 0.5,
        },
        {"epoch": 2, "visits": 20, "train_seconds": 60.0, "val_regression": None},
    ]
    (run / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    row = probe_table(tmp_path).loc["r"]
    assert row["init"] == "kaiming_trunk" and row["epochs"] == 2 and row["visits"] == 20
    assert row["val eq. 1"] == 0.3 and row["dead conv2"] == 0.5  # epoch 1: the last evaluated
    assert row["val dropout gap"] == pytest.approx(0.1) and row["training minutes"] == 2.0


@pytest.mark.skipif(not RECIPES.is_dir(), reason="no committed recipe probes")
def test_the_chosen_recipe_is_the_best_live_one_on_validation():
    table = probe_table(RECIPES)
    assert (table["visits"] == table["visits"].iloc[0]).all()  # equal compute
    live = table[
        (table["dead conv2"] < 0.05)
        & (table["dead conv3"] < 0.05)
        & (table["val dropout gap"].abs() < 0.01)
    ]
    best = live["val eq. 1"].idxmin()
    assert best not in ("base", "base_pack")  # the committed recipe has dead maps
    assert (live.loc[best, "init"], live.loc[best, "warm-up"]) == (
        RECIPE_ON_VALIDATION["model.init"],
        RECIPE_ON_VALIDATION["optim.warmup"],
    )
    assert live.loc[best, "schedule"] == "step" and live.loc[best, "batch"] == 32
