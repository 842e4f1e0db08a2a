"""engine/features: Figure 6's statistics by hand, and the export's round trip through
features.npz on a small untrained network (no data needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hmlpe.config import ModelConfig
from hmlpe.engine import features
from hmlpe.network.backtrack import MaxActivations
from hmlpe.network.model import HMLPENet


def _acts(values, locations, boxes, clipped):
    model = HMLPENet(ModelConfig())
    return MaxActivations(
        "conv2",
        np.asarray(values, np.float32),
        np.asarray(locations),
        np.asarray(boxes),
        np.asarray(clipped),
        model.trunk_geometry("conv2"),
    )


def test_feature_stats_by_hand():
    # 2 images x 3 maps; map 2 is never active; map 0 sits at (1, 1) in both images, map 1 moves
    values = [[1.0, 0.5, 0.0], [2.0, 0.0, -1.0]]
    locations = [[[1, 1], [0, 0], [2, 2]], [[1, 1], [2, 0], [2, 2]]]
    box = [0, 0, 9, 9]
    boxes = [[box, box, box], [box, [-2, 0, 7, 9], box]]  # one live maximum reaches past
    clipped = [[box, box, box], [box, [0, 0, 7, 9], box]]
    stats = features.feature_stats(_acts(values, locations, boxes, clipped))
    assert stats["maps"] == 3 and stats["training images"] == 2
    assert stats["maps never active"] == 1
    # live maps 0, 1 over 2 images: 1 of the 4 maxima reaches past the border
    assert stats["maxima reaching past the border %"] == pytest.approx(25.0)
    # map 0: both images at one position (100%); map 1: two positions (50%) -> mean 75%
    assert stats["most frequent position, share of images %"] == pytest.approx(75.0)


def test_all_dead_layer_has_no_position_statistics():
    z = [[[0, 0]]]
    stats = features.feature_stats(_acts([[0.0]], z, [[[0, 0, 1, 1]]], [[[0, 0, 1, 1]]]))
    assert stats["maps never active"] == 1
    assert np.isnan(stats["maxima reaching past the border %"])


@pytest.fixture(scope="module")
def export():
    torch.manual_seed(0)
    model = HMLPENet(ModelConfig())
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 112, 112, 3), dtype=np.uint8)
    return features.compute_features(model, images, images[0], meta={"network": "untrained"})


def test_compute_features_shapes_and_meta(export):
    model = HMLPENet(ModelConfig())
    assert export.filters.shape == tuple(model.trunk.conv1.weight.permute(0, 2, 3, 1).shape)
    assert [s["layer"] for s in export.stats] == list(features.LAYERS)
    assert export.meta == {"network": "untrained", "n_images": 4}
    n_maps = export.figure7["values"].shape[0]
    assert export.figure7["boxes"].shape == (n_maps, 4)
    assert len(export.active) == min(
        features.N_ACTIVE_MAPS, int((export.figure7["values"] > 0).sum())
    )
    for a in export.active:  # the chosen maps are live at their recorded maximum
        assert export.figure7["values"][a["map"]] > 0
        assert a["mask"].dtype == bool and a["mask"].shape == (112, 112) and a["mask"].any()


def test_save_and_load_round_trip(export, tmp_path):
    path = tmp_path / "features.npz"
    features.save_features(path, export)
    back = features.load_features(path)
    np.testing.assert_array_equal(back.filters, export.filters.astype(np.float32))
    for layer, a in export.averages.items():  # stored as float16
        np.testing.assert_allclose(back.averages[layer], a, rtol=1e-3, atol=0.1)
    for key, a in export.figure7.items():
        np.testing.assert_array_equal(back.figure7[key], a)
    assert [a["map"] for a in back.active] == [a["map"] for a in export.active]
    for got, want in zip(back.active, export.active, strict=True):
        np.testing.assert_array_equal(got["mask"], want["mask"])
    assert back.stats == export.stats and back.meta == export.meta
    assert back.figure7_patch_size == export.figure7_patch_size
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, nothing left behind


def test_missing_export_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no exported features at .*nope\.npz.*export"):
        features.load_features(tmp_path / "nope.npz")
