"""The protocol engine: training, early stopping, evaluation and the benchmark matrix."""
