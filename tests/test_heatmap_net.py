"""The "Since 2014" heatmap network (hmlpe.network.heatmap): shapes, stride, FLOPs by hand,
torch targets and decoding against the NumPy definitions (hmlpe.data.heatmaps)."""

import numpy as np
import torch
from torch import nn

from hmlpe.config import HeatmapConfig
from hmlpe.data.heatmaps import decode_heatmaps, gaussian_heatmaps
from hmlpe.network.heatmap import (
    HeatmapNet,
    HeatmapOutput,
    count_flops,
    decode_heatmaps_torch,
    gaussian_heatmaps_torch,
)


def test_default_network_maps_112_to_28_by_28_heatmaps_per_joint():
    net = HeatmapNet()
    out = net(torch.zeros(2, 3, 112, 112))
    assert out.heatmaps.shape == (2, 8, 28, 28) and net.stride == 4
    assert out.joints.shape == (2, 8, 2) and out.part_logits is None


def test_stride_follows_the_deconvolutions():
    net = HeatmapNet(HeatmapConfig(deconv_layers=3))
    assert net(torch.zeros(1, 3, 112, 112)).heatmaps.shape[-1] == 56 and net.stride == 2


def test_flops_by_hand_for_one_conv_and_one_deconv():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ConvTranspose2d(4, 2, 4, 2, 1))
    # conv: 4 x 4 outputs x 4 maps x 3 x 9; deconv: 16 input cells x 4 x 2 x 16
    assert count_flops(model, 8) == 2 * (16 * 4 * 3 * 9 + 16 * 4 * 2 * 16)


def test_default_network_cost_and_train_mode_is_restored():
    net = HeatmapNet().train()
    flops = count_flops(net, 112)
    assert net.training
    assert 0.2e9 < flops < 0.4e9  # about 1.5x HMLPE's 0.17 GFLOP (reported, not a target)


def test_torch_targets_equal_the_numpy_definition():
    joints = np.array([[[10.3, 20.7], [55.0, 1.2], [111.0, 90.4]]])
    want, _ = gaussian_heatmaps(joints, 28, 4.0, 1.5)
    got = gaussian_heatmaps_torch(torch.as_tensor(joints), 28, 4.0, 1.5)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6)


def test_torch_decoding_equals_the_numpy_definition_and_finds_a_known_peak():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 8, 28, 28)).astype(np.float32)
    want, _ = decode_heatmaps(maps, 4.0)
    got = decode_heatmaps_torch(torch.from_numpy(maps), 4.0)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-4)
    # a hand-made Gaussian at (41.3, 17.6) crop pixels decodes to it, below a pixel's 1e-3
    target = gaussian_heatmaps_torch(torch.tensor([[[41.3, 17.6]]]), 28, 4.0, 1.5)
    np.testing.assert_allclose(
        decode_heatmaps_torch(target, 4.0).numpy(), [[[41.3, 17.6]]], atol=1e-3
    )


def test_output_joints_are_decoded_heatmaps_in_crop_normalised_units():
    target = gaussian_heatmaps_torch(torch.tensor([[[56.0, 28.0]]]), 28, 4.0, 1.5)
    out = HeatmapOutput(target, stride=4, input_size=112)
    np.testing.assert_allclose(out.joints.numpy(), [[[0.5, 0.25]]], atol=1e-5)
