"""Dice, Tversky, Circle and CategoricalGeneralizedCrossEntropy against installed Keras 3
(values and gradients; the op table checks Dice/Tversky/GCE to second order)."""

import os

import numpy as np
import pytest

import autograd_mini as am
import nn

os.environ.setdefault("KERAS_BACKEND", "jax")
R = np.random.RandomState(0)
YT = (R.uniform(size=(4, 6)) > 0.5).astype("float32")
YP = R.uniform(0.05, 0.95, (4, 6)).astype("float32")
LABELS = np.array([0, 1, 0, 1, 2, 2])
EMB = R.standard_normal((6, 4)).astype("float32")
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)
PROBS = R.uniform(0.1, 1, (5, 3)).astype("float32")
PROBS /= PROBS.sum(1, keepdims=True)
GCE_LABELS = np.array([0, 2, 1, 1, 0])

CASES = [
    ("Dice", {}, YT, YP),
    ("Dice", {"axis": 1}, YT, YP),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, YT, YP),
    ("Tversky", {"axis": -1}, YT, YP),
    ("Circle", {}, LABELS, EMB),
    ("Circle", {"gamma": 10.0, "margin": 0.25}, LABELS, EMB),
    ("CategoricalGeneralizedCrossEntropy", {}, GCE_LABELS, PROBS),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, GCE_LABELS, PROBS),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_equals_keras_value_gradient_and_config(case):
    keras = pytest.importorskip("keras")
    jax = pytest.importorskip("jax")
    name, kwargs, y_true, y_pred = case
    ours, theirs = getattr(nn.losses, name)(**kwargs), getattr(keras.losses, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    pred = am.tensor(y_pred, requires_grad=True)
    value = ours(y_true, pred)
    value.backward()
    expected = theirs(y_true, y_pred)
    np.testing.assert_allclose(float(value), float(expected), rtol=1e-5)
    grad = jax.grad(lambda p: theirs(y_true, p))(y_pred)
    np.testing.assert_allclose(pred.grad.data, np.asarray(grad), rtol=1e-4, atol=1e-6)
    function = {"CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy"}.get(name, name.lower())
    assert nn.losses.get(function) is not None


def test_circle_per_sample_equals_keras():
    keras = pytest.importorskip("keras")
    np.testing.assert_allclose(
        nn.losses.circle(LABELS, EMB).data, np.asarray(keras.losses.circle(LABELS, EMB)), rtol=1e-5
    )
