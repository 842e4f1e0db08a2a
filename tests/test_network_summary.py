"""The network chapter's layer table and drawing (hmlpe.companion.network_summary)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hmlpe.companion.network_summary import draw_network, layer_table  # noqa: E402
from hmlpe.config import ModelConfig  # noqa: E402
from hmlpe.network.model import HMLPENet, count_flops, count_parameters  # noqa: E402


def test_layer_table_sums_to_the_model_counts_and_follows_the_forward_order():
    cfg = ModelConfig()
    net = HMLPENet(cfg).eval()
    layers = layer_table(net)
    assert layers["parameters"].sum() == count_parameters(net)
    assert layers["FLOPs"].sum() == count_flops(cfg)
    keys = list(layers.index)
    assert keys[0] == ("input", "input") and ("shared", "flatten") in keys
    assert layers.loc[("shared", "flatten"), "output shape"] == "12544"  # 64 x 14 x 14
    assert layers.loc[("regression", "joints"), "output shape"] == "8 x 2"
    assert layers.loc[("detection", "parts"), "output shape"] == "7 x 8 x 8"


def test_layer_table_follows_the_config():
    cfg = ModelConfig(conv_channels=(16, 16, 32), fc_widths=(64, 32))
    layers = layer_table(HMLPENet(cfg).eval())
    assert layers["FLOPs"].sum() == count_flops(cfg)
    assert layers.loc[("shared", "flatten"), "output shape"] == str(32 * 14 * 14)


def test_drawing_labels_every_trunk_layer_and_both_heads():
    net = HMLPENet(ModelConfig()).eval()
    fig, ax = plt.subplots()
    draw_network(layer_table(net), ax, 112)
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("conv1") for t in texts) and any("64x14x14" in t for t in texts)
    assert "regression sub-network" in texts and "detection sub-network" in texts
    assert any(t.startswith("joints 8 x 2") for t in texts)
    plt.close(fig)
