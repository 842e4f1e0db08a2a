"""Algorithm 1 (backtracked regions) against hand computations and brute-force receptive fields."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from hmlpe.config import ModelConfig
from hmlpe.network.backtrack import (
    average_backtracked_patches,
    backtrack_region,
    extract_patch,
    max_activation_patches,
    receptive_field,
)
from hmlpe.network.model import HMLPENet, LayerGeometry, to_input

TOY = [LayerGeometry("conv1", "conv", 3, 1, 1), LayerGeometry("pool1", "pool", 2, 2, 0)]
# Strided first conv, overlapping pools, mixed kernels: every term of the recursion matters.
ODD = ModelConfig(
    input_size=40,
    conv_channels=(3, 4, 5),
    conv_kernels=(5, 3, 3),
    conv_strides=(2, 1, 1),
    pool_kernel=3,
    pool_stride=2,
    fc_widths=(4, 4),
)


def test_hand_computed_toy():
    # pool neuron (0,0) sees conv rows/cols 0..1; conv neuron 0 sees input -1..1, neuron 1 sees 0..2.
    assert backtrack_region(TOY, 0, 0) == (-1, -1, 2, 2)
    assert backtrack_region(TOY, 0, 0, input_size=8) == (0, 0, 2, 2)
    # pool (mx=3, my=2): conv cols 6..7 -> input 5..8; conv rows 4..5 -> input 3..6
    assert backtrack_region(TOY, 3, 2) == (5, 3, 8, 6)
    assert backtrack_region(TOY, 3, 2, input_size=(8, 8)) == (5, 3, 7, 6)
    assert backtrack_region(TOY, 3, 2, input_size=(7, 9)) == (5, 3, 8, 6)  # (height, width)


def test_paper_recursion_without_padding():
    """With padding 0 the recursion is the paper's: R_l*stride, R_u*stride + filter_size - 1."""
    layers = [
        LayerGeometry("c1", "conv", 5, 1, 0),
        LayerGeometry("p1", "pool", 2, 2, 0),
        LayerGeometry("c2", "conv", 3, 1, 0),
        LayerGeometry("p2", "pool", 2, 2, 0),
    ]
    mx, my = 3, 1
    r = [mx, my, mx, my]
    for l in reversed(layers):
        r = [
            r[0] * l.stride,
            r[1] * l.stride,
            r[2] * l.stride + l.kernel - 1,
            r[3] * l.stride + l.kernel - 1,
        ]
    assert backtrack_region(layers, mx, my) == tuple(r)
    # by hand: p2 3 -> c2 6..7 -> p1 6..9 -> c1 12..19 -> input 12..23
    assert backtrack_region(layers, mx, my)[::2] == (12, 23)


def test_receptive_field_tables():
    rf = receptive_field(
        HMLPENet(ModelConfig(conv_kernels=(5, 3, 3))).trunk_geometry(), input_size=112
    )
    got = [(r.name, r.size, r.jump, r.start, r.output_size) for r in rf]
    assert got == [
        ("conv1", 5, 1, -2, 112),
        ("pool1", 6, 2, -2, 56),
        ("conv2", 10, 2, -4, 56),
        ("pool2", 12, 4, -4, 28),
        ("conv3", 20, 4, -8, 28),
        ("pool3", 24, 8, -8, 14),
    ]
    rf = receptive_field(
        HMLPENet(ModelConfig(conv_kernels=(5, 5, 3))).trunk_geometry(), input_size=112
    )
    got = [(r.name, r.size, r.jump, r.start, r.output_size) for r in rf]
    assert got == [
        ("conv1", 5, 1, -2, 112),
        ("pool1", 6, 2, -2, 56),
        ("conv2", 14, 2, -6, 56),
        ("pool2", 16, 4, -6, 28),
        ("conv3", 24, 4, -10, 28),
        ("pool3", 28, 8, -10, 14),
    ]


