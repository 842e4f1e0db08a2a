"""Evaluation on the Buffy (Table 1) and FLIC (Table 2, Figure 4) test sets.

Writes ``predictions.csv`` (one row per test example, joints in original-image pixels,
0-based) and ``metrics.json`` (the table's numbers with provenance) into an output folder.
PCP ground truth: Buffy's own arm sticks; FLIC's annotated joints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hmlpe import metrics
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.data.pack import pack_provenance
from hmlpe.data.pipeline import HeldOutSet, load_test_set
from hmlpe.engine.checkpoint import load_model
from hmlpe.engine.guard import RunLock, check_output_folder
from hmlpe.engine.inference import joints_to_image, predict_crops, predict_crops_mirror_averaged
from hmlpe.engine.layout import METRICS_NAME, PREDICTIONS_NAME
from hmlpe.provenance import atomic_write_json, atomic_write_text, git_commit, now_utc
from hmlpe.skeleton import ARM_PARTS, JOINTS, PART_NAMES, parts_from_joints
from hmlpe.uncertainty import bootstrap_pcp, encode_bits

DATASETS = ("buffy", "flic")
# Column labels of Tables 1 and 2, in the paper's order, for the parts in skeleton.ARM_PARTS.
ARM_COLUMNS = ("LL", "RL", "LU", "RU")
# Buffy stick rows (file order torso, LUA, RUA, LLA, RLA, head) of ARM_PARTS.
BUFFY_ARM_STICKS = {"l_lower_arm": 3, "r_lower_arm": 4, "l_upper_arm": 1, "r_upper_arm": 2}
FIGURE4_RADII = np.arange(0, 21)
FIGURE4_JOINTS = ("l_elbow", "r_elbow", "l_wrist", "r_wrist")


def predictions_frame(test: HeldOutSet, joints_image: np.ndarray) -> pd.DataFrame:
    """The predictions.csv table: one row per test example."""
    rows = {
        "dataset": test.name,
        "image": [_relative_image(r) for r in test.records],
        "example": [r.example for r in test.records],
        "matched": test.matched.astype(bool),
    }
    for k, name in enumerate(("box_x1", "box_y1", "box_x2", "box_y2")):
        rows[name] = test.boxes[:, k]
    for j, name in enumerate(JOINTS):
        rows[f"{name}_x"] = joints_image[:, j, 0]
        rows[f"{name}_y"] = joints_image[:, j, 1]
    return pd.DataFrame(rows)


def _relative_image(record) -> str:
    """The image path from the dataset's folder on (e.g. buffy/images/.../000063.jpg), so a
    predictions file does not depend on where the data root lives."""
    parts = Path(record.image).parts
    if record.dataset in parts:
        start = len(parts) - 1 - parts[::-1].index(record.dataset)
        return "/".join(parts[start:])
    return str(record.image)


def read_predictions(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """predictions.csv -> (table, joints (N, 8, 2) in image pixels)."""
    frame = pd.read_csv(path)
    missing = [c for c in ("dataset", "example", "matched") if c not in frame.columns]
    missing += [f"{j}_{a}" for j in JOINTS for a in "xy" if f"{j}_{a}" not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns: {', '.join(missing)}")
    joints = np.stack([frame[[f"{j}_x", f"{j}_y"]].to_numpy(float) for j in JOINTS], axis=1)
    return frame, joints


def _sticks(record: PoseRecord) -> np.ndarray:
    assert record.sticks is not None  # every Buffy record has its stick annotations
    return record.sticks


def arm_pcp(test: HeldOutSet, pred_joints: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Correct (N, 4) for the arms LL, RL, LU, RU by eq. 6; unmatched frames are wrong."""
    pred_parts = parts_from_joints(pred_joints)
    part_idx = [PART_NAMES.index(p) for p in ARM_PARTS]
    pred_arms = pred_parts[:, part_idx]
    if test.name == "buffy":
        gt_arms = np.stack(
            [_sticks(r)[[BUFFY_ARM_STICKS[p] for p in ARM_PARTS]] for r in test.records]
        )
    else:
        gt_joints = np.stack([r.joints for r in test.records])
        gt_arms = parts_from_joints(gt_joints)[:, part_idx]
    correct = metrics.pcp(pred_arms, gt_arms, alpha=alpha)  # NaN ends count as wrong
    return correct & test.matched[:, None]


