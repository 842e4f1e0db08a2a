"""Figures of example predictions of an evaluation folder: our predicted skeleton on the test
image, zoomed to the test box, with the ground-truth arms; and the best and worst examples by
their per-frame arm scores (``hmlpe.companion.scores``)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from hmlpe.companion.scores import best_and_worst, ground_truth_arms, read_evaluation
from hmlpe.data.crops import load_image
from hmlpe.engine.predict import draw_skeleton


def plot_predictions(
    eval_dir: Path | str,
    root: Path,
    examples: Iterable[str],
    axes,
    *,
    scores: pd.DataFrame | None = None,
    margin: float = 0.1,
) -> None:
    """Draw our predicted skeleton (``hmlpe.engine.predict.draw_skeleton``: parts, joints and the
    test box in white) on each example's image (under the data root ``root``), zoomed to its
    test box, with the ground-truth arms as thin dashed white lines; one example per axis."""
    examples = [str(e) for e in examples]
    m, frame, pred, records = read_evaluation(eval_dir, root)
    row_of = {str(e): i for i, e in enumerate(frame["example"].astype(str))}
    for ax, example in zip(np.ravel(axes), examples):
        i = row_of[str(example)]
        rec = records[str(example)]
        box = frame.loc[i, ["box_x1", "box_y1", "box_x2", "box_y2"]].to_numpy(float)
        image = load_image(rec.image)
        png = draw_skeleton(image, pred[i], box if np.isfinite(box).all() else None)
        ax.imshow(Image.open(io.BytesIO(png)))
        for a, b in ground_truth_arms([rec], str(m.dataset))[0]:
            ax.plot([a[0], b[0]], [a[1], b[1]], "--", color="white", lw=0.8)
        if np.isfinite(box).all():
            w, h = box[2] - box[0], box[3] - box[1]
            ax.set_xlim(box[0] - margin * w, box[2] + margin * w)
            ax.set_ylim(box[3] + margin * h, box[1] - margin * h)
        title = str(example)
        if scores is not None:
            s = scores.set_index("example").loc[str(example)]
            title += f"\n{int(s['arms correct'])}/4 arms correct"
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    for ax in np.ravel(axes)[len(examples) :]:
        ax.set_axis_off()


def example_figure(
    eval_dir: Path | str,
    root: Path,
    examples: Iterable[str],
    scores: pd.DataFrame,
    title: str,
    ncols: int = 2,
    size: float = 3.6,
):
    """A figure of :func:`plot_predictions` for ``examples``, ``ncols`` per row, titled."""
    examples = [str(e) for e in examples]
    nrows = max(1, math.ceil(len(examples) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * 1.05 * nrows), squeeze=False
    )
    plot_predictions(eval_dir, root, examples, axes, scores=scores)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def best_and_worst_figures(eval_dir: Path | str, root: Path, scores: pd.DataFrame, n: int = 4):
    """Figures of the ``n`` best and ``n`` worst matched examples (:func:`best_and_worst`),
    their images read under the data root ``root``."""
    best, worst = best_and_worst(scores, n)
    return (
        example_figure(eval_dir, root, best["example"], scores, "best: most arms correct"),
        example_figure(eval_dir, root, worst["example"], scores, "worst: fewest arms correct"),
    )
