"""The training-box rule (boxes.protocol_training_box): hand-computed cases, then the real
data: training crops frame people as test crops do (issue 7: mean extents within 10%)."""

from dataclasses import replace

import numpy as np
import pytest

from hmlpe.config import CropConfig, StageConfig, TrainConfig
from hmlpe.data.boxes import (
    buffy_test_box,
    calibrate_torso_window,
    enlarge_box,
    flic_test_box,
    protocol_training_box,
    torso_window,
    train_box_for,
    upper_body_size,
)
from hmlpe.data.cropstats import (
    centre_crop_normalised,
    extent_ratio,
    framing_summary,
    joint_extents,
)
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.errors import ConfigError

CROP = CropConfig()


def _record(dataset="buffy", **kw):
    joints = np.array(
        [
            [100, 60],
            [100, 100],
            [70, 105],
            [130, 105],
            [60, 150],
            [140, 150],
            [55, 190],
            [145, 190],
        ],
        float,
    )
    base = dict(
        dataset=dataset,
        example="x",
        image="nonexistent.jpg",
        image_size=(400, 400),
        joints=joints,
        visible=np.ones(8, bool),
        split="train",
    )
    base.update(kw)
    return PoseRecord(**base)


def test_torso_window_hand_computed():
    # torso stick from (100, 100) down to (100, 180): length 80; shoulders 60 apart: size 140
    stick = [[100, 180], [100, 100]]  # stored bottom-first: the upper end is found
    shoulders = [[70, 105], [130, 105]]
    assert upper_body_size(stick, shoulders) == pytest.approx(140)
    w = torso_window(stick, shoulders, width_per_size=0.5, top_per_size=0.25, aspect=0.9)
    # width 70 centred on x 100; top 100 - 35 = 65; height 0.9 * 70 = 63
    np.testing.assert_allclose(w, [65, 65, 135, 128])
    with pytest.raises(ValueError, match="no size"):
        torso_window([[1, 1], [1, 1]], [[1, 1], [1, 1]])


def test_calibration_recovers_the_factors_of_a_known_window():
    sticks, shoulders, dets = [], [], []
    rng = np.random.default_rng(0)
    for _ in range(5):
        top = rng.uniform(50, 100, 2)
        stick = np.array([top, top + [0, rng.uniform(40, 90)]])
        sh = np.array([top + [-30, 5], top + [30, 5]])
        sticks.append(stick), shoulders.append(sh)
        dets.append(torso_window(stick, sh, 0.8, 0.3, 0.9))
    cal = calibrate_torso_window(sticks, shoulders, dets)
    assert cal == pytest.approx({"width_per_size": 0.8, "top_per_size": 0.3, "aspect": 0.9})


def test_enlarge_box_about_centre():
    np.testing.assert_allclose(enlarge_box([10, 20, 30, 60], 1.5), [5, 10, 35, 70])


def test_flic_training_box_is_the_test_box_enlarged():
    rec = _record("flic", torso_box=np.array([180.0, 150, 220, 250]))
    test = flic_test_box(rec.torso_box, rec.image_size)
    box = protocol_training_box(rec, CROP)
    np.testing.assert_allclose(box, enlarge_box(test, 128 / 112))
    # its centre 112/128 is the test box: the crop the network sees when the offset is centred
    np.testing.assert_allclose(enlarge_box(box, 112 / 128), test)


def test_buffy_training_box_follows_the_modelled_window_and_clips():
    sticks = np.zeros((6, 2, 2))
    sticks[0] = [[100, 100], [100, 180]]
    rec = _record("buffy", sticks=sticks)
    window = torso_window(sticks[0], rec.joints[2:4])
    expected = enlarge_box(buffy_test_box(window, None), 128 / 112)
    box = protocol_training_box(rec, CROP)
    assert box[0] == pytest.approx(max(expected[0], 0)) and box[2] == pytest.approx(expected[2])
    assert box[1] == pytest.approx(max(expected[1], 0))
    assert box[3] == pytest.approx(min(expected[3], 399))


