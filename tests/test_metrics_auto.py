"""Compiled metrics give the same bits eager and under ``jit_compile="auto"`` (the replay): they see
the model's outputs themselves, never the logits Keras marks on a softmax output (a replay passes
no such mark), as Keras' JAX and torch backends compute them."""

from __future__ import annotations

import numpy as np
import pytest

import nn


@pytest.mark.parametrize(
    "metric, activation",
    [
        (lambda: nn.metrics.CategoricalCrossentropy(), "softmax"),
        (lambda: nn.metrics.BinaryCrossentropy(), "sigmoid"),
        (lambda: "categorical_crossentropy", "softmax"),
    ],
)
def test_logit_marked_outputs_give_the_same_metric_eager_and_replayed(metric, activation):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 64)]
    histories, scores = {}, {}
    for jit_compile in (False, "auto"):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((4,)), nn.Dense(3, activation=activation)])
        model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[metric()], jit_compile=jit_compile)
        histories[jit_compile] = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25).history
        scores[jit_compile] = model.evaluate(x, y, verbose=0)
        if jit_compile == "auto":
            assert not model.train_function.step.eager
    assert histories[False] == histories["auto"]
    assert scores[False] == scores["auto"]
