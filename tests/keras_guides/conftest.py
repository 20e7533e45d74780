"""Keras' own guides (keras-io ``guides/*.py``), ported: the programs with only the imports
changed (``import nn as keras``; ``from nn import ops``), small data instead of downloads and
few epochs. Each program runs on nn, and on installed Keras 3 when present (``backend``
fixture); figures that do not depend on random initialisation are compared between the two
(weights set from a fixed RandomState where the guide initialises randomly)."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.fixture(params=["nn", "keras"])
def keras(request):
    """The Keras namespace a guide program runs on: nn, or installed Keras 3 (skipped when absent)."""
    if request.param == "keras":
        return pytest.importorskip("keras")
    import nn

    nn.backend.clear_session()
    return nn


def set_weights_from(model, seed=0, scale=0.3):
    """Every weight drawn from RandomState(seed) in ``model.weights`` order (the same numbers on
    nn and Keras when both list the weights alike); moving variances stay positive."""
    rng = np.random.RandomState(seed)
    arrays = []
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.name:
            arrays.append(np.ones(shape, "float32"))
        else:
            arrays.append((rng.standard_normal(shape) * scale).astype("float32"))
    model.set_weights(arrays)


def numbers(x):
    """A numpy array of a tensor of either library."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        try:
            return np.asarray(x.numpy())
        except Exception:  # noqa: BLE001 - a jax array's numpy() is fine; anything else: asarray
            pass
    return np.asarray(x)