def test_lsp_needs_its_hip_centre_and_head_top():
    rec = _record("lsp")
    with pytest.raises(ValueError, match="lsp/x: no sticks"):
        protocol_training_box(rec, CROP)
    rec = _record(
        "lsp", extra={"head_top": np.array([100.0, 30]), "hip_centre": np.array([100.0, 180])}
    )
    assert np.isfinite(protocol_training_box(rec, CROP)).all()


def test_rule_names_and_unknown_rule():
    rec = _record("flic", torso_box=np.array([180.0, 150, 220, 250]))
    margin = train_box_for(rec, replace(CROP, train_box="margin"))
    assert not np.allclose(margin, train_box_for(rec, CROP))
    with pytest.raises(ConfigError, match="crop.train_box=tight: expected one of test_rule"):
        train_box_for(rec, replace(CROP, train_box="tight"))


def test_framing_helpers_hand_computed():
    j = np.zeros((2, 8, 2))
    j[0, :, 0] = np.linspace(0, 0.7, 8)
    j[0, :, 1] = 0.5
    j[1] = np.nan
    np.testing.assert_allclose(joint_extents(j)[0], [0.7, 0.0])
    assert np.isnan(joint_extents(j)[1]).all()
    s = framing_summary(j)
    assert s["n"] == 1 and s["extent_x"] == pytest.approx(0.7) and s["mean_y"] == pytest.approx(0.5)
    np.testing.assert_allclose(centre_crop_normalised([[8.0, 120.0]], 128, 112), [[0, 1]])
    assert extent_ratio(
        {"extent_x": 1.1, "extent_y": 0.9}, {"extent_x": 1.0, "extent_y": 1.0}
    ) == pytest.approx({"x": 1.1, "y": 0.9})


# ---- the real data ------------------------------------------------------------------------


def test_window_factors_are_the_calibration_of_the_buffy_detector(data_root):
    from hmlpe.data.datasets import load_dataset
    from hmlpe.data.datasets.buffy import associated_detections, load_detections

    recs = load_dataset("buffy", data_root, "test")
    det = associated_detections(recs, load_detections(data_root), "paper")
    matched = [r for r in recs if det.get(r.example) is not None]
    cal = calibrate_torso_window(
        [r.sticks[0] for r in matched],
        [r.joints[2:4] for r in matched],
        [det[r.example] for r in matched],
    )
    assert len(matched) == 267
    assert cal["width_per_size"] == pytest.approx(CROP.window_width_per_size, abs=0.005)
    assert cal["top_per_size"] == pytest.approx(CROP.window_top_per_size, abs=0.005)
    assert cal["aspect"] == pytest.approx(CROP.window_aspect, abs=0.005)


@pytest.mark.parametrize("dataset", ["buffy", "flic"])
def test_training_crops_frame_people_as_test_crops_do(data_source, dataset, tmp_path_factory):
    """Issue 7: mean joint extents of training crops (centre 112 of the 128 crop) and test
    crops agree within 10% per axis; with the old margin rule they did not (~1.5x)."""
    from hmlpe.data.pipeline import load_test_set, load_train_set

    cfg = TrainConfig()
    train = load_train_set(replace(cfg, stage=StageConfig(dataset, 1, 1.0)), data_source)
    test = load_test_set(dataset, cfg, data_source)
    tr = framing_summary(centre_crop_normalised(train.joints, CROP.train_size, CROP.input_size))
    te = framing_summary(test.joints[test.usable] / CROP.input_size)
    ratio = extent_ratio(tr, te)
    assert 0.9 <= ratio["x"] <= 1.1 and 0.9 <= ratio["y"] <= 1.1, (tr, te)
    old = replace(cfg, crop=replace(CROP, train_box="margin"), stage=StageConfig(dataset, 1, 1.0))
    old_tr = framing_summary(
        centre_crop_normalised(
            load_train_set(old, data_source).joints, CROP.train_size, CROP.input_size
        )
    )
    assert extent_ratio(old_tr, te)["x"] > 1.4  # the scale gap this rule removed
