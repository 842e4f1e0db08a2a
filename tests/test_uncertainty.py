"""hmlpe.uncertainty: hand-computed cases, then properties of the bootstrap."""

import numpy as np
import pytest

from hmlpe.errors import ResultsError
from hmlpe.uncertainty import bootstrap_pcp, decode_bits, encode_bits, seed_spread


def test_bits_round_trip_and_bad_input():
    c = np.array([True, False, False, True])
    assert encode_bits(c) == "1001"
    np.testing.assert_array_equal(decode_bits("1001"), c)
    with pytest.raises(ValueError, match="'2'"):
        decode_bits("1021")


def test_seed_spread_hand_computed():
    s = seed_spread([[50.0, 90.0], [54.0, 92.0], [52.0, 88.0]])
    np.testing.assert_allclose(s["mean"], [52.0, 90.0])
    np.testing.assert_allclose(s["std"], [2.0, 2.0])
    np.testing.assert_allclose(s["min"], [50.0, 88.0])
    np.testing.assert_allclose(seed_spread([[1.0, 2.0]])["std"], [0.0, 0.0])
    with pytest.raises(ValueError):
        seed_spread(np.zeros((0, 4)))


def test_bootstrap_constant_columns_have_no_width():
    c = np.zeros((2, 50, 2), bool)
    c[:, :, 1] = True
    b = bootstrap_pcp(c, n_boot=200)
    np.testing.assert_allclose(b["pcp"], [0.0, 100.0])
    np.testing.assert_allclose(b["lo"], b["pcp"]) and np.testing.assert_allclose(b["hi"], b["pcp"])


def test_bootstrap_mean_over_seeds_and_width_near_the_binomial():
    rng = np.random.default_rng(3)
    c = rng.random((3, 276, 1)) < 0.5
    b = bootstrap_pcp(c, n_boot=4000, seed=1)
    assert b["pcp"][0] == pytest.approx(c.mean() * 100)
    assert b["lo"][0] < b["pcp"][0] < b["hi"][0]
    # one seed: a 95% interval of a proportion near 0.5 over 276 frames is about +-5.9 points
    one = bootstrap_pcp(c[0], n_boot=4000, seed=1)
    assert 4.5 < (one["hi"][0] - one["lo"][0]) / 2 < 7.0
    with pytest.raises(ValueError, match="level"):
        bootstrap_pcp(c, level=1.5)


# ---- hmlpe.companion.seeds on synthetic result folders ----------------------------------------------


def _write_seed(root, seed, correct_buffy, matched, correct_flic, figure4=None):
    _write_evaluations(root / f"seed_{seed}", correct_buffy, matched, correct_flic, figure4)


def _write_evaluations(folder, correct_buffy, matched, correct_flic, figure4=None):
    """eval_buffy/ and eval_flic/ of a run folder as an evaluation of an earlier version
    wrote them (no dataset, checkpoint or provenance; no n); ``figure4``: FLIC's block."""
    import json

    from hmlpe.uncertainty import encode_bits

    cols = ("LL", "RL", "LU", "RU")

    def metrics(correct, matched, buffy):
        pcp = {c: float(correct[:, k].mean() * 100) for k, c in enumerate(cols)}
        m = {
            "per_frame": {
                "matched": encode_bits(matched),
                "correct": {c: encode_bits(correct[:, k]) for k, c in enumerate(cols)},
            }
        }
        if buffy:
            sub = {c: float(correct[matched, k].mean() * 100) for k, c in enumerate(cols)}
            m["table1"] = {"whole_set": {"pcp": pcp}, "subset": {"pcp": sub}}
        else:
            m["table2"] = {"pcp": pcp}
            if figure4 is not None:
                m["figure4"] = figure4
        return m

    for ds, c, mt in (
        ("buffy", correct_buffy, matched),
        ("flic", correct_flic, np.ones(len(correct_flic), bool)),
    ):
        d = folder / f"eval_{ds}"
        d.mkdir(parents=True)
        (d / "metrics.json").write_text(json.dumps(metrics(c, mt, ds == "buffy")))


