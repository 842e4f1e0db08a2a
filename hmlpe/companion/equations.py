"""The paper's equations 1-7, each with the library function that implements it and a small
hand-computed check that the book executes (chapter "The method as equations").

Every check returns what was expected by hand and what the function computed; ``run_checks``
tabulates them. The expected values are worked out in each check's docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from hmlpe import metrics
from hmlpe.config import LossConfig
from hmlpe.data import labels
from hmlpe.network import losses
from hmlpe.network.model import HMLPENet


@dataclass(frozen=True)
class Check:
    case: str
    expected: object
    computed: object

    @property
    def passed(self) -> bool:
        e, c = np.asarray(self.expected), np.asarray(self.computed)
        if e.dtype.kind in "bi" or c.dtype.kind in "bi":
            return e.shape == c.shape and bool((e == c).all())
        return e.shape == c.shape and bool(
            np.allclose(e.astype(float), c.astype(float), rtol=1e-6, atol=1e-6)
        )


@dataclass(frozen=True)
class Equation:
    number: int
    name: str
    implemented_by: str
    check: Callable[[], Check]


def check_eq1() -> Check:
    """Two joints, prediction (0.5, 0), (1, 0) against (0, 0), (1, 1):
    0.5^2 + 0 + 0 + 1^2 = 1.25."""
    pred = torch.tensor([[[0.5, 0.0], [1.0, 0.0]]])
    target = torch.tensor([[[0.0, 0.0], [1.0, 1.0]]])
    return Check(
        "2 joints, errors (0.5, 0) and (0, 1)", 1.25, float(losses.regression_loss(pred, target)[0])
    )


def check_eq2() -> Check:
    """A horizontal stick from (0, 15) to (40, 15), length 40, beta 0.3 (threshold 12), 30 px
    windows on the uniform 8 x 8 grid of a 112 crop (stride 82 / 7 = 11.71): columns 0, 1, 2
    hold 30, 28.3 and 16.6 px of it (column 3: 4.9); rows 0 and 1 contain y = 15 (row 2
    starts at 23.4). So the 6 windows (rows 0-1) x (columns 0-2) are positive."""
    got = labels.part_indicator_map(
        (0.0, 15.0), (40.0, 15.0), crop=112, window=30, grid=8, beta=0.3
    )
    expected = [[r, c] for r in (0, 1) for c in (0, 1, 2)]
    return Check(
        "stick (0, 15)-(40, 15), beta 0.3: positive windows (row, column)",
        expected,
        np.argwhere(got).tolist(),
    )


def check_eq3() -> Check:
    """Two windows: logit 0 (y_hat = 0.5) with y = 1 costs ln 2 = 0.6931; logit ln 3
    (y_hat = 0.75) with y = 0 costs -ln 0.25 = 1.3863; summed: 2.0794."""
    logits = torch.tensor([[[[0.0, math.log(3.0)]]]])
    y = torch.tensor([[[[1.0, 0.0]]]])
    return Check(
        "y_hat 0.5 with y = 1, y_hat 0.75 with y = 0 (sum)",
        math.log(2.0) - math.log(0.25),
        float(losses.detection_loss(logits, y, reduction="sum")[0]),
    )


def check_eq4() -> Check:
    """The two cases above as one image, lambda_r = lambda_d = 0.5 and the detection cost
    summed over the windows as eq. 4 writes it: 0.5 x 1.25 + 0.5 x 2.0794 = 1.6647."""
    out = (torch.tensor([[[0.5, 0.0], [1.0, 0.0]]]), torch.tensor([[[[0.0, math.log(3.0)]]]]))
    tgt = (torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]), torch.tensor([[[[1.0, 0.0]]]]))
    cfg = LossConfig(lambda_r=0.5, lambda_d=0.5, detection_reduction="sum")
    return Check(
        "lambda_r = lambda_d = 0.5, the cases of eqs. 1 and 3",
        0.5 * 1.25 + 0.5 * (math.log(2.0) - math.log(0.25)),
        float(losses.total_loss(out, tgt, cfg).total),
    )


def check_eq5() -> Check:
    """One unit of a fully connected layer with weights (1, -2), no bias, and ReLU: inputs
    (3, 1) give max(0, 3 - 2) = 1, inputs (1, 1) give max(0, -1) = 0. The network's layers
    are torch Linear / Conv2d layers followed by ReLU (with biases, which eq. 5 omits)."""
    linear = torch.nn.Linear(2, 1, bias=False)
    layer = torch.nn.Sequential(linear, torch.nn.ReLU())
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, -2.0]]))
        v = layer(torch.tensor([[3.0, 1.0], [1.0, 1.0]]))
    return Check("w = (1, -2), v = (3, 1) and (1, 1), ReLU", [1.0, 0.0], v[:, 0].tolist())


def check_eq6() -> Check:
    """Ground-truth stick (0, 0)-(10, 0), L = 10, alpha 0.5, threshold 5. Prediction
    (4, 3)-(10, 0): end errors 5 and 0, correct (inclusive). Prediction (10, 0)-(0, 6):
    swapped order is allowed, errors 0 and 6, incorrect."""
    gt = np.array([[[[0.0, 0.0], [10.0, 0.0]]], [[[0.0, 0.0], [10.0, 0.0]]]])
    pred = np.array([[[[4.0, 3.0], [10.0, 0.0]]], [[[10.0, 0.0], [0.0, 6.0]]]])
    return Check(
        "stick (0,0)-(10,0); ends off by (5, 0) and, swapped, (0, 6)",
        [True, False],
        metrics.pcp(pred, gt, alpha=0.5)[:, 0].tolist(),
    )


def check_eq7() -> Check:
    """Three images, torso 100, joint errors 5, 15 and 30: at r = 10 one of three is within
    (33.3%), at r = 20 two (66.7%), at r = 30 all (inclusive)."""
    gt = np.zeros((3, 1, 2))
    pred = np.array([[[5.0, 0.0]], [[0.0, 15.0]], [[30.0, 0.0]]])
    acc = metrics.joint_accuracy_curve(pred, gt, np.full(3, 100.0), [10, 20, 30])[:, 0]
    return Check(
        "errors 5, 15, 30 of a torso 100, r = 10, 20, 30", [100 / 3, 200 / 3, 100.0], acc.tolist()
    )


EQUATIONS = (
    Equation(1, "regression cost", "hmlpe.network.losses.regression_loss", check_eq1),
    Equation(
        2,
        "part indicator labels",
        "hmlpe.data.labels.part_indicator_map (batch form: labels.part_indicator_maps)",
        check_eq2,
    ),
    Equation(3, "detection cost", "hmlpe.network.losses.detection_loss", check_eq3),
    Equation(4, "joint cost", "hmlpe.network.losses.total_loss", check_eq4),
    Equation(
        5,
        "unit activation",
        f"hmlpe.network.model.{HMLPENet.__name__} (torch Conv2d / Linear + ReLU)",
        check_eq5,
    ),
    Equation(6, "PCP", "hmlpe.metrics.pcp", check_eq6),
    Equation(
        7,
        "accuracy at r% of the torso",
        "hmlpe.metrics.joint_accuracy_curve (torso: metrics.torso_size)",
        check_eq7,
    ),
)


def run_checks() -> pd.DataFrame:
    """One row per equation: its name, the implementing function, the hand case, expected,
    computed and whether they agree."""
    rows = []
    for eq in EQUATIONS:
        c = eq.check()
        rows.append(
            {
                "eq.": eq.number,
                "what": eq.name,
                "implemented by": eq.implemented_by,
                "hand-computed case": c.case,
                "expected": _show(c.expected),
                "computed": _show(c.computed),
                "check": "passes" if c.passed else "FAILS",
            }
        )
    return pd.DataFrame(rows)


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
