# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Buffy (Table 1)
#
# Reproduces: Table 1 (PCP of the arms on the Buffy Stickmen test set, section 4.3)
#
# The network fine-tuned on Buffy (chapter [Training](05_training)) predicts the 8 joints
# inside each test frame's person box: the upper-body detection window associated with the
# frame, widened and extended downwards by the paper's scale factors, cropped and resized to
# the network's input. A predicted arm is correct when both its end points lie within
# $\alpha$ times the ground-truth arm's length of the ground-truth end points, in either
# order (eq. 6). Table 1 reports this PCP on the whole test set (a frame without an
# associated detection counts as all arms wrong) and on the subset of frames with a correct
# upper-body detection. The settings, as this run used them:

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # the run folder the Training chapter filled
results_dir = "../results/cpu"  # committed results over seeds (hmlpe.companion.seeds), shown below
ablation_dir = "../results/ablation/cap2000"  # the pool-size ablation, shown below
ablation_reference_dir = "../results/earlier_recipe/cpu"  # the seeds it is compared with
n_examples = 4  # how many best and how many worst test frames to draw
data_root = None  # None: $HMLPE_DATA, else data/data_roots.txt (hmlpe.data.source)
data_pack = None  # a data pack to read the crops from (None: $HMLPE_DATA_PACK, else none)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hmlpe.companion import example_figures, paper, runinfo, tables
from hmlpe.companion.scores import checked_frame_scores
from hmlpe.data.source import DataSource
from hmlpe.engine.evaluation import ensure_evaluation
from hmlpe.engine.layout import RunLayout

run = RunLayout(run_dir)
source = DataSource.resolve(data_root, data_pack)  # where every cell below reads the data
checkpoint = run.checkpoint(run.finetune("buffy"))
metrics = ensure_evaluation(checkpoint, "buffy", run.evaluation("buffy"), source=source)
metrics_buffy_rule = ensure_evaluation(
    checkpoint,
    "buffy",
    run.evaluation("buffy", association="buffy"),
    source=source,
    association="buffy",
)
crop = metrics.config.crop
paper_sets = paper.results()["table1"]["test_sets"]
print(f"profile: {profile}; network: finetune_buffy after epoch {metrics.checkpoint_epoch}")
print(
    f"person box: detection window x {crop.buffy_width_scale} in width, "
    f"{crop.buffy_height_scale} half-window heights tall; "
    f"crop {crop.input_size} x {crop.input_size}"
)
print(f"PCP alpha: {metrics.pcp_alpha}")
for key, s in paper_sets.items():
    ours_n = metrics.n("whole_set" if key == "whole" else "subset")
    print(f"paper's {s['label']}: {s['n_images']} frames; ours: {ours_n}")

# %% [markdown]
# ## Our PCP on the Buffy test set
#
# Three sets of frames: all test frames, the frames matched to a detection by the paper's
# association rule (the first author's public code: intersection > 0.5 x (ground-truth
# window area - intersection)), and the frames matched by the Buffy package's official rule
# (IoU > 0.5). The L/R means are the mean of our left and right arm.


# %% tags=["hide-input"]
def ours_row(pcp):
    return pd.Series(tables.pcp_with_means(pcp))


ours = pd.DataFrame(
    {
        ("whole test set", "all frames", metrics.n()): ours_row(metrics.pcp()),
        ("subset", "paper's association rule", metrics.n("subset")): ours_row(
            metrics.pcp("subset")
        ),
        ("subset", "Buffy package rule (IoU > 0.5)", metrics_buffy_rule.n("subset")): ours_row(
            metrics_buffy_rule.pcp("subset")
        ),
    }
).T
ours.index.names = ["frames", "association", "n"]
ours.style.set_uuid("buffy-ours").format("{:.2f}")

# %% [markdown]
# ## Table 1 as the paper prints it, with our rows
#
# The paper's rows as published, test set by test set. After the paper's HMLPE row come
# **HMLPE (ours)** (this run) and the **reproduction gap** (ours minus the paper's HMLPE): the
# only "ours - paper" of the table. The last two columns compare **our network with each other
# method** of the paper's table (ours minus that method), in L/R means: the paper prints one
# number for both arms of a pair for RoDG-Boost, Eichner and the subset's MoP, so those are
# compared through the mean of our left and right arm; for the other rows the paper's L/R mean
# is computed here from its two numbers. The whole-set rows use our whole set, the subset rows
# our subset under the paper's association rule.

