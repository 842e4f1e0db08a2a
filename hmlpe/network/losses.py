"""Training losses (torch): eq. 1 (regression), eq. 3 (detection) and eq. 4 (their weighted sum).

Eq. 4 sums over training images t; ``total_loss`` takes the *mean* over the batch instead. That
is only a scale (1 / batch size) folded into the learning rate, and makes the loss value and the
learning rate independent of the batch size (the reproduction's choice; SGD on a sum or a mean
visits the same minimiser).

Eq. 3's normalisation (reproduction's choice, ``LossConfig.detection_reduction``): by default
the detection cost of an image is the *mean* over its 7 x 64 windows, not the sum. Summed, it
starts near 448 ln 2 = 310 against ~0.3 for eq. 1 summed over 8 joints, so with equal weights
the shared layers learn for detection only (measured in issue 7's report, with the earlier
training boxes: the network stayed at the mean pose).
The mean puts both terms on the scale of Table 3's errors (P ~ 0.04-0.07, R ~ 0.04-0.3), on
which the paper's ratios 0.5-4 all train. Logged detection errors are always the mean per
window, whatever the training reduction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F

from hmlpe.config import LossConfig, TrainConfig


def regression_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 1 summed over joints, per example: ``sum_i ||J_i - J_hat_i||^2`` -> (B,).

    pred, target: (B, J, 2) or (B, 2J) (any mix of the two), normalised coordinates.
    """
    if (
        pred.ndim not in (2, 3)
        or pred.shape[0] != target.shape[0]
        or pred.numel() != target.numel()
    ):
        raise ValueError(
            f"pred and target must be (B, J, 2) or (B, 2J) of the same size, "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    b = pred.shape[0]
    diff = pred.reshape(b, -1) - target.reshape(b, -1).to(pred.dtype)
    return (diff * diff).sum(dim=1)


def detection_loss(
    logits: torch.Tensor, labels: torch.Tensor, reduction: str = "sum"
) -> torch.Tensor:
    """Eq. 3 summed (``reduction="sum"``) or averaged (``"mean"``) over parts and windows, per
    example -> (B,).

    logits: (B, P, G, G) pre-logistic scores ``z``; labels: same shape, bool or {0, 1}.
    With ``y_hat = sigmoid(z)`` (the logistic output layer), eq. 3 is
    ``-y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = softplus(z) - y z``; it is computed in
    that form by ``binary_cross_entropy_with_logits``, which stays finite and has the exact
    gradient ``sigmoid(z) - y`` for saturated ``z`` where ``log(sigmoid(z))`` would underflow.
    """
    if logits.ndim != 4 or labels.shape != logits.shape:
        raise ValueError(
            f"logits must be (B, P, G, G) and labels the same shape, "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if reduction not in DETECTION_REDUCTIONS:
        raise ValueError(
            f"detection reduction must be one of {DETECTION_REDUCTIONS}, got {reduction!r}"
        )
    e = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none")
    per_image = e.flatten(1)
    return per_image.sum(dim=1) if reduction == "sum" else per_image.mean(dim=1)


DETECTION_REDUCTIONS = ("sum", "mean")


class LossTerms(NamedTuple):
    total: torch.Tensor  # scalar, carries the gradient
    regression: torch.Tensor  # scalar, detached: mean_t sum_i E_r (NaN if no regression output)
    detection: torch.Tensor  # scalar, detached: mean_t mean_{p,l} E_d (NaN if no logits)


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The "Since 2014" network's cost (not the paper's): the mean squared error of its
    heatmaps against the Gaussian targets, mean over joints and cells, per example -> (B,)
    (SimpleBaseline's loss; every training joint is annotated, so no joint weights).

    pred, target: (B, J, H, W)."""
    if pred.ndim != 4 or pred.shape != target.shape:
        raise ValueError(
            f"heatmaps and targets must be (B, J, H, W) of one shape, "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    diff = pred - target.to(pred.dtype)
    return (diff * diff).flatten(1).mean(dim=1)


def _pick(x, keys: tuple[str, ...], index: int, what: str):
    if isinstance(x, Mapping):
        for k in keys:
            if k in x:
                return x[k]
        return None
    if isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        return x[index] if len(x) > index else None
    raise TypeError(f"{what} must be a (joints, parts) pair or a mapping, got {type(x).__name__}")


def total_loss(outputs, targets, cfg: LossConfig = LossConfig()) -> LossTerms:
    """Eq. 4 per batch: ``lambda_r * mean_t sum_i E_r + lambda_d * mean_t D_t`` with
    ``D_t = mean_{p,l} E_d`` (``cfg.detection_reduction="mean"``, default) or ``sum_{p,l} E_d``.

    outputs: ``(joints (B, 8, 2) or (B, 16), part logits (B, 7, G, G))`` (``model.HMLPEOutput``
    is such a pair) or a mapping with keys ``"joints"`` and ``"logits"`` (or ``"part_logits"``);
    targets: ``(joints, labels)`` or a mapping with keys ``"joints"`` and ``"labels"``.

    A term whose weight is 0 is left out of the graph (no gradient, not even 0 * NaN): with
    lambda_d = 0 the detection head gets no gradient, with lambda_r = 0 the regression head none.
    Both components are returned detached for logging; a skipped one is still evaluated (without
    grad) when its tensors are there, so Table 3's errors can be logged in every column.
    """
    pj = _pick(outputs, ("joints", "regression"), 0, "outputs")
    pl = _pick(outputs, ("logits", "part_logits", "detection"), 1, "outputs")
    tj = _pick(targets, ("joints", "regression"), 0, "targets")
    tl = _pick(targets, ("labels", "detection"), 1, "targets")
    if cfg.lambda_r == 0 and cfg.lambda_d == 0:
        raise ValueError("lambda_r and lambda_d are both 0: nothing to train")

    def detection(p, t):
        return detection_loss(p, t, cfg.detection_reduction)

    # The logged detection error is the mean per window: the trained value itself, or the
    # sum divided by the number of windows (no second pass over the logits).
    per_window = 1.0 / pl[0].numel() if cfg.detection_reduction == "sum" and pl is not None else 1.0
    terms = []
    logged = []
    for weight, p, t, fn, log_scale, name in (
        (cfg.lambda_r, pj, tj, regression_loss, 1.0, "joints"),
        (cfg.lambda_d, pl, tl, detection, per_window, "logits/labels"),
    ):
        if weight != 0:
            if p is None or t is None:
                raise ValueError(f"a non-zero weight needs both outputs and targets for {name}")
            value = fn(p, t).mean()
            terms.append(weight * value)
            logged.append(value.detach() * log_scale)
        elif p is not None and t is not None:
            with torch.no_grad():
                logged.append(fn(p, t).mean() * log_scale)
        else:
            logged.append(torch.tensor(float("nan")))
    total = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return LossTerms(total=total, regression=logged[0], detection=logged[1])


def training_loss(
    out, joints: torch.Tensor, part_maps: torch.Tensor, cfg: TrainConfig
) -> LossTerms:
    """The cost a training step minimises, by ``cfg.network``: eq. 4 (``total_loss``) for
    HMLPE's network; for the heatmap network (``hmlpe.network.heatmap``) the ``heatmap_loss``
    of its heatmaps against Gaussian targets of ``joints`` (crop-normalised), with eq. 1 of its
    decoded joints logged as the regression error and no detection error (NaN). Computed in
    fp32 whatever the autocast dtype of the forward pass."""
    if cfg.network == "heatmap":
        from hmlpe.network.heatmap import gaussian_heatmaps_torch

        maps = out.heatmaps.float()
        target = gaussian_heatmaps_torch(
            joints * cfg.heatmap.input_size, maps.shape[-1], out.stride, cfg.heatmap.sigma
        )
        total = heatmap_loss(maps, target).mean()
        with torch.no_grad():
            regression = regression_loss(out.joints, joints).mean()
        return LossTerms(total, regression, torch.full_like(regression, float("nan")))
    return total_loss((out.joints.float(), out.part_logits.float()), (joints, part_maps), cfg.loss)


def trained_outputs(out) -> list[torch.Tensor]:
    """The output tensors of either network that carry a gradient."""
    tensors = [out.heatmaps] if hasattr(out, "heatmaps") else list(out)
    return [t for t in tensors if t is not None and t.requires_grad]
