"""The quick training-rate measurement the book runner prints before a long run
(hmlpe.engine.bench.training_rate)."""

from hmlpe.config import merge
from hmlpe.engine.bench import training_rate
from hmlpe.engine.profiles import get_profile


def test_training_rate_times_a_few_steps_of_the_config_on_its_device():
    cfg = merge(
        get_profile("smoke").stage_config("pretrain"), {"optim.batch_size": 4, "device": "cpu-fp32"}
    )
    rate, device = training_rate(cfg, steps=1)
    assert rate > 0 and "fp32" in device