# %% tags=["hide-input"]
t1 = tables.table1_comparison(metrics)


def row_style(row):
    method = row.name[1]
    style = ""
    if method in ("HMLPE", tables.OURS_ROW, tables.GAP_ROW):
        style += "background-color: #e8f0fe;"
    if method == tables.GAP_ROW:
        style += "font-style: italic; color: #555;"
    if method == tables.OURS_ROW:
        style += "font-weight: bold;"
    return [style] * len(row)


def signed(v):
    return "" if pd.isna(v) else f"{v:+.2f}"


gap_rows = pd.IndexSlice[[k for k in t1.index if k[1] == tables.GAP_ROW], :]
(
    t1.style.set_uuid("table1-comparison")
    .format("{:.2f}", na_rep="")
    .format(signed, subset=gap_rows)
    .format(signed, subset=list(tables.VERSUS_COLUMNS))
    .apply(row_style, axis=1)
    .set_caption(
        f"{t1.attrs['ref']} ({t1.attrs['section']}), PCP in percent, alpha = 0.5, "
        "with our rows added"
    )
)

# %% tags=["hide-input"]
gap = t1.loc[("whole", tables.GAP_ROW)]
gap_sub = t1.loc[("subset", tables.GAP_ROW)]
print("ours - paper's HMLPE, L/R means (percentage points):")
print(
    f"  whole test set: lower arms {gap[tables.LR_MEAN_COLUMNS[0]]:+.2f}, "
    f"upper arms {gap[tables.LR_MEAN_COLUMNS[1]]:+.2f}"
)
print(
    f"  subset:         lower arms {gap_sub[tables.LR_MEAN_COLUMNS[0]]:+.2f}, "
    f"upper arms {gap_sub[tables.LR_MEAN_COLUMNS[1]]:+.2f}"
)

# %% [markdown]
# The paper's text draws conclusions from Table 1 (section 4.3). Each claim below, with the
# difference the text states, the same difference recomputed from the paper's table (L/R
# means, or the combined value), and the difference between **our** network and the other
# method of the claim, on the same frames.

# %% tags=["hide-input"]
claims = paper.results()["table1"]["text_claims"]
means = paper.table1_arm_means().set_index(["test_set", "method"])
ours_means = {
    "whole": tables.pcp_with_means(metrics.pcp()),
    "subset": tables.pcp_with_means(metrics.pcp("subset")),
}
col = {"lower": tables.LR_MEAN_COLUMNS[0], "upper": tables.LR_MEAN_COLUMNS[1]}
rows = []
for c in claims:
    first, second = c["compare"]
    other = means.loc[(c["test_set"], second), f"{c['parts']}_arms"]
    rows.append(
        {
            "claim": c["claim"],
            "stated": c["difference"],
            "from the paper's table": means.loc[(c["test_set"], first), f"{c['parts']}_arms"]
            - other,
            "ours - " + "other method": ours_means[c["test_set"]][col[c["parts"]]] - other,
        }
    )
(
    pd.DataFrame(rows)
    .style.set_uuid("table1-claims")
    .hide(axis="index")
    .format(
        {"stated": "{:+.1f}", "from the paper's table": "{:+.2f}", "ours - other method": "{:+.2f}"}
    )
)

# %% [markdown]
# ## Example predictions
#
# Our predicted skeleton (coloured parts, green joints; the person box in white) and the
# ground-truth arm sticks (dashed white), zoomed to the person box. The first figure holds
# the test frames with most arms correct by eq. 6, the second those with fewest; ties are
# broken by the mean over the four arms of the larger end-point error relative to the arm's
# length (the quantity eq. 6 compares with $\alpha$).

# %% tags=["hide-input"]
# the per-frame decisions are checked to reproduce the table's numbers
root = source.require_root("the example frames")
scores = checked_frame_scores(run.evaluation("buffy"), root, metrics.pcp())
figures = example_figures.best_and_worst_figures(run.evaluation("buffy"), root, scores, n_examples)
plt.show()

# %% tags=["hide-input"]
dist = scores[scores["matched"]]["arms correct"].value_counts().reindex(range(5), fill_value=0)
dist.index.name = "arms correct (of 4)"
dist.rename("matched frames").to_frame().T.style.set_uuid("arms-correct")

