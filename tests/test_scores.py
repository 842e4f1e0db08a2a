"""hmlpe.companion.scores: per-frame arm scores (eq. 6), the best and worst examples and the check
against metrics.json's PCP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hmlpe.companion import scores
from hmlpe.errors import ResultsError
from hmlpe.metrics import pcp


def test_arm_scores_is_eq6_criterion():
    gt = np.array([[[[0.0, 0.0], [10.0, 0.0]]]])  # one arm of length 10
    exact = gt.copy()
    swapped = gt[..., ::-1, :]
    off = gt + np.array([0.0, 5.0])  # both ends 5 away: 0.5 L
    far = gt + np.array([0.0, 6.0])
    nan = np.full_like(gt, np.nan)
    s = scores.arm_scores(np.concatenate([exact, swapped, off, far, nan]), np.concatenate([gt] * 5))
    assert s[:, 0].tolist()[:4] == pytest.approx([0.0, 0.0, 0.5, 0.6])
    assert np.isinf(s[4, 0])
    # consistent with hmlpe.metrics.pcp at alpha = 0.5
    pred = np.concatenate([exact, swapped, off, far])
    assert (s[:4, 0] <= 0.5).tolist() == pcp(pred, np.concatenate([gt] * 4))[:, 0].tolist()


def test_best_and_worst_order_and_ties():
    frame = pd.DataFrame(
        {
            "example": list("abcde"),
            "matched": [True, True, True, True, False],
            "arms correct": [4, 4, 0, 2, 0],
            "mean arm score": [0.3, 0.1, 2.0, 0.6, np.inf],
        }
    )
    best, worst = scores.best_and_worst(frame, 2)
    assert best["example"].tolist() == ["b", "a"]
    assert worst["example"].tolist() == ["c", "d"]  # unmatched 'e' never shown


def test_checked_frame_scores_rejects_a_table_it_does_not_add_up_to(tmp_path, monkeypatch):
    frame = pd.DataFrame(
        {
            "example": ["a", "b"],
            "matched": [True, True],
            "LL": [True, False],
            "RL": [True, True],
            "LU": [False, False],
            "RU": [True, False],
        }
    )
    monkeypatch.setattr(scores, "frame_scores", lambda eval_dir, root: frame)
    ok = scores.checked_frame_scores(
        tmp_path, tmp_path, {"LL": 50.0, "RL": 100.0, "LU": 0.0, "RU": 50.0}
    )
    assert ok is frame
    with pytest.raises(ResultsError, match="do not add up"):
        scores.checked_frame_scores(
            tmp_path, tmp_path, {"LL": 50.0, "RL": 100.0, "LU": 0.0, "RU": 100.0}
        )
