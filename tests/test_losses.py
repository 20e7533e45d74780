"""nn.losses against Keras 3: its docstring numbers, an installed Keras on random inputs (all
reductions, sample weights, float32/float64), finite-difference gradients, the fused path."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn import losses as L

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


# ---- Keras' documented numbers (docstrings of keras/src/losses/losses.py) --------------------------------
A_TRUE, A_PRED = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]


@pytest.mark.parametrize(
    "loss, y_true, y_pred, expected",
    [
        (L.MeanSquaredError(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]], 0.5),
        (L.MeanSquaredError(reduction="sum"), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]], 1.0),
        (L.MeanAbsoluteError(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]], 0.5),
        (L.MeanAbsolutePercentageError(), [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]], 50.0),
        (L.MeanSquaredLogarithmicError(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]], 0.240),
        (L.Huber(), A_TRUE, A_PRED, 0.155),
        (L.LogCosh(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], 0.108),
        (L.Hinge(), A_TRUE, A_PRED, 1.3),
        (L.SquaredHinge(), A_TRUE, A_PRED, 1.86),
        (L.CategoricalHinge(), A_TRUE, A_PRED, 1.4),
        (L.KLDivergence(), A_TRUE, A_PRED, 0.458),
        (L.Poisson(), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], 0.5),
        (L.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5),
        (L.BinaryCrossentropy(from_logits=True), [0.0, 1.0, 0.0, 0.0], [-18.6, 0.51, 2.94, -12.8], 0.865),
        (L.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
        (L.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, L.Loss) else None,
)
def test_keras_docstring_numbers(loss, y_true, y_pred, expected):
    assert float(loss(np.array(y_true), np.array(y_pred))) == pytest.approx(expected, abs=1e-3)


def test_reductions_and_sample_weight_follow_keras_rules():
    y_true, y_pred = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0]])
    sw = np.array([0.7, 0.3])
    mse = L.MeanSquaredError
    assert float(mse()(y_true, y_pred, sample_weight=sw)) == pytest.approx(0.25)  # Keras' docstring
    np.testing.assert_allclose(mse(reduction="none")(y_true, y_pred).data, [0.5, 0.5])
    np.testing.assert_allclose(mse(reduction=None)(y_true, y_pred, sw).data, [0.35, 0.15])
    assert float(mse(reduction="mean_with_sample_weight")(y_true, y_pred, sw)) == pytest.approx(0.5)
    assert float(mse(reduction="mean_with_sample_weight")(y_true, y_pred, [0.0, 0.0])) == 0.0  # divide_no_nan
    assert float(mse(reduction="sum")(y_true, y_pred, sw)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="reduction"):
        mse(reduction="avg")


def test_function_forms_are_per_sample_with_keras_aliases():
    y_true, y_pred = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0]])
    for fn in (L.mse, L.mae, L.mape, L.msle, L.kld, L.kl_divergence, L.logcosh, L.huber, L.hinge, L.poisson):
        assert fn(y_true, y_pred).shape == (2,), fn.__name__
    assert L.mse is L.mean_squared_error and L.MAE is L.mean_absolute_error
    assert L.sparse_categorical_crossentropy([1, 0], np.array([[0.2, 0.8], [0.6, 0.4]])).shape == (2,)


# ---- against an installed Keras ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _data(rng, dtype):
    yt = rng.integers(0, 2, (6, 4)).astype(dtype)
    yp = rng.uniform(0.05, 0.95, (6, 4)).astype(dtype)
    return yt, yp, rng.uniform(0.0, 2.0, 6).astype(dtype)


PROB_LOSSES = [
    ("MeanSquaredError", {}),
    ("MeanAbsoluteError", {}),
    ("MeanAbsolutePercentageError", {}),
    ("MeanSquaredLogarithmicError", {}),
    ("Huber", {"delta": 0.3}),
    ("LogCosh", {}),
    ("Hinge", {}),
    ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
    ("KLDivergence", {}),
    ("Poisson", {}),
    ("CosineSimilarity", {}),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}),
    ("BinaryCrossentropy", {"from_logits": True}),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "gamma": 1.5}),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {"from_logits": True}),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5}),
    ("CategoricalFocalCrossentropy", {"from_logits": True}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_match_keras_on_random_inputs(keras, dtype):
    """(Keras on jax computes in float32 even for float64 input: float32 tolerances.)"""
    rng = np.random.default_rng(0)
    yt, yp, sw = _data(rng, dtype)
    logits = rng.normal(0, 3, yp.shape).astype(dtype)
    for name, kwargs in PROB_LOSSES:
        pred = logits if kwargs.get("from_logits") else yp
        for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]:
            for weight in (None, sw):
                ours = getattr(L, name)(reduction=reduction, **kwargs)(yt, pred, sample_weight=weight)
                ref = getattr(keras.losses, name)(reduction=reduction, dtype=dtype, **kwargs)(
                    yt, pred, sample_weight=weight
                )
                assert ours.dtype == np.dtype(dtype), (name, ours.dtype)
                np.testing.assert_allclose(ours.data, np.asarray(ref), rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_matches_keras_with_ignore_class(keras, from_logits):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, (7, 1))
    pred = rng.normal(0, 2, (7, 4)) if from_logits else rng.dirichlet(np.ones(4), 7)
    sw = rng.uniform(0, 2, 7)
    for ignore_class in (None, 2):
        for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]:
            for weight in (None, sw):
                kw = {"from_logits": from_logits, "ignore_class": ignore_class, "reduction": reduction}
                ours = L.SparseCategoricalCrossentropy(**kw)(labels, pred, sample_weight=weight)
                ref = keras.losses.SparseCategoricalCrossentropy(dtype="float64", **kw)(
                    labels, pred, sample_weight=weight
                )
                np.testing.assert_allclose(ours.data, np.asarray(ref), rtol=2e-6, atol=1e-7, err_msg=str(kw))


# ---- gradients ------------------------------------------------------------------------------------------
def _grad_cases():
    rng = np.random.default_rng(2)
    yt = rng.integers(0, 2, (3, 4)).astype(float)
    yp = rng.uniform(0.1, 0.9, (3, 4))
    yp_far = yp + np.where(yp > yt, 0.05, -0.05)  # keep |y_pred - y_true| off kinks
    z = rng.normal(0, 2, (3, 4))
    out = [  # MAPE divides by |y_true|: keep it away from 0
        (getattr(L, name)(**kw), yt + (name == "MeanAbsolutePercentageError"), z if kw.get("from_logits") else yp_far)
        for name, kw in PROB_LOSSES
        if name != "Huber"
    ]
    out.append((L.Huber(delta=0.3), yt, yt + rng.choice([-1, 1], yt.shape) * rng.uniform(0.05, 0.2, yt.shape)))
    out.append((L.Huber(delta=0.3), yt, yt + rng.choice([-1, 1], yt.shape) * rng.uniform(0.4, 0.9, yt.shape)))
    out.append((L.SparseCategoricalCrossentropy(), rng.integers(0, 4, 3), rng.dirichlet(np.ones(4), 3)))
    out.append((L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), np.array([0, 1, 3]), z[:, :4]))
    return out


@pytest.mark.parametrize("loss, y_true, y_pred", _grad_cases(), ids=lambda v: getattr(v, "name", None))
def test_loss_gradients_match_finite_differences(loss, y_true, y_pred):
    sw = np.array([0.5, 1.5, 1.0])
    assert am.gradcheck(lambda p: loss(y_true, p, sample_weight=sw), [am.tensor(y_pred, requires_grad=True)])


@pytest.mark.parametrize("loss", [L.CategoricalCrossentropy(from_logits=True), L.BinaryCrossentropy(from_logits=True)])
def test_second_order_gradients_of_logit_losses(loss):
    rng = np.random.default_rng(3)
    y = np.eye(3)[[0, 2]]
    assert am.gradgradcheck(lambda p: loss(y, p), [am.tensor(rng.normal(size=(2, 3)), requires_grad=True)])


# ---- the fused path and the logits rule ----------------------------------------------------------------------
def _uses_fused_node(loss_tensor) -> bool:
    seen, stack = set(), [loss_tensor]
    while stack:
        t = stack.pop()
        ctx = t.grad_fn
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        if type(ctx).__name__ == "SoftmaxCrossEntropy":
            return True
        stack.extend(p for p in (ctx.parents or ()) if isinstance(p, am.Tensor))
    return False


@pytest.mark.parametrize(
    "sparse, kwargs, sample_weight",
    [
        (False, {}, None),
        (True, {}, None),
        (False, {"reduction": "sum"}, [1.0, 0.0, 2.0, 0.5]),
        (True, {"reduction": "mean_with_sample_weight"}, [1.0, 0.0, 2.0, 0.5]),
        (False, {"label_smoothing": 0.2}, [[1.0], [0.5], [2.0], [0.0]]),
        (True, {"ignore_class": 1}, [1.0, 3.0, 2.0, 0.5]),
        (True, {"ignore_class": 1, "reduction": "sum"}, None),
    ],
)
def test_fused_path_equals_plain_path(sparse, kwargs, sample_weight):
    rng = np.random.default_rng(4)
    labels = np.array([0, 1, 2, 1])
    y = labels if sparse else np.eye(3)[labels]
    cls = L.SparseCategoricalCrossentropy if sparse else L.CategoricalCrossentropy
    z = rng.normal(0, 2, (4, 3))
    zt = am.tensor(z, requires_grad=True)
    fused = cls(from_logits=True, **kwargs)(y, zt, sample_weight=sample_weight)
    assert _uses_fused_node(fused)
    fused.backward()
    zp = am.tensor(z, requires_grad=True)
    values = cls(from_logits=True, **{**kwargs, "reduction": "none"})(y, zp)
    reduction = kwargs.get("reduction", "sum_over_batch_size")
    mask = None if "ignore_class" not in kwargs else labels != kwargs["ignore_class"]
    plain = L.reduce_weighted_values(values, sample_weight, mask, reduction)
    plain.backward()
    assert not _uses_fused_node(plain)
    assert float(fused) == pytest.approx(float(plain), rel=1e-12)
    np.testing.assert_allclose(zt.grad.data, zp.grad.data, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", ["softmax", "sigmoid"])
def test_saturated_probabilities_give_one_value_with_or_without_a_graph(kind):
    """A marked output (``_keras_logits``, as the layers set it) uses the logits in both modes;
    an unmarked saturated probability is clipped in both modes."""
    z = np.array([[300.0, -300.0, 0.0]], dtype=np.float32)
    y = np.array([[0.0, 1.0, 0.0]], dtype=np.float32)
    loss = L.CategoricalCrossentropy() if kind == "softmax" else L.BinaryCrossentropy()
    act = am.softmax if kind == "softmax" else am.sigmoid
    values = []
    for marked in (True, False):
        for graph in (True, False):
            with am.set_grad_enabled(graph):
                zt = am.tensor(z, requires_grad=graph)
                out = act(zt)
                if marked:
                    out._keras_logits = zt
                value = loss(y, out)
            assert value.dtype == np.float32
            values.append(float(value))
            if graph:
                value.backward()
                assert np.all(np.isfinite(zt.grad.data))
    assert values[0] == values[1] and values[2] == values[3]
    assert values[0] > 100 > values[2]  # logits: exact; probabilities: clipped at 1e-7 as Keras


def test_float32_stays_float32_with_gradients():
    rng = np.random.default_rng(5)
    yt = rng.integers(0, 2, (4, 3)).astype(np.float32)
    for name, kwargs in PROB_LOSSES:
        p = am.tensor(rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32), requires_grad=True)
        out = getattr(L, name)(**kwargs)(yt, p, sample_weight=np.ones(4))
        out.backward()
        assert out.dtype == np.float32 and p.grad.dtype == np.float32, name
    z = am.tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    out = L.SparseCategoricalCrossentropy(from_logits=True)(np.array([0, 1, 2, 1]), z, np.ones(4))
    out.backward()
    assert out.dtype == np.float32 and z.grad.dtype == np.float32


# ---- errors, get / serialize / deserialize -------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"target.shape=\(2, 2\), output.shape=\(2, 3\)"):
        L.CategoricalCrossentropy()(np.ones((2, 2)), np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        L.SparseCategoricalCrossentropy()(np.array([0, 3]), np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match=r"expected \(2,\), got y_true of shape \(3,\)"):
        L.SparseCategoricalCrossentropy()(np.array([0, 1, 2]), np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match="axis"):
        L.CategoricalCrossentropy(axis=True)(np.ones((2, 3)), np.full((2, 3), 0.3))


def test_get_serialize_deserialize():
    assert isinstance(L.get("mse"), L.MeanSquaredError)
    assert isinstance(L.get("MeanSquaredError"), L.MeanSquaredError)
    assert isinstance(L.get("categorical_crossentropy"), L.CategoricalCrossentropy)
    assert isinstance(L.get(L.Huber), L.Huber)
    loss = L.Huber(delta=2.0)
    assert L.get(loss) is loss and L.get(None) is None
    assert L.get(L.mse) is L.mse
    with pytest.raises(ValueError, match="mean_squared_error"):
        L.get("mean_sqared_error")
    for original in [
        L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum", name="bce"),
        L.SparseCategoricalCrossentropy(ignore_class=3),
        L.CategoricalFocalCrossentropy(alpha=0.4, gamma=1.0),
        L.MeanSquaredError(reduction="none"),
    ]:
        config = L.serialize(original)
        restored = L.deserialize(config)
        assert type(restored) is type(original) and restored.get_config() == original.get_config()
        assert L.get(config).get_config() == original.get_config()
    assert L.serialize(L.mse) == "mean_squared_error" and L.deserialize("mse") is L.mse
    with pytest.raises(ValueError, match="Could not interpret loss class"):
        L.deserialize({"class_name": "Nope", "config": {}})


def test_keras_configs_match(keras):
    for name, kwargs in PROB_LOSSES + [("SparseCategoricalCrossentropy", {"ignore_class": 1})]:
        ours = getattr(L, name)(**kwargs).get_config()
        ref = getattr(keras.losses, name)(**kwargs).get_config()
        ref = {k: v for k, v in ref.items() if k != "dtype"}
        assert {k: v for k, v in ours.items() if k != "dtype"} == ref, name


def test_loss_function_wrapper_and_custom_loss():
    wrapped = L.LossFunctionWrapper(L.mean_absolute_error, reduction="sum")
    assert float(wrapped(np.zeros((2, 2)), np.ones((2, 2)))) == 2.0
    assert L.LossFunctionWrapper.from_config(wrapped.get_config()).fn is L.mean_absolute_error

    class Cubed(nn.losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_pred - y_true) ** 3).mean(axis=-1)

    assert Cubed().name == "cubed"
    assert float(Cubed()(np.zeros((2, 1)), np.full((2, 1), 2.0))) == 8.0


def test_logits_mark_survives_rank_matching_and_casts():
    z = am.tensor(np.array([200.0, -200.0, 3.0]), requires_grad=True)
    p = am.sigmoid(z)
    p._keras_logits = z
    y = np.array([[0.0], [1.0], [1.0]])  # one more axis than y_pred: y_pred is expanded
    value = L.BinaryCrossentropy(dtype="float32")(y, p)
    expected = (200.0 + 200.0 + np.log1p(np.exp(-3.0))) / 3
    assert value.dtype == np.float32 and float(value) == pytest.approx(expected, rel=1e-6)