def test_receptive_field_agrees_with_backtrack():
    geo = HMLPENet(ODD).trunk_geometry()
    for k in range(1, len(geo) + 1):
        r = receptive_field(geo[:k])[-1]
        for m in range(4):
            x1, y1, x2, y2 = backtrack_region(geo[:k], m, m + 1)
            assert (x1, x2) == (r.start + m * r.jump, r.start + m * r.jump + r.size - 1)
            assert (y1, y2) == (r.start + (m + 1) * r.jump, r.start + (m + 1) * r.jump + r.size - 1)


def _linear_positive(model: HMLPENet) -> HMLPENet:
    """Same geometry; identity activations, average pooling, positive weights, float64.
    Every input pixel inside a neuron's (clipped) field then reaches it along paths of positive
    weight only, so its gradient is > 0 there and exactly 0 elsewhere: the field is observable."""
    m = copy.deepcopy(model).double()
    for name, mod in list(m.trunk.named_children()):
        if isinstance(mod, nn.ReLU):
            setattr(m.trunk, name, nn.Identity())
        elif isinstance(mod, nn.MaxPool2d):
            setattr(m.trunk, name, nn.AvgPool2d(mod.kernel_size, mod.stride, mod.padding))
        elif isinstance(mod, nn.Conv2d):
            with torch.no_grad():
                mod.weight.abs_().add_(0.01)
                mod.bias.abs_()  # all activations positive: the explicit ReLU of a conv point is identity
    return m


def _gradient_supports(model: HMLPENet, layer: str, neurons, size: int) -> np.ndarray:
    """(K, H, W) bool: input pixels with a nonzero gradient for each neuron (c, mx, my).
    One backward pass: neuron k is read from batch item k (items do not interact in eval mode)."""
    x = torch.rand(len(neurons), 3, size, size, dtype=torch.float64, requires_grad=True)
    fm = model.feature_maps(x, (layer,))[layer]
    c, mx, my = (torch.tensor(v) for v in zip(*neurons))
    (g,) = torch.autograd.grad(fm[torch.arange(len(neurons)), c, my, mx].sum(), x)
    return (g.abs().sum(1) > 0).numpy()


def _box_mask(box, size) -> np.ndarray:
    x1, y1, x2, y2 = box
    mask = np.zeros((size, size), dtype=bool)
    mask[y1 : y2 + 1, x1 : x2 + 1] = True
    return mask


def _map_side(model: HMLPENet, layer: str, size: int) -> int:
    x = torch.zeros(1, 3, size, size, dtype=next(model.parameters()).dtype)
    return model.feature_maps(x, (layer,))[layer].shape[-1]


