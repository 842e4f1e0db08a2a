"""Evaluation measures (pure NumPy, functional): PCP (eq. 6, Tables 1-2), the FLIC joint accuracy
curve (eq. 7, Figure 4) and the Table 3 errors (eqs. 1 and 3).

NaN convention: a prediction or ground truth containing NaN is scored *incorrect* (never
silently dropped), so every frame stays in the denominator. Wrong-shaped inputs raise
``ValueError`` naming the argument, the expected and the actual shape.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DETECTION_EPS = 1e-7  # probabilities are clipped to [eps, 1 - eps] in mean_detection_error


def _shape_error(name: str, expected: str, actual: tuple) -> ValueError:
    return ValueError(f"{name} must have shape {expected}, got {tuple(actual)}")


def _as_array(x, name: str, ndim: int, tail: tuple[int | None, ...], expected: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != ndim or any(
        t is not None and s != t for s, t in zip(a.shape[ndim - len(tail) :], tail)
    ):
        raise _shape_error(name, expected, a.shape)
    return a


# ---------------------------------------------------------------------------------------- PCP
def pcp(pred: np.ndarray, gt: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Eq. 6 (PCP after Hara and Chellappa): part ``p`` of example ``n`` is correct when

        ||e1 - g1|| <= alpha L and ||e2 - g2|| <= alpha L,  or
        ||e2 - g1|| <= alpha L and ||e1 - g2|| <= alpha L,

    with ``(e1, e2)`` the predicted and ``(g1, g2)`` the ground-truth end points and
    ``L = ||g1 - g2||``. Inclusive (``<=``), symmetric in the order of either pair's ends.

    pred, gt: (N, P, 2, 2) -> bool (N, P). NaN anywhere in a part's pred or gt -> incorrect.
    """
    pred, gt = _sticks(pred, gt)
    error, length = _end_error(pred, gt)
    valid = ~(np.isnan(pred).any(axis=(-2, -1)) | np.isnan(gt).any(axis=(-2, -1)))
    return (error <= alpha * length) & valid


def pcp_score(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Eq. 6's criterion as a number per part: the larger of the two end-point errors over the
    part length ``L = ||g1 - g2||``, in the better of the two end orders (0 = exact, lower is
    better). A part is correct by :func:`pcp` at ``alpha`` when its score is <= alpha (``pcp``
    compares ``error <= alpha L``, which can differ from ``score <= alpha`` by rounding on the
    boundary: use ``pcp`` for decisions, this score for ranking).

    pred, gt: (N, P, 2, 2) -> float (N, P). NaN in a part's pred or gt -> NaN; an infinite
    prediction -> inf; L = 0 -> inf (NaN for an exact prediction).
    """
    pred, gt = _sticks(pred, gt)
    error, length = _end_error(pred, gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        return error / length


def _sticks(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    """pred and gt as float (N, P, 2, 2) arrays of equal shape (ValueError otherwise)."""
    pred = _as_array(pred, "pred", 4, (None, 2, 2), "(N, P, 2, 2)")
    gt = _as_array(gt, "gt", 4, (None, 2, 2), "(N, P, 2, 2)")
    if pred.shape != gt.shape:
        raise _shape_error("gt", f"equal to pred's {pred.shape}", gt.shape)
    return pred, gt


def _end_error(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(error, L) per part of eq. 6: ``error`` is the larger end-point distance in the better
    end order, ``min(max(||e1 - g1||, ||e2 - g2||), max(||e2 - g1||, ||e1 - g2||))``, NaN when
    a point is NaN; ``L = ||g1 - g2||``."""

    def dist(a, b):
        return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])

    e1, e2 = pred[..., 0, :], pred[..., 1, :]
    g1, g2 = gt[..., 0, :], gt[..., 1, :]
    same = np.maximum(dist(e1, g1), dist(e2, g2))
    swapped = np.maximum(dist(e2, g1), dist(e1, g2))
    # fmin: an order that is NaN (e.g. inf - inf) does not hide the other one
    return np.fmin(same, swapped), dist(g1, g2)


