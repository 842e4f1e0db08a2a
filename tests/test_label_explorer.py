"""The static label explorer (hmlpe.companion.label_explorer): its precomputed maps are eq. 2
of hmlpe.data.labels, its grid holds the paper's values, its fragment is self-contained."""

from __future__ import annotations

import base64
import html
import json
import re

import numpy as np
import pytest

from hmlpe.companion import label_explorer as le
from hmlpe.config import LabelConfig
from hmlpe.data.labels import LAYOUTS, labels_from_joints, part_indicator_map, window_edges
from hmlpe.paths import PROJECT_ROOT
from hmlpe.skeleton import PART_NAMES, parts_from_joints

JOINTS_8 = np.array(
    [[56, 20], [56, 35], [35, 40], [77, 40], [30, 65], [82, 65], [28, 90], [84, 90]], float
)
CROP = (np.arange(112 * 112 * 3) % 251).astype(np.uint8).reshape(112, 112, 3)


@pytest.fixture(scope="module")
def grid():
    return le.precompute(JOINTS_8)


def _payload(fragment: str) -> dict:
    m = re.search(
        r'<script type="application/json" class="hmlpe-le-data">(.*?)</script>', fragment, re.S
    )
    assert m, "no JSON data block"
    return json.loads(m.group(1))


def test_grid_holds_the_papers_beta_and_window(grid):
    paper = LabelConfig()
    assert paper.beta in grid.betas and paper.window in grid.windows
    assert grid.betas[0] == 0.0 and grid.betas[-1] == pytest.approx(0.95)
    assert grid.windows == tuple(range(10, 61, 5))
    assert grid.layouts == LAYOUTS
    assert grid.maps.shape == (
        len(LAYOUTS),
        len(grid.windows),
        len(grid.betas),
        len(PART_NAMES),
        8,
        8,
    )
    assert grid.maps.dtype == bool


@pytest.mark.parametrize(
    "layout,window,beta,part",
    [
        ("uniform", 30, 0.3, "l_upper_arm"),  # the paper's point
        ("uniform", 10, 0.0, "head"),
        ("uniform", 60, 0.95, "r_lower_arm"),
        ("itheano", 30, 0.3, "l_shoulder"),
        ("itheano", 45, 0.55, "r_upper_arm"),
    ],
)
def test_maps_are_part_indicator_map(grid, layout, window, beta, part):
    p = PART_NAMES.index(part)
    stick = parts_from_joints(JOINTS_8)[p]
    want = part_indicator_map(
        stick[0], stick[1], crop=112, window=window, grid=8, beta=beta, layout=layout
    )
    got = grid.map(part, beta, window, layout)
    np.testing.assert_array_equal(got, want)
    li, wi, bi, pi = grid.index(part, beta, window, layout)
    assert (grid.layouts[li], grid.windows[wi], grid.betas[bi], PART_NAMES[pi]) == (
        layout,
        window,
        beta,
        part,
    )
    assert grid.counts[li, wi, bi, pi] == want.sum()


def test_every_map_is_labels_from_joints(grid):
    for li, layout in enumerate(grid.layouts):
        for wi, window in enumerate(grid.windows):
            for bi, beta in enumerate(grid.betas):
                cfg = LabelConfig(window=window, beta=beta, layout=layout)
                np.testing.assert_array_equal(
                    grid.maps[li, wi, bi], labels_from_joints(JOINTS_8[None], cfg)[0]
                )


def test_the_grid_is_not_trivial(grid):
    counts = grid.counts
    assert counts.max() > 0
    # beta can only remove positives (eq. 2), and some grid step does remove some
    assert (np.diff(counts, axis=2) <= 0).all()
    assert (np.diff(counts, axis=2) < 0).any()
    assert len(np.unique(counts[0, :, 6, 3])) > 1  # window size matters for l_upper_arm


