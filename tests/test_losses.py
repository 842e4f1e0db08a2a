"""Eqs. 1, 3, 4 in torch (hmlpe.network.losses)."""

import numpy as np
import pytest
import torch

from hmlpe.config import LossConfig, TrainConfig
from hmlpe.metrics import mean_detection_error, mean_regression_error
from hmlpe.network.heatmap import HeatmapOutput, gaussian_heatmaps_torch
from hmlpe.network.losses import (
    detection_loss,
    heatmap_loss,
    regression_loss,
    total_loss,
    training_loss,
)


def test_regression_loss_hand():
    pred = torch.zeros(2, 8, 2)
    target = torch.zeros(2, 8, 2)
    target[0, 0] = torch.tensor([0.3, 0.4])  # 0.25
    target[0, 5] = torch.tensor([0.1, 0.0])  # 0.01
    target[1, 7] = torch.tensor([0.0, 0.5])  # 0.25
    out = regression_loss(pred, target)
    assert out.shape == (2,)
    assert torch.allclose(out, torch.tensor([0.26, 0.25]))
    assert torch.allclose(regression_loss(pred.reshape(2, 16), target), out)


def test_detection_loss_hand():
    logits = torch.zeros(1, 7, 8, 8)
    labels = torch.zeros(1, 7, 8, 8, dtype=torch.bool)
    assert detection_loss(logits, labels).item() == pytest.approx(448 * np.log(2), rel=1e-6)
    logits[0, 0, 0, 0] = 2.0
    labels[0, 0, 0, 0] = True
    expected = 447 * np.log(2) + np.log1p(np.exp(-2.0))
    assert detection_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)


def test_detection_loss_saturated_finite():
    logits = torch.tensor([-200.0, 200.0]).reshape(1, 2, 1, 1).requires_grad_()
    labels = torch.tensor([1.0, 0.0]).reshape(1, 2, 1, 1)
    loss = detection_loss(logits, labels).sum()
    assert torch.isfinite(loss) and loss.item() == pytest.approx(400.0)
    loss.backward()
    assert torch.allclose(logits.grad.flatten(), torch.tensor([-1.0, 1.0]))


def test_equal_to_numpy_metrics():
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(5, 8, 2, generator=g, dtype=torch.float64)
    target = torch.rand(5, 8, 2, generator=g, dtype=torch.float64)
    assert regression_loss(pred, target).mean().item() == pytest.approx(
        mean_regression_error(pred.numpy(), target.numpy(), over_joints="sum")
    )
    logits = torch.randn(5, 7, 8, 8, generator=g, dtype=torch.float64) * 3
    labels = torch.rand(5, 7, 8, 8, generator=g) < 0.2
    assert (detection_loss(logits, labels).mean() / 448).item() == pytest.approx(
        mean_detection_error(torch.sigmoid(logits).numpy(), labels.numpy()), rel=1e-9
    )


def test_gradient_matches_explicit_sigmoid_log():
    g = torch.Generator().manual_seed(1)
    z = (torch.randn(3, 7, 8, 8, generator=g, dtype=torch.float64) * 4).requires_grad_()
    y = (torch.rand(3, 7, 8, 8, generator=g) < 0.3).double()
    detection_loss(z, y).sum().backward()
    g1 = z.grad.clone()
    z.grad = None
    s = torch.sigmoid(z)
    (-(y * torch.log(s) + (1 - y) * torch.log(1 - s))).sum().backward()
    assert torch.allclose(g1, z.grad, atol=1e-10)
    assert torch.allclose(g1, torch.sigmoid(z.detach()) - y, atol=1e-12)


def test_gradcheck():
    z = torch.randn(2, 7, 2, 2, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(2, 7, 2, 2) < 0.5).double()
    assert torch.autograd.gradcheck(lambda t: detection_loss(t, y), (z,))
    p = torch.randn(2, 16, dtype=torch.float64, requires_grad=True)
    q = torch.randn(2, 16, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: regression_loss(t, q), (p,))


def _batch(seed=0, b=4):
    g = torch.Generator().manual_seed(seed)
    pj = torch.rand(b, 8, 2, generator=g, requires_grad=True)
    pl = torch.randn(b, 7, 8, 8, generator=g, requires_grad=True)
    tj = torch.rand(b, 8, 2, generator=g)
    tl = torch.rand(b, 7, 8, 8, generator=g) < 0.1
    return pj, pl, tj, tl


