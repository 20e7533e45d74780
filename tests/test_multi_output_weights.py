"""Per-output sample weights of a multi-output model (Keras: a dict by output name, or a list
matching a list of targets): each output's loss is weighted by its own array."""

from __future__ import annotations

import numpy as np
import pytest

import nn


def _model(as_dict):
    nn.utils.set_random_seed(0)
    inputs = nn.Input((4,), name="x")
    a = nn.layers.Dense(1, name="a")(inputs)
    b = nn.layers.Dense(2, name="b")(inputs)
    model = nn.Model(inputs, {"a": a, "b": b} if as_dict else [a, b])
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mse"} if as_dict else ["mse", "mse"], jit_compile=False)
    return model


@pytest.mark.parametrize("as_dict", [True, False])
def test_per_output_sample_weights(as_dict):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    ya, yb = rng.normal(size=(32, 1)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")
    ones, zeros = np.ones(32, "float32"), np.zeros(32, "float32")

    def evaluate(weights):
        model = _model(as_dict)
        y = {"a": ya, "b": yb} if as_dict else [ya, yb]
        sw = None if weights is None else ({"a": weights[0], "b": weights[1]} if as_dict else list(weights))
        return model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=32)

    unweighted, with_ones = evaluate(None), evaluate((ones, ones))
    assert np.allclose(unweighted, with_ones)
    only_a, only_b = evaluate((ones, zeros)), evaluate((zeros, ones))
    first = np.atleast_1d(only_a)[0] + np.atleast_1d(only_b)[0]
    assert np.isclose(first, np.atleast_1d(unweighted)[0], rtol=1e-5)  # (each output's loss weighted alone)
    model = _model(as_dict)
    y = {"a": ya, "b": yb} if as_dict else [ya, yb]
    sw = (
        {"a": ones, "b": np.linspace(0, 1, 32, dtype="float32")}
        if as_dict
        else [ones, np.linspace(0, 1, 32, dtype="float32")]
    )
    history = model.fit(x, y, sample_weight=sw, epochs=2, verbose=0, validation_split=0.25)
    assert np.isfinite(history.history["loss"]).all() and np.isfinite(history.history["val_loss"]).all()
