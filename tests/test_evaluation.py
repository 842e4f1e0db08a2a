"""Where the numbers of Tables 1 and 2 are made (hmlpe.engine.evaluation): eq. 6 per arm against
Buffy's own sticks and FLIC's joints, unmatched frames, and eq. 7's FLIC torso, by hand."""

import numpy as np
import pytest

from hmlpe.data.datasets.records import PoseRecord
from hmlpe.data.pipeline import HeldOutSet
from hmlpe.engine.evaluation import ARM_COLUMNS, arm_pcp, flic_torso
from hmlpe.engine.scoring import score_predictions
from hmlpe.skeleton import JOINT_INDEX as J

# Buffy sticks in file order (torso, LUA, RUA, LLA, RLA, head), each (end, end) as stored.
# The left upper arm is stored elbow-to-shoulder (reversed) and the right lower arm
# wrist-to-elbow: eq. 6 accepts either end order. Arms do not share end points, as in Buffy.
STICKS = np.array(
    [
        [[100, 100], [100, 200]],  # torso
        [[70, 150], [80, 100]],  # LUA, reversed: elbow first; length 51.0
        [[120, 100], [140, 150]],  # RUA; length 53.9
        [[72, 152], [50, 190]],  # LLA; length 43.9
        [[140, 200], [130, 152]],  # RLA, reversed: wrist first; length 49.0
        [[100, 40], [100, 90]],  # head
    ],
    dtype=float,
)


def _record(dataset, example, joints, **kw):
    return PoseRecord(
        dataset=dataset,
        example=example,
        image=f"/x/{example}.jpg",
        image_size=(300, 300),
        joints=joints,
        visible=~np.isnan(joints).any(axis=1),
        split="test",
        **kw,
    )


def _joints(**points):
    j = np.full((8, 2), np.nan)
    for name, xy in points.items():
        j[J[name]] = xy
    return j


def _held_out(name, records, matched):
    n = len(records)
    return HeldOutSet(
        name=name,
        records=records,
        images=np.zeros((n, 1, 1, 3), np.uint8),
        boxes=np.zeros((n, 4)),
        matched=np.array(matched),
        joints=np.zeros((n, 8, 2)),
        usable=np.array(matched),
        fingerprint="t",
    )


# Predicted joints: shoulders and elbows as the sticks say; the left wrist 20 px off (43.9 x
# 0.5 = 22 px allowed: correct), the right wrist 30 px off (24.5 allowed: wrong).
PRED = _joints(
    nose=(100, 65),
    neck=(100, 95),
    l_shoulder=(80, 100),
    r_shoulder=(120, 100),
    l_elbow=(71, 151),
    r_elbow=(135, 151),
    l_wrist=(50, 210),
    r_wrist=(140, 230),
)


def test_buffy_arms_scored_against_the_stored_sticks_in_either_end_order():
    rec = _record("buffy", "s5e2_000001", PRED, sticks=STICKS)
    test = _held_out("buffy", [rec], [True])
    correct = arm_pcp(test, PRED[None])
    # LL: elbow 1.4 px, wrist 20 px <= 22: correct. RL: wrist 30 > 24.5: wrong.
    # LU: both ends within 1.4 px of a reversed stick: correct. RU: elbow (135,151) vs
    # (140,150): 5.1 px <= 27: correct.
    assert dict(zip(ARM_COLUMNS, correct[0])) == {"LL": True, "RL": False, "LU": True, "RU": True}


def test_an_unmatched_buffy_frame_counts_every_arm_wrong():
    perfect = _joints(
        nose=(100, 65),
        neck=(100, 95),
        l_shoulder=(80, 100),
        r_shoulder=(120, 100),
        l_elbow=(71, 151),
        r_elbow=(135, 151),
        l_wrist=(50, 190),
        r_wrist=(140, 200),
    )
    recs = [_record("buffy", f"s5e2_00000{i}", perfect, sticks=STICKS) for i in (1, 2)]
    correct = arm_pcp(_held_out("buffy", recs, [True, False]), np.stack([perfect, perfect]))
    assert correct[0].all() and not correct[1].any()


def _flic_example():
    """A FLIC person by hand (arms of 51.0 px, torso hypot(35, 100)) and its record."""
    gt = _joints(
        nose=(100, 60),
        neck=(100, 95),
        l_shoulder=(80, 100),
        r_shoulder=(120, 100),
        l_elbow=(70, 150),
        r_elbow=(130, 150),
        l_wrist=(60, 200),
        r_wrist=(140, 200),
    )
    return gt, _record("flic", "flic_00001", gt, extra={"l_hip": (85, 200), "r_hip": (115, 200)})


