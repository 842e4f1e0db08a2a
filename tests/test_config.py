import math

import pytest

from hmlpe.config import LossConfig, TrainConfig, from_dict, merge, to_dict
from hmlpe.engine.profiles import PROFILES, get_profile, ratio_to_lambdas


def test_merge_dotted_and_nested_keys():
    cfg = merge(TrainConfig(), {"loss.lambda_d": 0.5, "optim.lr": 0.1, "seed": 3})
    assert cfg.loss.lambda_d == 0.5 and cfg.optim.lr == 0.1 and cfg.seed == 3
    assert cfg.loss.lambda_r == TrainConfig().loss.lambda_r  # untouched


def test_merge_unknown_key_names_it():
    with pytest.raises(KeyError, match="lamda_d"):
        merge(TrainConfig(), {"loss.lamda_d": 1.0})
    with pytest.raises(KeyError, match="optimiser"):
        merge(TrainConfig(), {"optimiser.lr": 1.0})


def test_round_trip_through_dict_keeps_tuples():
    cfg = merge(TrainConfig(), {"model.fc_widths": [64, 32]})
    assert cfg.model.fc_widths == (64, 32)
    assert from_dict(TrainConfig, to_dict(cfg)) == cfg


def test_ratio_to_lambdas_covers_table3_end_columns():
    assert ratio_to_lambdas(0) == (0.0, 1.0)        # detection only
    assert ratio_to_lambdas(math.inf) == (1.0, 0.0)  # regression only
    assert ratio_to_lambdas(1) == (0.5, 0.5)
    assert ratio_to_lambdas(0.1) == pytest.approx((LossConfig().lambda_r, LossConfig().lambda_d))
    assert ratio_to_lambdas(2) == pytest.approx((2 / 3, 1 / 3))
    lr, ld = ratio_to_lambdas(1e10)
    assert lr / ld == pytest.approx(1e10) and 0 < ld < 1e-9 and lr + ld == pytest.approx(1)
    with pytest.raises(ValueError):
        ratio_to_lambdas(-1)


def test_profiles_and_unknown_profile():
    assert set(PROFILES) == {"smoke", "quick", "cpu", "paper"}
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        get_profile("fast")
    p = get_profile("smoke")
    assert p.stage_config("pretrain").stage.dataset == "pool"
    ft = p.stage_config("finetune", "buffy")
    assert ft.stage.dataset == "buffy" and ft.stage.lr_scale == p.finetune_lr_scale
    with pytest.raises(ValueError, match="fine-tuning dataset"):
        p.stage_config("finetune", "lsp")
    sweep = p.sweep_config(math.inf)
    assert sweep.loss == LossConfig(lambda_r=1.0, lambda_d=0.0)