@pytest.mark.parametrize("layer", ["conv2", "conv3", "pool3"])
def test_box_is_exact_receptive_field_default_geometry(layer):
    """Default kernels/strides/padding at 112 x 112 (2 maps per layer: geometry only)."""
    torch.manual_seed(0)
    lin = _linear_positive(HMLPENet(ModelConfig(conv_channels=(2, 2, 2)))).eval()
    geo = lin.trunk_geometry(upto=layer)
    assert geo == HMLPENet(ModelConfig()).trunk_geometry(upto=layer)
    n = _map_side(lin, layer, 112)
    edge = sorted({0, 1, n // 2, n - 2, n - 1})
    neurons = [(1, x, y) for x in edge for y in edge]
    supports = _gradient_supports(lin, layer, neurons, 112)
    for (_, mx, my), support in zip(neurons, supports):
        box = backtrack_region(geo, mx, my, input_size=112)
        assert np.array_equal(support, _box_mask(box, 112)), (layer, mx, my, box)


def test_box_is_exact_receptive_field_all_neurons_odd_geometry():
    torch.manual_seed(0)
    lin = _linear_positive(HMLPENet(ODD)).eval()
    for layer in ("pool1", "conv2", "pool2", "conv3"):
        geo = lin.trunk_geometry(upto=layer)
        n = _map_side(lin, layer, 40)
        neurons = [(1, mx, my) for my in range(n) for mx in range(n)]
        supports = _gradient_supports(lin, layer, neurons, 40)
        no_pad = [LayerGeometry(g.name, g.kind, g.kernel, g.stride, 0) for g in geo]
        wrong_no_pad = wrong_end_clip = 0
        for (_, mx, my), support in zip(neurons, supports):
            assert np.array_equal(support, _box_mask(backtrack_region(geo, mx, my, 40), 40)), (
                layer,
                mx,
                my,
            )
            # the test can fail: the paper's recursion without the padding term is wrong here ...
            wrong_no_pad += not np.array_equal(
                support, _box_mask(backtrack_region(no_pad, mx, my, 40), 40)
            )
            # ... and so is clipping the unclipped box only at the end (floor-mode pool1 drops
            # conv1's last column, so the last neurons of conv2 see less than the padded formula)
            x1, y1, x2, y2 = backtrack_region(geo, mx, my)
            end = (max(x1, 0), max(y1, 0), min(x2, 39), min(y2, 39))
            wrong_end_clip += not np.array_equal(support, _box_mask(end, 40))
        assert wrong_no_pad > 0
        if layer in ("conv2", "pool2", "conv3"):
            assert wrong_end_clip > 0, layer


def test_vectorised_backtrack_matches_scalar():
    geo = HMLPENet(ODD).trunk_geometry()
    mx, my = np.meshgrid(np.arange(5), np.arange(4))
    for size in (None, 40):
        arrays = backtrack_region(geo, mx, my, input_size=size)
        for i in range(4):
            for j in range(5):
                assert tuple(int(a[i, j]) for a in arrays) == backtrack_region(
                    geo, j, i, input_size=size
                )


def test_real_model_gradients_stay_inside_box():
    """ReLU + max-pool network, random weights: dead units and pooling may hide pixels, but no
    pixel outside the backtracked box may ever influence the neuron."""
    torch.manual_seed(1)
    model = HMLPENet(ModelConfig()).double().eval()
    geo = model.trunk_geometry(upto="conv3")
    neurons = [
        (c, mx, my) for c in range(0, 64, 16) for mx, my in [(0, 0), (27, 27), (13, 5), (3, 20)]
    ]
    supports = _gradient_supports(model, "conv3", neurons, 112)
    for (_, mx, my), support in zip(neurons, supports):
        box = _box_mask(backtrack_region(geo, mx, my, input_size=112), 112)
        assert not (support & ~box).any()
    assert supports.sum() > 0


def test_extract_patch_zero_pads():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3) + 1
    p = extract_patch(img, (-2, -1, 1, 1))
    assert p.shape == (3, 4, 3)
    assert (p[0] == 0).all() and (p[:, :2] == 0).all()
    np.testing.assert_array_equal(p[1:, 2:], img[0:2, 0:2])
    np.testing.assert_array_equal(extract_patch(img, (1, 1, 3, 2)), img[1:3, 1:4])


def test_max_activation_patches_and_average():
    torch.manual_seed(0)
    model = HMLPENet(ModelConfig())
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 112, 112, 3), dtype=np.uint8)
    images[1, :30, :30] = 255  # a bright corner drives some maxima to the border
    acts = max_activation_patches(model, images, "conv3", batch_size=2)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        fm = model.feature_maps(to_input(images), ("conv3",))["conv3"].numpy()
    c = fm.shape[1]
    s = receptive_field(model.trunk_geometry(upto="conv3"))[-1].size
    assert acts.locations.shape == (5, c, 2) and acts.patch_size == s
    geo = model.trunk_geometry(upto="conv3")
    for i in range(5):
        for k in range(c):
            mx, my = acts.locations[i, k]
            assert fm[i, k, my, mx] == pytest.approx(fm[i, k].max(), rel=1e-6)
            assert tuple(acts.boxes[i, k]) == backtrack_region(geo, mx, my)
            assert tuple(acts.clipped[i, k]) == backtrack_region(geo, mx, my, input_size=112)
    avg = average_backtracked_patches(model, images, "conv3", batch_size=3)
    assert avg.shape == (c, s, s, 3) and avg.dtype == np.float32
    naive = np.mean(
        [[extract_patch(images[i], acts.boxes[i, k]) for k in range(c)] for i in range(5)], axis=0
    )
    np.testing.assert_allclose(avg, naive, rtol=1e-5)
    with pytest.raises(ValueError):
        max_activation_patches(model, images, "fc1")
