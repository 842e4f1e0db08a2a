"""Running the network: devices, checkpoints, training and its profiles, the protocol
(pre-train, fine-tune, evaluate, sweep), inference, evaluation, prediction and the benchmark."""
