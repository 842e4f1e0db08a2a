"""engine/diagnostics: dead maps on a hand-made network; the initialisation rules."""

import numpy as np
import pytest
import torch
from torch import nn

from hmlpe.config import ModelConfig
from hmlpe.engine.device import select_device
from hmlpe.engine.diagnostics import dead_map_counts, dead_map_shares
from hmlpe.errors import ConfigError
from hmlpe.network.init import initialise
from hmlpe.network.model import HMLPENet

SMALL = ModelConfig(conv_channels=(4, 4, 8), fc_widths=(16, 16))


def _crops(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 256, (n, 112, 112, 3), dtype=np.uint8))


def test_a_map_with_a_large_negative_bias_is_dead():
    torch.manual_seed(0)
    model = HMLPENet(SMALL)
    convs = [m for m in model.trunk if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        convs[1].bias[2] = -1e4  # conv2 map 2 can never pass its ReLU
        convs[2].bias[:3] = -1e4  # conv3 maps 0-2 likewise
        convs[2].bias[3:] = 1e4  # the others always do
    spec = select_device("cpu-fp32")
    shares = dead_map_shares(model, _crops(), spec, batch_size=4)
    assert shares["conv2"] == pytest.approx(1 / 4)
    assert shares["conv3"] == pytest.approx(3 / 8)
    counts = dead_map_counts(shares, model)
    assert (counts["conv2"], counts["conv3"]) == (1, 3)
    assert model.training  # put back as it was


@torch.no_grad()
def test_krizhevsky_rule():
    torch.manual_seed(0)
    model = HMLPENet(ModelConfig(init="krizhevsky"))
    convs = [m for m in model.trunk if isinstance(m, nn.Conv2d)]
    assert float(convs[0].bias.abs().max()) == 0.0
    assert all(float(c.bias.min()) == 1.0 for c in convs[1:])
    w = torch.cat([c.weight.flatten() for c in convs])
    assert float(w.std()) == pytest.approx(0.01, rel=0.05)
    for head in (model.regression, model.detection):
        linears = [m for m in head if isinstance(m, nn.Linear)]
        assert all(float(m.bias.min()) == 1.0 for m in linears[:-1])
        assert float(linears[-1].bias.abs().max()) == 0.0


@torch.no_grad()
def test_kaiming_rule():
    torch.manual_seed(0)
    model = HMLPENet(ModelConfig(init="kaiming"))
    conv3 = [m for m in model.trunk if isinstance(m, nn.Conv2d)][2]
    fan_in = conv3.weight[0].numel()
    assert float(conv3.weight.std()) == pytest.approx((2 / fan_in) ** 0.5, rel=0.05)
    assert float(conv3.bias.abs().max()) == 0.0
    out = [m for m in model.regression if isinstance(m, nn.Linear)][-1]
    assert float(out.weight.std()) == pytest.approx(0.001, rel=0.1)


def test_unknown_rule_is_named():
    with pytest.raises(ConfigError, match="model.init=xavier: expected one of torch"):
        initialise(HMLPENet(SMALL), "xavier")


def test_torch_rule_keeps_the_modules_own_draws():
    torch.manual_seed(5)
    a = HMLPENet(SMALL).state_dict()
    torch.manual_seed(5)
    b = HMLPENet(
        ModelConfig(conv_channels=(4, 4, 8), fc_widths=(16, 16), init="torch")
    ).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@torch.no_grad()
def test_kaiming_trunk_rule_leaves_the_heads_as_torch_draws_them():
    torch.manual_seed(3)
    ref = HMLPENet(SMALL).state_dict()
    torch.manual_seed(3)
    model = HMLPENet(ModelConfig(conv_channels=(4, 4, 8), fc_widths=(16, 16), init="kaiming_trunk"))
    got = model.state_dict()
    heads = [k for k in got if k.startswith(("regression", "detection"))]
    assert heads and all(torch.equal(got[k], ref[k]) for k in heads)
    conv2 = [m for m in model.trunk if isinstance(m, nn.Conv2d)][1]
    assert float(conv2.bias.abs().max()) == 0.0
    assert float(conv2.weight.std()) == pytest.approx(
        (2 / conv2.weight[0].numel()) ** 0.5, rel=0.15
    )