def test_reproduction_table_from_seed_folders(tmp_path):
    from hmlpe.companion.seeds import pcp_over_seeds, reproduction_table, seed_folders

    matched = np.ones(10, bool)
    matched[:2] = False
    b0 = np.zeros((10, 4), bool)
    b0[:, 2:] = True  # upper arms all right, lower all wrong
    b1 = b0.copy()
    b1[5:, 0] = True  # seed 1: half of LL right
    f = np.ones((4, 4), bool)
    _write_seed(tmp_path, 0, b0, matched, f)
    _write_seed(tmp_path, 1, b1, matched, f)
    (tmp_path / "seed_x").mkdir()  # not a seed folder
    assert [s for s, _ in seed_folders(tmp_path)] == [0, 1]
    r = pcp_over_seeds(tmp_path, "buffy", "whole_set", n_boot=200)
    np.testing.assert_allclose(r["spread"]["mean"], [25, 0, 100, 100])
    np.testing.assert_allclose(r["values"][:, 0], [0, 50])
    sub = pcp_over_seeds(tmp_path, "buffy", "subset", n_boot=200)
    assert sub["n_frames"] == 8
    np.testing.assert_allclose(sub["spread"]["mean"][0], (0 + 5 / 8 * 100) / 2)
    t = reproduction_table(tmp_path)
    assert len(t) == 12 and set(t["test set"]) == {"Buffy, whole set", "Buffy, subset", "FLIC"}
    row = t[(t["test set"] == "Buffy, whole set") & (t.column == "LU")].iloc[0]
    assert row["verdict"] == "reproduced" and row["ours - paper"] == pytest.approx(100 - 90.22)
    row = t[(t["test set"] == "Buffy, whole set") & (t.column == "RL")].iloc[0]
    assert row["verdict"] == "short"


def test_missing_results_name_the_folder(tmp_path):
    from hmlpe.companion.seeds import pcp_over_seeds

    with pytest.raises(ResultsError, match="does not exist"):
        pcp_over_seeds(tmp_path / "nope", "buffy", "whole_set")
    (tmp_path / "seed_0").mkdir()
    with (
        pytest.raises(ResultsError, match="eval_flic/metrics.json"),
        pytest.warns(UserWarning, match="seed_0 has no eval_flic"),
    ):
        pcp_over_seeds(tmp_path, "flic")


def test_standing_table_shares():
    import pandas as pd

    from hmlpe.companion.seeds import standing_table

    summary = pd.DataFrame(
        [
            {"test set": "FLIC", "column": c, "ours (mean)": 50.0, "paper": 60.0}
            for c in ("LL", "RL", "LU", "RU")
        ]
    )
    refs = {
        ("mean_pose", "FLIC"): dict.fromkeys(("LL", "RL", "LU", "RU"), 20.0),
        ("oracle", "FLIC"): dict.fromkeys(("LL", "RL", "LU", "RU"), 100.0),
    }
    t = standing_table(summary, refs, "FLIC")
    assert t.loc["ours: share, baseline to oracle", "LL"] == pytest.approx(30 / 80)
    assert t.loc["paper: share, baseline to oracle", "RU"] == pytest.approx(0.5)


def test_seed_result_tables_render(tmp_path):
    from hmlpe.companion.seeds import seed_result_tables

    matched = np.ones(10, bool)
    b = np.zeros((10, 4), bool)
    b[:, 2:] = True
    _write_seed(tmp_path, 0, b, matched, np.ones((4, 4), bool))
    import shutil

    for ds in ("buffy", "flic"):  # the mirror-averaged evaluations, here the same files
        shutil.copytree(
            tmp_path / "seed_0" / f"eval_{ds}", tmp_path / "seed_0" / f"eval_{ds}_mirror"
        )
    refs = {
        (k, t): dict.fromkeys(("LL", "RL", "LU", "RU"), v)
        for k, v in (("mean_pose", 10.0), ("oracle", 100.0))
        for t in ("Buffy, whole set", "Buffy, subset", "FLIC")
    }
    tables = seed_result_tables(tmp_path, "Table 1", refs)
    assert len(tables) == 5  # two PCP tables, two standing tables, provenance
    html = tables[0].to_html()
    assert "Buffy, whole set" in html and "FLIC" not in html and "90.22" in html


