"""hmlpe.companion.baselines: the mean pose and the oracle, by hand and on the real data."""

import numpy as np
import pytest

from hmlpe.companion.baselines import mean_pose, reference_predictions
from hmlpe.data.pipeline import HeldOutSet


def _test_set():
    joints = np.tile(np.linspace(10, 100, 8)[:, None], (2, 1, 2))  # crop pixels (2, 8, 2)
    return HeldOutSet(
        name="flic",
        records=[None, None],
        images=np.zeros((2, 112, 112, 3), np.uint8),
        boxes=np.array([[0, 0, 112, 112], [np.nan] * 4]),
        matched=np.array([True, False]),
        joints=joints,
        usable=np.array([True, False]),
        fingerprint="x",
    )


def test_mean_pose_ignores_nan():
    j = np.zeros((2, 8, 2))
    j[1] = 1.0
    j[1, 0] = np.nan
    m = mean_pose(j)
    assert m[0].tolist() == [0.0, 0.0] and m[1].tolist() == [0.5, 0.5]


def test_reference_predictions_hand_computed():
    t = _test_set()
    pose = np.full((8, 2), 0.5)
    pred = reference_predictions(t, "mean_pose", pose)
    np.testing.assert_allclose(pred[0], np.full((8, 2), 56.0))  # box = crop: 0.5 * 112
    assert np.isnan(pred[1]).all()  # unmatched: no prediction
    np.testing.assert_allclose(reference_predictions(t, "oracle")[0], t.joints[0])
    with pytest.raises(ValueError, match="unknown reference 'median'"):
        reference_predictions(t, "median")
    with pytest.raises(ValueError, match="needs the mean pose"):
        reference_predictions(t, "mean_pose")


def test_oracle_and_mean_pose_on_the_real_data(data_source):
    from hmlpe.companion.baselines import reference_pcp

    r = reference_pcp(data_source)
    assert r["oracle", "Buffy, subset"] == {c: 100.0 for c in ("LL", "RL", "LU", "RU")}
    assert r["oracle", "Buffy, whole set"]["LL"] == pytest.approx(267 / 276 * 100)
    assert min(r["oracle", "FLIC"].values()) > 99
    for test_set in ("Buffy, whole set", "FLIC"):
        mp = r["mean_pose", test_set]
        assert max(mp["LL"], mp["RL"]) < 30 and 50 < min(mp["LU"], mp["RU"]) < 90
