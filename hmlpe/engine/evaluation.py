"""Evaluation on the Buffy (Table 1) and FLIC (Table 2, Figure 4) test sets: run the network
on the test crops, score its predictions (``engine.scoring``, pure) and write the results.

Writes ``predictions.csv`` (one row per test example, joints in original-image pixels,
0-based) and ``metrics.json`` (the table's numbers with provenance, ``engine.records``) into an
output folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from hmlpe.config import merge
from hmlpe.data.pipeline import HeldOutSet, load_test_set
from hmlpe.data.source import DataSource
from hmlpe.engine.checkpoint import CheckpointError, load_model
from hmlpe.engine.guard import RunLock, check_output_folder
from hmlpe.engine.inference import joints_to_image, predict_crops, predict_crops_mirror_averaged
from hmlpe.engine.layout import METRICS_NAME, PREDICTIONS_NAME
from hmlpe.engine.records import (
    EvaluationProvenance,
    EvaluationRecord,
    EvaluationScores,
    read_evaluation_record,
    write_evaluation_record,
)
from hmlpe.engine.scoring import (  # noqa: F401  (re-exported: where the tables' numbers are made)
    ARM_COLUMNS,
    BUFFY_ARM_STICKS,
    FIGURE4_JOINTS,
    FIGURE4_RADII,
    arm_pcp,
    figure4_accuracy,
    flic_torso,
    score_predictions,
)
from hmlpe.errors import ResultsError, UnknownNameError
from hmlpe.provenance import atomic_write_text, git_commit, now_utc
from hmlpe.skeleton import JOINTS

DATASETS = ("buffy", "flic")


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
        raise ResultsError(f"{path} lacks columns: {', '.join(missing)}")
    joints = np.stack([frame[[f"{j}_x", f"{j}_y"]].to_numpy(float) for j in JOINTS], axis=1)
    return frame, joints


def evaluate(
    checkpoint: Path,
    dataset: str,
    out_dir: Path,
    *,
    source: DataSource | None = None,
    device: str = "auto",
    association: str | None = None,
    mirror_average: bool = False,
) -> EvaluationRecord:
    """Evaluate a checkpoint on ``dataset``; write predictions.csv and metrics.json and return
    the record written. ``source``: where the test set is read (None: ``DataSource.resolve()``,
    the defaults). ``mirror_average``: average the predictions of each crop and its mirror
    (not in the paper; reported apart, ``EvaluationRecord.mirror_average``)."""
    if dataset not in DATASETS:
        raise UnknownNameError(
            f"unknown dataset {dataset!r} for evaluation; choose one of {', '.join(DATASETS)}"
        )
    check_output_folder(out_dir)  # never over committed or exported results; before any work
    with RunLock(out_dir, "evaluation"):
        return _evaluate(
            checkpoint,
            dataset,
            out_dir,
            source=source if source is not None else DataSource.resolve(),
            device=device,
            association=association,
            mirror_average=mirror_average,
        )


def _evaluate(
    checkpoint: Path,
    dataset: str,
    out_dir: Path,
    *,
    source: DataSource,
    device: str,
    association: str | None,
    mirror_average: bool,
) -> EvaluationRecord:
    """Inference, then pure scoring (``score_predictions``), then writing (``write_results``)."""
    t0 = time.perf_counter()
    model, cfg, spec, state = load_model(Path(checkpoint), device)
    if association is not None:
        cfg = merge(cfg, {"data.buffy_association": association})
    test = load_test_set(dataset, cfg, source)
    pred = np.full((len(test.records), len(JOINTS), 2), np.nan)
    sel = np.flatnonzero(test.matched)
    t_inf = time.perf_counter()
    if mirror_average:
        norm = predict_crops_mirror_averaged(model, test.images[sel], spec)
    else:
        norm, _ = predict_crops(model, test.images[sel], spec)
    inference_seconds = time.perf_counter() - t_inf
    pred[sel] = joints_to_image(norm, test.boxes[sel], cfg.crop.input_size)
    scores = score_predictions(dataset, test.records, test.matched, pred)
    provenance = EvaluationProvenance(
        git_commit=git_commit(),
        config=state["config"],
        device=spec.description,
        created=now_utc(),
        seconds=round(time.perf_counter() - t0, 2),
        inference_seconds=round(inference_seconds, 3),
        inference_images_per_second=round(len(sel) / max(inference_seconds, 1e-9), 1),
        data_fingerprint=test.fingerprint,
        **source.provenance(),
    )
    return write_results(
        out_dir,
        test,
        pred,
        scores,
        provenance=provenance,
        checkpoint=str(checkpoint),
        checkpoint_epoch=int(state["epoch"]),
        checkpoint_commit=state.get("git_commit"),
        association=cfg.data.buffy_association,
        mirror_average=mirror_average,
    )


def write_results(
    out_dir: Path,
    test: HeldOutSet,
    pred: np.ndarray,
    scores: EvaluationScores,
    *,
    provenance: EvaluationProvenance,
    checkpoint: str,
    checkpoint_epoch: int,
    checkpoint_commit: str | None,
    association: str | None,
    mirror_average: bool,
) -> EvaluationRecord:
    """Write an evaluation folder: ``predictions.csv`` of ``pred`` (N, 8, 2, image pixels) and
    ``metrics.json`` of ``scores`` with the checkpoint and provenance."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = predictions_frame(test, pred)
    atomic_write_text(out_dir / PREDICTIONS_NAME, frame.to_csv(index=False, float_format="%.3f"))
    return write_evaluation_record(
        out_dir,
        scores,
        provenance=provenance,
        checkpoint=checkpoint,
        checkpoint_epoch=checkpoint_epoch,
        checkpoint_commit=checkpoint_commit,
        association=association,
        mirror_average=mirror_average,
    )


def ensure_evaluation(
    checkpoint: Path | str,
    dataset: str,
    out_dir: Path | str,
    *,
    source: DataSource | None = None,
    association: str | None = None,
    device: str = "auto",
    mirror_average: bool = False,
) -> EvaluationRecord:
    """The ``metrics.json`` of ``out_dir``, evaluating ``checkpoint`` first when it is missing or
    older than the checkpoint (so a re-executed chapter reuses the finished evaluation);
    ``source`` as :func:`evaluate`'s."""
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    metrics_file = out_dir / METRICS_NAME
    if metrics_file.is_file() and (
        not checkpoint.is_file() or metrics_file.stat().st_mtime >= checkpoint.stat().st_mtime
    ):
        m = read_evaluation_record(metrics_file, dataset)
        if (association is None or m.association == association) and (
            m.mirror_average == mirror_average
        ):
            return m
    if not checkpoint.is_file():
        raise CheckpointError(
            f"no checkpoint {checkpoint.parent.name}/{checkpoint.name} to "
            f"evaluate: run the Training chapter (or the protocol) first"
        )
    return evaluate(
        checkpoint,
        dataset,
        out_dir,
        source=source,
        device=device,
        association=association,
        mirror_average=mirror_average,
    )
