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
# # FLIC (Table 2, Figure 4)
#
# Reproduces: Table 2 (PCP of the arms on the FLIC test set) and Figure 4 (accuracy of
# elbows and wrists against the normalised distance r), section 4.4
#
# The network fine-tuned on FLIC (chapter [Training](05_training)) predicts the joints inside
# a person box made from each test example's torso box, enlarged by the paper's scale
# factors. Two measures: the PCP of eq. 6 on the four arms (Table 2, against FLIC's annotated
# joints), and the accuracy of eq. 7, the percentage of test images whose predicted joint
# lies within $r$ percent of a torso size of the annotated one, as a curve over $r$
# (Figure 4). The paper's torso size is the distance between a hip and the opposite
# shoulder; MODEC's own evaluation code uses the other diagonal of the torso. The paper
# compares only with MODEC [19] there, and gives no curve values, only statements in its
# text; they are shown beside our curves.

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # the run folder the Training chapter filled
results_dir = "../results/cpu"  # committed results over seeds (hmlpe.companion.seeds), shown below
ablation_dir = "../results/ablation/cap2000"  # the pool-size ablation, shown below
ablation_reference_dir = "../results/earlier_recipe/cpu"  # the seeds it is compared with
n_examples = 4  # how many best and how many worst test examples to draw
data_root = None  # None: $HMLPE_DATA, else data/data_roots.txt (hmlpe.data.source)
data_pack = None  # a data pack to read the crops from (None: $HMLPE_DATA_PACK, else none)
overlay_modec_torso = True  # also draw Figure 4's curves with MODEC's torso size (dashed)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hmlpe.companion import example_figures, paper, runinfo, tables
from hmlpe.companion.scores import checked_frame_scores
from hmlpe.data.datasets import load_dataset
from hmlpe.data.source import DataSource
from hmlpe.engine.evaluation import ensure_evaluation
from hmlpe.engine.layout import RunLayout

run = RunLayout(run_dir)
source = DataSource.resolve(data_root, data_pack)  # where every cell below reads the data
metrics = ensure_evaluation(
    run.checkpoint(run.finetune("flic")), "flic", run.evaluation("flic"), source=source
)
crop = metrics.config.crop
print(f"profile: {profile}; network: finetune_flic after epoch {metrics.checkpoint_epoch}")
print(
    f"person box: torso box x {crop.flic_width_scale} in width, "
    f"x {crop.flic_height_scale} in height; crop {crop.input_size} x {crop.input_size}"
)
print(f"test examples: {metrics.n_examples}; PCP alpha: {metrics.pcp_alpha}")

# %% [markdown]
# ## Left and right in FLIC
#
# FLIC labels the person's own left and right; this project labels arms observer-centric,
# as Buffy does (the arm drawn on the image's left is "left", `hmlpe.skeleton`). The FLIC
# reader exchanges left and right in the examples where the person's left shoulder lies on
# the image's right (`PoseRecord.swapped_lr`). PCP is symmetric under that exchange only
# pair by pair: LL and RL (and LU and RU) below are observer-centric arms. Eq. 7's torso size
# is computed with FLIC's own labels (`hmlpe.engine.scoring.flic_torso`), so that the paper's and
# MODEC's diagonals mean what they mean in FLIC.

# %% tags=["hide-input"]
records = load_dataset("flic", source.require_root("the FLIC test records"), "test")
swapped = sum(r.swapped_lr for r in records)
print(
    f"FLIC test examples relabelled (left and right exchanged): {swapped} of {len(records)} "
    f"({100 * swapped / len(records):.1f} %)"
)

# %% [markdown]
# ## Table 2: PCP on the FLIC test set
#
# The paper's row as printed, then **HMLPE (ours)** and the **reproduction gap** (ours minus
# the paper's); the L/R means are computed from the two numbers of each pair.

# %% tags=["hide-input"]
t2 = tables.table2_comparison(metrics)


def row_style(row):
    return [
        "font-weight: bold;"
        if row.name[-1] == tables.OURS_ROW
        else "font-style: italic; color: #555;"
        if row.name[-1] == tables.GAP_ROW
        else ""
    ] * len(row)


diff_rows = pd.IndexSlice[[k for k in t2.index if k[-1] == tables.GAP_ROW], :]
(
    t2.style.set_uuid("table2-comparison")
    .format("{:.2f}", na_rep="")
    .format(lambda v: "" if pd.isna(v) else f"{v:+.2f}", subset=diff_rows)
    .apply(row_style, axis=1)
    .set_caption(f"{t2.attrs['ref']} ({t2.attrs['section']}), PCP in percent, with our rows added")
)

# %% [markdown]
# Published elsewhere ({doc}`protocol facts <11_protocol_facts>`, not in the paper): one evaluator recomputed MODEC's PCP on
# FLIC with observer-centric labels. Its evaluator is not this one, so the comparison is
# indicative only.

# %% tags=["hide-input"]
pub = paper.published_elsewhere()
ref = pub[(pub["dataset"] == "FLIC") & pub["metric"].str.startswith("PCP")]
ours_pcp = tables.pcp_with_means(metrics.pcp())
ref_rows = {}
for _, r in ref.iterrows():
    ref_rows[f"{r['method']} ({r['source']})"] = {
        "upper arms": r["upper_arm"],
        "lower arms": r["lower_arm"],
    }
ref_rows["ours (L/R mean)"] = {
    "upper arms": ours_pcp[tables.LR_MEAN_COLUMNS[1]],
    "lower arms": ours_pcp[tables.LR_MEAN_COLUMNS[0]],
}
(
    pd.DataFrame.from_dict(ref_rows, orient="index")
    .rename_axis("PCP, percent")
    .style.set_uuid("flic-pcp-published")
    .format("{:.1f}")
)

