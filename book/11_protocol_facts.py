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
# # Protocol facts and their sources
#
# Reproduces: the protocol details the paper leaves to its references and the first author's
# code, each with its source.
#
# The paper leaves parts of its protocol to its references and to the first author's code.
# The facts below are what this project relies on where the text is silent; each names its
# source and where this repository checks it against the data. Code and chapters point here
# ("protocol facts") instead of to notes outside the repository.
#
# ## What the text leaves open
#
# - **Figure 3's network** is not in the text. Known from it: a 112 x 112 x 3 input; three
#   convolutional layers, each followed by max-pooling, shared by both tasks; "small filter and
#   stride size"; ReLU; two sub-networks of three fully connected layers each; dropout 0.5 on
#   each sub-network's first fully connected layer; tanh on the last regression layer and a
#   logistic output on the last detection layer; 32 filters in conv1 (Figure 6a shows 32), and
#   at least 16 maps in conv2 and conv3 (Figures 6b, 6c). Everything else (kernel sizes, the
#   widths of the other layers) is this project's choice, kept in `ModelConfig`
#   (`hmlpe/config.py`) and shown in the Network chapter.
# - **The optimiser**: back-propagation, "see [14] for details", i.e. Krizhevsky et al. 2012:
#   SGD with momentum 0.9 and weight decay. No learning rate is given. The profiles' choice
#   (`hmlpe/engine/profiles.py`) and the measurement behind it are in the Training chapter.
#
# ## Joints and parts (paper 4.1)
#
# - 8 joints: nose, neck, left and right shoulder, elbow and wrist. 7 parts: head (nose-neck),
#   left and right shoulder (neck-shoulder), upper arm (shoulder-elbow) and lower arm
#   (elbow-wrist). `hmlpe/skeleton.py`.
# - **Buffy** stores 6 sticks per frame: torso, left upper arm, right upper arm, left lower
#   arm, right lower arm, head. The two sticks of an arm do not share end points; the elbow is
#   the mean of their nearest ends and the nose the midpoint of the head stick (paper 4.1).
#   The end order of a stick is not consistent: in 143 of the 552 test arms an upper or lower
#   arm stick is stored wrist-to-shoulder, or the two sticks meet at their first ends. Ends are
#   therefore chosen by distance, never by position in the file; joints built this way from
#   the ground truth score 100% PCP against the ground-truth sticks
#   (`tests/test_datasets_buffy.py`).
# - **FLIC** annotates the nose but no neck; the first author's public code (GitHub
#   `sijinli/itheano`, `iread/modec.py`) uses the midpoint of the shoulders, as does
#   `hmlpe/data/datasets/flic.py`.
# - **LSP** has 14 joints with neck and head top but no nose (`hmlpe/data/datasets/lsp.py`
#   says how the 8 joints are made).
#
# ## Boxes (the first author's public code, `sijinli/itheano`, `iread/buffy.py` and `iread/modec.py`)
#
# - **Buffy test box**: the upper-body detection window is widened to 1.7 x its width about
#   its centre and keeps its top edge; its bottom becomes top + 4.2 x half the window's
#   height (2.1 x the height); clipped to the image (`boxes.buffy_test_box`).
# - **FLIC test box**: the torso box is widened to 3.5 x its width about its centre; its
#   height grows by (4.5 - 1) x half its height, split evenly above and below; clipped to the
#   image (`boxes.flic_test_box`).
# - The crop is resized to the network input without keeping the aspect ratio (`crops`).
# - Windows in that code: side 30, stride 12, an 8 x 8 grid whose last row and column
#   overhang the 112 crop; a window is positive when the clipped stick is longer than 0.3 x
#   the stick. `LabelConfig.layout = "itheano"` reproduces it; the default `"uniform"` tiles
#   the crop exactly (the Labels chapter compares both).
#
# ## The Buffy test protocol (Table 1)
#
# - 276 test frames (episodes 2, 5, 6); the Buffy package's `techrep2010_buffy_results.mat`
#   holds the upper-body detections (6 frames have none, 92 have several). Counted from the
#   data in the Data chapter.
# - The Buffy package derives a **ground-truth window** from a stickman (upper-body class,
#   height / width = 0.9): top = the smallest y among the torso and head stick ends and the
#   torso stick's centre; bottom = the largest y among the head stick ends and the torso
#   stick's centre; width = height / 0.9, centred halfway between the head stick's and the
#   torso stick's centres (`boxes.buffy_gt_window`).
# - The package's **official association**: a detection matches when its intersection over
#   union with that window exceeds 0.5, which gives 263 of 276 frames (the package's README
#   states a detection rate of 0.9529). The first author's code uses a looser rule,
#   intersection > 0.5 x (window area - intersection), which gives 267 frames: the paper's
#   "subset with correct upper-body detections (267 images)". Frames without a matched
#   detection count as all parts wrong in the "whole test set (276 images)" rows
#   (`boxes.match_detections`; `tests/test_boxes.py` counts both on the data).
#
# ## Metrics
#
# - **Eq. 6** (PCP after Hara and Chellappa): a part is correct when both predicted end points
#   lie within alpha x L of the matching ground-truth end points, in either order; L is the
#   ground-truth part length; alpha = 0.5. Older Buffy code tests parallel and perpendicular
#   offsets instead, so PCP numbers from different evaluators differ (`metrics.pcp`).
# - **Eq. 7** (FLIC): the percentage of test images whose joint error is within r% of a torso
#   size; the paper normalises by the distance between a hip and the opposite shoulder (MODEC's
#   own evaluation code uses left shoulder to right hip). Figure 4 plots r from 0 to 20 for
#   elbows and wrists (`metrics.torso_size`, `metrics.detection_rate`).
#
# ## Published numbers to compare with, beyond the paper's tables
#
# - FLIC, observer-centric labels, recomputed by one evaluator (GitHub
#   `farrajota/human-pose-benchmark`): PCK@0.2 elbow / wrist: MODEC 72.5 / 54.5, Chen and
#   Yuille 2014 89.8 / 86.8, Newell et al. 2016 98.0 / 95.5; PCP upper / lower arm: MODEC
#   82.4 / 50.0.
# - Buffy, all six parts, detected frames only (Eichner et al., technical report 2010):
#   PCP 0.8327.
#
# These rows live in `data/paper_results.json` (`published_elsewhere`) and are shown in the
# FLIC chapter apart from the paper's own numbers (`hmlpe.companion.paper.published_elsewhere`).

# %% tags=["parameters"]
profile = "smoke"  # unused here: every chapter takes the same parameters
run_dir = "../runs/smoke"  # unused here

# %% [markdown]
# The published rows as the library holds them (`data/paper_results.json`); the counts above
# that come from the data (276, 263, 267, 143 of 552) are recomputed by the tests and the Data
# chapter named beside each.

# %%
from hmlpe.companion import paper

paper.published_elsewhere()