def test_detection_loss_mean_per_window_hand():
    logits = torch.zeros(2, 7, 8, 8)
    labels = torch.zeros(2, 7, 8, 8, dtype=torch.bool)
    logits[1, 0, 0, 0] = 2.0
    labels[1, 0, 0, 0] = True
    out = detection_loss(logits, labels, "mean")
    assert out[0].item() == pytest.approx(np.log(2), rel=1e-6)
    assert out[1].item() == pytest.approx(
        (447 * np.log(2) + np.log1p(np.exp(-2.0))) / 448, rel=1e-6
    )
    with pytest.raises(ValueError, match="reduction"):
        detection_loss(logits, labels, "max")


def test_total_loss_eq4():
    pj, pl, tj, tl = _batch()
    cfg = LossConfig(lambda_r=2.0, lambda_d=0.5, detection_reduction="sum")
    out = total_loss((pj, pl), (tj, tl), cfg)
    er = regression_loss(pj, tj).mean()
    ed = detection_loss(pl, tl).mean()
    assert torch.allclose(out.total, 2.0 * er + 0.5 * ed)
    # the logged detection error is the mean per window whatever the training reduction
    assert torch.allclose(out.regression, er) and torch.allclose(out.detection, ed / 448)
    assert not out.regression.requires_grad and not out.detection.requires_grad
    out2 = total_loss({"joints": pj, "logits": pl}, {"joints": tj, "labels": tl}, cfg)
    assert torch.allclose(out2.total, out.total)


def test_default_loss_is_ratio_0_1_with_the_per_window_mean():
    pj, pl, tj, tl = _batch()
    out = total_loss((pj, pl), (tj, tl))
    er = regression_loss(pj, tj).mean()
    ed = detection_loss(pl, tl, "mean").mean()
    assert torch.allclose(out.total, er / 11 + 10 * ed / 11)
    assert torch.allclose(out.detection, ed)
    # the two terms start on one scale (within 10x), unlike the sum over 448 windows
    assert 0.1 < (ed / er).item() < 10 and (detection_loss(pl, tl).mean() / er).item() > 100


def _head_and_trunk_grads(ratio):
    """Gradients of a small network for Table 3's ratio on one fixed batch (float64)."""
    from hmlpe.config import ModelConfig
    from hmlpe.engine.profiles import ratio_to_lambdas
    from hmlpe.network.model import HMLPENet

    torch.manual_seed(0)
    net = HMLPENet(
        ModelConfig(input_size=32, conv_channels=(4, 4, 4), fc_widths=(8, 8), dropout=0.0)
    ).double()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 3, 32, 32, generator=g, dtype=torch.float64)
    tj = torch.rand(3, 8, 2, generator=g, dtype=torch.float64)
    tl = torch.rand(3, 7, 8, 8, generator=g) < 0.2
    lr, ld = ratio_to_lambdas(ratio)
    out = net(x)
    total_loss(
        (out.joints, out.part_logits), (tj, tl), LossConfig(lambda_r=lr, lambda_d=ld)
    ).total.backward()
    grads = {n: (p.grad.clone() if p.grad is not None else None) for n, p in net.named_parameters()}
    head = {n: v for n, v in grads.items() if n.startswith("detection")}
    trunk = {n: v for n, v in grads.items() if n.startswith("trunk")}
    assert head and trunk, sorted(grads)
    return head, trunk


def test_ratio_1e10_still_applies_the_detection_weight():
    """Table 3's 10^10 column differs from the regression-only column in its detection
    gradient: 1e-10 x the detection-only gradient, not zero (issue 7)."""
    head_tiny, trunk_tiny = _head_and_trunk_grads(1e10)
    head_none, trunk_none = _head_and_trunk_grads(float("inf"))
    head_det, _ = _head_and_trunk_grads(0.0)
    for name, gd in head_det.items():
        assert head_none[name] is None or not head_none[name].any()
        assert head_tiny[name] is not None and head_tiny[name].abs().max() > 0
        torch.testing.assert_close(head_tiny[name], gd / (1 + 1e10), rtol=1e-6, atol=0)
    # in the shared layers the detection share is 1e-10 of the regression gradient
    for name, gt in trunk_tiny.items():
        torch.testing.assert_close(gt, trunk_none[name], rtol=1e-8, atol=1e-14)


