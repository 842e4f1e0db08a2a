"""The data chapter's tables, computed from the datasets: how training and test crops frame
people (per box rule), how large the training boxes are, and how the Buffy association rules
decide which test frames have a detection."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from hmlpe.config import CropConfig, TrainConfig
from hmlpe.data.boxes import buffy_gt_window, match_detections, train_box_for
from hmlpe.data.cropstats import extent_ratio, framing_summary
from hmlpe.data.pipeline import framing_joints
from hmlpe.data.source import DataSource

ASSOCIATION_RULES = {
    "paper": "first author's code: inter > 0.5 (GT area - inter)",
    "buffy": "Buffy package: IoU > 0.5",
}


def framing_table(
    crop: CropConfig,
    source: DataSource,
    rules=("test_rule", "margin"),
    datasets=("buffy", "flic", "lsp"),
) -> tuple[pd.DataFrame, dict]:
    """Per training-box rule and dataset: the mean extent of the joints in training crops and
    in test crops (units of the 112 crop) and their ratio; and the joints themselves,
    {(rule, dataset): (train, test or None)}, for the figure (``plotting.plot_framing``)."""
    rows, joints = [], {}
    for rule in rules:
        cfg = replace(TrainConfig(), crop=replace(crop, train_box=rule))
        for name in datasets:
            tr, te = framing_joints(cfg, name, source)
            joints[rule, name] = (tr, te)
            s_tr = framing_summary(tr)
            row = {
                "rule": rule,
                "dataset": name,
                "training crops": s_tr["n"],
                "train extent x": s_tr["extent_x"],
                "train extent y": s_tr["extent_y"],
            }
            if te is not None:
                s_te = framing_summary(te)
                ratio = extent_ratio(s_tr, s_te)
                row.update(
                    {
                        "test crops": s_te["n"],
                        "test extent x": s_te["extent_x"],
                        "test extent y": s_te["extent_y"],
                        "ratio x": ratio["x"],
                        "ratio y": ratio["y"],
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows).set_index(["rule", "dataset"]), joints


def training_box_sizes(kept: dict[str, list], crop: CropConfig) -> pd.DataFrame:
    """Per dataset, the training boxes' width and height in image pixels (median, 10-90 %)."""
    rows = []
    for name, records in kept.items():
        b = np.array([train_box_for(r, crop) for r in records])
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        rows.append(
            {
                "dataset": name,
                "examples": len(b),
                "width median": np.median(w),
                "width 10-90 %": f"{np.percentile(w, 10):.0f}-{np.percentile(w, 90):.0f}",
                "height median": np.median(h),
                "height 10-90 %": f"{np.percentile(h, 10):.0f}-{np.percentile(h, 90):.0f}",
            }
        )
    return pd.DataFrame(rows).set_index("dataset")


def association_table(
    buffy_test: list, detections: dict, paper_sets: dict
) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Per association rule (``boxes.match_detections``), the Buffy test frames with a detection
    of the annotated person, beside the paper's subset and whole-set sizes; and the matched
    frames of each rule."""
    matched = {
        rule: {
            r.example
            for r in buffy_test
            if match_detections(detections[r.example], buffy_gt_window(r.sticks), rule) is not None
        }
        for rule in ASSOCIATION_RULES
    }
    table = pd.DataFrame(
        [
            {"rule": text, "key": rule, "matched frames": len(matched[rule])}
            for rule, text in ASSOCIATION_RULES.items()
        ]
    ).set_index("rule")
    table["unmatched (all parts wrong)"] = len(buffy_test) - table["matched frames"]
    table["test frames"] = len(buffy_test)
    table["paper: subset / whole"] = (
        f"{paper_sets['subset']['n_images']} / {paper_sets['whole']['n_images']}"
    )
    return table, matched
