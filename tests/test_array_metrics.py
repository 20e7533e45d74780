"""A metric whose value is an array (``F1Score()``: one score per class, Keras' default
``average=None``) goes through fit, the progress bar and evaluate as in Keras 3: History keeps
the arrays, the bar prints their mean."""

from __future__ import annotations

import numpy as np
import pytest

import nn


@pytest.mark.parametrize("jit_compile", [False, "auto"])
def test_f1_score_per_class_in_fit_and_evaluate(capsys, jit_compile):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 64)]
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(3, activation="softmax")])
    optimizer = nn.optimizers.SGD(0.0)  # (the weights stay: the epoch's score is the final model's)
    model.compile(
        optimizer=optimizer, loss="categorical_crossentropy", metrics=[nn.metrics.F1Score()], jit_compile=jit_compile
    )
    history = model.fit(x, y, epochs=2, verbose=1, validation_split=0.25)
    scores = history.history["f1_score"]
    assert len(scores) == 2 and all(s.shape == (3,) for s in scores)
    assert history.history["val_f1_score"][-1].shape == (3,)
    metric = nn.metrics.F1Score()
    metric.update_state(y[:48], model.predict(x[:48], verbose=0))
    np.testing.assert_allclose(scores[-1], metric.result(), rtol=1e-6)
    printed = capsys.readouterr().out
    assert f"f1_score: {float(np.mean(scores[-1])):.4f}" in printed
    loss, f1 = model.evaluate(x, y, verbose=0)
    assert np.ndim(loss) == 0 and np.shape(f1) == (3,)
