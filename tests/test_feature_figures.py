"""The features chapter's network choice and patch sheet (hmlpe.companion.feature_figures)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hmlpe.companion.feature_figures import page_network, show_patch_grid, stretch  # noqa: E402
from hmlpe.paths import PROJECT_ROOT  # noqa: E402


def test_a_run_folder_without_weights_or_figures_gets_an_untrained_network_said_so(tmp_path):
    page = page_network(tmp_path, None, "smoke")
    assert not page.trained and page.features is None
    assert page.network.startswith("NOT TRAINED") and "pretrain/last.pt" in page.network


def test_exported_results_give_their_figures_and_the_architecture():
    run = PROJECT_ROOT / "results" / "cpu" / "seed_0"
    if not (run / "pretrain" / "features.npz").is_file():
        pytest.skip("no exported features in results/cpu/seed_0")
    page = page_network(run, None, "cpu")
    assert page.trained and page.features is not None and "exported" in page.network
    assert page.cfg.model.conv_channels[0] == page.features.filters.shape[0]


def test_stretch_and_the_patch_sheet():
    np.testing.assert_allclose(stretch(np.array([2.0, 4.0])), [0, 1])
    np.testing.assert_allclose(stretch(np.ones(3)), [0.5] * 3)
    patches = [np.full((6, 6, 3), k / 20) for k in range(20)]
    fig = show_patch_grid(patches, "t", cols=8)
    ax = fig.axes[0]
    assert len(ax.images) == 1 and [t.get_text() for t in ax.texts][-1] == "20"
    assert ax.images[0].get_array().shape[1] > 8 * 24  # 8 columns of 24 px patches
    plt.close(fig)
