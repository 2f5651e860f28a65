"""The probe heads against their definitions: scikit-learn's own probabilities, DINO's vote."""

from __future__ import annotations

import numpy as np
import pytest

import bench
from bench.engine.heads import KnnHead, fit_knn, fit_linear, head_from_state
from bench.labels import NUM_CLASSES


def blobs(classes, per_class, seed=0, width=6):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(NUM_CLASSES, width))
    labels = np.repeat(np.array(classes), per_class)
    return centres[labels] + rng.normal(0, 1, size=(len(labels), width)), labels


@pytest.mark.parametrize("classes", [[0, 1, 2, 3, 4], [1, 3]])
def test_the_linear_head_gives_scikit_learns_probabilities_over_the_five_classes(classes):
    from sklearn.linear_model import LogisticRegression

    train, labels = blobs(classes, 20)
    val, val_labels = blobs(classes, 5, seed=1)
    probe = bench.load_protocol("linear-probe").probe
    fitted = fit_linear(train, labels, val, val_labels, probe, monitor="val_f1", balanced=False)
    head = fitted.head
    assert len(fitted.history) == probe.c_steps and 1 <= fitted.best <= probe.c_steps
    reference = LogisticRegression(C=head.c, max_iter=probe.max_iter)
    reference.fit((train - head.mean) / head.scale, labels)
    ours = head.probabilities(val)
    theirs = reference.predict_proba((val - head.mean) / head.scale)
    assert ours.shape == (len(val), NUM_CLASSES)
    absent = [c for c in range(NUM_CLASSES) if c not in classes]
    assert np.all(ours[:, absent] == 0)
    np.testing.assert_allclose(ours[:, classes], theirs, atol=1e-3)  # warm start vs cold
    again = head_from_state(head.state()).probabilities(val)
    np.testing.assert_array_equal(again, ours)


def test_the_knn_vote_is_dinos_weighted_vote():
    bank = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    labels = np.array([0, 1, 2, 2])
    head = KnnHead(bank, labels, k=2, temperature=0.5)
    query = np.array([[2.0, 0.0]])  # cosine 1 with row 0, 0.8 with row 1: those two vote
    votes = np.zeros(NUM_CLASSES)
    votes[0], votes[1] = np.exp(1 / 0.5), np.exp(0.8 / 0.5)
    np.testing.assert_allclose(head.probabilities(query)[0], votes / votes.sum(), rtol=1e-6)


def test_k_is_at_most_the_training_images():
    train, labels = blobs([0, 1, 2, 3, 4], 1)  # one shot: five training images
    probe = bench.load_protocol("knn").probe
    fitted = fit_knn(train, labels, train, labels, probe)
    assert fitted.history[0]["k"] == 5
    assert fitted.head.probabilities(train).shape == (5, NUM_CLASSES)
