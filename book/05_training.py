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
# # Training
#
# Reproduces: the training protocol of section 4.2 (pre-training on the pooled training
# sets, then fine-tuning on Buffy and on FLIC), with its learning curves and costs.
#
# The paper pre-trains one network on all its training data "in order to obtain an initial
# network", then trains it further on the training set of Buffy or of FLIC; the network
# evaluated on each test set is the one fine-tuned on that dataset (section 4.2). It trains
# with back-propagation and refers to Krizhevsky et al. [14] "for details"; it gives no
# learning rate, schedule or number of epochs for these stages (only its GPU training time,
# and, for the study of Table 3, the epoch at which that table is read). This chapter runs
# the protocol with the
# chosen *profile*, shows every setting and where it comes from, and draws the learning
# curves. The next chapters evaluate the fine-tuned networks it leaves in the run folder.

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run uses
run_dir = "../runs/smoke"  # where the run's results are (stage folders, evaluations)
device = "auto"  # "auto", "cpu", "cpu-fp32", "cuda" (hmlpe.engine.device)
seed = 0  # seed of the weights' initialisation and of the augmentation streams
data_root = None  # None: $HMLPE_DATA, else data/data_roots.txt (as chapters 2 and 3)
data_pack = None  # a data pack to read the crops from (None: $HMLPE_DATA_PACK, else none)
lambda_r = None  # eq. 4 weight of the regression task (None: the profile's)
lambda_d = None  # eq. 4 weight of the detection tasks (None: the profile's)
pretrain_epochs = None  # None: the profile's
finetune_epochs = None  # None: the profile's (an int for both datasets, or {"buffy": n, "flic": m})

# %%
import inspect
import textwrap
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hmlpe import config as hconfig
from hmlpe.companion import compute, history, paper, runinfo
from hmlpe.data.datasets import load_pool
from hmlpe.data.source import DataSource
from hmlpe.engine import profiles
from hmlpe.engine.layout import RunLayout
from hmlpe.engine.protocol import run_protocol

run_dir = Path(run_dir)
overrides = {}
if lambda_r is not None:
    overrides["loss.lambda_r"] = float(lambda_r)
if lambda_d is not None:
    overrides["loss.lambda_d"] = float(lambda_d)
prof = profiles.build_profile(
    profile,
    overrides,
    seed=seed,
    device=device,
    pretrain_epochs=pretrain_epochs,
    finetune_epochs=finetune_epochs,
)
source = DataSource.resolve(data_root, data_pack)  # where every cell below reads the data
print(f"profile: {prof.name} ({prof.description})")

# %% [markdown]
# ## Profiles
#
# A profile fixes how much training a run does; everything else is shared. The table lists
# every profile of `hmlpe.engine.profiles`, with the one this run uses (after the chapter's
# parameters) highlighted. Epoch counts are the reproduction's choice; the image visits of
# pre-training (epochs x visits per image per epoch x pool images) are set beside the paper's
# Table 3 epoch 100: 100 paper epochs x 32 x 8427 images = 26,966,400 visits.

# %% tags=["hide-input"]
rows = {}
for name, p in profiles.PROFILES.items():
    p = prof if name == prof.name else p
    cap = p.base.data.max_train_examples
    pre_visits = compute.profile_visits(p, source)["pretrain"]
    rows[name] = {
        "epoch unit": p.epoch_unit,
        "pre-training epochs": p.pretrain_epochs,
        "pre-training image visits": f"{pre_visits:,}",
        "share of the paper's 27M": f"{pre_visits / hconfig.PAPER_TABLE3_VISITS:.2%}",
        **{f"fine-tuning epochs ({ds})": n for ds, n in p.finetune_epochs.items()},
        "fine-tuning lr scale": f"{p.finetune_lr_scale:g}",
        "Table 3 sweep epochs": p.sweep.epochs,
        "training examples per dataset": "all" if cap is None else f"at most {cap}",
        "batch": p.base.optim.batch_size,
        "description": p.description,
    }
profile_table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("profile")


def shade_current(row):
    style = "background-color: #e8f0fe; font-weight: bold" if row.name == prof.name else ""
    return [style] * len(row)


(
    profile_table.style.set_uuid("profiles")
    .apply(shade_current, axis=1)
    .set_properties(subset=["description"], **{"font-size": "85%", "min-width": "14em"})
)

# %% [markdown]
# ## Every setting, and where it comes from
#
# The run's base configuration. The *note* column is the comment that `hmlpe/config.py`
# writes beside each field: "paper ..." marks a value the paper states, "[14]" one taken from
# the reference the paper cites for its training, everything else is the reproduction's
# choice. The optimiser's own documentation says the same for the learning rate:

# %% tags=["hide-input"]
for cls in (hconfig.OptimConfig, hconfig.StageConfig):
    print(
        f"{cls.__name__}:",
        textwrap.fill(" ".join(inspect.getdoc(cls).split()), width=76, subsequent_indent="  "),
    )

# %% tags=["hide-input"]
(
    runinfo.config_table(prof.base)
    .style.set_uuid("config")
    .set_properties(subset=["note"], **{"font-size": "85%"})
)

# %% [markdown]
# The three stages differ only in their training set, epochs and learning-rate scale
# (`Profile.stage_config`). An epoch is counted in the unit the profile names: a *pass* visits
# every training image once; the paper's epoch visits it 32 times (its training set is
# "augmented by a factor of 32", 16 crops x mirror), so one paper epoch is 32 passes. The
# learning rate follows the configured schedule over each stage's steps
# (`hmlpe.engine.training.learning_rate`; the table gives the rate at the start of each epoch):

