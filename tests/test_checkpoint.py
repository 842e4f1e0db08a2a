"""Checkpoints (hmlpe.engine.checkpoint): round trip, every damaged file named, config checks."""

from dataclasses import asdict

import pytest
import torch

from hmlpe.config import ModelConfig, TrainConfig, merge
from hmlpe.engine.checkpoint import (
    FORMAT,
    CheckpointError,
    check_same_config,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from hmlpe.network.model import HMLPENet

SMALL = merge(TrainConfig(), {"model.conv_channels": [8, 8, 8], "model.fc_widths": [16, 16]})


def _state(cfg=SMALL, epoch=3):
    torch.manual_seed(0)
    return {"config": asdict(cfg), "model": HMLPENet(cfg.model).state_dict(), "epoch": epoch}


def test_round_trip_gives_the_same_weights_in_eval_mode(tmp_path):
    path = tmp_path / "last.pt"
    state = _state()
    save_checkpoint(path, state)
    assert not list(tmp_path.glob("*.tmp*"))  # the temporary file was renamed
    model, cfg, spec, raw = load_model(path, device="cpu-fp32")
    assert cfg == SMALL and raw["epoch"] == 3 and raw["format"] == FORMAT
    assert not model.training
    for k, v in state["model"].items():
        assert torch.equal(model.state_dict()[k], v)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "cannot be read"),
        (b"not a zip at all" * 10, "cannot be read"),
    ],
)
def test_damaged_files_are_named(tmp_path, content, message):
    path = tmp_path / "last.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"{path}.*{message}"):
        load_checkpoint(path)


def test_truncated_checkpoint_is_named(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, _state())
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(path)


def test_foreign_and_incomplete_checkpoints_are_named(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"weights": 1}, path)
    with pytest.raises(CheckpointError, match="not an hmlpe checkpoint"):
        load_checkpoint(path)
    torch.save({"format": FORMAT, "config": {}, "model": {}}, path)
    with pytest.raises(CheckpointError, match="lacks 'epoch'"):
        load_checkpoint(path)


def test_invalid_config_in_a_checkpoint_names_the_checkpoint(tmp_path):
    for bad in ({"optim": {"lamda": 1}}, {"optim": {"lr": "abc"}}):  # unknown key, wrong type
        state = _state()
        state["config"] = {
            **state["config"],
            **{k: {**state["config"][k], **v} for k, v in bad.items()},
        }
        path = tmp_path / "bad.pt"
        save_checkpoint(path, state)
        with pytest.raises(CheckpointError, match=rf"{path} has an incompatible config"):
            load_model(path, device="cpu-fp32")


def test_weights_that_do_not_fit_the_config_are_named(tmp_path):
    state = _state()
    state["config"] = asdict(merge(SMALL, {"model.fc_widths": [32, 16]}))
    path = tmp_path / "last.pt"
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match="does not fit the model of its config"):
        load_model(path, device="cpu-fp32")


def test_same_config_ignores_the_device_and_names_differences(tmp_path):
    saved = _state()
    check_same_config(saved, merge(SMALL, {"device": "cpu-fp32"}), tmp_path)
    with pytest.raises(CheckpointError, match=r"differs in: optim.lr, seed"):
        check_same_config(saved, merge(SMALL, {"optim.lr": 0.5, "seed": 7}), tmp_path)


def test_fields_added_since_count_at_their_defaults(tmp_path):
    saved = _state()
    del saved["config"]["model"]["init"]  # a checkpoint older than the field
    check_same_config(saved, SMALL, tmp_path)
    assert ModelConfig().init == SMALL.model.init