# %% [markdown]
# ## Figure 4: accuracy against the normalised distance
#
# Our accuracy (eq. 7) of the elbows and wrists, the mean of the left and right joint (the
# thin lines are the left and right joints separately), with the paper's torso size (solid)
# and MODEC's (dashed). The vertical lines mark the radii at which the paper states a
# difference between HMLPE and MODEC; the markers at $r = 20$ are PCK@0.2 values published
# elsewhere ({doc}`protocol facts <11_protocol_facts>`; their evaluator's torso normalisation, observer-centric labels), as
# reference points, not as curves of this page.

# %% tags=["hide-input"]
curves = tables.figure4_curves(metrics)
statements = paper.figure4_statements()
pck = pub[(pub["dataset"] == "FLIC") & pub["metric"].str.startswith("PCK")]
torsos = ["paper", "modec"] if overlay_modec_torso else ["paper"]
fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), sharey=True)
for ax, kind in zip(axes, ("elbow", "wrist")):
    for torso, style in zip(torsos, ("-", "--")):
        name = "paper's torso" if torso == "paper" else "MODEC's torso"
        ax.plot(
            curves.index,
            curves[(torso, kind)],
            style,
            color="C0",
            lw=2,
            label=f"ours, L/R mean, {name}",
        )
        for side, c in (("left", "C1"), ("right", "C2")):
            ax.plot(
                curves.index,
                curves[(torso, f"{side[0]}_{kind}")],
                style,
                color=c,
                lw=0.8,
                label=f"ours, {side} joint, {name}",
            )
    for r in statements["r"].dropna().unique():
        ax.axvline(r, color="grey", lw=0.8, ls=":")
    for k, (_, row) in enumerate(pck.iterrows()):
        ax.plot(
            [20],
            [row[kind]],
            marker="x^v"[k % 3],
            ms=8,
            ls="none",
            color=f"C{k + 3}",
            label=f"{row['method']}: PCK@0.2 (published elsewhere)",
        )
    ax.set_title(f"{kind}s")
    ax.set_xlabel("r (percent of the torso size)")
    ax.set_xlim(0, 21)
    ax.set_xticks(range(0, 21, 2))
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("accuracy (percent of test images)")
handles, names = axes[0].get_legend_handles_labels()
fig.legend(handles, names, loc="lower center", ncol=3, fontsize=7, frameon=False)
fig.tight_layout(rect=(0, 0.16, 1, 1))
plt.show()

# %% [markdown]
# The paper's statements about Figure 4, with our accuracy at the radii they name (L/R means;
# the paper's torso size and MODEC's). The paper's numbers are differences between HMLPE and
# MODEC read from its figure ("about"); without MODEC's curve they cannot be recomputed here,
# so our accuracies are shown as they are.

# %% tags=["hide-input"]
rows = []
for _, s in statements.iterrows():
    row = {
        "statement (paper's text)": s["text"],
        "r": s["r"],
        "HMLPE - MODEC, elbow": s["elbow"],
        "HMLPE - MODEC, wrist": s["wrist"],
    }
    if pd.notna(s["r"]):
        r = int(s["r"])
        for torso in torsos:
            for kind in ("elbow", "wrist"):
                row[f"ours: {kind}, {torso} torso"] = curves.loc[r, (torso, kind)]
    rows.append(row)
st = pd.DataFrame(rows)
num_cols = [c for c in st.columns if c.startswith("ours")]
(
    st.style.set_uuid("figure4-statements")
    .hide(axis="index")
    .set_properties(subset=["statement (paper's text)"], **{"min-width": "16em"})
    .format(
        {
            "r": "{:.0f}",
            "HMLPE - MODEC, elbow": "{:+.0f}",
            "HMLPE - MODEC, wrist": "{:+.0f}",
            **{c: "{:.1f}" for c in num_cols},
        },
        na_rep="",
    )
)

# %% [markdown]
# ## Example predictions
#
# As on the Buffy page: our skeleton (coloured parts, green joints, the person box in
# white) and the annotated arms (dashed white); the first figure holds the test examples
# with most arms correct by eq. 6, the second those with fewest.

# %% tags=["hide-input"]
# the per-frame decisions are checked to reproduce the table's numbers
root = source.require_root("the example figures")
scores = checked_frame_scores(run.evaluation("flic"), root, metrics.pcp())
figures = example_figures.best_and_worst_figures(run.evaluation("flic"), root, scores, n_examples)
plt.show()

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
    for styled in seeds.seed_result_tables(results_root, "Table 2", reference_pcp(source)):
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
        seeds.ablation_styled(ablation_root, Path(ablation_dir), "pool 3077 (seed 0)", "Table 2")
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
# * **Training data and budget**, as on the [Buffy](06_buffy) page: a smaller pool, and the
#   profile's epochs on this run's device (provenance below). The `smoke` profile's numbers
#   are not a reproduction.
# * **Evaluator.** Eq. 6 and eq. 7 are implemented from their definitions
#   (`hmlpe.metrics`); the paper's evaluation code is not available.
# * **MODEC.** No MODEC predictions are available here, so the paper's HMLPE-minus-MODEC
#   statements cannot be checked; the published PCK@0.2 values are the only reference points.

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
(
    runinfo.provenance_frame(metrics, data_root=source.root)
    .style.set_uuid("provenance-flic")
    .set_properties(**runinfo.PROVENANCE_CSS)
)
