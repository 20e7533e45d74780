"""nn.metrics against Keras 3: documented numbers, an installed Keras on random batches (with
and without sample weights, accumulated over two batches), the stateful API and names."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
from nn import metrics as M


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


# ---- documented numbers (Keras' docstrings) ----------------------------------------------------------------
def test_accuracy_docstring_numbers():
    m = M.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert float(m.result()) == pytest.approx(0.75)
    m.reset_state()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert float(m.result()) == pytest.approx(0.5)
    m = M.CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert float(m.result()) == pytest.approx(0.5)
    m = M.SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert float(m.result()) == pytest.approx(0.5)
    m = M.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert float(m.result()) == pytest.approx(0.5)
    m = M.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert float(m.result()) == pytest.approx(0.5)


def test_binary_accuracy_thresholds_predictions_only():
    # Keras 3: y_true == (y_pred > threshold); soft labels are compared as given
    assert M.binary_accuracy(np.array([[0.7]]), np.array([[0.9]])).item() == 0.0
    assert M.binary_accuracy(np.array([[1.0]]), np.array([[0.9]]), threshold=0.95).item() == 0.0


def test_confusion_docstring_numbers():
    m = M.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert float(m.result()) == pytest.approx(2 / 3)
    m = M.Recall()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert float(m.result()) == pytest.approx(2 / 3)
    m = M.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert float(m.result()) == 0.0
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert float(m.result()) == pytest.approx(0.75)
    m = M.AUC(num_thresholds=3, from_logits=True)
    m.update_state([0, 0, 1, 1], [-3.0, 0.0, -0.85, 2.2])  # sigmoid of the probabilities above
    assert float(m.result()) == pytest.approx(0.75)


def test_regression_docstring_numbers():
    m = M.R2Score()
    m.update_state([[1], [4], [3]], [[2], [4], [4]])
    assert float(m.result()) == pytest.approx(0.57142854, rel=1e-6)
    m = M.RootMeanSquaredError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert float(m.result()) == pytest.approx(0.5)
    m = M.F1Score(threshold=0.5)
    m.update_state(
        np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]), np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    )
    np.testing.assert_allclose(m.result(), [0.5, 0.8, 0.6666667], rtol=1e-5)


# ---- against an installed Keras --------------------------------------------------------------------------------
def _batches():
    rng = np.random.default_rng(1)
    n = 40
    d = {
        "yb": rng.integers(0, 2, (n, 1)).astype("float32"),
        "pb": rng.uniform(0, 1, (n, 1)).astype("float32"),
        "yc": np.eye(4, dtype="float32")[rng.integers(0, 4, n)],
        "pc": rng.dirichlet(np.ones(4), n).astype("float32"),
        "ys": rng.integers(0, 4, n),
        "ym": rng.integers(0, 2, (n, 3)).astype("float32"),
        "pm": rng.uniform(0, 1, (n, 3)).astype("float32"),
        "sw": rng.uniform(0, 2, n).astype("float32"),
        "yi": rng.integers(0, 4, n),
    }
    d["ymape"] = d["ym"] + 1
    return d


CASES = [
    ("BinaryAccuracy", {}, "yb", "pb"),
    ("CategoricalAccuracy", {}, "yc", "pc"),
    ("SparseCategoricalAccuracy", {}, "ys", "pc"),
    ("TopKCategoricalAccuracy", {"k": 2}, "yc", "pc"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "ys", "pc"),
    ("Accuracy", {}, "ys", "yi"),
    ("AUC", {}, "yb", "pb"),
    ("AUC", {"curve": "PR"}, "yb", "pb"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "yb", "pb"),
    ("AUC", {"multi_label": True, "label_weights": [1.0, 2.0, 0.5]}, "ym", "pm"),
    ("AUC", {"num_thresholds": 7, "summation_method": "majoring"}, "ym", "pm"),
    ("Precision", {}, "yb", "pb"),
    ("Recall", {}, "yb", "pb"),
    ("Precision", {"thresholds": [0.2, 0.7]}, "ym", "pm"),
    ("Recall", {"top_k": 2}, "ym", "pm"),
    ("Precision", {"class_id": 1}, "ym", "pm"),
    ("TruePositives", {}, "yb", "pb"),
    ("FalseNegatives", {"thresholds": [0.3, 0.6]}, "ym", "pm"),
    ("F1Score", {}, "ym", "pm"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "ym", "pm"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted"}, "ym", "pm"),
    ("F1Score", {"average": "micro"}, "ym", "pm"),
    ("R2Score", {}, "ym", "pm"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "ym", "pm"),
    ("RootMeanSquaredError", {}, "ym", "pm"),
    ("MeanAbsoluteError", {}, "ym", "pm"),
    ("MeanSquaredError", {}, "ym", "pm"),
    ("MeanAbsolutePercentageError", {}, "ymape", "pm"),
    ("MeanSquaredLogarithmicError", {}, "ym", "pm"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "ym", "pm"),
    ("CategoricalCrossentropy", {}, "yc", "pc"),
    ("SparseCategoricalCrossentropy", {}, "ys", "pc"),
    ("KLDivergence", {}, "yc", "pc"),
    ("Poisson", {}, "ym", "pm"),
    ("Hinge", {}, "ym", "pm"),
    ("SquaredHinge", {}, "ym", "pm"),
    ("CategoricalHinge", {}, "yc", "pc"),
    ("LogCoshError", {}, "ym", "pm"),
    ("CosineSimilarity", {}, "ym", "pm"),
]


@pytest.mark.parametrize("weighted", [False, True])
def test_metrics_match_keras_over_two_batches(keras, weighted):
    d = _batches()
    for name, kwargs, y_key, p_key in CASES:
        ours, ref = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
        for part in (slice(0, 20), slice(20, None)):  # one shape: jax compiles once
            sw = d["sw"][part] if weighted else None
            ours.update_state(d[y_key][part], d[p_key][part], sample_weight=sw)
            ref.update_state(d[y_key][part], d[p_key][part], sample_weight=sw)
        np.testing.assert_allclose(ours.result(), np.asarray(ref.result()), rtol=1e-4, atol=1e-5, err_msg=name)
        assert ours.get_config().keys() == ref.get_config().keys(), name
        if kwargs.get("thresholds") is None and name not in (
            "Precision",
            "Recall",
            "AUC",
            "TruePositives",
            "FalseNegatives",
        ):
            assert ours.name == ref.name


# ---- the stateful API ---------------------------------------------------------------------------------------
def test_state_accumulates_resets_and_accepts_tensors():
    m = M.Mean()
    m.update_state([1.0, 3.0])
    m.update_state(am.tensor([5.0]), sample_weight=[2.0])
    assert float(m.result()) == pytest.approx((1 + 3 + 10) / 4)
    m.reset_state()
    assert float(m.result()) == 0.0
    s = M.Sum()
    assert float(s([1.0, 2.0])) == 3.0
    acc = M.SparseCategoricalAccuracy()
    acc.update_state(am.tensor([1, 0]), am.tensor(np.array([[0.1, 0.9], [0.2, 0.8]]), requires_grad=True))
    assert float(acc.result()) == 0.5 and acc.result().dtype == np.float32


def test_mean_metric_wrapper_with_a_function():
    def double_error(y_true, y_pred):
        return 2 * np.abs(np.asarray(y_true) - np.asarray(y_pred)).mean(axis=-1)

    m = M.MeanMetricWrapper(double_error)
    m.update_state([[1.0], [0.0]], [[0.5], [0.5]])
    assert m.name == "double_error" and float(m.result()) == 1.0


def test_get_serialize_deserialize():
    assert isinstance(M.get("auc"), M.AUC)
    assert isinstance(M.get("mape"), M.MeanAbsolutePercentageError)
    assert isinstance(M.get("top_k_categorical_accuracy"), M.TopKCategoricalAccuracy)
    assert isinstance(M.get("r2_score"), M.R2Score) and isinstance(M.get("f1_score"), M.F1Score)
    assert M.get(M.binary_accuracy) is M.binary_accuracy and M.get(None) is None
    with pytest.raises(ValueError, match="binary_accuracy"):
        M.get("binary_acuracy")
    for original in [M.AUC(curve="PR", num_thresholds=50), M.BinaryAccuracy(threshold=0.3), M.F1Score(average="macro")]:
        restored = M.deserialize(M.serialize(original))
        assert type(restored) is type(original) and restored.get_config() == original.get_config()


def test_deprecated_resolve_and_mean_update_still_work():
    name, fn = M.resolve("accuracy", "sparse_categorical_crossentropy", 3)
    assert name == "accuracy" and fn is M.sparse_categorical_accuracy
    assert M.resolve("accuracy", "mse", 1)[1] is M.binary_accuracy
    m = M.Mean()
    m.update(0.5, 4)
    m.update(np.array([1.0, 0.0]))
    assert float(m.result()) == pytest.approx(3.0 / 6)
