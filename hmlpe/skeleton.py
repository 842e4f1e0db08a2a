"""The paper's body model: 8 joints and 7 parts (section 4.1, Figure 2).

Left/right convention (the reproduction's choice; the paper is silent): observer-centric,
as the Buffy Stickmen annotations are. ``l_*`` names the arm drawn on the image's left:
in every Buffy frame the "left" arm sticks lie left of the "right" ones. Readers of
person-centric datasets relabel arms to this convention (see ``hmlpe.data.datasets``).
"""

from __future__ import annotations

import numpy as np

JOINTS: tuple[str, ...] = (
    "nose",
    "neck",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_wrist",
    "r_wrist",
)
JOINT_INDEX = {name: i for i, name in enumerate(JOINTS)}

# Each part is the segment between two joints (paper 4.1).
PARTS: tuple[tuple[str, str, str], ...] = (
    ("head", "nose", "neck"),
    ("l_shoulder", "neck", "l_shoulder"),
    ("r_shoulder", "neck", "r_shoulder"),
    ("l_upper_arm", "l_shoulder", "l_elbow"),
    ("r_upper_arm", "r_shoulder", "r_elbow"),
    ("l_lower_arm", "l_elbow", "l_wrist"),
    ("r_lower_arm", "r_elbow", "r_wrist"),
)
PART_NAMES: tuple[str, ...] = tuple(p[0] for p in PARTS)
PART_JOINTS = np.array([[JOINT_INDEX[a], JOINT_INDEX[b]] for _, a, b in PARTS])  # (7, 2)

# The four arm parts scored in Tables 1 and 2, in the paper's column order LL, RL, LU, RU.
ARM_PARTS: tuple[str, ...] = ("l_lower_arm", "r_lower_arm", "l_upper_arm", "r_upper_arm")

# The one part palette (book figures, ``hmlpe.companion.plotting``; prediction overlays,
# ``hmlpe.engine.predict``): left parts warm, right parts cool, the head yellow. Hex strings,
# which matplotlib and PIL both accept.
PART_COLOURS: dict[str, str] = {
    "head": "#f4d03f",
    "l_shoulder": "#f39c12",
    "r_shoulder": "#48c9b0",
    "l_upper_arm": "#e74c3c",
    "r_upper_arm": "#3498db",
    "l_lower_arm": "#ff79c6",
    "r_lower_arm": "#9b59b6",
}
if set(PART_COLOURS) != set(PART_NAMES):  # pragma: no cover - a guard for skeleton edits
    raise ImportError("PART_COLOURS must name exactly the parts of PARTS")


def _swap_permutation(names: tuple[str, ...]) -> np.ndarray:
    def swap(n: str) -> str:
        if n.startswith("l_"):
            return "r_" + n[2:]
        if n.startswith("r_"):
            return "l_" + n[2:]
        return n

    return np.array([names.index(swap(n)) for n in names])


# Index permutations that exchange left and right (used by the horizontal mirror).
JOINT_MIRROR = _swap_permutation(JOINTS)
PART_MIRROR = _swap_permutation(PART_NAMES)


def parts_from_joints(joints: np.ndarray) -> np.ndarray:
    """Stick end points of the 7 parts from the 8 joints.

    joints: (..., 8, 2) -> (..., 7, 2, 2) with [..., p, 0] the first joint of part p.
    """
    joints = np.asarray(joints)
    if joints.shape[-2:] != (len(JOINTS), 2):
        raise ValueError(f"joints must have shape (..., {len(JOINTS)}, 2), got {joints.shape}")
    return joints[..., PART_JOINTS, :]
