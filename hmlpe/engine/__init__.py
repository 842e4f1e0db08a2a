"""Running the network: devices, checkpoints, training and its profiles, the protocol
(pre-train, fine-tune, evaluate, sweep), inference, evaluation, prediction and the benchmark;
data-parallel training under torchrun (distributed) and the sweep and seeds as jobs (jobs)."""
