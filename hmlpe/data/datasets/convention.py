"""Left/right relabelling to the project's observer-centric convention (``hmlpe.skeleton``).

``l_*`` is the arm drawn on the image's left, as in Buffy Stickmen (in all 748 Buffy frames the
"left" shoulder lies left of the "right" one). Measured on the data (1-based files, both splits):

* Buffy: l_shoulder x < r_shoulder x in 748 / 748 frames (100 %): observer-centric already.
* LSP (joints.mat, person-centric): 33.2 % of 2000 images (33.3 % of the first 1000).
* FLIC (examples.mat, person-centric): 4.9 % of 5003 examples (5.0 % train, 4.7 % test).

Neither LSP nor FLIC is 0 % or 100 %: both label the person's own left (people seen from the
back or side make the minority). A whole-dataset swap would leave 5 % (FLIC) and 33 % (LSP) of
examples with ``l_`` on the image's right, so the rule is per example (reproduction's choice):
exchange all left and right joints of an example when its left shoulder lies right of its right
shoulder (ties and missing shoulders: compare elbows, then wrists; if nothing decides, keep).
"""

from __future__ import annotations

import numpy as np

from hmlpe.skeleton import JOINT_INDEX, JOINT_MIRROR

_PAIRS = (("l_shoulder", "r_shoulder"), ("l_elbow", "r_elbow"), ("l_wrist", "r_wrist"))


def needs_swap(joints: np.ndarray) -> bool:
    """True when the example's left arm is drawn right of its right arm (see module doc)."""
    for left, right in _PAIRS:
        xl, xr = joints[JOINT_INDEX[left], 0], joints[JOINT_INDEX[right], 0]
        if np.isfinite(xl) and np.isfinite(xr) and xl != xr:
            return bool(xl > xr)
    return False


def to_observer_centric(
    joints: np.ndarray, visible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(joints, visible, swapped): the example relabelled so that ``l_`` is the image-left arm."""
    joints = np.asarray(joints, dtype=np.float64)
    visible = np.asarray(visible, dtype=bool)
    if needs_swap(joints):
        return joints[JOINT_MIRROR].copy(), visible[JOINT_MIRROR].copy(), True
    return joints.copy(), visible.copy(), False
