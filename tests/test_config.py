import math
from dataclasses import asdict, replace

import pytest

from hmlpe.config import ConfigError, LossConfig, StageConfig, TrainConfig, from_dict, merge
from hmlpe.engine.profiles import ALL_PROFILES, PROFILES, get_profile, ratio_to_lambdas
from hmlpe.errors import UnknownNameError, UsageError


def test_merge_dotted_and_nested_keys():
    cfg = merge(TrainConfig(), {"loss.lambda_d": 0.5, "optim.lr": 0.1, "seed": 3})
    assert cfg.loss.lambda_d == 0.5 and cfg.optim.lr == 0.1 and cfg.seed == 3
    assert cfg.loss.lambda_r == TrainConfig().loss.lambda_r  # untouched


def test_merge_unknown_key_names_it():
    with pytest.raises(KeyError, match="lamda_d"):
        merge(TrainConfig(), {"loss.lamda_d": 1.0})
    with pytest.raises(KeyError, match="optimiser"):
        merge(TrainConfig(), {"optimiser.lr": 1.0})


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("optim.lr", "abc", "optim.lr=abc: expected a float, got a string"),
        ("optim.lr", "0.1", 'optim.lr="0.1": expected a float, got a string'),
        ("optim.lr", True, "optim.lr=true: expected a float, got a bool"),
        ("seed", False, "seed=false: expected an int, got a bool"),
        ("stage.epochs", 1.5, "stage.epochs=1.5: expected an int, got a float"),
        ("device", None, "device=null: expected a string, got null"),
        ("device", 3, "device=3: expected a string, got an int"),
        (
            "data.max_train_examples",
            "all",
            "data.max_train_examples=all: expected an int or null, got a string",
        ),
        ("optim.grad_clip", [1.0], "optim.grad_clip=[1.0]: expected a float or null, got a list"),
        ("data.pool", "buffy", "data.pool=buffy: expected a list of strings, got a string"),
        (
            "test_sets",
            ["buffy", 2],
            'test_sets=["buffy", 2]: expected a list of strings, got a list [a string, an int]',
        ),
        (
            "model.conv_channels",
            [32, 32],
            "model.conv_channels=[32, 32]: expected a list of 3 ints, got a list of 2 ints",
        ),
        (
            "model.fc_widths",
            [512.0, 256],
            "model.fc_widths=[512.0, 256]: expected a list of 2 ints",
        ),
        ("optim", 5, "optim=5: expected a mapping of OptimConfig fields, got an int"),
        ("stage", LossConfig(), "stage=LossConfig("),
    ],
)
def test_merge_rejects_a_wrong_type_naming_key_value_and_type(key, value, message):
    with pytest.raises(ConfigError) as err:
        merge(TrainConfig(), {key: value})
    assert str(err.value).startswith(message)
    assert isinstance(err.value, ValueError)  # the CLI's user errors: one line, status 2


def test_merge_accepts_what_the_types_allow():
    cfg = merge(
        TrainConfig(),
        {
            "optim.lr": 1,
            "stage.lr_scale": 2,
            "optim.grad_clip": None,
            "data.max_train_examples": None,
            "optim.lr_decay_at": [1, 0.5],
            "data.pool": ["lsp"],
            "test_sets": [],
            "loss.lambda_d": float("inf"),
        },
    )
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)  # int -> float
    assert isinstance(cfg.stage.lr_scale, float) and cfg.optim.grad_clip is None
    assert cfg.optim.lr_decay_at == (1.0, 0.5) and cfg.data.pool == ("lsp",)
    assert cfg.test_sets == () and cfg.loss.lambda_d == math.inf
    cfg = merge(
        cfg,
        {
            "optim.grad_clip": 5,
            "data.max_train_examples": 10,
            "stage": StageConfig("buffy", 3, 0.1),
            "loss": {"lambda_r": 0},
        },
    )
    assert cfg.optim.grad_clip == 5.0 and cfg.data.max_train_examples == 10
    assert cfg.stage == StageConfig("buffy", 3, 0.1) and cfg.loss.lambda_r == 0.0


def test_round_trip_through_dict_keeps_tuples():
    cfg = merge(TrainConfig(), {"model.fc_widths": [64, 32]})
    assert cfg.model.fc_widths == (64, 32)
    assert from_dict(TrainConfig, asdict(cfg)) == cfg


def test_ratio_to_lambdas_covers_table3_end_columns():
    assert ratio_to_lambdas(0) == (0.0, 1.0)  # detection only
    assert ratio_to_lambdas(math.inf) == (1.0, 0.0)  # regression only
    assert ratio_to_lambdas(1) == (0.5, 0.5)
    assert ratio_to_lambdas(0.1) == pytest.approx((LossConfig().lambda_r, LossConfig().lambda_d))
    assert ratio_to_lambdas(2) == pytest.approx((2 / 3, 1 / 3))
    lr, ld = ratio_to_lambdas(1e10)
    assert lr / ld == pytest.approx(1e10) and 0 < ld < 1e-9 and lr + ld == pytest.approx(1)
    with pytest.raises(ValueError):
        ratio_to_lambdas(-1)