def evaluate(
    checkpoint: Path,
    dataset: str,
    out_dir: Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
    association: str | None = None,
    progress: bool | None = None,
    mirror_average: bool = False,
) -> dict[str, Any]:
    """Evaluate a checkpoint on ``dataset``; write predictions.csv and metrics.json.
    ``mirror_average``: average the predictions of each crop and its mirror (not in the paper;
    reported apart, ``metrics.json["mirror_average"]``)."""
    if dataset not in DATASETS:
        raise ValueError(
            f"unknown dataset {dataset!r} for evaluation; choose one of {', '.join(DATASETS)}"
        )
    check_output_folder(out_dir)  # never over committed or exported results; before any work
    with RunLock(out_dir, "evaluation"):
        return _evaluate(
            checkpoint,
            dataset,
            out_dir,
            device=device,
            data_root=data_root,
            association=association,
            progress=progress,
            mirror_average=mirror_average,
        )


def _evaluate(
    checkpoint: Path,
    dataset: str,
    out_dir: Path,
    *,
    device: str,
    data_root: str | None,
    association: str | None,
    progress: bool | None,
    mirror_average: bool,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    model, cfg, spec, state = load_model(Path(checkpoint), device)
    overrides = {}
    if data_root is not None:
        overrides["data.data_root"] = data_root
    if association is not None:
        overrides["data.buffy_association"] = association
    if overrides:
        from hmlpe.config import merge

        cfg = merge(cfg, overrides)
    test = load_test_set(dataset, cfg, progress=progress)
    pred = np.full((len(test.records), len(JOINTS), 2), np.nan)
    sel = np.flatnonzero(test.matched)
    t_inf = time.perf_counter()
    if mirror_average:
        norm = predict_crops_mirror_averaged(model, test.images[sel], spec)
    else:
        norm, _ = predict_crops(model, test.images[sel], spec)
    inference_seconds = time.perf_counter() - t_inf
    pred[sel] = joints_to_image(norm, test.boxes[sel], cfg.crop.input_size)
    frame = predictions_frame(test, pred)
    correct = arm_pcp(test, pred)
    table = metrics.pcp_table(correct, test.matched)
    result: dict[str, Any] = {
        "dataset": dataset,
        "checkpoint": str(checkpoint),
        "checkpoint_epoch": int(state["epoch"]),
        "checkpoint_commit": state.get("git_commit"),
        "pcp_alpha": 0.5,
        "columns": dict(zip(ARM_COLUMNS, ARM_PARTS)),
        "n_examples": int(len(test.records)),
        "n_matched": int(test.matched.sum()),
        "mirror_average": bool(mirror_average),
    }
    whole = dict(zip(ARM_COLUMNS, map(float, table.whole)))
    subset = dict(zip(ARM_COLUMNS, map(float, table.subset)))
    whole_ci = _ci(correct)
    # Per-frame correctness (test order of predictions.csv) for seeds and bootstraps later.
    result["per_frame"] = {
        "matched": encode_bits(test.matched),
        "correct": {c: encode_bits(correct[:, k]) for k, c in enumerate(ARM_COLUMNS)},
    }
    if dataset == "buffy":
        result["association"] = cfg.data.buffy_association
        result["table1"] = {
            "whole_set": {"n": int(len(test.records)), "pcp": whole, "ci95": whole_ci},
            "subset": {
                "n": int(test.matched.sum()),
                "pcp": subset,
                "ci95": _ci(correct[test.matched]),
            },
        }
    else:
        result["table2"] = {"n": int(len(test.records)), "pcp": whole, "ci95": whole_ci}
        result["figure4"] = figure4_accuracy(test, pred)
    result["provenance"] = {
        "git_commit": git_commit(),
        "config": state["config"],
        "device": spec.description,
        "created": now_utc(),
        "seconds": round(time.perf_counter() - t0, 2),
        "inference_seconds": round(inference_seconds, 3),
        "inference_images_per_second": round(len(sel) / max(inference_seconds, 1e-9), 1),
        "data_fingerprint": test.fingerprint,
        "data_pack": pack_provenance(),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / PREDICTIONS_NAME, frame.to_csv(index=False, float_format="%.3f"))
    atomic_write_json(out_dir / METRICS_NAME, result)
    return result


def figure4_accuracy(test: HeldOutSet, pred: np.ndarray) -> dict[str, Any]:
    """Figure 4 of predicted joints (N, 8, 2, image pixels) on the FLIC test set: eq. 7's
    accuracy of the elbows and wrists at ``FIGURE4_RADII``, with the paper's and MODEC's torso
    size; the ``metrics.json["figure4"]`` block."""
    gt = np.stack([r.joints for r in test.records])
    j_idx = [JOINTS.index(j) for j in FIGURE4_JOINTS]
    curves = {}
    for definition in ("paper", "modec"):
        torso = np.array([flic_torso(r, definition) for r in test.records])
        acc = metrics.joint_accuracy_curve(pred[:, j_idx], gt[:, j_idx], torso, FIGURE4_RADII)
        curves[definition] = {j: acc[:, k].tolist() for k, j in enumerate(FIGURE4_JOINTS)}
    return {"radii": FIGURE4_RADII.tolist(), "torso": curves}


def _ci(correct: np.ndarray) -> dict[str, list[float]]:
    """95% bootstrap interval over test frames of each column's PCP (hmlpe.uncertainty)."""
    b = bootstrap_pcp(correct)
    return {c: [float(b["lo"][k]), float(b["hi"][k])] for k, c in enumerate(ARM_COLUMNS)}


def flic_torso(record, definition: str = "paper") -> float:
    """Eq. 7's torso size of a FLIC record: the paper's hip-to-opposite-shoulder distance
    (left hip to right shoulder) or MODEC's (left shoulder to right hip), with FLIC's own
    left/right labels (the reader relabels arms observer-centric; ``swapped_lr`` undoes it)."""
    j = record.joints
    l_sho, r_sho = j[JOINTS.index("l_shoulder")], j[JOINTS.index("r_shoulder")]
    l_hip, r_hip = record.extra["l_hip"], record.extra["r_hip"]
    if record.swapped_lr:
        l_sho, r_sho, l_hip, r_hip = r_sho, l_sho, r_hip, l_hip
    return float(metrics.torso_size(l_sho, r_sho, l_hip, r_hip, definition))


def load_metrics(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def ensure_evaluation(
    checkpoint: Path | str,
    dataset: str,
    out_dir: Path | str,
    *,
    association: str | None = None,
    device: str = "auto",
    progress: bool | None = False,
    mirror_average: bool = False,
) -> dict[str, Any]:
    """``metrics.json`` of ``out_dir``, evaluating ``checkpoint`` first when it is missing or
    older than the checkpoint (so a re-executed chapter reuses the finished evaluation)."""
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    metrics_file = out_dir / METRICS_NAME
    if metrics_file.is_file() and (
        not checkpoint.is_file() or metrics_file.stat().st_mtime >= checkpoint.stat().st_mtime
    ):
        m = load_metrics(metrics_file)
        if (association is None or m.get("association") == association) and bool(
            m.get("mirror_average", False)
        ) == mirror_average:
            return m
    if not checkpoint.is_file():
        raise FileNotFoundError(
            f"no checkpoint {checkpoint.parent.name}/{checkpoint.name} to "
            f"evaluate: run the Training chapter (or the protocol) first"
        )
    return evaluate(
        checkpoint,
        dataset,
        out_dir,
        device=device,
        association=association,
        progress=progress,
        mirror_average=mirror_average,
    )