def test_nan_joint_marks_no_window():
    j = JOINTS_8.copy()
    j[6] = np.nan  # l_wrist: l_lower_arm unannotated
    g = le.precompute(j, betas=(0.3,), windows=(30,))
    assert not g.maps[..., PART_NAMES.index("l_lower_arm"), :, :].any()
    frag = le.render_html(g, CROP, beta=0.3, window=30)
    data = _payload(frag)
    assert data["sticks"][PART_NAMES.index("l_lower_arm")][1] is None
    assert data["lengths"][PART_NAMES.index("l_lower_arm")] is None


def test_fragment_names_the_script_and_loads_nothing(grid):
    frag = le.render_html(grid, CROP)
    assert le.SCRIPT == "hmlpe-label-explorer.js"
    assert f'data-script="{le.SCRIPT}"' in frag and f"script {le.SCRIPT}" in frag
    assert not re.search(r"https?://", frag)
    assert "<script src" not in frag.replace(" ", "") and "src=" not in frag
    assert len(frag.encode()) < 200_000
    # controls: part, beta, window, layout; disabled until the script runs
    for name in ("part", "beta", "window", "layout"):
        assert re.search(rf'name="{name}"[^>]*disabled', frag), name
    assert 'type="range" name="beta" min="0" max="0.95" step="0.05" value="0.3"' in frag
    assert 'type="range" name="window" min="10" max="60" step="5" value="30"' in frag


def test_fragment_is_deterministic(grid):
    assert le.render_html(grid, CROP) == le.render_html(le.precompute(JOINTS_8), CROP)


def test_payload_decodes_to_the_maps(grid):
    frag = le.render_html(grid, CROP, part="r_upper_arm", beta=0.42, window=33, layout="itheano")
    data = _payload(frag)
    assert data["initial"] == {
        "part": "r_upper_arm",
        "beta": 0.4,
        "window": 35,
        "layout": "itheano",
    }
    bits = np.unpackbits(np.frombuffer(base64.b64decode(data["bits"]), np.uint8))
    n = grid.maps.size
    assert not bits[n:].any()
    np.testing.assert_array_equal(bits[:n].reshape(grid.maps.shape).astype(bool), grid.maps)
    np.testing.assert_array_equal(np.array(data["counts"]).reshape(grid.counts.shape), grid.counts)
    assert data["betas"] == list(grid.betas) and data["windows"] == list(grid.windows)
    lo, hi = window_edges(112, 35, 8, "itheano")
    np.testing.assert_allclose(
        data["edges"]["itheano"][grid.windows.index(35)], [lo, hi], atol=1e-3
    )
    assert data["image"].startswith("data:image/png;base64,")
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(data["image"].split(",", 1)[1])))
    np.testing.assert_array_equal(np.asarray(img), CROP)
    # the numbers line shown without the script is the initial grid point's
    text = html.unescape(re.search(r'class="hmlpe-le-numbers"[^>]*>(.*?)</p>', frag).group(1))
    assert text == grid.numbers("r_upper_arm", 0.4, 35, "itheano")
    li, wi, bi, pi = grid.index("r_upper_arm", 0.4, 35, "itheano")
    assert f": {grid.counts[li, wi, bi, pi]} of 64 windows labelled 1." in text
    assert "beta 0.4, window 35, itheano layout" in text


def test_render_rejects_a_wrong_crop(grid):
    with pytest.raises(ValueError, match="112 x 112"):
        le.render_html(grid, CROP[:100])
    with pytest.raises(ValueError, match="part"):
        grid.index("torso", 0.3, 30, "uniform")


def test_the_script_is_served_by_the_book():
    script = PROJECT_ROOT / "book" / "_static" / le.SCRIPT
    assert script.is_file()
    js = script.read_text(encoding="utf-8")
    assert not re.search(r"https?://", js)
    assert "eval(" not in js and "new Function" not in js
    assert "hmlpe-le-data" in js and le.CSS_CLASS in js
    config = (PROJECT_ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(rf"html_js_files:.*{re.escape(le.SCRIPT)}", config)
