"""data/pipeline: the engine's inputs on the real data: training records and their validation
split, the validation set's boxes and joints agree with each other, the test sets' counts,
and unknown names are refused by name. (The pack's equality with the data root is in
test_pack.py.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hmlpe.config import StageConfig, TrainConfig, merge
from hmlpe.data.crops import image_to_crop
from hmlpe.data.pipeline import (
    load_test_set,
    load_validation_set,
    training_set_records,
)
from hmlpe.errors import UnknownNameError


def _cfg(**over):
    return merge(TrainConfig(), over)


def _stage(cfg, dataset):
    return replace(cfg, stage=StageConfig(dataset, 1, 1.0))


def test_validation_split_partitions_the_training_set(data_source):
    cfg = _cfg()
    every, _ = training_set_records(_stage(cfg, "buffy"), data_source)
    train, _ = training_set_records(
        _stage(replace(cfg, data=replace(cfg.data, holdout_validation=True)), "buffy"), data_source
    )
    val = load_validation_set("buffy", cfg, data_source)
    assert len(every) == 472  # Buffy episodes 3 and 4
    train_ids, val_ids = {r.uid for r in train}, {r.uid for r in val.records}
    assert train_ids.isdisjoint(val_ids) and 0 < len(val_ids) < len(train_ids)
    assert train_ids | val_ids == {r.uid for r in every}


@pytest.mark.parametrize("name", ["buffy", "flic"])
def test_validation_boxes_and_joints_agree(data_source, name):
    """Each validation example's joints in crop pixels are its image joints seen through its
    box: the centre crop's box is derived, not stored, so this checks the arithmetic."""
    cfg = _cfg()
    val = load_validation_set(name, cfg, data_source)
    size = cfg.crop.input_size
    assert val.images.shape[1:] == (size, size, 3) and val.part == "validation"
    assert val.matched.all() and val.usable.all()
    for i in range(0, len(val.records), max(1, len(val.records) // 25)):
        want = image_to_crop(val.records[i].joints, val.boxes[i], size)
        np.testing.assert_allclose(val.joints[i], want, atol=1e-6)


def test_buffy_test_set_counts_and_unmatched_frames(data_source):
    test = load_test_set("buffy", _cfg(), data_source)
    assert len(test.records) == 276 and int(test.matched.sum()) == 267  # Table 1's subset
    assert np.isnan(test.boxes[~test.matched]).all()
    assert np.isnan(test.joints[~test.matched]).all()
    assert not test.usable[~test.matched].any()
    # matched frames' joints lie near their crops (the box frames the person)
    inside = (test.joints[test.usable] > -0.5 * 112) & (test.joints[test.usable] < 1.5 * 112)
    assert inside.all()


def test_unknown_sets_are_refused_by_name(data_source):
    cfg = _cfg()
    with pytest.raises(UnknownNameError, match="unknown training set 'ethz'"):
        training_set_records(_stage(cfg, "ethz"), data_source)
    with pytest.raises(UnknownNameError, match="unknown test set 'lsp'"):
        load_test_set("lsp", cfg, data_source)
    with pytest.raises(UnknownNameError, match="unknown validation set 'pool'"):
        load_validation_set("pool", cfg, data_source)


def test_a_pack_only_source_names_what_needs_the_data_root(data_source):
    """Without a pack the loaders read the root; a source without either says which set
    needed the datasets' files."""
    from hmlpe.data.source import DataSource
    from hmlpe.errors import DataRootError

    with pytest.raises(DataRootError, match="the flic test set reads the datasets' files"):
        load_test_set("flic", _cfg(), DataSource(None))
