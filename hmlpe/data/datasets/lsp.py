"""Leeds Sports Pose, small-image release (Johnson and Everingham 2010).

Files (under ``<root>/lsp``): ``joints.mat`` (``joints``: 3 x 14 x 2000 = x, y, flag; 1-based;
joint order right ankle, right knee, right hip, left hip, left knee, left ankle, right wrist,
right elbow, right shoulder, left shoulder, left elbow, left wrist, neck, head top) and
``images/im0001.jpg`` .. ``im2000.jpg``. Split: the first 1000 images train, the rest test.

The flag row (checked on the data, see ``tests/test_datasets_lsp.py``): 1 for 7.3 % of the
28000 joints and marks OCCLUDED joints, not visible ones. Where a shoulder is flagged 1
(523 images) the median shoulder width is 0.27 torso lengths against 0.62 elsewhere: people seen
from the side, whose far shoulder is hidden; flagged joints still carry an (estimated)
position. So ``visible = (flag == 0)``; flagged joints keep their coordinates.

Nose (LSP has none; reproduction's choice): the midpoint of neck and head top, the analogue of
Buffy's "midpoint of the head stick" (paper 4.1) since LSP's neck sits at the bottom of the
head. (On Buffy, the nose lies at a median 0.54 of the way from our neck to the head-stick top,
10-90 % range 0.50-0.63.) It is visible when both neck and head top are.

Left/right: LSP is person-centric; relabelled per example to the observer-centric convention
(``hmlpe.data.datasets.convention``; 33.2 % of images have the left shoulder on the image's left).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hmlpe.data.datasets._io import DatasetFileError, image_size, load_mat
from hmlpe.data.datasets.convention import to_observer_centric
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.skeleton import JOINTS

N_IMAGES = 2000
N_TRAIN = 1000
NOSE_FRACTION = 0.5  # nose = neck + NOSE_FRACTION * (head top - neck)
# LSP joint index of each project joint (before the observer-centric relabelling).
LSP_INDEX = {
    "neck": 12,
    "l_shoulder": 9,
    "r_shoulder": 8,
    "l_elbow": 10,
    "r_elbow": 7,
    "l_wrist": 11,
    "r_wrist": 6,
}
HEAD_TOP = 13
HIPS = (2, 3)  # right hip, left hip: their midpoint ends the torso stick of the training box


def image_path(root: Path, index: int) -> Path:
    """0-based ``index`` -> images/im{index+1:04d}.jpg."""
    return Path(root) / "lsp" / "images" / f"im{index + 1:04d}.jpg"


def read_joints_mat(root: Path) -> np.ndarray:
    """The raw (3, 14, 2000) array of joints.mat."""
    path = Path(root) / "lsp" / "joints.mat"
    arr = load_mat(path, "LSP joints").get("joints")
    if arr is None or arr.shape != (3, 14, N_IMAGES):
        raise DatasetFileError(
            f"{path}: expected a 'joints' array of shape (3, 14, {N_IMAGES}), "
            f"got {None if arr is None else arr.shape}"
        )
    return np.asarray(arr, dtype=np.float64)


def convert(xyf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's (3, 14) LSP annotation -> (joints (8, 2) 0-based, visible (8,), head top),
    still in LSP's person-centric labels."""
    xy = xyf[:2].T - 1.0
    vis14 = xyf[2] == 0
    joints = np.full((len(JOINTS), 2), np.nan)
    visible = np.zeros(len(JOINTS), bool)
    for k, name in enumerate(JOINTS):
        if name in LSP_INDEX:
            joints[k] = xy[LSP_INDEX[name]]
            visible[k] = vis14[LSP_INDEX[name]]
    neck, top = xy[LSP_INDEX["neck"]], xy[HEAD_TOP]
    joints[0] = neck + NOSE_FRACTION * (top - neck)
    visible[0] = vis14[LSP_INDEX["neck"]] and vis14[HEAD_TOP]
    return joints, visible, top


def read_lsp(root: Path) -> list[PoseRecord]:
    raw = read_joints_mat(root)
    records = []
    for i in range(N_IMAGES):
        joints, visible, top = convert(raw[:, :, i])
        joints, visible, swapped = to_observer_centric(joints, visible)
        img = image_path(root, i)
        records.append(
            PoseRecord(
                dataset="lsp",
                example=img.stem,
                image=img,
                image_size=image_size(img),
                joints=joints,
                visible=visible,
                split="train" if i < N_TRAIN else "test",
                swapped_lr=swapped,
                extra={
                    "head_top": top,
                    "hip_centre": (raw[:2, HIPS, i].T - 1.0).mean(axis=0),
                    "index": i,
                },
            )
        )
    return records
