"""Buffy Stickmen v3.0 (Eichner et al.): GT sticks -> the paper's 8 joints (paper 4.1).

Files (under ``<root>/buffy``): ``data/buffy_s5e{2..6}_sticks.txt`` (a frame-number line, then
six lines ``x1 y1 x2 y2`` in the order torso, left upper arm, right upper arm, left lower arm,
right lower arm, head; 1-based) and ``images/buffy_s5e{E}_original/{frame:06d}.jpg``.
Splits (paper 4.3, protocol facts): train = episodes 3 and 4 (472 frames), test = 2, 5, 6 (276).

Joints from sticks (paper 4.1, "the nearest end of stick or average of nearest ends"). The end
order of a stick is not consistent (protocol facts: 143 of the 552 test arms), so ends are always
chosen by distance, never by their position in the line:

* elbow = average of the nearest pair of ends of the upper- and lower-arm sticks (the closest of
  the 2 x 2 end pairs); shoulder = the other end of the upper arm; wrist = the other end of the
  lower arm;
* nose = midpoint of the head stick (paper 4.1);
* neck (reproduction's choice, the same "average of nearest ends" rule) = average of the
  nearest pair of ends of the head stick and the torso stick (chin and top of the torso).

Check (tests/test_datasets_buffy.py): joints built this way from the GT score 100 % PCP (eq. 6,
alpha 0.5) against the GT arm sticks on the test set (1104 arms); on the training set 5 of 1888
arms fail, where a stick is shorter than twice the gap the annotator left between the upper-
and lower-arm sticks (the averaged elbow then lies more than alpha x L from that stick's end).

Buffy's labels are observer-centric already (``hmlpe.data.datasets.convention``); no relabelling.
Every stick is annotated, so every joint is visible.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from hmlpe.data.datasets._io import DatasetFileError, image_size, load_mat, require_file
from hmlpe.data.datasets.records import PoseRecord
from hmlpe.skeleton import JOINT_INDEX, JOINTS

EPISODES = (2, 3, 4, 5, 6)
TRAIN_EPISODES = (3, 4)
STICK_NAMES = ("torso", "l_upper_arm", "r_upper_arm", "l_lower_arm", "r_lower_arm", "head")
STICK_INDEX = {n: i for i, n in enumerate(STICK_NAMES)}
DETECTIONS_FILE = "techrep2010_buffy_results.mat"


def sticks_path(root: Path, episode: int) -> Path:
    return Path(root) / "buffy" / "data" / f"buffy_s5e{episode}_sticks.txt"


def image_path(root: Path, episode: int, frame: int) -> Path:
    return Path(root) / "buffy" / "images" / f"buffy_s5e{episode}_original" / f"{frame:06d}.jpg"


def example_id(episode: int, frame: int) -> str:
    return f"s5e{episode}_{frame:06d}"


def parse_sticks_file(path: Path) -> list[tuple[int, np.ndarray]]:
    """[(frame, sticks)] with sticks (6, 2, 2) as stored (1-based, file end order)."""
    path = require_file(Path(path), "Buffy sticks file")
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    if len(lines) % 7:
        raise DatasetFileError(
            f"{path}: {len(lines)} non-empty lines, not a multiple of 7 "
            "(a frame line + 6 stick lines per frame)"
        )
    out = []
    for k in range(0, len(lines), 7):
        head = lines[k]
        if not re.fullmatch(r"\d+", head):
            raise DatasetFileError(
                f"{path}: expected a frame number on non-empty line {k + 1}, got {head!r}"
            )
        try:
            vals = [[float(v) for v in ln.split()] for ln in lines[k + 1 : k + 7]]
        except ValueError as exc:
            raise DatasetFileError(f"{path}: frame {head}: bad number ({exc})") from exc
        if any(len(v) != 4 for v in vals):
            raise DatasetFileError(f"{path}: frame {head}: every stick line needs 4 numbers")
        sticks = np.array(vals).reshape(6, 2, 2)
        if not np.isfinite(sticks).all():
            raise DatasetFileError(f"{path}: frame {head}: non-finite stick coordinate")
        out.append((int(head), sticks))
    return out


def nearest_ends(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(i, j): the end ``a[i]`` of stick a and the end ``b[j]`` of stick b closest together."""
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    return int(i), int(j)


