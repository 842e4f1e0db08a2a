"""FLIC, Frames Labeled In Cinema (Sapp and Taskar 2013), not FLIC-full.

Files (under ``<root>/flic``): ``examples.mat`` (1 x 5003 struct: ``coords`` 2 x 29 in MODEC's
lookupPart order, ``filepath``, ``torsobox`` [x1 y1 x2 y2], ``imgdims`` [h w 3], ``istrain``,
``istest``, ``moviename``, ``currframe``; 1-based) and ``images/<filepath>``.
Split: ``istrain`` (3987) / ``istest`` (1016); they are disjoint and cover all 5003 examples.
Example ids: "flic_NNNNN", the 0-based index in examples.mat.

Joints: lsho, lelb, lwri, rsho, relb, rwri and nose are annotated in every example; the neck
is the midpoint of the two shoulders (the first author's public code, protocol facts). A joint is
visible when annotated (not NaN). The hips (needed by eq. 7's torso size) are kept in
``extra["l_hip"]``, ``extra["r_hip"]``, relabelled together with the arms.

Left/right: FLIC is person-centric (the left shoulder lies on the image's left in only 4.9 %
of examples); relabelled per example to the observer-centric convention
(``hmlpe.data.datasets.convention``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hmlpe.data.datasets._io import DatasetFileError, load_mat
from hmlpe.data.datasets.convention import to_observer_centric
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.skeleton import JOINTS

N_EXAMPLES = 5003
LOOKUP_PART = (
    "lsho",
    "lelb",
    "lwri",
    "rsho",
    "relb",
    "rwri",
    "lhip",
    "lkne",
    "lank",
    "rhip",
    "rkne",
    "rank",
    "leye",
    "reye",
    "lear",
    "rear",
    "nose",
    "msho",
    "mhip",
    "mear",
    "mtorso",
    "mluarm",
    "mruarm",
    "mllarm",
    "mrlarm",
    "mluleg",
    "mruleg",
    "mllleg",
    "mrlleg",
)
FLIC_NAME = {
    "nose": "nose",
    "l_shoulder": "lsho",
    "r_shoulder": "rsho",
    "l_elbow": "lelb",
    "r_elbow": "relb",
    "l_wrist": "lwri",
    "r_wrist": "rwri",
}


def read_examples(root: Path) -> np.ndarray:
    path = Path(root) / "flic" / "examples.mat"
    ex = load_mat(path, "FLIC examples", squeeze_me=True, struct_as_record=False).get("examples")
    if ex is None or np.size(ex) != N_EXAMPLES:
        raise DatasetFileError(
            f"{path}: expected an 'examples' struct array of {N_EXAMPLES} "
            f"entries, got {None if ex is None else np.size(ex)}"
        )
    return np.ravel(ex)


def convert(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(2, 29) 1-based coords -> (joints (8, 2), visible (8,), hips (2, 2) [l, r]) 0-based,
    in FLIC's person-centric labels."""
    c = np.asarray(coords, dtype=np.float64).T - 1.0
    pt = {name: c[i] for i, name in enumerate(LOOKUP_PART)}
    joints = np.full((len(JOINTS), 2), np.nan)
    for k, name in enumerate(JOINTS):
        if name in FLIC_NAME:
            joints[k] = pt[FLIC_NAME[name]]
    joints[JOINTS.index("neck")] = (pt["lsho"] + pt["rsho"]) / 2
    visible = np.isfinite(joints).all(axis=1)
    return joints, visible, np.stack([pt["lhip"], pt["rhip"]])


def read_flic(root: Path) -> list[PoseRecord]:
    records = []
    for i, e in enumerate(read_examples(root)):
        joints, visible, hips = convert(e.coords)
        joints, visible, swapped = to_observer_centric(joints, visible)
        if swapped:
            hips = hips[::-1]
        train, test = bool(e.istrain), bool(e.istest)
        if train == test:
            raise DatasetFileError(
                f"FLIC example {i}: istrain={train} istest={test}, expected exactly one"
            )
        h, w = (int(v) for v in np.ravel(e.imgdims)[:2])
        records.append(
            PoseRecord(
                dataset="flic",
                example=f"flic_{i:05d}",
                image=Path(root) / "flic" / "images" / str(e.filepath),
                image_size=(w, h),
                joints=joints,
                visible=visible,
                split="train" if train else "test",
                torso_box=np.asarray(e.torsobox, dtype=np.float64) - 1.0,
                frame=int(e.currframe),
                swapped_lr=swapped,
                extra={
                    "l_hip": hips[0].copy(),
                    "r_hip": hips[1].copy(),
                    "index": i,
                    "moviename": str(e.moviename),
                    "filepath": str(e.filepath),
                },
            )
        )
    return records