def test_flic_arms_scored_against_the_joints_and_a_missing_joint_is_wrong():
    gt, rec = _flic_example()
    pred = gt.copy()
    pred[J["l_wrist"]] += (0, 26)  # lower arm length 51.0: 25.5 allowed -> wrong
    pred[J["r_wrist"]] += (0, 25)  # 25 <= 25.5 -> correct
    pred[J["l_shoulder"]] = np.nan  # no prediction -> wrong
    correct = arm_pcp(_held_out("flic", [rec], [True]), pred[None])
    assert dict(zip(ARM_COLUMNS, correct[0])) == {"LL": False, "RL": True, "LU": False, "RU": True}


def test_flic_torso_is_hip_to_opposite_shoulder_with_flic_own_labels():
    gt = _joints(l_shoulder=(80, 100), r_shoulder=(120, 100))
    hips = {"l_hip": (85, 200), "r_hip": (115, 220)}
    rec = _record("flic", "a", gt, extra=hips)
    # paper: left hip (85,200) to right shoulder (120,100); MODEC: left shoulder to right hip
    assert flic_torso(rec) == pytest.approx(np.hypot(35, 100))
    assert flic_torso(rec, "modec") == pytest.approx(np.hypot(35, 120))
    # a record whose reader swapped left and right: FLIC's own labels are restored first
    swapped = _record("flic", "b", gt, extra=hips, swapped_lr=True)
    assert flic_torso(swapped) == pytest.approx(np.hypot(115 - 80, 220 - 100))


# ---- the pure scoring of one evaluation (engine.scoring.score_predictions) ----------------------


def test_scoring_buffy_gives_whole_set_and_subset_by_hand():
    # frame 1: PRED (LL, LU, RU correct, RL wrong); frame 2: no matched window (all wrong)
    recs = [_record("buffy", f"s5e2_00000{i}", PRED, sticks=STICKS) for i in (1, 2)]
    pred = np.stack([PRED, np.full((8, 2), np.nan)])
    s = score_predictions("buffy", recs, np.array([True, False]), pred)
    assert s.correct.tolist() == [[True, False, True, True], [False] * 4]
    assert s.matched.tolist() == [True, False] and s.figure4 is None
    assert s.whole_set.n == 2 and s.whole_set.pcp == {"LL": 50.0, "RL": 0.0, "LU": 50.0, "RU": 50.0}
    assert s.subset is not None and s.subset.n == 1
    assert s.subset.pcp == {"LL": 100.0, "RL": 0.0, "LU": 100.0, "RU": 100.0}
    # one matched frame: every bootstrap resample is that frame
    assert s.subset.ci95 == {c: (v, v) for c, v in s.subset.pcp.items()}
    lo, hi = s.whole_set.ci95["LL"]
    assert 0.0 <= lo <= 50.0 <= hi <= 100.0


def test_scoring_flic_gives_table2_and_figure4_by_hand():
    gt, rec = _flic_example()
    pred = gt.copy()
    pred[J["l_elbow"]] += (0, 21)  # paper torso hypot(35, 100) = 105.9: 19.8% off
    pred[J["l_wrist"]] += (0, 26)  # 25.5 allowed on the lower arm: LL wrong
    s = score_predictions("flic", [rec], np.array([True]), pred[None])
    assert s.subset is None and s.whole_set.n == 1
    # LL: wrist 26 > 25.5 and elbow 21 px; LU: elbow 21 <= 0.5 x 51.0; right arm exact
    assert s.whole_set.pcp == {"LL": 0.0, "RL": 100.0, "LU": 100.0, "RU": 100.0}
    f4 = s.figure4
    assert f4 is not None and f4.radii == tuple(range(21))
    elbow = f4.torso["paper"]["l_elbow"]
    assert elbow[19] == 0.0 and elbow[20] == 100.0  # 19.8% of the torso: within r = 20 only
    assert set(f4.torso["paper"]["r_elbow"]) == {100.0}  # exact, inclusive at r = 0
    # MODEC's torso (left shoulder to right hip) hypot(35, 100) here too: same curve
    assert f4.torso["modec"]["l_elbow"] == elbow