class PcpTable(NamedTuple):
    """Per-part PCP percentages as in Table 1."""

    whole: np.ndarray  # (P,) over all N frames; unmatched frames count as wrong
    subset: np.ndarray  # (P,) over the matched frames only (NaN if there are none)
    n_whole: int
    n_subset: int


def pcp_table(correct: np.ndarray, matched: np.ndarray) -> PcpTable:
    """Table 1's two rows from per-frame PCP decisions.

    correct: bool (N, P) from ``pcp`` (its value on unmatched frames is ignored); matched: bool
    (N,), True where the frame has an associated detection window.
    whole = 100 * #(correct & matched) / N ("whole test set (276 images)": a frame without a
    matched window has no prediction, so all its parts count wrong); subset = 100 * mean of
    correct over matched frames ("subset with correct upper-body detections (267 images)").
    """
    correct = np.asarray(correct)
    matched = np.asarray(matched)
    if correct.ndim != 2:
        raise _shape_error("correct", "(N, P)", correct.shape)
    if matched.shape != (correct.shape[0],):
        raise _shape_error("matched", f"({correct.shape[0]},)", matched.shape)
    correct = correct.astype(bool)
    matched = matched.astype(bool)
    n, p = correct.shape
    whole = 100.0 * (correct & matched[:, None]).sum(axis=0) / n if n else np.full(p, np.nan)
    m = int(matched.sum())
    subset = 100.0 * correct[matched].sum(axis=0) / m if m else np.full(p, np.nan)
    return PcpTable(whole=whole, subset=subset, n_whole=n, n_subset=m)


# ------------------------------------------------------------------------------- FLIC, eq. 7
def torso_size(
    l_shoulder: np.ndarray,
    r_shoulder: np.ndarray,
    l_hip: np.ndarray,
    r_hip: np.ndarray,
    definition: str = "paper",
) -> np.ndarray:
    """Normaliser of eq. 7, per example: (..., 2) points -> (...).

    * ``"paper"``: eq. 7's ``||J_lhip - J_rsho||``, "the distance between a hip and the opposite
      shoulder": left hip to right shoulder.
    * ``"modec"``: MODEC's evaluation code, left shoulder to right hip.

    The two are the two diagonals of the torso, and they swap if left and right are swapped, so
    pass the points with the left/right labels of the convention you mean (FLIC's own labels to
    match MODEC's code; ``hmlpe.skeleton`` relabels arms observer-centric).
    """
    pts = {}
    for name, v in (
        ("l_shoulder", l_shoulder),
        ("r_shoulder", r_shoulder),
        ("l_hip", l_hip),
        ("r_hip", r_hip),
    ):
        a = np.asarray(v, dtype=float)
        if a.shape[-1:] != (2,):
            raise _shape_error(name, "(..., 2)", a.shape)
        pts[name] = a
    if definition == "paper":
        a, b = pts["l_hip"], pts["r_shoulder"]
    elif definition == "modec":
        a, b = pts["l_shoulder"], pts["r_hip"]
    else:
        raise ValueError(f"definition must be 'paper' or 'modec', got {definition!r}")
    return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


