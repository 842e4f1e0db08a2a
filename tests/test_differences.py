"""The differences table names every deviation the project knows of and reads its values from
the configuration."""

from __future__ import annotations

from hmlpe.companion.differences import differences, differences_table
from hmlpe.config import AugmentConfig, LossConfig
from hmlpe.engine.profiles import PROFILES


def test_every_known_deviation_is_listed():
    topics = set(differences_table()["topic"])
    for needed in (
        "training pool",
        "eq. 4: sums",
        "eq. 5: biases",
        "augmentation",
        "optimiser",
        "Table 2 arm labels",
        "task weights",
        "training boxes",
        "dropout at test time",
    ):
        assert needed in topics, needed
    assert {d.kind for d in differences()} == {"deviation", "choice"}
    assert all(d.reason and d.where and d.paper and d.ours for d in differences())


def test_values_come_from_the_configuration():
    rows = {d.topic: d for d in differences()}
    assert LossConfig().detection_reduction in rows["eq. 4: sums"].ours
    assert f"{AugmentConfig().mirror_prob:g}" in rows["augmentation"].ours
    for name in PROFILES:
        assert f"{name}:" in rows["optimiser"].ours and f"{name}:" in rows["schedule"].ours
