"""Data preparation: dataset readers, person boxes, crops and their cache, the training and test
pipelines, augmentation (paper 4.1) and the part indicator labels (eq. 2)."""