def test_zero_weight_detection_skipped_even_with_nan():
    pj, pl, tj, tl = _batch()
    bad = pl.detach().clone()
    bad[0, 0, 0, 0] = float("nan")
    bad.requires_grad_()
    out = total_loss((pj, bad), (tj, tl), LossConfig(lambda_r=1.0, lambda_d=0.0))
    out.total.backward()
    assert bad.grad is None
    assert torch.isfinite(pj.grad).all()
    assert torch.allclose(out.total, regression_loss(pj, tj).mean())
    assert torch.isnan(out.detection)  # logged, NaN because the input was


def test_zero_weight_regression_skipped():
    pj, pl, tj, tl = _batch()
    tj_nan = tj.clone()
    tj_nan[:, 0] = float("nan")
    out = total_loss((pj, pl), (tj_nan, tl), LossConfig(lambda_r=0.0, lambda_d=1.0))
    out.total.backward()
    assert pj.grad is None and torch.isfinite(pl.grad).all()
    assert torch.allclose(out.total, detection_loss(pl, tl, "mean").mean())


def test_zero_weight_missing_output():
    pj, pl, tj, tl = _batch()
    out = total_loss((None, pl), (None, tl), LossConfig(lambda_r=0.0, lambda_d=1.0))
    assert torch.isnan(out.regression) and torch.isfinite(out.total)
    with pytest.raises(ValueError):
        total_loss((None, pl), (None, tl), LossConfig(lambda_r=1.0, lambda_d=1.0))
    with pytest.raises(ValueError, match="both 0"):
        total_loss((pj, pl), (tj, tl), LossConfig(lambda_r=0.0, lambda_d=0.0))


def test_ratio_gradient_table_on_a_small_network():
    import math

    from hmlpe.config import ModelConfig
    from hmlpe.engine.multitask import ratio_gradient_table
    from hmlpe.network.model import HMLPENet

    torch.manual_seed(0)
    net = HMLPENet(ModelConfig(input_size=32, conv_channels=(4, 4, 4), fc_widths=(8, 8)))
    g = torch.Generator().manual_seed(2)
    x = torch.rand(4, 3, 32, 32, generator=g)
    tj = torch.rand(4, 8, 2, generator=g)
    tl = (torch.rand(4, 7, 8, 8, generator=g) < 0.2).float()
    rows = {r["ratio"]: r for r in ratio_gradient_table(net, x, tj, tl)}
    assert rows[math.inf]["detection layers |grad|"] == 0
    assert rows[0.0]["regression layers |grad|"] == 0
    tiny = rows[1e10]["detection layers |grad|"] / rows[0.0]["detection layers |grad|"]
    assert tiny == pytest.approx(1e-10, rel=1e-3)
    assert rows[1e10]["trunk: |grad - grad(inf)| / |grad(inf)|"] < 1e-6
    assert rows[1.0]["trunk: |grad - grad(inf)| / |grad(inf)|"] > 1e-3
    assert net.training  # the mode is restored


def test_heatmap_loss_hand():
    pred = torch.zeros(2, 1, 2, 2)
    target = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    # example 0: one cell off by 1 of 4 -> 0.25; example 1: every cell off by 0.5 -> 0.25
    assert torch.allclose(heatmap_loss(pred, target), torch.tensor([0.25, 0.25]))
    with pytest.raises(ValueError, match="one shape"):
        heatmap_loss(pred, target[:, :, :1])


def test_training_loss_of_the_heatmap_network_is_zero_at_its_targets():
    cfg = TrainConfig(network="heatmap")
    joints = torch.tensor([[[0.3, 0.6], [0.5, 0.5]]])  # crop-normalised
    maps = gaussian_heatmaps_torch(joints * 112, 28, 4, cfg.heatmap.sigma)
    terms = training_loss(HeatmapOutput(maps, 4, 112), joints, None, cfg)
    assert float(terms.total) == pytest.approx(0.0, abs=1e-12)
    assert float(terms.regression) == pytest.approx(0.0, abs=1e-8)  # decoded = the joints
    assert torch.isnan(terms.detection)
    shifted = training_loss(HeatmapOutput(maps, 4, 112), joints + 0.1, None, cfg)
    assert float(shifted.total) > 0 and float(shifted.regression) == pytest.approx(
        0.04, abs=1e-4
    )  # eq. 1: 2 joints x (0.1^2 + 0.1^2)
