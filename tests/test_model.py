"""HMLPENet: shapes, output ranges, dropout, geometry, parameter and FLOP counts, bf16."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hmlpe.config import ModelConfig
from hmlpe.network.model import (
    FEATURE_POINTS,
    HMLPENet,
    HMLPEOutput,
    LayerGeometry,
    count_flops,
    count_parameters,
    to_input,
    trunk_sizes,
)

TINY = ModelConfig(
    input_size=16,
    conv_channels=(2, 3, 4),
    conv_kernels=(3, 3, 3),
    conv_strides=(1, 1, 1),
    pool_kernel=2,
    pool_stride=2,
    fc_widths=(5, 6),
    n_joints=8,
    n_parts=7,
    grid=2,
)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return HMLPENet(ModelConfig())


def test_forward_shapes_and_tanh_range(net):
    x = torch.randn(3, 3, 112, 112) * 5  # large inputs push tanh towards saturation
    out = net.eval()(x)
    assert isinstance(out, HMLPEOutput)
    assert out.joints.shape == (3, 8, 2)
    assert out.part_logits.shape == (3, 7, 8, 8)
    assert out.joints.abs().max() <= 1.0
    # the regression output is tanh of the last FC layer
    h = torch.flatten(net.trunk(x), 1)
    assert torch.allclose(out.joints, torch.tanh(net.regression(h)).view(3, 8, 2))
    assert torch.allclose(out.part_logits, net.detection(h).view(3, 7, 8, 8))


def test_predict_gives_probabilities_and_restores_mode(net):
    net.train()
    x = torch.randn(2, 3, 112, 112)
    p = net.predict(x)
    assert net.training
    assert p.part_probs.shape == (2, 7, 8, 8)
    assert ((p.part_probs > 0) & (p.part_probs < 1)).all()
    net.eval()
    assert torch.allclose(p.part_probs, torch.sigmoid(net(x).part_logits))


def test_dropout_placement_and_modes(net):
    for head in (net.regression, net.detection):
        kinds = [type(m) for m in head]
        assert kinds == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Linear]
        assert head[2].p == 0.5
    x = torch.randn(2, 3, 112, 112)
    net.train()
    torch.manual_seed(1)
    a = net(x)
    torch.manual_seed(2)
    b = net(x)
    assert not torch.allclose(a.joints, b.joints)
    assert not torch.allclose(a.part_logits, b.part_logits)
    net.eval()
    c, d = net(x), net(x)
    assert torch.equal(c.joints, d.joints) and torch.equal(c.part_logits, d.part_logits)


def test_dropout_keeps_expectation(net):
    """Inverted dropout: train-mode activations of the dropout layer average to eval-mode ones."""
    torch.manual_seed(0)
    h = torch.rand(1, 512).expand(20000, 512)
    drop = net.regression[2]
    drop.train()
    y = drop(h)
    assert set(torch.unique(y / h[0]).tolist()) <= {0.0, 2.0}
    assert torch.allclose(y.mean(0), h[0], rtol=0.05)


def test_trunk_geometry_reads_the_modules():
    cfg = ModelConfig(conv_kernels=(7, 5, 3), conv_strides=(2, 1, 1), pool_kernel=3, pool_stride=2)
    net = HMLPENet(cfg)
    geo = net.trunk_geometry()
    assert [g.name for g in geo] == ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
    mods = dict(net.trunk.named_children())
    for g in geo:
        m = mods[g.name]
        assert g.kind == ("conv" if isinstance(m, nn.Conv2d) else "pool")
        assert (g.kernel, g.kernel) == tuple(np.broadcast_to(m.kernel_size, 2))
        assert (g.stride, g.stride) == tuple(np.broadcast_to(m.stride, 2))
        assert (g.padding, g.padding) == tuple(np.broadcast_to(m.padding, 2))
    assert geo[0] == LayerGeometry("conv1", "conv", 7, 2, 3)
    assert geo[1] == LayerGeometry("pool1", "pool", 3, 2, 0)
    # read from the modules, not the config: changing a module changes the geometry
    mods["conv2"].padding = (0, 0)
    assert net.trunk_geometry()[2].padding == 0
    assert [g.name for g in net.trunk_geometry(upto="conv2")] == ["conv1", "pool1", "conv2"]
    with pytest.raises(ValueError):
        net.trunk_geometry(upto="fc1")


def test_trunk_sizes_match_forward():
    for cfg in (
        ModelConfig(),
        TINY,
        ModelConfig(conv_kernels=(7, 5, 3), conv_strides=(2, 1, 1), pool_kernel=3, pool_stride=2),
    ):
        net = HMLPENet(cfg).eval()
        x = torch.randn(1, 3, cfg.input_size, cfg.input_size)
        fm = net.feature_maps(x, FEATURE_POINTS)
        for name, c, n in trunk_sizes(cfg):
            assert fm[name].shape == (1, c, n, n), name
        assert ModelConfig().input_size == 112
    assert [n for _, _, n in trunk_sizes(ModelConfig())] == [112, 56, 56, 28, 28, 14]


def test_feature_maps_are_post_relu_pre_pool(net):
    net.eval()
    x = torch.randn(1, 3, 112, 112)
    fm = net.feature_maps(x, ("conv1", "pool1", "conv3"))
    assert list(fm) == ["conv1", "pool1", "conv3"]
    assert torch.allclose(fm["conv1"], torch.relu(net.trunk.conv1(x)))
    assert torch.allclose(fm["pool1"], nn.functional.max_pool2d(fm["conv1"], 2))
    assert (fm["conv3"] >= 0).all()
    with pytest.raises(ValueError):
        net.feature_maps(x, ("fc1",))


def test_trunk_equals_conv_relu_pool_reference():
    """The trunk runs conv -> pool -> ReLU; that is the paper's conv -> ReLU -> pool, values and
    gradients (max-pooling and ReLU commute)."""
    torch.manual_seed(0)
    net = HMLPENet(ModelConfig(conv_channels=(4, 4, 8)))
    t = net.trunk
    ref = nn.Sequential(
        t.conv1, nn.ReLU(), t.pool1, t.conv2, nn.ReLU(), t.pool2, t.conv3, nn.ReLU(), t.pool3
    )
    x = torch.randn(2, 3, 112, 112, dtype=torch.float64)
    net.double()
    a, b = net.trunk(x), ref(x)
    assert torch.equal(a, b)
    w = torch.randn_like(a)
    ga = torch.autograd.grad((a * w).sum(), list(t.parameters()))
    gb = torch.autograd.grad((ref(x) * w).sum(), list(t.parameters()))
    for u, v in zip(ga, gb):
        assert torch.allclose(u, v, rtol=1e-10, atol=1e-12)


def test_parameter_count_tiny_by_hand():
    # conv: out*in*k*k + out ; fc: in*out + out. Trunk output 4 maps of 2x2 = 16 features.
    conv = (2 * 3 * 9 + 2) + (3 * 2 * 9 + 3) + (4 * 3 * 9 + 4)  # 56 + 57 + 112
    reg = (16 * 5 + 5) + (5 * 6 + 6) + (6 * 16 + 16)  # 85 + 36 + 112
    det = (16 * 5 + 5) + (5 * 6 + 6) + (6 * 28 + 28)  # 85 + 36 + 196
    assert conv + reg + det == 775
    assert count_parameters(HMLPENet(TINY)) == 775


def test_flops_tiny_by_hand():
    macs = (
        (16 * 16 * 2 * 3 * 9) + (8 * 8 * 3 * 2 * 9) + (4 * 4 * 4 * 3 * 9)
    )  # convs: 13824+3456+1728
    macs += (16 * 5 + 5 * 6 + 6 * 16) + (16 * 5 + 5 * 6 + 6 * 28)  # heads: 206 + 278
    assert macs == 19492
    assert count_flops(TINY) == 2 * 19492


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(conv_kernels=(7, 5, 3), conv_strides=(2, 1, 1), pool_kernel=3, pool_stride=2),
    ],
)
def test_flops_match_module_hooks(cfg):
    """count_flops (from the config) equals the MACs of the modules as they actually run."""
    net = HMLPENet(cfg).eval()
    macs = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs.append(out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1])
        else:
            macs.append(m.in_features * m.out_features)

    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(hook)
    net(torch.zeros(1, 3, cfg.input_size, cfg.input_size))
    assert count_flops(cfg) == 2 * sum(macs)


def test_to_input_normalisation_and_layout():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    x = to_input(imgs)
    assert x.shape == (2, 3, 5, 7) and x.dtype == torch.float32 and x.is_contiguous()
    expect = imgs.transpose(0, 3, 1, 2).astype(np.float32) / 255 - 0.5
    np.testing.assert_allclose(x.numpy(), expect, atol=1e-6)
    y = to_input(torch.from_numpy(imgs), channels_last=True)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(x, y)
    assert to_input(imgs[:, :, :, :]).min() >= -0.5 and x.max() <= 0.5
    with pytest.raises(ValueError):
        to_input(imgs[0])


def test_bf16_autocast_close_to_fp32():
    torch.manual_seed(0)
    net = HMLPENet(ModelConfig()).eval()
    x = to_input(np.random.default_rng(0).integers(0, 256, size=(2, 112, 112, 3), dtype=np.uint8))
    with torch.no_grad():
        ref = net(x)
        net_cl = net.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net_cl(x.contiguous(memory_format=torch.channels_last))
    assert out.joints.dtype == torch.float32 or out.joints.dtype == torch.bfloat16
    assert torch.isfinite(out.joints.float()).all()
    assert (out.joints.float() - ref.joints).abs().max() < 0.03
    assert (out.part_logits.float() - ref.part_logits).abs().max() < 0.05