def test_profiles_and_unknown_profile():
    assert set(PROFILES) == {"smoke", "quick", "cpu", "paper"}  # the paper's protocol
    assert set(ALL_PROFILES) == {*PROFILES, "heatmap"}  # and the Since 2014 reference
    with pytest.raises(UnknownNameError, match="unknown profile 'fast'"):
        get_profile("fast")
    p = get_profile("smoke")
    assert p.stage_config("pretrain").stage.dataset == "pool"
    ft = p.stage_config("finetune", "buffy")
    assert ft.stage.dataset == "buffy" and ft.stage.lr_scale == p.finetune_lr_scale
    with pytest.raises(
        UsageError, match="profile smoke fine-tunes on \\['buffy', 'flic'\\], not on 'lsp'"
    ):
        p.stage_config("finetune", "lsp")
    sweep = p.sweep_config(math.inf)
    assert sweep.loss == LossConfig(lambda_r=1.0, lambda_d=0.0)


def test_configs_of_earlier_versions_drop_removed_fields_only():
    saved = asdict(TrainConfig())
    saved["crop"]["crops_per_image"] = 16  # written before the field was removed
    saved["data"]["data_root"] = "/where/the/data/lay"  # now the entry point's DataSource
    assert from_dict(TrainConfig, saved) == TrainConfig()
    with pytest.raises(KeyError, match="data_root"):  # no longer a key one can set
        merge(TrainConfig(), {"data.data_root": "/data"})
    saved["crop"]["crops_per_imagex"] = 1
    with pytest.raises(KeyError):
        from_dict(TrainConfig, saved)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("optim.schedule", "cosin", "optim.schedule=cosin: expected one of step, cosine"),
        ("optim.name", "rmsprop", "optim.name=rmsprop: expected one of sgd, adam"),
        ("model.init", "xavier", "model.init=xavier: expected one of torch, krizhevsky"),
        ("data.pool", ["lsp", "mpii"], 'data.pool=\\["lsp", "mpii"\\]: expected items among'),
        ("test_sets", ["lsp"], 'test_sets=\\["lsp"\\]: expected items among buffy, flic'),
        ("data.pool", [], "data.pool=\\[\\]: the pre-training pool needs at least one"),
    ],
)
def test_string_choices_are_checked_before_any_work(key, value, message):
    """A value the modules would refuse only when they meet it (after minutes of loading)
    is refused by check_ranges, naming the key, the value and the choices."""
    from hmlpe.config import check_ranges
    from hmlpe.engine.profiles import ALL_PROFILES

    with pytest.raises(ConfigError, match=message):
        check_ranges(merge(TrainConfig(), {key: value}))
    for profile in ALL_PROFILES.values():  # every profile's values are among the choices
        check_ranges(profile.stage_config("pretrain"))


def test_sizes_that_must_agree_are_checked_together():
    from hmlpe.config import ConfigError, check_ranges

    with pytest.raises(ConfigError, match="crop.input_size=100, model.input_size=112"):
        check_ranges(merge(TrainConfig(), {"crop.input_size": 100}))
    check_ranges(
        merge(TrainConfig(), {"crop.input_size": 96, "model.input_size": 96, "labels.crop": 96})
    )
    with pytest.raises(ConfigError, match="crop.train_size=100 is smaller"):
        check_ranges(merge(TrainConfig(), {"crop.train_size": 100}))


def test_build_profile_puts_the_entry_points_settings_on_the_profile():
    from hmlpe.engine.profiles import build_profile

    prof = build_profile(
        "cpu",
        {"loss.lambda_d": 0.5},
        seed=3,
        device="cpu-fp32",
        pretrain_epochs=7,
        finetune_epochs={"flic": 2},
    )
    cpu = get_profile("cpu")
    assert (prof.base.seed, prof.base.device) == (3, "cpu-fp32")
    assert prof.base.loss.lambda_d == 0.5 and prof.pretrain_epochs == 7
    assert prof.finetune_epochs == {"buffy": cpu.finetune_epochs["buffy"], "flic": 2}
    assert build_profile("cpu", finetune_epochs=4).finetune_epochs == {"buffy": 4, "flic": 4}
    # nothing given: the profile as it is
    assert build_profile("cpu") == cpu
    with pytest.raises(ValueError, match=r"fine-tuning epochs for \['lsp'\]"):
        build_profile("cpu", finetune_epochs={"lsp": 3})


def test_network_choice_and_heatmap_input_are_checked():
    from hmlpe.config import check_ranges

    with pytest.raises(ConfigError, match="network=resnet: expected one of hmlpe, heatmap"):
        check_ranges(merge(TrainConfig(), {"network": "resnet"}))
    with pytest.raises(ConfigError, match="heatmap.input_size=128"):
        check_ranges(merge(TrainConfig(), {"network": "heatmap", "heatmap.input_size": 128}))
    prof = get_profile("heatmap")
    assert prof.base.network == "heatmap" and prof.finetune_epochs == {}
    assert prof.pretrain_epochs == get_profile("cpu").pretrain_epochs  # the same budget
    # the cpu profile's optimiser but the rate chosen on validation (HEATMAP_RECIPE_ON_VALIDATION)
    assert prof.base.optim == replace(get_profile("cpu").base.optim, lr=1e-2)