def test_ablation_table_against_the_seeds(tmp_path):
    from hmlpe.companion.seeds import ablation_table

    matched = np.ones(10, bool)
    b = np.zeros((10, 4), bool)
    b[:, 2:] = True
    _write_seed(tmp_path / "res", 0, b, matched, np.ones((4, 4), bool))
    abl = tmp_path / "abl"
    flic = np.ones((4, 4), bool)
    flic[:2, 0] = False  # LL: 50%
    _write_evaluations(abl, b, matched, flic)
    t = ablation_table(tmp_path / "res", abl, "small pool")
    assert t.loc[("FLIC", "small pool - seeds' mean"), "LL"] == pytest.approx(-50.0)
    assert t.loc[("Buffy, whole set", "small pool - seeds' mean"), "LU"] == 0
    with pytest.raises(ResultsError, match="eval_buffy"):
        ablation_table(tmp_path / "res", tmp_path / "nope", "x")


def test_a_seed_missing_an_evaluation_is_named_not_averaged_away(tmp_path):
    from hmlpe.companion.seeds import MissingEvaluationWarning, pcp_over_seeds

    f = np.ones((4, 4), bool)
    _write_seed(tmp_path, 0, np.ones((6, 4), bool), np.ones(6, bool), f)
    _write_seed(tmp_path, 1, np.ones((6, 4), bool), np.ones(6, bool), f)
    import shutil

    shutil.rmtree(tmp_path / "seed_1" / "eval_flic")
    with pytest.warns(MissingEvaluationWarning, match="seed_1 has no eval_flic/metrics.json"):
        r = pcp_over_seeds(tmp_path, "flic", n_boot=50)
    assert r["seeds"] == [0]


def test_truncated_or_foreign_metrics_name_the_file_and_key(tmp_path):
    from hmlpe.companion.seeds import ResultsError, pcp_over_seeds

    f = np.ones((4, 4), bool)
    _write_seed(tmp_path, 0, np.ones((6, 4), bool), np.ones(6, bool), f)
    metrics = tmp_path / "seed_0" / "eval_flic" / "metrics.json"
    text = metrics.read_text()
    metrics.write_text(text[: len(text) // 2])
    with pytest.raises(ResultsError, match=r"eval_flic/metrics.json is not valid JSON"):
        pcp_over_seeds(tmp_path, "flic", n_boot=50)
    metrics.write_text('{"table1": {}}')
    with pytest.raises(ResultsError, match=r"eval_flic/metrics.json has no table2"):
        pcp_over_seeds(tmp_path, "flic", n_boot=50)
    metrics.write_text('{"table2": {"pcp": {"LL": 1.0}}}')
    with pytest.raises(ResultsError, match=r"metrics.json has no pcp/RL"):
        pcp_over_seeds(tmp_path, "flic", n_boot=50)
    buffy = tmp_path / "seed_0" / "eval_buffy" / "metrics.json"
    buffy.write_text('{"table1": {"subset": {}}}')
    with pytest.raises(ResultsError, match=r"eval_buffy/metrics.json has no table1/whole_set"):
        pcp_over_seeds(tmp_path, "buffy", "whole_set", n_boot=50)


def test_paired_difference_hand_computed_and_paired():
    from hmlpe.uncertainty import bootstrap_pcp_difference

    a = np.zeros((2, 10, 2), bool)
    a[:, :, 0] = True  # a gets column 0 right everywhere
    b = np.zeros((10, 2), bool)
    d = bootstrap_pcp_difference(a, b, n_boot=200)
    np.testing.assert_allclose(d["diff"], [100, 0])
    np.testing.assert_allclose([d["lo"][0], d["hi"][0]], [100, 100])  # constant: no width
    # the same frames right in both: paired, the difference has no width at all
    rng = np.random.default_rng(0)
    c = rng.random((200, 1)) < 0.5
    same = bootstrap_pcp_difference(c, c, n_boot=200)
    assert same["lo"][0] == same["hi"][0] == 0
    with pytest.raises(ValueError, match="same frames"):
        bootstrap_pcp_difference(a, b[:5])
