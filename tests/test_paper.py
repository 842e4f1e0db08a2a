"""data/paper_results.json against the paper's text, so the transcription cannot drift.

The text is read from data/paper_excerpts.txt: the paper's lines these tests need, verbatim,
with their line numbers and the source file's SHA-256 (the full text is not in the repository).
"""

from __future__ import annotations

import math
import re

import pytest

from hmlpe.companion import paper
from hmlpe.paths import PROJECT_ROOT

PAPER_TXT = PROJECT_ROOT / "data" / "paper_excerpts.txt"
FACTS_PAGE = PROJECT_ROOT / "book" / "11_protocol_facts.py"
needs_paper = pytest.mark.skipif(not PAPER_TXT.is_file(), reason=f"{PAPER_TXT} not present")


def _paper_lines() -> list[str]:
    return PAPER_TXT.read_text(encoding="utf-8").splitlines()


def _table_block(start: str, stop: str) -> list[list[str]]:
    """Tab-separated rows from the line starting with ``start`` up to the one with ``stop``."""
    lines = _paper_lines()
    i = next(k for k, l in enumerate(lines) if l.startswith(start))
    rows = []
    for line in lines[i + 1 :]:
        if line.startswith(stop):
            break
        if "\t" in line:
            rows.append([c.strip() for c in line.split("\t")])
    return rows


def _num(cell: str) -> float | None:
    return None if cell in ("", "-") else float(cell)


@needs_paper
def test_table1_matches_paper_text():
    rows = _table_block("Table 1:", "is cropped")
    parsed = []
    test_set = None
    for cells in rows:
        label = cells[0]
        if label.startswith("whole test set"):
            test_set = "whole"
            continue
        if label.startswith("test subset"):
            test_set = "subset"
            continue
        if label.startswith("PCP"):
            continue
        method = re.sub(r"\s*\[\d+\]\s*", " ", label)
        method = re.sub(r"\$M = (\d+)\$", r"M=\1", method).strip()
        values = [_num(c) for c in cells[1:5]] + [None] * (4 - len(cells[1:5]))
        parsed.append((test_set, method, values))
    df = paper.table1()
    assert len(parsed) == len(df) == 8
    for (test_set, method, values), (_, r) in zip(parsed, df.iterrows()):
        assert (r.test_set, r.method) == (test_set, method)
        if r.lr_combined:
            # one number spanning LL+RL, then one spanning LU+RU: tabs put them in cols 1 and 3
            assert values[0] == r.lower_arms_combined and values[2] == r.upper_arms_combined
            assert values[1] is None and values[3] is None
            assert all(math.isnan(r[c]) for c in paper.PART_COLUMNS)
        else:
            assert values == [r.LL, r.RL, r.LU, r.RU]


@needs_paper
def test_table1_image_counts_match_text():
    text = PAPER_TXT.read_text(encoding="utf-8")
    sets = paper.results()["table1"]["test_sets"]
    for key in ("whole", "subset"):
        assert sets[key]["label"] in text
        assert f"({sets[key]['n_images']} images)" in text


def test_table1_text_claims_follow_from_the_table():
    means = paper.table1_arm_means().set_index(["test_set", "method"])
    for claim in paper.results()["table1"]["text_claims"]:
        a, b = claim["compare"]
        col = f"{claim['parts']}_arms"
        diff = means.loc[(claim["test_set"], a), col] - means.loc[(claim["test_set"], b), col]
        assert diff == pytest.approx(claim["difference"], abs=0.05), claim["claim"]


@needs_paper
def test_table2_matches_paper_text():
    rows = _table_block("Table 2:", "4.4.")
    header, hmlpe = rows[0], rows[1]
    assert header[1:] == ["LL arm", "RL arm", "LU arm", "RU arm"]
    t2 = paper.table2().iloc[0]
    assert hmlpe[0] == t2.method == "HMLPE"
    assert [float(c) for c in hmlpe[1:]] == [t2.LL, t2.RL, t2.LU, t2.RU]


@needs_paper
def test_table3_matches_paper_text():
    rows = _table_block("Table 3:", "5. Visualization")
    header = rows[0]
    assert header[1:] == ["0", "0.5", "1", "2", "4", "10^{10}", "∞"]
    t3 = paper.table3()
    assert len(rows) - 1 == len(t3) == 4
    for cells in rows[1:]:
        got = t3.loc[cells[0]].tolist()
        want = [_num(c) for c in cells[1:]]
        assert len(got) == len(want) == 7
        for g, w in zip(got, want):
            assert (w is None and math.isnan(g)) or g == w, (cells[0], g, w)
    assert t3.attrs["ratios"] == [0.0, 0.5, 1.0, 2.0, 4.0, 1e10, math.inf]


@needs_paper
def test_figure4_statements_are_quoted_from_text():
    text = " ".join(PAPER_TXT.read_text(encoding="utf-8").split())
    text = text.replace("$r = 20$", "r = 20").replace("$r = 6$", "r = 6")
    for s in paper.figure4_statements()["text"]:
        assert s in text, s


@needs_paper
def test_training_pool_size():
    assert (
        f"we have collected {paper.results()['training_pool']['n_images']} images"
        in PAPER_TXT.read_text(encoding="utf-8")
    )


def test_published_elsewhere_numbers_are_on_the_protocol_facts_page():
    notes = " ".join(FACTS_PAGE.read_text(encoding="utf-8").replace("#", " ").split())
    df = paper.published_elsewhere()
    for _, r in df.iterrows():
        for a, b in (("elbow", "wrist"), ("upper_arm", "lower_arm")):
            if not math.isnan(r.get(a, math.nan)):
                assert f"{r[a]:.1f} / {r[b]:.1f}" in notes, (r.method, a, b)
        if not math.isnan(r.get("all_parts", math.nan)):
            assert f"PCP {r.all_parts}" in notes
