"""What Table 3's ratios do to the gradient (torch): the share of the detection tasks in the
gradient of the detection layers and of the shared layers, for one batch (chapter 8).

Used to show, by measurement, what a ratio of 10^10 (lambda_d = 1e-10) changes against
regression only: the detection layers get 1e-10 of their gradient, and the shared layers a
change below float32's resolution.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from hmlpe.config import LossConfig
from hmlpe.engine.profiles import ratio_to_lambdas
from hmlpe.network import losses


def layer_gradients(
    model: torch.nn.Module,
    images: torch.Tensor,
    joints: torch.Tensor,
    part_maps: torch.Tensor,
    ratio: float,
) -> dict[str, torch.Tensor]:
    """Gradients of eq. 4 with Table 3's ``ratio`` (``ratio_to_lambdas``) for one batch, by
    parameter name; a parameter with no gradient gets zeros. Dropout is off (eval mode) so
    every ratio sees the same network."""
    lambda_r, lambda_d = ratio_to_lambdas(ratio)
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    out = model(images)
    loss = losses.total_loss(
        (out.joints.float(), out.part_logits.float()),
        (joints, part_maps),
        LossConfig(lambda_r=lambda_r, lambda_d=lambda_d),
    )
    loss.total.backward()
    grads = {
        n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
        for n, p in model.named_parameters()
    }
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return grads


def _norm(grads: dict[str, torch.Tensor], prefix: str) -> float:
    return math.sqrt(
        sum(float((g.double() ** 2).sum()) for n, g in grads.items() if n.startswith(prefix))
    )


def _diff_norm(a: dict, b: dict, prefix: str) -> float:
    return math.sqrt(
        sum(float(((a[n].double() - b[n].double()) ** 2).sum()) for n in a if n.startswith(prefix))
    )


def ratio_gradient_table(
    model, images, joints, part_maps, ratios=(0.0, 1.0, 1e10, math.inf)
) -> list[dict]:
    """Per ratio: the norm of the gradient of the detection layers, of the regression layers
    and of the shared trunk, and how far the trunk gradient lies from regression only's
    (relative norm of the difference). Rows in ``ratios`` order."""
    grads = {r: layer_gradients(model, images, joints, part_maps, r) for r in ratios}
    reference = grads.get(math.inf) or layer_gradients(model, images, joints, part_maps, math.inf)
    ref_norm = _norm(reference, "trunk")
    rows = []
    for r in ratios:
        g = grads[r]
        lambda_r, lambda_d = ratio_to_lambdas(r)
        rows.append(
            {
                "ratio": r,
                "lambda_r": lambda_r,
                "lambda_d": lambda_d,
                "detection layers |grad|": _norm(g, "detection"),
                "regression layers |grad|": _norm(g, "regression"),
                "shared trunk |grad|": _norm(g, "trunk"),
                "trunk: |grad - grad(inf)| / |grad(inf)|": _diff_norm(g, reference, "trunk")
                / ref_norm
                if ref_norm > 0
                else np.nan,
            }
        )
    return rows
