"""companion/compute: visits per profile, by hand on the real record counts."""

from hmlpe.companion.compute import profile_visits, profiles_compute_table
from hmlpe.config import PAPER_TABLE3_VISITS
from hmlpe.engine.profiles import get_profile


def test_paper_and_cpu_visits(data_root):
    paper, cpu = profile_visits(get_profile("paper")), profile_visits(get_profile("cpu"))
    assert paper["pretrain"] == 100 * 32 * 5059  # 16,188,800
    assert cpu["pretrain"] == 56 * 5059  # profiles.CPU_PRETRAIN_PASSES
    assert paper["finetune_buffy"] == 100 * 32 * 472
    assert paper["sweep"] == len(get_profile("paper").sweep.ratios) * 100 * 32 * 5059
    table = profiles_compute_table()
    assert table.loc["paper", "share of the paper's 27.0M"] == 16_188_800 / PAPER_TABLE3_VISITS
    assert PAPER_TABLE3_VISITS == 100 * 32 * 8427
