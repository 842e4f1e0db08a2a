"""engine/batches: the device data path against the NumPy reference for the same draws, and the
epoch plan's random stream."""

import numpy as np
import pytest
import torch

from hmlpe.config import AugmentConfig, LabelConfig
from hmlpe.data import augment
from hmlpe.data.labels import labels_from_joints, part_indicator_map
from hmlpe.engine.batches import (
    DevicePool,
    epoch_plan,
    mirror_joints,
    normalise_words,
    part_indicator_maps,
)
from hmlpe.network.model import to_input
from hmlpe.skeleton import JOINT_MIRROR, PART_JOINTS


def _pool(n=12, size=128, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    joints = rng.uniform(0.1 * size, 0.9 * size, size=(n, 8, 2))
    return images, joints


def test_mirror_joints_hand_case():
    # x' = width - x, and each joint takes its mirror partner's slot (JOINT_MIRROR)
    joints = torch.zeros(1, 8, 2, dtype=torch.float64)
    joints[0, :, 0] = torch.arange(8, dtype=torch.float64) * 10
    joints[0, :, 1] = 5.0
    got = mirror_joints(joints, 112.0).numpy()[0]
    for k, partner in enumerate(JOINT_MIRROR):
        assert got[k, 0] == 112.0 - 10 * partner
    np.testing.assert_array_equal(got[:, 1], 5.0)
    np.testing.assert_array_equal(got, augment.mirror_joints(joints.numpy()[0], 112.0))
    assert list(JOINT_MIRROR) != list(range(8))  # the swap is not the identity


def test_part_indicator_maps_equal_numpy_bitwise():
    rng = np.random.default_rng(3)
    joints = rng.uniform(-20, 130, size=(40, 8, 2))
    cfg = LabelConfig()
    ref = labels_from_joints(joints, cfg)
    got = part_indicator_maps(torch.as_tensor(joints)[:, torch.as_tensor(PART_JOINTS)], cfg)
    np.testing.assert_array_equal(got.numpy(), ref)
    assert 0 < ref.mean() < 1  # the case holds both labels


def test_part_indicator_map_hand_case():
    # a stick from (5, 5) to (20, 20) lies wholly in the corner window (0..30): 1 there; far
    # windows 0; equal to the one-stick reference part_indicator_map for every window
    parts = torch.zeros(1, 7, 2, 2, dtype=torch.float64)
    parts[0, :, 0] = torch.tensor([5.0, 5.0])
    parts[0, :, 1] = torch.tensor([20.0, 20.0])
    maps = part_indicator_maps(parts, LabelConfig()).numpy()[0]
    assert maps[0, 0, 0] == 1.0 and maps[0, -1, -1] == 0.0
    ref = part_indicator_map((5.0, 5.0), (20.0, 20.0))
    for k in range(7):
        np.testing.assert_array_equal(maps[k], ref.astype(maps.dtype))


@pytest.mark.parametrize(
    "aug",
    [AugmentConfig(), AugmentConfig(rotation_deg=15, scale_jitter=0.1)],
    ids=["paper", "affine"],
)
def test_device_batch_equals_numpy_for_the_same_draws(aug):
    images, joints = _pool()
    pool = DevicePool(images, joints, "cpu", out=112)
    plan = epoch_plan(len(images), 2, seed=7, epoch=3, height=128, width=128, out=112, aug=aug)
    pool.set_plan(plan)
    sl = slice(4, 20)
    ref_img, ref_joints = augment.apply_augmentation(
        images[plan.order[sl]], joints[plan.order[sl]], plan.draw[sl], out=112
    )
    crops, crop_joints = pool.crops(sl.start, sl.stop)
    x, j, p = pool.batch(sl.start, sl.stop)
    if aug.rotation_deg == 0:
        np.testing.assert_array_equal(crops.numpy(), ref_img)
        np.testing.assert_array_equal(x.numpy(), to_input(ref_img, channels_last=True).numpy())
        np.testing.assert_array_equal(p.numpy(), labels_from_joints(ref_joints).astype(np.float32))
    else:  # bilinear sampling in another order of operations: within one grey level
        assert np.abs(crops.numpy().astype(int) - ref_img.astype(int)).max() <= 1
        agree = (p.numpy() == labels_from_joints(ref_joints)).mean()
        assert agree > 0.999
    np.testing.assert_allclose(crop_joints.numpy(), ref_joints, rtol=0, atol=1e-9)
    np.testing.assert_allclose(j.numpy(), (ref_joints / 112).astype(np.float32), atol=1e-7)
    assert x.is_contiguous(memory_format=torch.channels_last)


def test_epoch_plan_is_a_pure_function_of_seed_and_epoch():
    a = epoch_plan(50, 3, seed=1, epoch=2, height=128, width=128, out=112)
    b = epoch_plan(50, 3, seed=1, epoch=2, height=128, width=128, out=112)
    c = epoch_plan(50, 3, seed=1, epoch=3, height=128, width=128, out=112)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.draw.offsets, b.draw.offsets)
    assert not np.array_equal(a.order, c.order)
    # three passes: each a permutation of the pool
    assert len(a) == 150
    for k in range(3):
        assert sorted(a.order[50 * k : 50 * (k + 1)]) == list(range(50))


def test_normalise_words_round_trip():
    images, _ = _pool(n=3, size=16)
    pool = DevicePool(images, np.full((3, 8, 2), 4.0), "cpu", out=8)
    np.testing.assert_array_equal(
        normalise_words(pool.words, channels_last=False).numpy(), to_input(images).numpy()
    )


def test_device_pool_rejects_bad_input():
    images, joints = _pool(n=2)
    with pytest.raises(ValueError, match="uint8"):
        DevicePool(images.astype(np.float32), joints, "cpu")
    with pytest.raises(ValueError, match="crop size 200"):
        DevicePool(images, joints, "cpu", out=200)
    with pytest.raises(ValueError, match=r"joints must have shape \(2, 8, 2\)"):
        DevicePool(images, joints[:, :5], "cpu")
    with pytest.raises(RuntimeError, match="set_plan"):
        DevicePool(images, joints, "cpu").batch(0, 1)
