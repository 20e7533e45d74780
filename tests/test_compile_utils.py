"""nn.compile_utils: Keras 3's resolution of 'accuracy' / 'crossentropy' from shapes, History
names, weighted metrics, several outputs with loss weights."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
from nn import losses as L
from nn import metrics as M
from nn.compile_utils import CompileLoss, CompileMetrics, get_loss, get_metric

RNG = np.random.default_rng(0)
PROBS3 = RNG.dirichlet(np.ones(3), 6)
LABELS = np.array([0, 1, 2, 1, 0, 2])
ONE_HOT = np.eye(3)[LABELS]
P1 = RNG.uniform(0.05, 0.95, (6, 1))
Y1 = (RNG.uniform(size=(6, 1)) > 0.5).astype(float)


@pytest.mark.parametrize(
    "y_true, y_pred, accuracy_cls, loss_cls",
    [
        (Y1, P1, M.BinaryAccuracy, L.BinaryCrossentropy),  # one unit: binary
        (Y1[:, 0], P1, M.BinaryAccuracy, L.BinaryCrossentropy),  # one unit wins over lower rank
        (LABELS, PROBS3, M.SparseCategoricalAccuracy, L.SparseCategoricalCrossentropy),  # lower rank: sparse
        (LABELS[:, None], PROBS3, M.SparseCategoricalAccuracy, L.SparseCategoricalCrossentropy),  # last dim 1
        (ONE_HOT, PROBS3, M.CategoricalAccuracy, L.CategoricalCrossentropy),
        (np.ones((6, 3)), PROBS3, M.CategoricalAccuracy, L.CategoricalCrossentropy),  # multi-label: Keras 3 rule
    ],
)
def test_accuracy_and_crossentropy_resolve_from_shapes(y_true, y_pred, accuracy_cls, loss_cls):
    for identifier in ("accuracy", "acc"):
        metric = get_metric(identifier, y_true, y_pred)
        assert type(metric) is accuracy_cls and metric.name == identifier
    assert type(get_metric("ce", y_true, y_pred)).__name__ == loss_cls.__name__
    loss = get_loss("crossentropy", y_true, y_pred)
    assert type(loss) is loss_cls and loss.name == "crossentropy"


def test_history_names_as_keras_reports_them():
    def my_metric(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).mean(axis=-1)

    cm = CompileMetrics(
        ["accuracy", "mape", "auc", M.Precision(name="prec"), my_metric, "mse"], weighted_metrics=["mse"]
    )
    cm.update_state(Y1, P1)
    assert cm.metrics_names == ["accuracy", "mape", "auc", "prec", "my_metric", "mse", "weighted_mse"]
    result = cm.result()
    assert all(isinstance(v, float) for v in result.values())
    assert result["accuracy"] == pytest.approx(float(np.mean((P1 > 0.5) == Y1)))


def test_weighted_metrics_get_sample_weights_and_plain_ones_do_not():
    cm = CompileMetrics(["accuracy"], weighted_metrics=["accuracy"])
    y, p = np.array([[1.0], [0.0]]), np.array([[0.9], [0.9]])
    cm.update_state(y, p, sample_weight=np.array([3.0, 1.0]))
    assert cm.result() == {"accuracy": 0.5, "weighted_accuracy": 0.75}
    cm.reset_state()
    cm.update_state(y, am.tensor(np.array([[0.9], [0.1]])))
    assert cm.result()["accuracy"] == 1.0


def test_compile_loss_single_output_equals_the_loss():
    cl = CompileLoss("sparse_categorical_crossentropy")
    p = am.tensor(PROBS3, requires_grad=True)
    value = cl(LABELS, p, sample_weight=np.arange(6.0))
    expected = L.SparseCategoricalCrossentropy()(LABELS, PROBS3, sample_weight=np.arange(6.0))
    assert float(value) == pytest.approx(float(expected))
    value.backward()
    assert p.grad is not None and cl.metrics == []
    assert float(CompileLoss(L.mse, loss_weights=2.0)(Y1, P1)) == pytest.approx(2 * float(L.MeanSquaredError()(Y1, P1)))


def test_compile_loss_several_outputs_with_weights_and_names():
    names = ["cls", "reg"]
    y_pred = {"cls": am.tensor(PROBS3, requires_grad=True), "reg": am.tensor(P1, requires_grad=True)}
    y_true = {"cls": LABELS, "reg": Y1}
    cl = CompileLoss(
        {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        output_names=names,
    )
    total = cl(y_true, y_pred)
    a = float(L.SparseCategoricalCrossentropy()(LABELS, PROBS3))
    b = float(L.MeanSquaredError()(Y1, P1))
    assert float(total) == pytest.approx(a + 0.5 * b)
    assert [m.name for m in cl.metrics] == ["cls_loss", "reg_loss"]
    assert float(cl.metrics[1].result()) == pytest.approx(b)
    total.backward()
    assert y_pred["reg"].grad is not None
    as_list = CompileLoss(["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    assert float(as_list([LABELS, Y1], [PROBS3, P1])) == pytest.approx(a + 0.5 * b)
    cm = CompileMetrics({"cls": ["accuracy"], "reg": ["mae"]}, output_names=names)
    cm.update_state(y_true, y_pred)
    assert cm.metrics_names == ["cls_accuracy", "reg_mae"]
    with pytest.raises(ValueError, match="one entry per output"):
        CompileLoss(["mse"])([Y1, Y1], [P1, P1])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="list, tuple, or dict"):
        CompileMetrics("accuracy")
    with pytest.raises(ValueError, match="loss_weights"):
        CompileLoss("mse", loss_weights="heavy")
    with pytest.raises(ValueError, match="not yet been built"):
        CompileMetrics(["mse"]).result()


def test_names_match_keras_compile_metrics():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    pytest.importorskip("keras")
    from keras.src.trainers.compile_utils import CompileMetrics as KerasCompileMetrics

    for y_true, y_pred in ((LABELS, PROBS3), (Y1, P1)):
        spec = (["accuracy", "mse", "auc", "top_k_categorical_accuracy"], ["mse", "accuracy"])
        ours, ref = CompileMetrics(*spec), KerasCompileMetrics(*spec)
        ours.build(y_true, y_pred)
        ref.build(y_true, y_pred)
        assert [type(m).__name__ for m in ours.metrics] == [type(m).__name__ for m in ref.metrics]
        assert list(ours.result()) == list(ref.result())
