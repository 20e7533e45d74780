"""nn.activations: values against Keras 3 (when installed), logits marking, get/serialize."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
import nn

os.environ.setdefault("KERAS_BACKEND", "jax")

X = np.random.default_rng(0).uniform(-4, 4, size=(5, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


OURS = sorted(nn.activations.ALL_OBJECTS_DICT)


@pytest.mark.parametrize("name", OURS)
def test_activation_matches_keras(keras, name):
    if name == "sparsemax":
        pytest.skip("Keras 3.15's jax sparsemax sums the cumulative sums over the support (off the simplex)")
    options = {"threshold": 0.5, "default_value": -2.0} if name == "threshold" else {}
    expected = np.asarray(keras.activations.get(name)(X, **options))
    out = nn.activations.get(name)(am.tensor(X), **options)
    assert out.dtype == np.float32  # float32 stays float32
    np.testing.assert_allclose(out.data, expected, rtol=2e-5, atol=2e-6)


def test_keras_names_are_all_here(keras):
    from keras.src.activations import ALL_OBJECTS_DICT

    assert sorted(ALL_OBJECTS_DICT) == OURS


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 1.5},
        {"threshold": 0.5},
        {"negative_slope": 0.2, "max_value": 2.0, "threshold": 1.0},
    ],
)
def test_relu_options_match_keras(keras, kwargs):
    expected = np.asarray(keras.activations.relu(X, **kwargs))
    np.testing.assert_allclose(nn.activations.relu(am.tensor(X), **kwargs).data, expected, rtol=1e-6, atol=1e-6)


def test_function_defaults_are_keras():
    x = am.tensor(np.array([-1.0]))
    assert nn.activations.leaky_relu(x).item() == pytest.approx(-0.2)  # function form: 0.2
    assert nn.layers.LeakyReLU()(x).item() == pytest.approx(-0.3)  # layer form: 0.3
    assert nn.activations.hard_sigmoid(am.tensor(np.array([1.0]))).item() == pytest.approx(1 / 6 + 0.5)


@pytest.mark.parametrize("name", ["softmax", "sigmoid"])
def test_softmax_and_sigmoid_mark_their_logits(name):
    x = am.tensor(X, requires_grad=True)
    out = nn.activations.get(name)(x)
    assert getattr(out, "_keras_logits", None) is x
    assert getattr(nn.activations.relu(x), "_keras_logits", None) is None


def test_get_serialize_deserialize_round_trip():
    for name in OURS:
        fn = nn.activations.get(name)
        assert nn.activations.deserialize(nn.activations.serialize(fn)) is fn
    assert nn.activations.get(None) is nn.activations.linear
    assert nn.activations.get("swish") is nn.activations.silu
    with pytest.raises(ValueError, match="nope"):
        nn.activations.get("nope")
    with pytest.raises(ValueError, match="cannot be serialized"):
        nn.activations.serialize(lambda x: x)


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match=r"even size.*\(2, 3\)"):
        nn.activations.glu(am.tensor(np.ones((2, 3))))


def test_gelu_float32_and_second_order():
    x = am.tensor(np.array([0.3, -1.2]), requires_grad=True)
    assert am.gradgradcheck(lambda t: nn.activations.gelu(t), [x])
    assert nn.activations.gelu(am.tensor(X)).dtype == np.float32


def test_sparsemax_projects_onto_the_simplex():
    out = nn.activations.sparsemax(am.tensor(np.array([[0.1, 0.2, 0.3], [1.0, 2.0, 3.5]])), axis=-1).data
    np.testing.assert_allclose(out, [[0.1 + 0.4 / 3, 0.2 + 0.4 / 3, 0.3 + 0.4 / 3], [0, 0, 1]])
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
