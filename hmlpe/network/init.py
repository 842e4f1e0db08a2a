"""Weight initialisation of the HMLPE network (``ModelConfig.init``). The paper gives none; it
refers to [14] (Krizhevsky et al. 2012) for its training procedure.

* ``"torch"``: PyTorch's defaults for ``nn.Conv2d`` and ``nn.Linear``: weights and biases
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (Kaiming-uniform with a = sqrt(5)).
* ``"krizhevsky"``: [14] section 5: weights ``N(0, 0.01)``; biases 1 in the second and later
  convolutions and in the fully connected hidden layers ("this initialisation accelerates the
  early stages of learning by providing the ReLUs with positive inputs"), 0 in the first
  convolution and the output layers.
* ``"kaiming"``: He et al. 2015: weights ``N(0, 2 / fan_in)`` for every layer followed by a ReLU,
  zero biases, the two output layers ``N(0, 0.001)`` so the tanh and logistic outputs start
  near 0 and 0.5 (the regression output near the crop's corner; the bias learns the mean).
* ``"kaiming_trunk"``: Kaiming's rule for the trunk's convolutions only (zero biases), PyTorch's
  defaults for the fully connected heads: the shared maps start alive (the dead-map target is
  the trunk's) while the heads, where dropout sits, keep the scale of the default network.

Layers are found by their place in ``HMLPENet``: the trunk's convolutions, each head's two hidden
``Linear`` layers and its output ``Linear``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hmlpe.config import CHOICES
from hmlpe.errors import ConfigError

INITS = CHOICES["model.init"]


def _layers(model) -> tuple[list[nn.Conv2d], list[nn.Linear], list[nn.Linear]]:
    convs = [m for m in model.trunk if isinstance(m, nn.Conv2d)]
    hidden, outputs = [], []
    for head in (model.regression, model.detection):
        linears = [m for m in head if isinstance(m, nn.Linear)]
        hidden += linears[:-1]
        outputs.append(linears[-1])
    return convs, hidden, outputs


def _bias(m: nn.Conv2d | nn.Linear) -> torch.Tensor:
    assert m.bias is not None  # every layer of HMLPENet has one
    return m.bias


@torch.no_grad()
def initialise(model, rule: str, generator: torch.Generator | None = None) -> None:
    """Initialise ``model`` (an ``HMLPENet``) in place by ``rule`` (module docstring). "torch"
    leaves the modules' own initialisation (drawn when they were built)."""
    if rule not in INITS:
        raise ConfigError(f"model.init={rule}: expected one of {', '.join(INITS)}")
    if rule == "torch":
        return
    convs, hidden, outputs = _layers(model)
    if rule == "krizhevsky":
        weighted: list[nn.Conv2d | nn.Linear] = [*convs, *hidden]
        for k, m in enumerate(weighted):
            m.weight.normal_(0.0, 0.01, generator=generator)
            _bias(m).fill_(0.0 if k == 0 else 1.0)
        for m in outputs:
            m.weight.normal_(0.0, 0.01, generator=generator)
            _bias(m).zero_()
        return
    if rule == "kaiming_trunk":
        hidden, outputs = [], []
    kaiming: list[nn.Conv2d | nn.Linear] = [*convs, *hidden]
    for m in kaiming:
        fan_in = m.weight[0].numel()
        m.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
        _bias(m).zero_()
    for m in outputs:
        m.weight.normal_(0.0, 0.001, generator=generator)
        _bias(m).zero_()
