"""The two references every PCP number sits between (issue 7): the trivial baseline, the
training pool's mean pose predicted in every test box, and the oracle, the ground-truth
joints passed through the pipeline (test box -> crop-normalised units, clipped to the tanh
output's range (-1, 1) -> image). The oracle scores 100% on matched frames whose joints the
network's output can represent; what it misses is lost to the test boxes, not the network.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hmlpe.companion.seeds import TABLES
from hmlpe.config import StageConfig, TrainConfig
from hmlpe.data.cropstats import centre_crop_normalised
from hmlpe.data.pipeline import HeldOutSet, load_test_set, load_train_set
from hmlpe.data.source import DataSource
from hmlpe.engine.inference import joints_to_image
from hmlpe.engine.scoring import ARM_COLUMNS, arm_pcp, figure4_accuracy
from hmlpe.metrics import pcp_table


def mean_pose(train_joints_normalised) -> np.ndarray:
    """Mean joints (8, 2) of training crops in crop-normalised units (NaN ignored)."""
    return np.nanmean(np.asarray(train_joints_normalised, dtype=np.float64), axis=0)


def pool_mean_pose(cfg: TrainConfig, source: DataSource) -> np.ndarray:
    """``mean_pose`` of the training pool's centre crops (the mean-pose reference)."""
    pool = load_train_set(replace(cfg, stage=StageConfig("pool", 1, 1.0)), source)
    return mean_pose(centre_crop_normalised(pool.joints, cfg.crop.train_size, cfg.crop.input_size))


def reference_predictions(
    test: HeldOutSet, kind: str, pose: np.ndarray | None = None, input_size: int = 112
) -> np.ndarray:
    """Predicted joints (N, 8, 2) in image pixels of a reference: "mean_pose" (``pose`` in
    every matched test box) or "oracle" (ground truth through the pipeline); NaN for
    unmatched frames."""
    pred = np.full((len(test.records), 8, 2), np.nan)
    sel = np.flatnonzero(test.matched)
    if kind == "mean_pose":
        if pose is None:
            raise ValueError("the mean-pose reference needs the mean pose")
        norm = np.broadcast_to(np.asarray(pose, dtype=np.float64), (len(sel), 8, 2))
    elif kind == "oracle":
        norm = np.clip(test.joints[sel] / input_size, -1.0, 1.0)
    else:
        raise ValueError(f"unknown reference {kind!r}; choose mean_pose or oracle")
    pred[sel] = joints_to_image(np.array(norm), test.boxes[sel], input_size)
    return pred


def reference_pcp(source: DataSource, cfg: TrainConfig = TrainConfig()) -> dict:
    """PCP (LL, RL, LU, RU) of the mean pose of the training pool and of the oracle on the
    Buffy (whole set and subset) and FLIC test sets, read from ``source``: {(reference,
    test-set label of ``seeds.TABLES``): {column: %}}."""
    pose = pool_mean_pose(cfg, source)
    out: dict = {}
    for ds in ("buffy", "flic"):
        test = load_test_set(ds, cfg, source)
        for kind in ("mean_pose", "oracle"):
            correct = arm_pcp(test, reference_predictions(test, kind, pose, cfg.crop.input_size))
            table = pcp_table(correct, test.matched)
            for _, dataset, key, label in TABLES:
                if dataset == ds:
                    values = table.subset if key == "subset" else table.whole
                    out[kind, label] = dict(zip(ARM_COLUMNS, map(float, values)))
    return out


def reference_figure4(source: DataSource, cfg: TrainConfig = TrainConfig()) -> dict:
    """Figure 4 (``scoring.figure4_accuracy``) of the mean pose and of the oracle on the
    FLIC test set, read from ``source``: {reference: the ``figure4`` object of metrics.json
    (``records.Figure4``)}."""
    pose = pool_mean_pose(cfg, source)
    test = load_test_set("flic", cfg, source)
    return {
        kind: figure4_accuracy(test, reference_predictions(test, kind, pose, cfg.crop.input_size))
        for kind in ("mean_pose", "oracle")
    }
