"""PCP (eq. 6), FLIC accuracy (eq. 7), Table 3 errors (hmlpe.metrics)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmlpe.metrics import (
    joint_accuracy_curve,
    mean_detection_error,
    mean_regression_error,
    pcp,
    pcp_score,
    pcp_table,
    torso_size,
)

GT = np.array([[[[0.0, 0.0], [10.0, 0.0]]]])  # one part of length 10, alpha L = 5


def P(e1, e2):
    return np.array([[[e1, e2]]], float)


# --- PCP, eq. 6 ------------------------------------------------------------------------------
def test_pcp_exact():
    assert pcp(GT, GT)[0, 0]


def test_pcp_boundary_inclusive():
    assert pcp(P([0, 5], [10, 0]), GT)[0, 0]  # off by exactly alpha L
    assert pcp(P([3, 4], [10, -5]), GT)[0, 0]  # 3-4-5 and 5: both exactly on the boundary
    assert not pcp(P([0, 5.001], [10, 0]), GT)[0, 0]


def test_pcp_either_order():
    assert pcp(P([10, 0], [0, 0]), GT)[0, 0]
    assert pcp(P([9, 1], [1, -1]), GT)[0, 0]


def test_pcp_one_end_wrong():
    assert not pcp(P([0, 0], [20, 0]), GT)[0, 0]


def test_pcp_alpha():
    assert not pcp(P([0, 3], [10, 0]), GT, alpha=0.2)[0, 0]
    assert pcp(P([0, 2], [10, 0]), GT, alpha=0.2)[0, 0]


def test_pcp_nan_incorrect():
    assert not pcp(P([np.nan, 0], [10, 0]), GT)[0, 0]
    g = GT.copy()
    g[0, 0, 1, 1] = np.nan
    assert not pcp(GT, g)[0, 0]


def test_pcp_shape_errors():
    with pytest.raises(ValueError, match=r"pred must have shape \(N, P, 2, 2\), got \(1, 2, 2\)"):
        pcp(np.zeros((1, 2, 2)), GT)
    with pytest.raises(ValueError, match="gt"):
        pcp(np.zeros((2, 1, 2, 2)), GT)


def test_pcp_score_by_hand():
    # GT: (0, 0)-(10, 0), L = 10
    cases = [
        (P([0, 0], [10, 0]), 0.0),  # exact
        (P([0, 5], [10, 0]), 0.5),  # ends 5 and 0 away: 5 / 10
        (P([3, 4], [10, -5]), 0.5),  # ends 5 (3-4-5) and 5 away
        (P([10, 0], [0, 3]), 0.3),  # swapped order: ends 0 and 3 away (same order: 10.44)
        (P([0, 6], [10, 6]), 0.6),  # both ends 6 away
        (P([0, 0], [20, 0]), 1.0),  # one end 10 away (swapped: 20)
    ]
    pred = np.concatenate([c[0] for c in cases])
    gt = np.concatenate([GT] * len(cases))
    s = pcp_score(pred, gt)
    assert s.shape == (len(cases), 1)
    assert s[:, 0].tolist() == pytest.approx([c[1] for c in cases])
    # the score and the decision agree away from the boundary
    assert (s[:, 0] <= 0.55).tolist() == pcp(pred, gt, alpha=0.55)[:, 0].tolist()
    assert np.isnan(pcp_score(P([np.nan, 0], [10, 0]), GT)[0, 0])
    assert np.isinf(pcp_score(P([np.inf, 0], [10, 0]), GT)[0, 0])
    with pytest.raises(ValueError, match="pred must have shape"):
        pcp_score(np.zeros((1, 2, 2)), GT)


coord = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(coord, min_size=8, max_size=8), st.floats(0.1, 1.0))
def test_pcp_symmetric_in_end_order(v, alpha):
    pred = np.array(v[:4]).reshape(1, 1, 2, 2)
    gt = np.array(v[4:]).reshape(1, 1, 2, 2)
    r = pcp(pred, gt, alpha)
    assert r == pcp(pred[:, :, ::-1], gt, alpha)
    assert r == pcp(pred, gt[:, :, ::-1], alpha)


@settings(max_examples=60, deadline=None)
@given(st.lists(coord, min_size=8, max_size=8), st.floats(0.1, 0.9), st.floats(0.1, 0.9))
def test_pcp_monotone_in_alpha(v, a, b):
    pred = np.array(v[:4]).reshape(1, 1, 2, 2)
    gt = np.array(v[4:]).reshape(1, 1, 2, 2)
    lo, hi = sorted((a, b))
    assert pcp(pred, gt, lo) <= pcp(pred, gt, hi)


def test_pcp_table():
    correct = np.array([[1, 1], [1, 0], [0, 0], [1, 1]], bool)
    matched = np.array([True, True, True, False])
    t = pcp_table(correct, matched)
    assert t.n_whole == 4 and t.n_subset == 3
    assert np.allclose(t.whole, [50.0, 25.0])  # frame 3 counts wrong although "correct"
    assert np.allclose(t.subset, [200 / 3, 100 / 3])
    with pytest.raises(ValueError, match="matched"):
        pcp_table(correct, matched[:3])


# --- eq. 7 -----------------------------------------------------------------------------------
def test_torso_size_definitions():
    ls, rs, lh, rh = map(np.array, ([0.0, 0.0], [30.0, 0.0], [0.0, 40.0], [30.0, 44.0]))
    assert torso_size(ls, rs, lh, rh) == pytest.approx(50.0)  # l_hip - r_sho
    assert torso_size(ls, rs, lh, rh, "modec") == pytest.approx(np.hypot(30, 44))
    with pytest.raises(ValueError, match="definition"):
        torso_size(ls, rs, lh, rh, "x")


def test_accuracy_boundary_inclusive():
    gt = np.zeros((2, 1, 2))
    pred = np.array([[[3.0, 4.0]], [[6.0, 8.0]]])  # errors 5 and 10
    torso = np.array([50.0, 50.0])  # -> 10% and 20%
    acc = joint_accuracy_curve(pred, gt, torso, [9.99, 10, 19.99, 20])
    assert acc[:, 0].tolist() == [0.0, 50.0, 50.0, 100.0]


def test_accuracy_nan_counts_as_miss():
    gt = np.zeros((2, 1, 2))
    pred = np.array([[[0.0, 0.0]], [[np.nan, 0.0]]])
    assert joint_accuracy_curve(pred, gt, np.ones(2), [5])[0, 0] == 50.0


def test_accuracy_errors():
    with pytest.raises(ValueError, match="torso"):
        joint_accuracy_curve(np.zeros((2, 1, 2)), np.zeros((2, 1, 2)), np.ones(3), [1])
    with pytest.raises(ValueError, match="positive"):
        joint_accuracy_curve(np.zeros((2, 1, 2)), np.zeros((2, 1, 2)), np.zeros(2), [1])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_accuracy_monotone_in_r(seed):
    rng = np.random.default_rng(seed)
    gt = rng.uniform(0, 100, (20, 4, 2))
    pred = gt + rng.normal(0, 10, gt.shape)
    acc = joint_accuracy_curve(pred, gt, rng.uniform(20, 60, 20), np.linspace(0, 40, 41))
    assert acc.shape == (41, 4)
    assert (np.diff(acc, axis=0) >= 0).all()
    assert ((acc >= 0) & (acc <= 100)).all()


# --- Table 3 ---------------------------------------------------------------------------------
def test_mean_regression_error():
    gt = np.zeros((2, 2, 2))
    pred = np.array([[[0.3, 0.4], [0.0, 0.0]], [[0.0, 0.1], [0.0, 0.0]]])
    # per-joint squared errors: 0.25, 0, 0.01, 0
    assert mean_regression_error(pred, gt) == pytest.approx(0.26 / 4)
    assert mean_regression_error(pred, gt, over_joints="sum") == pytest.approx(0.26 / 2)
    assert mean_regression_error(pred.reshape(2, 4), gt.reshape(2, 4)) == pytest.approx(0.065)
    with pytest.raises(ValueError, match="gt"):
        mean_regression_error(pred, np.zeros((2, 3, 2)))


def test_mean_detection_error():
    labels = np.zeros((1, 7, 8, 8), bool)
    assert mean_detection_error(np.full(labels.shape, 0.5), labels) == pytest.approx(np.log(2))
    labels[0, 0, 0, 0] = True
    prob = np.zeros(labels.shape)
    prob[0, 0, 0, 0] = 1.0
    assert mean_detection_error(prob, labels) == pytest.approx(-np.log1p(-1e-7), rel=1e-6)
    # a saturated wrong window costs -log(eps)
    prob[0, 0, 0, 0] = 0.0
    expected = (-np.log(1e-7) + 447 * -np.log1p(-1e-7)) / 448
    assert mean_detection_error(prob, labels) == pytest.approx(expected)
    with pytest.raises(ValueError, match="labels"):
        mean_detection_error(prob, labels[:, :6])