# %% tags=["hide-input"]
stages = compute.stage_table(prof, source)
print(
    f"the paper's Table 3 epoch 100: 100 x 32 x {hconfig.PAPER_POOL_IMAGES} pool images = "
    f"{hconfig.PAPER_TABLE3_VISITS:,} image visits"
)
stages.style.set_uuid("stages")

# %% [markdown]
# ## The training pool
#
# The paper pools six datasets; three of them (ETHZ, SA, WAF) are not available here, so
# our pool is smaller. A profile may also cap the number of examples per dataset.

# %% tags=["hide-input"]
pool_records, pool_counts = load_pool(
    replace(prof.base.data, max_train_examples=None), source.require_root("the pool's table")
)
pool = pd.DataFrame(pool_counts).T[["total", "kept"]].rename_axis("dataset")
pool.loc["pool"] = pool.sum()
paper_pool = paper.results()["training_pool"]
print(
    f"paper ({paper_pool['ref']}): {paper_pool['n_images']} images from "
    f"{', '.join(paper_pool['datasets'])}"
)
print(
    f"ours: {int(pool.loc['pool', 'kept'])} images kept (images with an occluded or "
    f"missing joint are removed, as the paper does), "
    f"{int(pool.loc['pool', 'kept']) - paper_pool['n_images']:+d} against the paper"
)
cap = prof.base.data.max_train_examples
print(f"this profile trains on {'all of them' if cap is None else f'at most {cap} per dataset'}")
pool.style.set_uuid("pool")

# %% [markdown]
# ## Running the protocol
#
# `hmlpe.engine.protocol.run_protocol` trains the three stages into `pretrain/`, `finetune_buffy/`
# and `finetune_flic/` of the run folder. A stage whose checkpoint already holds all its
# epochs is skipped and an unfinished one is resumed, so executing this chapter again costs
# only the time to read the results. The test-set evaluations (Tables 1 and 2) are then
# written to `eval_buffy/` and `eval_flic/`, unless they are already there and newer than
# the checkpoint they evaluate. A run folder made with other settings is refused by the
# protocol rather than silently reused; a folder of exported results (`hmlpe export`, no
# weights) is only read.

# %%
run = RunLayout(run_dir)
if run.is_exported:
    folders = run.existing_folders()
    print(
        f"{run_dir} holds exported results (no weights): nothing is trained, the histories "
        "and evaluations are read"
    )
else:
    folders = run_protocol(prof, run_dir, source=source)
print("run folder holds:", ", ".join(sorted(folders)))

# %% [markdown]
# ## Learning curves
#
# Training error (solid: the running mean over each epoch's batches, dropout on) and test
# error (dashed: measured after each epoch in evaluation mode, averaged over the Buffy and
# FLIC test crops, as the paper's Figure 5 does). The fine-tunings start where pre-training
# ends. Regression error: eq. 1 summed over the 8 joints, in crop-normalised coordinates,
# mean over images; detection error: eq. 3 averaged over images, parts and windows
# ($\ln 2 = 0.693$ for an output that always says 0.5).

# %% tags=["hide-input"]
labels = {
    "pretrain": "pre-training (pool)",
    "finetune_buffy": "fine-tuning (Buffy)",
    "finetune_flic": "fine-tuning (FLIC)",
}
histories = {labels[k]: history.load_history(folders[k]) for k in labels}
n_pre = int(histories[labels["pretrain"]]["epoch"].max())
fig, (ax_r, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
history.plot_learning_curves(
    histories, ax_r, ax_d, offsets={labels["finetune_buffy"]: n_pre, labels["finetune_flic"]: n_pre}
)
ax_r.set_title("pose regression")
ax_d.set_title("body-part detection")
for ax in (ax_r, ax_d):
    ax.set_xlabel("epoch (pre-training, then each fine-tuning)")
fig.tight_layout()
plt.show()

# %% [markdown]
# The last epoch of each stage, with the test errors on each test set separately:

# %% tags=["hide-input"]
last = pd.DataFrame({label: h.iloc[-1] for label, h in histories.items()})
names = {
    "train_regression": "regression, training",
    "test_regression_buffy": "regression, Buffy test",
    "test_regression_flic": "regression, FLIC test",
    "train_detection": "detection, training",
    "test_detection_buffy": "detection, Buffy test",
    "test_detection_flic": "detection, FLIC test",
}
last = last.loc[[c for c in names if c in last.index]].astype(float).rename(index=names)
last.rename_axis("error at the last epoch").style.set_uuid("last-epoch").format("{:.4f}")

# %% [markdown]
# ## Throughput and time
#
# Training images per second (from each epoch's log; the augmentation, forward and backward
# passes, not the test evaluation) and the training time of each stage (sum over its epochs),
# on the device named in the provenance table below.

# %% tags=["hide-input"]
summary = history.stage_summary(histories)
(
    summary[["epochs", "images/s (median)", "images/s (last epoch)", "training time"]]
    .style.set_uuid("throughput")
    .format({"images/s (median)": "{:.1f}", "images/s (last epoch)": "{:.1f}"})
)

# %% [markdown]
# ## Provenance
#
# Code commit, device, time, configuration and data of each stage. The data rows are the
# SHA-256 of the checksum manifests in `data/checksums/` (each lists the SHA-256 of every
# file of one dataset) and the fast check of the data root against them (existence, sizes,
# record counts).

# %% tags=["hide-input"]
prov = pd.concat({k: runinfo.provenance_frame(folders[k])["value"] for k in labels}, axis=1)
prov.style.set_uuid("provenance-training").set_properties(**runinfo.PROVENANCE_CSS)

# %% tags=["hide-input"]
(
    runinfo.data_provenance_frame(source.require_root("the data provenance"))
    .style.set_uuid("provenance-data")
    .set_properties(**runinfo.PROVENANCE_CSS)
)
