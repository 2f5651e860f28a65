"""Data set preparation: scanning, auditing, fixed splits, manifests and the decoded cache."""
