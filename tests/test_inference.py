"""hmlpe.engine.inference: test-time mirror averaging is mirror-equivariant."""

import numpy as np
import torch

from hmlpe.config import ModelConfig
from hmlpe.data.augment import mirror_joints
from hmlpe.engine.device import select_device
from hmlpe.engine.inference import predict_crops, predict_crops_mirror_averaged
from hmlpe.network.model import HMLPENet


def test_mirror_average_is_equivariant_and_differs_from_plain():
    torch.manual_seed(0)
    net = HMLPENet(ModelConfig(input_size=32, conv_channels=(4, 4, 4), fc_widths=(8, 8)))
    spec = select_device("cpu-fp32")
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    avg = predict_crops_mirror_averaged(net, images, spec)
    avg_of_mirror = predict_crops_mirror_averaged(net, images[:, :, ::-1].copy(), spec)
    np.testing.assert_allclose(avg_of_mirror, mirror_joints(avg, 1.0), atol=1e-6)
    plain, _ = predict_crops(net, images, spec)
    assert avg.shape == plain.shape == (3, 8, 2) and not np.allclose(avg, plain)
