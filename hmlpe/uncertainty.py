"""Uncertainty of PCP (pure NumPy): the spread over training seeds and a bootstrap confidence
interval over test frames (issue 7: n = 276 frames gives a standard error of ~3 points).

Per-frame correctness travels as bit strings ("0110...", one character per test frame) so a
``metrics.json`` can carry it and a committed result can be re-analysed without the data.
"""

from __future__ import annotations

import numpy as np


def encode_bits(correct) -> str:
    """(N,) bool -> "0110..."."""
    return "".join("1" if c else "0" for c in np.asarray(correct, dtype=bool).reshape(-1))


def decode_bits(bits: str) -> np.ndarray:
    """ "0110..." -> (N,) bool; any other character raises naming it."""
    bad = set(bits) - {"0", "1"}
    if bad:
        raise ValueError(f"per-frame bits must be 0 or 1, got {sorted(bad)!r}")
    return np.frombuffer(bits.encode(), dtype=np.uint8) == ord("1")


def seed_spread(values) -> dict[str, np.ndarray]:
    """Mean, sample standard deviation (ddof 1; 0 for one seed), min and max over seeds of
    (S, C) values."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"values must be (seeds, columns) with at least one seed, got {v.shape}")
    std = v.std(axis=0, ddof=1) if v.shape[0] > 1 else np.zeros(v.shape[1])
    return {"mean": v.mean(axis=0), "std": std, "min": v.min(axis=0), "max": v.max(axis=0)}


def bootstrap_pcp(
    correct, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> dict[str, np.ndarray]:
    """PCP in percent and its percentile bootstrap interval over test frames.

    correct: (S, N, C) bool, seeds x frames x columns (or (N, C) for one seed). The statistic
    is the mean over seeds of each seed's PCP; each bootstrap replicate resamples the N frames
    with replacement, the same frames for every seed and column (paired), so the interval
    reflects which frames happen to be in the test set, not the seeds' spread.
    Returns {"pcp", "lo", "hi"}, each (C,).
    """
    c = np.asarray(correct, dtype=bool)
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3 or c.shape[1] == 0:
        raise ValueError(f"correct must be (seeds, frames, columns), got {np.shape(correct)}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    per_frame = c.mean(axis=0).astype(np.float64)  # (N, C): share of seeds correct
    n = per_frame.shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = per_frame[idx].mean(axis=1) * 100.0  # (n_boot, C)
    alpha = (1.0 - level) / 2.0
    return {
        "pcp": per_frame.mean(axis=0) * 100.0,
        "lo": np.quantile(reps, alpha, axis=0),
        "hi": np.quantile(reps, 1.0 - alpha, axis=0),
    }


def bootstrap_pcp_difference(
    correct_a, correct_b, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> dict[str, np.ndarray]:
    """The PCP of method a minus that of method b, in points, and its paired percentile
    bootstrap interval over test frames.

    correct_a, correct_b: (S_a, N, C) and (S_b, N, C) bool (or (N, C) for one seed), the same N
    test frames in the same order. Each method's statistic is ``bootstrap_pcp``'s (the mean over
    its seeds); each replicate resamples the N frames once for both methods, so frames that
    both get right or both get wrong do not widen the interval. Returns {"diff", "lo", "hi"},
    each (C,)."""
    a, b = (np.asarray(c, dtype=bool) for c in (correct_a, correct_b))
    a, b = (c[None] if c.ndim == 2 else c for c in (a, b))
    if a.ndim != 3 or b.ndim != 3 or a.shape[1:] != b.shape[1:] or a.shape[1] == 0:
        raise ValueError(
            "correct_a and correct_b must be (seeds, frames, columns) over the same frames, "
            f"got {np.shape(correct_a)} and {np.shape(correct_b)}"
        )
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    per_frame = a.mean(axis=0) - b.mean(axis=0)  # (N, C): difference of the seed shares
    n = per_frame.shape[0]
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    reps = per_frame[idx].mean(axis=1) * 100.0
    alpha = (1.0 - level) / 2.0
    return {
        "diff": per_frame.mean(axis=0) * 100.0,
        "lo": np.quantile(reps, alpha, axis=0),
        "hi": np.quantile(reps, 1.0 - alpha, axis=0),
    }
