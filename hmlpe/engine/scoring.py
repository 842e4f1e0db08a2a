"""Scoring of Tables 1 and 2 and Figure 4, pure (no model, no files): predicted joints of a test
set and its ground truth in, the blocks of ``metrics.json`` out (:class:`EvaluationScores`,
written by ``engine.evaluation`` through ``engine.records``).

PCP ground truth (eq. 6, ``hmlpe.metrics.pcp``): Buffy's own arm sticks, FLIC's annotated
joints; a frame without a matched detection window counts every arm wrong. Figure 4: eq. 7's
accuracy of the elbows and wrists with the paper's and MODEC's torso size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hmlpe import metrics
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.engine.records import (
    ARM_COLUMNS,
    PCP_ALPHA,
    EvaluationScores,
    Figure4,
    PCPBlock,
)
from hmlpe.skeleton import ARM_PARTS, JOINTS, PART_NAMES, parts_from_joints
from hmlpe.uncertainty import bootstrap_pcp

if TYPE_CHECKING:
    from hmlpe.data.pipeline import HeldOutSet

__all__ = [
    "ARM_COLUMNS",
    "BUFFY_ARM_STICKS",
    "FIGURE4_JOINTS",
    "FIGURE4_RADII",
    "arm_correct",
    "arm_pcp",
    "figure4_accuracy",
    "flic_torso",
    "score_predictions",
]

# Buffy stick rows (file order torso, LUA, RUA, LLA, RLA, head) of ARM_PARTS.
BUFFY_ARM_STICKS = {"l_lower_arm": 3, "r_lower_arm": 4, "l_upper_arm": 1, "r_upper_arm": 2}
FIGURE4_RADII = np.arange(0, 21)
FIGURE4_JOINTS = ("l_elbow", "r_elbow", "l_wrist", "r_wrist")


def _sticks(record: PoseRecord) -> np.ndarray:
    assert record.sticks is not None  # every Buffy record has its stick annotations
    return record.sticks


def arm_correct(
    dataset: str,
    records: Sequence[PoseRecord],
    matched: np.ndarray,
    pred_joints: np.ndarray,
    alpha: float = PCP_ALPHA,
) -> np.ndarray:
    """Correct (N, 4) for the arms LL, RL, LU, RU by eq. 6 of predicted joints (N, 8, 2, image
    pixels) against the records' ground truth; frames not ``matched`` are wrong."""
    pred_parts = parts_from_joints(pred_joints)
    part_idx = [PART_NAMES.index(p) for p in ARM_PARTS]
    pred_arms = pred_parts[:, part_idx]
    if dataset == "buffy":
        gt_arms = np.stack([_sticks(r)[[BUFFY_ARM_STICKS[p] for p in ARM_PARTS]] for r in records])
    else:
        gt_joints = np.stack([r.joints for r in records])
        gt_arms = parts_from_joints(gt_joints)[:, part_idx]
    correct = metrics.pcp(pred_arms, gt_arms, alpha=alpha)  # NaN ends count as wrong
    return correct & np.asarray(matched, bool)[:, None]


def arm_pcp(test: HeldOutSet, pred_joints: np.ndarray, alpha: float = PCP_ALPHA) -> np.ndarray:
    """:func:`arm_correct` of a held-out set."""
    return arm_correct(test.name, test.records, test.matched, pred_joints, alpha)


def flic_torso(record: PoseRecord, definition: str = "paper") -> float:
    """Eq. 7's torso size of a FLIC record: the paper's hip-to-opposite-shoulder distance
    (left hip to right shoulder) or MODEC's (left shoulder to right hip), with FLIC's own
    left/right labels (the reader relabels arms observer-centric; ``swapped_lr`` undoes it)."""
    j = record.joints
    l_sho, r_sho = j[JOINTS.index("l_shoulder")], j[JOINTS.index("r_shoulder")]
    l_hip, r_hip = record.extra["l_hip"], record.extra["r_hip"]
    if record.swapped_lr:
        l_sho, r_sho, l_hip, r_hip = r_sho, l_sho, r_hip, l_hip
    return float(metrics.torso_size(l_sho, r_sho, l_hip, r_hip, definition))


def figure4_curves_of(records: Sequence[PoseRecord], pred: np.ndarray) -> Figure4:
    """Figure 4 of predicted joints (N, 8, 2, image pixels) on FLIC test records: eq. 7's
    accuracy of the elbows and wrists at ``FIGURE4_RADII``, with the paper's and MODEC's torso
    size."""
    gt = np.stack([r.joints for r in records])
    j_idx = [JOINTS.index(j) for j in FIGURE4_JOINTS]
    curves = {}
    for definition in ("paper", "modec"):
        torso = np.array([flic_torso(r, definition) for r in records])
        acc = metrics.joint_accuracy_curve(pred[:, j_idx], gt[:, j_idx], torso, FIGURE4_RADII)
        curves[definition] = {j: tuple(map(float, acc[:, k])) for k, j in enumerate(FIGURE4_JOINTS)}
    return Figure4(radii=tuple(int(r) for r in FIGURE4_RADII), torso=curves)


def figure4_accuracy(test: HeldOutSet, pred: np.ndarray) -> dict[str, Any]:
    """:func:`figure4_curves_of` of a held-out set, as the ``figure4`` object of
    ``metrics.json`` (``baselines.reference_figure4``)."""
    return figure4_curves_of(test.records, pred).to_json()


def _ci(correct: np.ndarray) -> dict[str, tuple[float, float]]:
    """95% bootstrap interval over test frames of each column's PCP (hmlpe.uncertainty)."""
    b = bootstrap_pcp(correct)
    return {c: (float(b["lo"][k]), float(b["hi"][k])) for k, c in enumerate(ARM_COLUMNS)}


def score_predictions(
    dataset: str, records: Sequence[PoseRecord], matched: np.ndarray, pred: np.ndarray
) -> EvaluationScores:
    """The numbers of one evaluation: per-frame correctness, the whole set's PCP (Table 1's
    whole set, Table 2) with its bootstrap interval, Buffy's matched subset, FLIC's Figure 4.
    ``pred``: joints (N, 8, 2) in image pixels, NaN where a frame has no prediction."""
    matched = np.asarray(matched, bool)
    correct = arm_correct(dataset, records, matched, pred)
    table = metrics.pcp_table(correct, matched)
    whole = PCPBlock(
        pcp=dict(zip(ARM_COLUMNS, map(float, table.whole))), n=len(records), ci95=_ci(correct)
    )
    subset = figure4 = None
    if dataset == "buffy":
        subset = PCPBlock(
            pcp=dict(zip(ARM_COLUMNS, map(float, table.subset))),
            n=int(matched.sum()),
            ci95=_ci(correct[matched]),
        )
    else:
        figure4 = figure4_curves_of(records, pred)
    return EvaluationScores(
        dataset=dataset,
        matched=matched,
        correct=correct,
        whole_set=whole,
        subset=subset,
        figure4=figure4,
    )