def joints_from_sticks(sticks: np.ndarray) -> np.ndarray:
    """The 8 joints (8, 2) from Buffy's 6 sticks (6, 2, 2), any end order (module doc)."""
    s = np.asarray(sticks, dtype=np.float64)
    if s.shape != (6, 2, 2):
        raise ValueError(f"Buffy sticks must have shape (6, 2, 2), got {s.shape}")
    j = np.full((len(JOINTS), 2), np.nan)
    for side in ("l", "r"):
        up, low = s[STICK_INDEX[f"{side}_upper_arm"]], s[STICK_INDEX[f"{side}_lower_arm"]]
        i, k = nearest_ends(up, low)
        j[JOINT_INDEX[f"{side}_elbow"]] = (up[i] + low[k]) / 2
        j[JOINT_INDEX[f"{side}_shoulder"]] = up[1 - i]
        j[JOINT_INDEX[f"{side}_wrist"]] = low[1 - k]
    head, torso = s[STICK_INDEX["head"]], s[STICK_INDEX["torso"]]
    i, k = nearest_ends(head, torso)
    j[JOINT_INDEX["neck"]] = (head[i] + torso[k]) / 2
    j[JOINT_INDEX["nose"]] = head.mean(axis=0)
    return j


def read_buffy(root: Path, episodes=EPISODES) -> list[PoseRecord]:
    """Records of the given episodes (file order within an episode)."""
    records = []
    for ep in episodes:
        if ep not in EPISODES:
            raise ValueError(f"Buffy has episodes {EPISODES}, not {ep}")
        split = "train" if ep in TRAIN_EPISODES else "test"
        for frame, sticks in parse_sticks_file(sticks_path(root, ep)):
            sticks0 = sticks - 1.0
            img = image_path(root, ep, frame)
            records.append(
                PoseRecord(
                    dataset="buffy",
                    example=example_id(ep, frame),
                    image=img,
                    image_size=image_size(img),
                    joints=joints_from_sticks(sticks0),
                    visible=np.ones(len(JOINTS), bool),
                    split=split,
                    sticks=sticks0,
                    episode=ep,
                    frame=frame,
                )
            )
    return records


def load_detections(root: Path) -> dict[str, np.ndarray]:
    """Upper-body detection windows of the 276 test frames (techrep2010_buffy_results.mat):
    example id -> (K, 4) float64 [x1, y1, x2, y2], 0-based (the file's 1-based [minx miny maxx
    maxy] minus 1); K = 0 for the frames without a detection."""
    path = Path(root) / "buffy" / DETECTIONS_FILE
    mat = load_mat(path, "Buffy detection results", squeeze_me=False)
    key = [k for k in mat if not k.startswith("__")]
    if len(key) != 1:
        raise DatasetFileError(f"{path}: expected one variable, found {key}")
    arr = mat[key[0]]
    out: dict[str, np.ndarray] = {}
    for entry in arr.ravel():
        ep = int(np.asarray(entry["episode"]).ravel()[0])
        frame = int(np.asarray(entry["frame"]).ravel()[0])
        dets = []
        sm = entry["stickmen"]
        if sm.size:
            for man in sm.ravel():
                det = np.asarray(man["det"], dtype=np.float64).ravel()
                if det.size == 4:
                    dets.append(det - 1.0)
        out[example_id(ep, frame)] = np.array(dets, dtype=np.float64).reshape(-1, 4)
    return out


def associated_detections(
    records: list[PoseRecord], detections: dict[str, np.ndarray], rule: str = "paper"
) -> dict[str, np.ndarray | None]:
    """For each Buffy test record, the detection window associated with its GT window
    (``hmlpe.data.boxes.match_detections``), or None (counted as all parts wrong, protocol facts)."""
    from hmlpe.data.boxes import buffy_gt_window, match_detections

    out: dict[str, np.ndarray | None] = {}
    for rec in records:
        dets = detections.get(rec.example, np.zeros((0, 4)))
        k = match_detections(dets, buffy_gt_window(rec.sticks), rule)
        out[rec.example] = None if k is None else dets[k]
    return out
