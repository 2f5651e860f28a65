"""Synthetic data: the generator contract (labels, partitions, seeds), the generated sets."""
