"""Eqs. 1, 3, 4 in torch (hmlpe.losses)."""
import numpy as np
import pytest
import torch

from hmlpe.config import LossConfig
from hmlpe.losses import detection_loss, regression_loss, total_loss
from hmlpe.metrics import mean_detection_error, mean_regression_error


def test_regression_loss_hand():
    pred = torch.zeros(2, 8, 2)
    target = torch.zeros(2, 8, 2)
    target[0, 0] = torch.tensor([0.3, 0.4])   # 0.25
    target[0, 5] = torch.tensor([0.1, 0.0])   # 0.01
    target[1, 7] = torch.tensor([0.0, 0.5])   # 0.25
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
        mean_regression_error(pred.numpy(), target.numpy(), over_joints="sum"))
    logits = torch.randn(5, 7, 8, 8, generator=g, dtype=torch.float64) * 3
    labels = torch.rand(5, 7, 8, 8, generator=g) < 0.2
    assert (detection_loss(logits, labels).mean() / 448).item() == pytest.approx(
        mean_detection_error(torch.sigmoid(logits).numpy(), labels.numpy()), rel=1e-9)


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


def test_total_loss_eq4():
    pj, pl, tj, tl = _batch()
    cfg = LossConfig(lambda_r=2.0, lambda_d=0.5)
    out = total_loss((pj, pl), (tj, tl), cfg)
    er = regression_loss(pj, tj).mean()
    ed = detection_loss(pl, tl).mean()
    assert torch.allclose(out.total, 2.0 * er + 0.5 * ed)
    assert torch.allclose(out.regression, er) and torch.allclose(out.detection, ed)
    assert not out.regression.requires_grad and not out.detection.requires_grad
    out2 = total_loss({"joints": pj, "logits": pl}, {"joints": tj, "labels": tl}, cfg)
    assert torch.allclose(out2.total, out.total)


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
    assert torch.isnan(out.detection)       # logged, NaN because the input was


def test_zero_weight_regression_skipped():
    pj, pl, tj, tl = _batch()
    tj_nan = tj.clone()
    tj_nan[:, 0] = float("nan")
    out = total_loss((pj, pl), (tj_nan, tl), LossConfig(lambda_r=0.0, lambda_d=1.0))
    out.total.backward()
    assert pj.grad is None and torch.isfinite(pl.grad).all()
    assert torch.allclose(out.total, detection_loss(pl, tl).mean())


def test_zero_weight_missing_output():
    pj, pl, tj, tl = _batch()
    out = total_loss((None, pl), (None, tl), LossConfig(lambda_r=0.0, lambda_d=1.0))
    assert torch.isnan(out.regression) and torch.isfinite(out.total)
    with pytest.raises(ValueError):
        total_loss((None, pl), (None, tl), LossConfig(lambda_r=1.0, lambda_d=1.0))
    with pytest.raises(ValueError, match="both 0"):
        total_loss((pj, pl), (tj, tl), LossConfig(lambda_r=0.0, lambda_d=0.0))
