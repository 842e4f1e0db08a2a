"""data/pack: a pack read back equals the data root's crops (within JPEG's error), records and
joints exactly; damaged, foreign and mismatched packs are refused by name."""

import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from hmlpe.config import CropConfig, TrainConfig, merge
from hmlpe.data import pack as hpack
from hmlpe.data.pipeline import (
    load_test_set,
    load_train_set,
    load_validation_set,
    training_set_records,
)
from hmlpe.data.source import DataSource


@pytest.fixture
def pack_file(data_pack):
    return data_pack


def _cfg(**over):
    return merge(TrainConfig(), over)


def _pack_only(path):
    """A source with the pack and no data root: everything must come from the pack."""
    return DataSource(None, path)


def test_manifest_counts_and_size(pack_file):
    with zipfile.ZipFile(pack_file) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["counts"] == {"train": 5059, "test_buffy": 276, "test_flic": 1016}
    assert all(v < 3.0 for v in manifest["jpeg_mean_abs_error"].values())
    assert pack_file.stat().st_size < 48 * 2**20


@pytest.mark.parametrize(
    "over",
    [
        {"stage.dataset": "pool"},
        {"stage.dataset": "buffy", "data.holdout_validation": True},
        {"stage.dataset": "flic", "data.max_train_examples": 30},
    ],
)
def test_train_set_from_the_pack_equals_the_data_root(data_source, pack_file, over):
    cfg = _cfg(**over)
    raw = load_train_set(cfg, data_source)
    packed = load_train_set(cfg, _pack_only(pack_file))
    assert packed.ids == raw.ids
    records, counts = training_set_records(cfg, _pack_only(pack_file))
    assert [r.uid for r in records] == raw.ids
    assert sum(c["kept"] for c in counts.values()) == len(raw.ids)
    np.testing.assert_array_equal(packed.joints, raw.joints)
    assert np.abs(packed.images.astype(int) - raw.images).mean() < 3.0
    assert packed.fingerprint.startswith("pack-") and packed.fingerprint != raw.fingerprint


@pytest.mark.parametrize("name", ["buffy", "flic"])
def test_test_and_validation_sets_from_the_pack(data_source, pack_file, name):
    cfg, packed = _cfg(), _pack_only(pack_file)
    raw_test, raw_val = (
        load_test_set(name, cfg, data_source),
        load_validation_set(name, cfg, data_source),
    )
    test, val = load_test_set(name, cfg, packed), load_validation_set(name, cfg, packed)
    for a, b in ((raw_test, test), (raw_val, val)):
        assert [r.uid for r in a.records] == [r.uid for r in b.records]
        np.testing.assert_array_equal(a.usable, b.usable)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.joints, b.joints)
        assert np.abs(a.images.astype(int) - b.images).mean() < 3.0
    for r, q in zip(raw_test.records, test.records):  # what evaluation reads of a record
        np.testing.assert_array_equal(r.joints, q.joints)
        assert (r.sticks is None) == (q.sticks is None) and r.swapped_lr == q.swapped_lr
        if r.sticks is not None:
            np.testing.assert_array_equal(r.sticks, q.sticks)
        if r.torso_box is not None:
            np.testing.assert_array_equal(r.torso_box, q.torso_box)
        assert r.extra.keys() == q.extra.keys()


def test_other_crop_settings_are_refused(pack_file):
    cfg = replace(_cfg(), crop=replace(CropConfig(), train_size=144))
    with pytest.raises(hpack.DataPackError, match="crop.train_size=128.*144"):
        load_train_set(cfg, _pack_only(pack_file))


def test_damaged_member_is_named(pack_file, tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(pack_file) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "test_buffy/arrays.npz":
                data = data[:-10] + bytes(10)
            dst.writestr(item, data)
    with pytest.raises(hpack.DataPackError, match="test_buffy/arrays.npz is damaged"):
        hpack.DataPack(bad)


def test_not_a_pack(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(hpack.DataPackError, match="junk.zip is not a readable data pack"):
        hpack.DataPack(junk)
    with pytest.raises(hpack.DataPackError, match="does not exist"):
        hpack.DataPack(tmp_path / "none.zip")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "something-else"}))
    with pytest.raises(hpack.DataPackError, match="not an hmlpe data pack"):
        hpack.DataPack(foreign)
