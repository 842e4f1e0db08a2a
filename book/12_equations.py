# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The method as equations
#
# Reproduces: equations 1-7 of the paper, each beside the library function that implements
# it and a hand-computed check executed on this page; and one table of every difference from
# the paper.
#
# **Eq. 1**, the regression cost of joint $i$ (`hmlpe.network.losses.regression_loss`):
#
# $$E_r(\hat J_i, J_i) = \lVert J_i - \hat J_i \rVert_2^2$$
#
# **Eq. 2**, the label of part $p$ in window $l$ (`hmlpe.data.labels.part_indicator_map`):
#
# $$y_{p,l} = \mathbb{1}\big[\operatorname{len}(\text{window}_l \cap \text{stick}_p) >
#   \beta \operatorname{len}(\text{stick}_p)\big]$$
#
# **Eq. 3**, the detection cost (`hmlpe.network.losses.detection_loss`):
#
# $$E_d(\hat y_{p,l}, y_{p,l}) = -y_{p,l}\log \hat y_{p,l} - (1 - y_{p,l})\log(1 - \hat y_{p,l})$$
#
# **Eq. 4**, the joint cost over training images $t$ (`hmlpe.network.losses.total_loss`):
#
# $$\Phi = \lambda_r \sum_t \sum_i E_r\big(\hat J_i^{(t)}, J_i^{(t)}\big)
#        + \lambda_d \sum_t \sum_p \sum_l E_d\big(\hat y_{p,l}^{(t)}, y_{p,l}^{(t)}\big)$$
#
# **Eq. 5**, the activation of unit $i$ from the units $R_i$ it reads
# (`hmlpe.network.model.HMLPENet`: convolution and fully connected layers, ReLU):
#
# $$v(i) = f_{act}\Big(\sum_{j \in R_i} w_{i,j} v(j)\Big)$$
#
# **Eq. 6**, PCP: a part with predicted ends $e_1, e_2$ and true ends $g_1, g_2$ of length
# $L$ is correct when (`hmlpe.metrics.pcp`)
#
# $$\big(\lVert e_1 - g_1\rVert \le \alpha L \wedge \lVert e_2 - g_2\rVert \le \alpha L\big)
#   \vee \big(\lVert e_2 - g_1\rVert \le \alpha L \wedge \lVert e_1 - g_2\rVert \le \alpha L\big)$$
#
# **Eq. 7**, the accuracy of joint $J_i$ at $r$ percent of the torso size
# (`hmlpe.metrics.joint_accuracy_curve`, torso by `hmlpe.metrics.torso_size`):
#
# $$acc_{J_i}(r) = \frac{100}{N} \sum_{t=1}^{N} \mathbb{1}\Big(
#   \frac{100 \lVert J_i^{(t)} - \hat J_i^{(t)}\rVert_2}{\lVert J^{(t)}_{thip} - J^{(t)}_{rsho}\rVert_2}
#   \le r\Big)$$
#
# ## The checks
#
# Each function above, on a case small enough to compute by hand (the working is in the
# docstrings of `hmlpe.companion.equations`), executed now:

# %% tags=["parameters"]
profile = "smoke"  # unused here: every chapter takes the same parameters
run_dir = "../runs/smoke"  # unused here

# %% tags=["hide-input"]
from hmlpe.companion import differences, equations

checks = equations.run_checks()
failed = checks[checks["check"] != "passes"]
print(f"{len(checks) - len(failed)} of {len(checks)} checks pass")
(
    checks.style.hide(axis="index")
    .set_uuid("equation-checks")
    .set_table_styles([{"selector": "td, th", "props": "padding: 2px 8px; vertical-align: top;"}])
)

# %% [markdown]
# ## Differences from the paper
#
# Every deviation from the paper (*deviation*: the paper says otherwise) and every choice made
# where it is silent (*choice*), with the reason and where it is measured or shown. The
# "ours" column is read from the configuration and the profiles (`hmlpe.config`,
# `hmlpe.engine.profiles`) when this page runs, through `hmlpe.companion.differences`.

# %% tags=["hide-input"]
diffs = differences.differences_table()
(
    diffs.style.hide(axis="index")
    .set_uuid("differences")
    .set_table_styles([{"selector": "td, th", "props": "padding: 2px 8px; vertical-align: top;"}])
)