# %% [markdown]
# ## The committed reproduction, over seeds
#
# The numbers above come from this build's run. The reproduction's own claim rests on the
# committed results of the default CPU profile (`results/cpu`, one folder per training
# seed, exported without weights by `hmlpe export`): the mean over seeds, the standard
# deviation between seeds, and a 95% bootstrap interval over test frames (frames resampled
# with replacement, the same frames for every seed; `hmlpe.uncertainty.bootstrap_pcp`).
# The verdict rule (`hmlpe.companion.seeds.reproduction_table`): **reproduced** when the paper's value
# lies inside our interval or below it; **within tolerance** when our mean is at most the
# issue's tolerance below the paper's (3 points for upper arms, 5 for lower arms); else
# **short**. Second table: the same networks with test-time mirror averaging (each crop and
# its mirror predicted, the mirror's joints mirrored back, the two averaged), which the paper
# does not do; it is reported apart and never in the first table. Then where our mean stands
# between the two references of every PCP number here (`hmlpe.companion.baselines`): the training
# pool's mean pose predicted in every test box, and the oracle, the ground truth passed
# through the pipeline (100% on matched frames; the whole set's unmatched frames cap it).

# %% tags=["hide-input"]
from hmlpe.companion import seeds
from hmlpe.companion.baselines import reference_pcp

results_root = Path(results_dir)
if seeds.has_results(results_root):
    for styled in seeds.seed_result_tables(results_root, "Table 1", reference_pcp(source)):
        display(styled)
else:
    print(f"no committed results under {results_root}: `hmlpe export` writes them")

# %% [markdown]
# ### A measured reason for the gap: the size of the pool
#
# The paper pre-trains on 8427 images; the pool here has 5059. To see whether the size
# matters at all, the same protocol (seed 0) was run with FLIC capped at its first 2000
# training images (`data.max_train_examples = 2000`; pool 3077, everything else equal). It was
# trained with the `cpu` profile's earlier recipe (PyTorch's default initialisation, no
# warm-up, 30 pool passes), so it is compared with that recipe's three seeds
# (`results/earlier_recipe/cpu`), not with the results above:

# %% tags=["hide-input"]
ablation_root = Path(ablation_reference_dir)
if seeds.has_results(ablation_root) and Path(ablation_dir).is_dir():
    display(
        seeds.ablation_styled(ablation_root, Path(ablation_dir), "pool 3077 (seed 0)", "Table 1")
    )
else:
    print(f"no ablation result under {ablation_dir}")

# %% [markdown]
# A pool 39% smaller costs several points on every arm (one seed; the seeds' spread is 1-2
# points). The paper's pool is 67% larger than ours; a larger pool is one likely cause of
# the gap, and the length of training the other: the page [PCP against
# compute](13_compute_curve) measures how PCP grows with pre-training visits.

# %% [markdown]
# ## What differs from the paper
#
# * **Training data.** The paper pools six datasets; ours lacks ETHZ, SA and WAF (chapter
#   [Training](05_training) shows both pools' sizes), and a profile may cap it further.
# * **Training budget.** The paper trained for days on a GPU (section 4.2); this run's profile,
#   epochs and device are in the provenance table below and in the Training chapter. The
#   `smoke` profile trains for seconds and only proves that the pipeline runs end to end:
#   its PCP is not a reproduction of Table 1.
# * **Evaluator.** Eq. 6 is implemented by `hmlpe.metrics.pcp` from the paper's definition;
#   the paper used the evaluation tool of [11] (Hara and Chellappa), which is not
#   available here. Arms are scored against Buffy's own ground-truth sticks.
# * **Matched frames.** The association rule of the first author's public code gives the
#   paper's subset size; the Buffy package's own rule (IoU > 0.5) gives a smaller one (both
#   counts are in the first table).

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
prov = pd.concat(
    {
        "paper's rule": runinfo.provenance_frame(metrics, data_root=source.root)["value"],
        "Buffy package rule": runinfo.provenance_frame(metrics_buffy_rule, data_root=source.root)[
            "value"
        ],
    },
    axis=1,
)
prov.style.set_uuid("provenance-buffy").set_properties(**runinfo.PROVENANCE_CSS)