def normalized_joint_errors(pred: np.ndarray, gt: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """``100 ||J - J_hat|| / torso`` of eq. 7: pred, gt (N, J, 2), torso (N,) -> (N, J).

    NaN where pred or gt is NaN. torso must be finite and positive (ValueError otherwise).
    """
    pred = _as_array(pred, "pred", 3, (None, 2), "(N, J, 2)")
    gt = _as_array(gt, "gt", 3, (None, 2), "(N, J, 2)")
    if pred.shape != gt.shape:
        raise _shape_error("gt", f"equal to pred's {pred.shape}", gt.shape)
    torso = np.asarray(torso, dtype=float)
    if torso.shape != (pred.shape[0],):
        raise _shape_error("torso", f"({pred.shape[0]},)", torso.shape)
    if not (np.isfinite(torso).all() and (torso > 0).all()):
        raise ValueError("torso sizes must be finite and positive")
    err = np.hypot(pred[..., 0] - gt[..., 0], pred[..., 1] - gt[..., 1])
    return 100.0 * err / torso[:, None]


def joint_accuracy_curve(pred: np.ndarray, gt: np.ndarray, torso: np.ndarray, radii) -> np.ndarray:
    """Eq. 7: ``acc_J(r) = 100 / N * #{t : 100 ||J^t - J_hat^t|| / torso^t <= r}``.

    pred, gt (N, J, 2) in any common unit; torso (N,) in the same unit (``torso_size``);
    radii (R,) in percent of the torso size. Returns (R, J) percentages, non-decreasing in r.
    Inclusive at the boundary. A NaN joint counts as a miss (it stays in N).
    """
    radii = np.asarray(radii, dtype=float)
    if radii.ndim != 1:
        raise _shape_error("radii", "(R,)", radii.shape)
    e = normalized_joint_errors(pred, gt, torso)  # (N, J)
    n = e.shape[0]
    if n == 0:
        return np.full((radii.size, e.shape[1]), np.nan)
    hits = e[None, :, :] <= radii[:, None, None]  # NaN -> False
    return 100.0 * hits.sum(axis=1) / n


# ------------------------------------------------------------------------------ Table 3
def mean_regression_error(pred: np.ndarray, gt: np.ndarray, over_joints: str = "mean") -> float:
    """Table 3's regression error from eq. 1, ``E_r = ||J_i - J_hat_i||^2`` in normalised
    (box-relative, [0, 1]) coordinates.

    pred, gt: (N, J, 2) or (N, 2J). ``over_joints="mean"`` (default): mean over examples and
    joints; ``"sum"``: sum over joints, mean over examples (= the per-example regression term of
    eq. 4, i.e. ``losses.regression_loss(...).mean()``). The paper does not say which one Table 3
    reports.
    """
    pred = np.asarray(pred, dtype=float)
    gt = np.asarray(gt, dtype=float)
    if pred.ndim == 2:
        if pred.shape[1] % 2:
            raise _shape_error("pred", "(N, J, 2) or (N, 2J)", pred.shape)
        pred = pred.reshape(pred.shape[0], -1, 2)
    if gt.ndim == 2 and gt.shape[1] % 2 == 0:
        gt = gt.reshape(gt.shape[0], -1, 2)
    if pred.ndim != 3 or pred.shape[-1] != 2:
        raise _shape_error("pred", "(N, J, 2) or (N, 2J)", pred.shape)
    if gt.shape != pred.shape:
        raise _shape_error("gt", f"equal to pred's {pred.shape}", gt.shape)
    sq = ((pred - gt) ** 2).sum(axis=-1)  # (N, J): eq. 1 per joint
    if over_joints == "mean":
        return float(sq.mean())
    if over_joints == "sum":
        return float(sq.sum(axis=1).mean())
    raise ValueError(f"over_joints must be 'mean' or 'sum', got {over_joints!r}")


def mean_detection_error(prob: np.ndarray, labels: np.ndarray, eps: float = DETECTION_EPS) -> float:
    """Table 3's detection error: eq. 3 cross-entropy
    ``-y log(y_hat) - (1 - y) log(1 - y_hat)`` averaged over examples, parts and windows
    (``ln 2 = 0.693`` for a constant 0.5 output, Table 3's 10^10 column).

    prob: (N, P, G, G) detection probabilities, clipped to ``[eps, 1 - eps]`` (eps = 1e-7) so a
    saturated wrong output costs ``-ln(1e-7) = 16.1`` instead of infinity; labels: same shape,
    bool or {0, 1}.
    """
    prob = np.asarray(prob, dtype=float)
    labels = np.asarray(labels)
    if prob.ndim != 4:
        raise _shape_error("prob", "(N, P, G, G)", prob.shape)
    if labels.shape != prob.shape:
        raise _shape_error("labels", f"equal to prob's {prob.shape}", labels.shape)
    y = labels.astype(float)
    q = np.clip(prob, eps, 1.0 - eps)
    return float(np.mean(-y * np.log(q) - (1.0 - y) * np.log1p(-q)))
