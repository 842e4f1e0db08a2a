"""The "Since 2014" heatmap network (hmlpe.network.heatmap): shapes, stride, FLOPs by hand."""

import torch
from torch import nn

from hmlpe.config import HeatmapConfig
from hmlpe.network.heatmap import HeatmapNet, count_flops


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
