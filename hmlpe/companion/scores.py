"""Per-frame arm scores of an evaluation folder (``metrics.json``, ``predictions.csv``): which
arms of each test example are correct by eq. 6 (``hmlpe.metrics.pcp``), how far each arm is
from correct (``hmlpe.metrics.pcp_score``), a check that the per-frame decisions add up to the
PCP of ``metrics.json``, and the best and worst examples to show."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hmlpe import metrics
from hmlpe.companion.tables import PART_COLUMNS
from hmlpe.data.datasets import load_dataset
from hmlpe.engine.evaluation import read_predictions
from hmlpe.engine.layout import PREDICTIONS_NAME
from hmlpe.engine.records import EvaluationRecord, read_evaluation_record
from hmlpe.engine.scoring import BUFFY_ARM_STICKS
from hmlpe.errors import ResultsError
from hmlpe.skeleton import ARM_PARTS, PART_NAMES, parts_from_joints

ARM_INDEX = [PART_NAMES.index(p) for p in ARM_PARTS]  # the arms LL, RL, LU, RU among the parts


def read_evaluation(
    eval_dir: Path | str, root: Path
) -> tuple[EvaluationRecord, pd.DataFrame, np.ndarray, dict[str, Any]]:
    """An evaluation folder as (its metrics.json record, predictions table, predicted joints
    (N, 8, 2) in image pixels, {example name: test record} of the evaluated dataset under the
    data root ``root``)."""
    eval_dir = Path(eval_dir)
    m = read_evaluation_record(eval_dir)
    frame, pred = read_predictions(eval_dir / PREDICTIONS_NAME)
    if m.dataset is None:
        raise ResultsError(f"{m.where} names no dataset; evaluate again")
    records = {r.example: r for r in load_dataset(m.dataset, root, "test")}
    return m, frame, pred, records


def ground_truth_arms(records: list, dataset: str) -> np.ndarray:
    """(N, 4, 2, 2) ground-truth arms LL, RL, LU, RU as the evaluation scores them."""
    if dataset == "buffy":
        return np.stack([r.sticks[[BUFFY_ARM_STICKS[p] for p in ARM_PARTS]] for r in records])
    return parts_from_joints(np.stack([r.joints for r in records]))[:, ARM_INDEX]


def arm_scores(pred_arms: np.ndarray, gt_arms: np.ndarray) -> np.ndarray:
    """Eq. 6's criterion as a number per arm (``hmlpe.metrics.pcp_score``): the larger
    end-point error over the part length, in the better of the two end orders. (N, P, 2, 2)
    twice -> (N, P); lower is better. NaN predictions give inf (ranked last)."""
    pred = np.nan_to_num(np.asarray(pred_arms, float), nan=np.inf)
    return metrics.pcp_score(pred, gt_arms)


def frame_scores(eval_dir: Path | str, root: Path, alpha: float = 0.5) -> pd.DataFrame:
    """Per test example of an evaluation folder (its ground truth read under the data root
    ``root``): matched, arms correct by eq. 6 (0-4, by ``hmlpe.metrics.pcp`` as in
    ``metrics.json``; unmatched frames have none) and the mean :func:`arm_scores` (lower is
    better), in ``predictions.csv`` order."""
    m, frame, pred, records = read_evaluation(eval_dir, root)
    recs = [records[str(e)] for e in frame["example"]]
    pred_arms = parts_from_joints(pred)[:, ARM_INDEX]
    gt_arms = ground_truth_arms(recs, str(m.dataset))
    scores = arm_scores(pred_arms, gt_arms)
    correct = metrics.pcp(pred_arms, gt_arms, alpha) & frame["matched"].to_numpy(bool)[:, None]
    out = pd.DataFrame(
        {
            "example": frame["example"].astype(str),
            "matched": frame["matched"],
            "arms correct": correct.sum(axis=1),
            "mean arm score": np.where(frame["matched"], scores.mean(axis=1), np.inf),
        }
    )
    for k, c in enumerate(PART_COLUMNS):
        out[c] = correct[:, k]
    return out


def checked_frame_scores(
    eval_dir: Path | str, root: Path, pcp: Mapping[str, float]
) -> pd.DataFrame:
    """:func:`frame_scores` of an evaluation, checked against the PCP of its metrics.json
    (``pcp``: {"LL": ..., ...} over all frames): the per-frame decisions must add up to the
    table, else ``ResultsError`` naming the folder."""
    scores = frame_scores(eval_dir, root)
    recount = 100 * scores[list(PART_COLUMNS)].sum() / len(scores)
    expected = np.array([pcp[c] for c in PART_COLUMNS], dtype=float)
    if not np.allclose(recount.to_numpy(dtype=float), expected):
        raise ResultsError(
            f"{eval_dir}: per-frame arm scores {recount.round(3).tolist()} do not "
            f"add up to metrics.json's PCP {expected.round(3).tolist()}"
        )
    return scores


def best_and_worst(scores: pd.DataFrame, n: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` matched examples with most arms correct (ties: lowest mean arm score) and
    the ``n`` with fewest (ties: highest); a stable order, so the choice is reproducible."""
    s = scores[scores["matched"].astype(bool)]
    best = s.sort_values(
        ["arms correct", "mean arm score"], ascending=[False, True], kind="mergesort"
    ).head(n)
    worst = s.sort_values(
        ["arms correct", "mean arm score"], ascending=[True, False], kind="mergesort"
    ).head(n)
    return best, worst
