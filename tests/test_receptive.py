"""Measured receptive fields (hmlpe.network.receptive) against Algorithm 1 (hmlpe.network.backtrack)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hmlpe.config import ModelConfig
from hmlpe.network.backtrack import backtrack_region, receptive_field
from hmlpe.network.model import HMLPENet, LayerGeometry, to_input
from hmlpe.network.receptive import (
    active_pixels,
    brute_force_region,
    compare_with_backtrack,
    influence_masks,
    mask_box,
    probe_network,
)

ODD = ModelConfig(
    input_size=40,
    conv_channels=(3, 4, 5),
    conv_kernels=(5, 3, 3),
    conv_strides=(2, 1, 1),
    pool_kernel=3,
    pool_stride=2,
    fc_widths=(4, 4),
)


@pytest.mark.parametrize("layer", ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"])
def test_every_neuron_of_the_real_model_matches_backtrack(layer):
    model = HMLPENet(ModelConfig())
    geo = model.trunk_geometry(upto=layer)
    n = receptive_field(geo, input_size=112)[-1].output_size
    my, mx = (a.ravel() for a in np.mgrid[0:n, 0:n])
    if layer == "conv1":  # 12544 neurons take ~10 s: every column and row, on diagonals and borders
        k = np.arange(n)
        mx = np.concatenate([k, k, k, np.zeros(n, int), np.full(n, n - 1)])
        my = np.concatenate([k, k[::-1], np.zeros(n, int), k, k])
    measured = np.stack(brute_force_region(model, layer, mx, my, 112), axis=-1)
    computed = np.stack(backtrack_region(geo, mx, my, input_size=112), axis=-1)
    np.testing.assert_array_equal(measured, computed)


def test_interior_field_has_the_receptive_field_size():
    model = HMLPENet(ModelConfig())
    for layer in ("conv2", "conv3", "pool3"):
        rf = receptive_field(model.trunk_geometry(upto=layer))[-1]
        m = -rf.start // rf.jump + 1  # the first neuron whose field lies inside the image
        x1, y1, x2, y2 = brute_force_region(model, layer, m, m + 1, 112)
        assert (x1, y1) == (rf.start + m * rf.jump, rf.start + (m + 1) * rf.jump) and x1 >= 0
        assert (x2 - x1 + 1, y2 - y1 + 1) == (rf.size, rf.size)


def test_odd_geometry_and_layer_list_agree():
    """Strided conv1, overlapping floor-mode pools: measured on the model's modules and on a
    probe built from LayerGeometry, both equal Algorithm 1 with padding for every neuron."""
    model = HMLPENet(ODD)
    rows = compare_with_backtrack(
        model, ["pool1", "conv2", "pool2", "conv3", "pool3"], input_size=40
    )
    for r in rows:
        assert r["Algorithm 1 with padding = measured"] == r["neurons"], r
        assert r["Algorithm 1 without padding = measured"] < r["neurons"], r  # the test can fail
    geo = model.trunk_geometry()
    a = brute_force_region(geo, "conv3", np.arange(4), np.arange(4)[::-1], 40)
    b = brute_force_region(model, "conv3", np.arange(4), np.arange(4)[::-1], 40)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_probe_sees_the_dropped_column():
    # 7 wide input, conv 1x1, pool 2/2 floor: column 6 is dropped by the pooling
    layers = [LayerGeometry("c", "conv", 1, 1, 0), LayerGeometry("p", "pool", 2, 2, 0)]
    masks = influence_masks(layers, None, [2], [0], input_size=(2, 7))
    assert mask_box(masks[0]) == (4, 0, 5, 1)
    assert masks.shape == (1, 2, 7)
    assert brute_force_region(layers, "p", 2, 0, (2, 7)) == backtrack_region(layers, 2, 0, (2, 7))


def test_probe_network_stops_at_layer_and_rejects_unknown():
    net = probe_network(HMLPENet(ModelConfig()), "conv2")
    assert [n for n, _ in net.named_children()] == ["conv1", "pool1", "conv2"]
    assert all(p.dtype == torch.float64 for p in net.parameters())
    with pytest.raises(ValueError):
        probe_network(HMLPENet(ModelConfig()), "fc1")
    with pytest.raises(ValueError):
        brute_force_region(HMLPENet(ModelConfig()), "conv3", 28, 0, 112)


def test_active_pixels_lie_inside_the_box():
    torch.manual_seed(0)
    model = HMLPENet(ModelConfig()).eval()
    rng = np.random.default_rng(0)
    x = to_input(rng.integers(0, 256, size=(1, 112, 112, 3), dtype=np.uint8))[0]
    geo = model.trunk_geometry(upto="conv3")
    for c, mx, my in [(0, 0, 0), (5, 13, 14), (63, 27, 27)]:
        act = active_pixels(model, x, "conv3", c, mx, my)
        box = backtrack_region(geo, mx, my, input_size=112)
        inside = np.zeros_like(act)
        inside[box[1] : box[3] + 1, box[0] : box[2] + 1] = True
        assert not (act & ~inside).any()
