"""nn.layers against Keras 3 (same weights, random inputs), training vs inference, configs,
gradients in float64, building at construction, trainable, weights and losses."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn import layers as L

os.environ.setdefault("KERAS_BACKEND", "jax")

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


# (name, factory(module) -> layer, inputs): module is nn.layers or keras.layers
CASES = [
    *[
        (f"dense_{a}", lambda m, a=a: m.Dense(5, activation=a), _x(4, 3))
        for a in ("relu", "tanh", "sigmoid", "softmax", "gelu", None)
    ],
    ("dense_no_bias", lambda m: m.Dense(2, use_bias=False), _x(4, 3)),
    ("dense_3d", lambda m: m.Dense(2, activation="tanh"), _x(2, 4, 3)),
    ("activation_selu", lambda m: m.Activation("selu"), _x(4, 3)),
    ("relu_options", lambda m: m.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), _x(4, 3)),
    ("leaky_relu", lambda m: m.LeakyReLU(), _x(4, 3)),
    ("prelu", lambda m: m.PReLU(), _x(4, 3)),
    ("elu", lambda m: m.ELU(0.5), _x(4, 3)),
    ("softmax", lambda m: m.Softmax(), _x(4, 3)),
    ("batch_norm", lambda m: m.BatchNormalization(), _x(6, 3)),
    ("layer_norm", lambda m: m.LayerNormalization(), _x(4, 3)),
    ("unit_norm", lambda m: m.UnitNormalization(), _x(4, 3)),
    ("normalization", lambda m: m.Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.0]), _x(4, 3)),
    (
        "normalization_invert",
        lambda m: m.Normalization(mean=[0.5, -1, 2], variance=[4, 0.25, 1], invert=True),
        _x(4, 3),
    ),
    ("rescaling", lambda m: m.Rescaling(0.5, offset=1.0), _x(4, 3)),
    ("reshape", lambda m: m.Reshape((3, -1)), _x(4, 6)),
    ("flatten", lambda m: m.Flatten(), _x(4, 2, 3)),
    ("identity", lambda m: m.Identity(), _x(4, 3)),
    ("dropout", lambda m: m.Dropout(0.5), _x(4, 3)),
    ("gaussian_noise", lambda m: m.GaussianNoise(0.3), _x(4, 3)),
    ("gaussian_dropout", lambda m: m.GaussianDropout(0.3), _x(4, 3)),
    ("alpha_dropout", lambda m: m.AlphaDropout(0.3), _x(4, 3)),
    ("activity_regularization", lambda m: m.ActivityRegularization(l1=0.1), _x(4, 3)),
    ("embedding", lambda m: m.Embedding(10, 3), RNG.integers(0, 10, size=(4, 5))),
    *[
        (cls.lower(), lambda m, cls=cls: getattr(m, cls)(), [_x(4, 3), _x(4, 3)])
        for cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")
    ],
    ("dot", lambda m: m.Dot(axes=1), [_x(4, 3), _x(4, 3)]),
]
IDS = [c[0] for c in CASES]


def _same_weights(ours, theirs, x):
    theirs(x)
    ours(x)
    weights = [RNG.uniform(0.2, 1.5, size=np.shape(w)).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


@pytest.mark.parametrize("factory, x", [c[1:] for c in CASES], ids=IDS)
def test_forward_matches_keras(keras, factory, x):
    ours, theirs = factory(L), factory(keras.layers)
    _same_weights(ours, theirs, x)
    for training in (False, True) if isinstance(ours, L.BatchNormalization) else (False,):
        expected = np.asarray(theirs(x, training=training))
        out = ours(x, training=training)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, expected, rtol=2e-5, atol=2e-5)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)


def test_batch_norm_moving_statistics_match_keras(keras):
    ours, theirs = L.BatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    x = _x(8, 3)
    for _ in range(3):
        ours(x, training=True)
        theirs(x, training=True)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    assert [p.name.split(".")[-1] for p in ours.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_batch_norm_updates_moving_stats_copy_on_write():
    layer = L.BatchNormalization(input_shape=(3,))
    x = _x(8, 3)
    w = am.tensor(np.ones(3, np.float32), requires_grad=True)
    pending = (layer.moving_mean * w).sum()  # a graph saves moving_mean's array: it is read-only now
    held = layer.moving_mean.data
    old = held.copy()
    layer(x, training=True)  # the update goes through mutable_data: a fresh array
    assert layer.moving_mean.data is not held
    np.testing.assert_array_equal(held, old)
    np.testing.assert_allclose(layer.moving_mean.data, 0.01 * x.mean(axis=0), rtol=1e-5)
    pending.backward()
    np.testing.assert_array_equal(w.grad.data, old)  # the pending graph saw the old values


def test_keras_config_loads_into_nn(keras):
    for layer in (keras.layers.Dense(3, activation="relu", kernel_regularizer="l2"), keras.layers.BatchNormalization()):
        ours = nn.layers.deserialize(keras.layers.serialize(layer))
        assert type(ours).__name__ == type(layer).__name__
        assert ours.get_config()["name"] == layer.name


ROUND_TRIP = [c for c in CASES if c[0] != "embedding"] + [
    (
        "dense_all",
        lambda m: m.Dense(
            3,
            kernel_initializer=nn.initializers.HeNormal(seed=3),
            kernel_regularizer=nn.regularizers.L1L2(0.1, 0.2),
            bias_regularizer="l2",
            activity_regularizer="l1",
            kernel_constraint="max_norm",
            dtype="float64",
        ),
        None,
    ),
    ("embedding", lambda m: m.Embedding(5, 2, mask_zero=True), None),
    ("rrelu", lambda m: m.RReLU(0.1, 0.2, seed=4), None),
]


@pytest.mark.parametrize("factory", [c[1] for c in ROUND_TRIP], ids=[c[0] for c in ROUND_TRIP])
def test_config_round_trips(factory):
    layer = factory(L)
    config = layer.get_config()
    assert {"name", "trainable", "dtype"} <= set(config)
    assert type(layer).from_config(config).get_config() == config
    data = nn.layers.serialize(layer)
    assert data["module"] == "keras.layers" and data["class_name"] == type(layer).__name__
    assert data["registered_name"] is None
    assert nn.layers.deserialize(data).get_config() == config


def test_deserialize_refuses_unknown_classes():
    with pytest.raises(ValueError, match="'os.system'"):
        nn.layers.deserialize({"class_name": "os.system", "config": {}})
    with pytest.raises(ValueError, match="cannot be serialized"):
        L.Lambda(lambda x: x * 2).get_config()


def _numeric_gradient_check(layer, x, training):
    """Input and trainable-weight gradients of sum(u * layer(x)) against central differences (float64)."""
    params = layer.trainable_weights
    names = [p.name.rsplit(".", 1)[-1] for p in params]
    u = np.random.default_rng(1).normal(size=layer(x, training=training).shape)

    def f(xt, *ws):
        saved = [getattr(layer, n) for n in names]
        for n, w in zip(names, ws):
            object.__setattr__(layer, n, w)
        try:
            return (layer.call(xt, training=training) * u).sum()
        finally:
            for n, w in zip(names, saved):
                object.__setattr__(layer, n, w)

    assert am.gradcheck(f, [am.tensor(x, requires_grad=True)] + [am.tensor(p.data) for p in params])


GRAD_CASES = [
    ("dense_relu", lambda: L.Dense(3, activation="relu", dtype="float64"), (4, 2)),
    ("dense_softmax", lambda: L.Dense(3, activation="softmax", dtype="float64"), (4, 2)),
    ("dense_gelu", lambda: L.Dense(3, activation="gelu", dtype="float64"), (2, 4, 2)),
    ("prelu", lambda: L.PReLU(alpha_initializer="random_uniform", dtype="float64"), (4, 3)),
    ("batch_norm_train", lambda: L.BatchNormalization(gamma_initializer="random_normal", dtype="float64"), (5, 3)),
    ("layer_norm", lambda: L.LayerNormalization(beta_initializer="random_normal", dtype="float64"), (4, 3)),
    ("layer_norm_rms", lambda: L.LayerNormalization(rms_scaling=True, dtype="float64"), (4, 3)),
    ("unit_norm", lambda: L.UnitNormalization(dtype="float64"), (4, 3)),
    ("elu", lambda: L.ELU(dtype="float64"), (4, 3)),
    ("softmax", lambda: L.Softmax(dtype="float64"), (4, 3)),
    ("reshape", lambda: L.Reshape((-1, 2), dtype="float64"), (4, 6)),
    ("normalization", lambda: L.Normalization(mean=[1.0], variance=[2.0], dtype="float64"), (4, 3)),
]


@pytest.mark.parametrize("factory, shape", [c[1:] for c in GRAD_CASES], ids=[c[0] for c in GRAD_CASES])
def test_gradients_through_layers(factory, shape):
    x = np.random.default_rng(2).uniform(-2, 2, size=shape) + 0.01  # away from relu's kink
    _numeric_gradient_check(factory(), x, training=True)


def test_gradients_through_merge_layers_and_embedding():
    a, b = am.tensor(_x(3, 2).astype(np.float64), requires_grad=True), am.tensor(_x(3, 2) + 5.0, requires_grad=True)
    for layer in (
        L.Add(),
        L.Subtract(),
        L.Multiply(),
        L.Average(),
        L.Maximum(),
        L.Minimum(),
        L.Concatenate(),
        L.Dot(1),
    ):
        assert am.gradcheck(lambda p, q, layer=layer: layer([p, q]), [a, b]), type(layer).__name__
    emb = L.Embedding(4, 2)
    out = emb(np.array([[0, 1, 1]]))
    (out * out).sum().backward()
    np.testing.assert_allclose(emb.embeddings.grad.data[1], 4 * emb.embeddings.data[1], rtol=1e-6)
    np.testing.assert_array_equal(emb.embeddings.grad.data[2:], 0)


def test_layers_given_their_input_size_build_at_construction():
    for layer in (L.Dense(8, input_dim=4), L.Dense(8, input_shape=(4,)), L.BatchNormalization(input_shape=(4,))):
        assert layer.built and layer.input_shape == (None, 4)
        assert len(layer.weights) > 0
    dense = L.Dense(8, input_dim=4)
    params = dense.parameters()
    assert [p.shape for p in params] == [(4, 8), (8,)]
    assert dense.count_params() == 40
    with pytest.raises(ValueError, match="isn't built"):
        L.Dense(3).count_params()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Dense"):
        L.Dense(3, kernel_init="zeros")


def test_trainable_false_freezes_weights():
    layer = L.Dense(2, input_dim=3)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    out = layer(am.tensor(_x(4, 3), requires_grad=True)).sum()
    out.backward()
    assert layer.kernel.grad is None
    layer.trainable = True
    assert [p.name for p in layer.trainable_weights] == ["kernel", "bias"]  # Keras 3's variable names
    assert [p.path for p in layer.trainable_weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]


def test_set_weights_checks_everything_before_writing():
    layer = L.Dense(2, input_dim=3)
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"bias' has shape \(2,\), got an array of shape \(3,\)"):
        layer.set_weights([np.ones((3, 2)), np.ones(3)])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # the kernel was not written either
    x = am.tensor(_x(4, 3))
    loss = layer(x).sum()  # the graph holds the kernel's array
    held = layer.kernel.data
    layer.set_weights([np.zeros((3, 2)), np.zeros(2)])
    assert layer.kernel.data is not held and np.all(layer.kernel.data == 0)
    assert layer.kernel.dtype == np.float32
    loss.backward()


def test_losses_hold_weight_and_activity_regularization():
    layer = L.Dense(
        2, input_dim=3, kernel_regularizer=nn.regularizers.L2(0.5), activity_regularizer=nn.regularizers.L1(0.1)
    )
    x = _x(4, 3)
    out = layer(x)
    losses = layer.losses
    assert len(losses) == 2
    np.testing.assert_allclose(float(losses[0].data), 0.1 * np.abs(out.data).sum() / 4, rtol=1e-5)
    np.testing.assert_allclose(float(losses[1].data), 0.5 * np.sum(layer.kernel.data**2), rtol=1e-5)
    layer(x)
    assert len(layer.losses) == 2  # the activity loss of the last call only


def _alpha_dropped(rate):
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    return np.float32(a * alpha_p - a * alpha_p * rate)


def test_training_flag_and_seeded_randomness():
    x = np.ones((200, 50), np.float32)
    for cls in (L.Dropout, L.GaussianDropout):
        layer = cls(0.3)
        np.testing.assert_array_equal(layer(x).data, x)  # inference by default, as Keras
        nn.utils.set_random_seed(5)
        first = layer(x, training=True).data
        nn.utils.set_random_seed(5)
        np.testing.assert_array_equal(layer(x, training=True).data, first)
        assert abs(first.mean() - 1.0) < 0.05  # each keeps the mean
    z = np.random.default_rng(3).standard_normal((400, 100)).astype(np.float32)
    alpha = L.AlphaDropout(0.3)(z, training=True).data  # keeps mean 0 and variance 1 of normalized inputs
    assert (
        abs(alpha.mean()) < 0.02
        and abs(alpha.std() - 1) < 0.02
        and abs(np.mean(alpha == _alpha_dropped(0.3)) - 0.3) < 0.01
    )
    dropped = L.Dropout(0.3, noise_shape=(None, 1))(x, training=True).data
    assert np.all((dropped == 0).all(axis=1) | (dropped != 0).all(axis=1))
    noise = L.GaussianNoise(0.5, seed=1)(x, training=True).data
    assert abs(noise.std() - 0.5) < 0.02


def test_rrelu_slopes():
    layer = L.RReLU()
    x = -np.ones((100, 100), np.float32)
    np.testing.assert_allclose(layer(x).data, -(1 / 8 + 1 / 3) / 2, rtol=1e-6)
    slopes = -layer(x, training=True).data
    assert slopes.min() >= 1 / 8 and slopes.max() <= 1 / 3 and slopes.std() > 0.05


def test_dense_softmax_output_carries_logits_and_hidden_relu_is_one_node():
    layer = L.Dense(3, activation="softmax", input_dim=2)
    out = layer(am.tensor(_x(4, 2), requires_grad=True))
    logits = getattr(out, "_keras_logits", None)
    assert logits is not None
    np.testing.assert_allclose(logits.data, _x_like := (out.data * 0 + logits.data), rtol=0)
    np.testing.assert_allclose(np.exp(logits.data) / np.exp(logits.data).sum(-1, keepdims=True), out.data, rtol=1e-5)
    assert _x_like.shape == (4, 3)
    hidden = L.Dense(3, activation="relu", input_dim=2)(am.tensor(_x(4, 2), requires_grad=True))
    assert hidden.grad_fn.name == "dense" and getattr(hidden, "_keras_logits", None) is None
    assert getattr(L.Activation("sigmoid")(out), "_keras_logits", None) is out


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"expected inputs with 3 features .*\(4, 2\)"):
        L.Dense(2, input_dim=3)(_x(4, 2))
    with pytest.raises(ValueError, match="rate must be a float in"):
        L.Dropout(1.5)
    with pytest.raises(ValueError, match="dtype must be one of"):
        L.Dense(2, dtype="int32")
    with pytest.raises(ValueError, match="list of at least 2 inputs"):
        L.Add()(_x(2, 2))
    with pytest.raises(ValueError, match=r"indices must be in \[0, 3\)"):
        L.Embedding(3, 2)(np.array([[0, 3]]))


def test_normalization_adapt():
    data = RNG.normal(3.0, 2.0, size=(500, 2)).astype(np.float32)
    layer = L.Normalization()
    layer.adapt(data)
    out = layer(data).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    assert layer.trainable_weights == []


def test_symbolic_call_delegates_to_functional():
    x = L.KerasTensor((None, 3))
    try:
        import nn.models.functional  # noqa: F401
    except ImportError:
        with pytest.raises(NotImplementedError, match="functional"):
            L.Dense(2)(x)
