"""One record type for every annotated example of every dataset.

Coordinates: 0-based image pixels, pixel ``i``'s centre at ``i`` (the datasets' 1-based MATLAB
annotations minus 1); the image spans [-0.5, w - 0.5] x [-0.5, h - 0.5]. Joints follow
``hmlpe.skeleton.JOINTS`` (8 joints, paper 4.1) in the observer-centric left/right convention
(``hmlpe.data.datasets.convention``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hmlpe.skeleton import JOINTS

DATASETS = ("buffy", "lsp", "flic")
SPLITS = ("train", "test")


def _frozen(a, dtype, shape: tuple | None, name: str) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=dtype)  # a private copy
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class PoseRecord:
    """An annotated example.

    dataset: "buffy" | "lsp" | "flic"; example: id unique within the dataset
    ("s5e3_004508", "im0001", "flic_00042" = 0-based index in examples.mat);
    image: path of the image file; image_size: (w, h);
    joints: (8, 2) float64, NaN where not annotated; visible: (8,) bool (annotated and not
    flagged occluded); split: "train" | "test";
    sticks: Buffy's own 6 GT sticks (6, 2, 2) in file order and end order, 0-based, else None;
    torso_box: FLIC's torso box [x1, y1, x2, y2], 0-based, else None;
    episode / frame: Buffy episode and frame number (FLIC: frame of the movie), else None;
    swapped_lr: True when the reader exchanged the dataset's left and right labels to reach the
    observer-centric convention.
    """

    dataset: str
    example: str
    image: Path
    image_size: tuple[int, int]
    joints: np.ndarray
    visible: np.ndarray
    split: str
    sticks: np.ndarray | None = None
    torso_box: np.ndarray | None = None
    episode: int | None = None
    frame: int | None = None
    swapped_lr: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; known: {DATASETS}")
        if self.split not in SPLITS:
            raise ValueError(
                f"{self.dataset}/{self.example}: split must be one of {SPLITS}, got {self.split!r}"
            )
        w, h = (int(v) for v in self.image_size)
        if w <= 0 or h <= 0:
            raise ValueError(f"{self.dataset}/{self.example}: bad image size {self.image_size}")
        object.__setattr__(self, "image_size", (w, h))
        object.__setattr__(self, "image", Path(self.image))
        n = len(JOINTS)
        object.__setattr__(self, "joints", _frozen(self.joints, np.float64, (n, 2), "joints"))
        object.__setattr__(self, "visible", _frozen(self.visible, bool, (n,), "visible"))
        if self.sticks is not None:
            s = _frozen(self.sticks, np.float64, None, "sticks")
            assert s is not None  # None only for None
            if s.ndim != 3 or s.shape[1:] != (2, 2):
                raise ValueError(f"sticks must have shape (S, 2, 2), got {s.shape}")
            object.__setattr__(self, "sticks", s)
        object.__setattr__(
            self, "torso_box", _frozen(self.torso_box, np.float64, (4,), "torso_box")
        )
        if np.any(self.visible & np.isnan(self.joints).any(axis=1)):
            raise ValueError(f"{self.dataset}/{self.example}: a joint marked visible is NaN")

    @property
    def uid(self) -> str:
        """Id unique across datasets: "dataset/example"."""
        return f"{self.dataset}/{self.example}"

    def fingerprint(self) -> tuple:
        """The content that identifies this record (for cache keys)."""
        return (
            self.dataset,
            self.example,
            str(self.image),
            self.image_size,
            self.split,
            np.round(np.nan_to_num(self.joints, nan=-1e9), 6).tolist(),
            self.visible.tolist(),
            None if self.sticks is None else np.round(self.sticks, 6).tolist(),
            None if self.torso_box is None else np.round(self.torso_box, 6).tolist(),
        )
