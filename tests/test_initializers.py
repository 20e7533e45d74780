"""nn.initializers: Keras 3's formulas (statistics of large draws), bounds, seeds, configs."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import nn
from nn import initializers as I

os.environ.setdefault("KERAS_BACKEND", "jax")

SHAPE = (300, 200)  # fan_in 300, fan_out 200
FAN_IN, FAN_OUT = SHAPE


@pytest.mark.parametrize(
    "init, limit",
    [
        (I.GlorotUniform(), math.sqrt(6 / (FAN_IN + FAN_OUT))),
        (I.HeUniform(), math.sqrt(6 / FAN_IN)),
        (I.LecunUniform(), math.sqrt(3 / FAN_IN)),
        (I.VarianceScaling(2.0, "fan_out", "uniform"), math.sqrt(6 / FAN_OUT)),
        (I.RandomUniform(-0.2, 0.3), None),
    ],
)
def test_uniform_initializers_follow_keras_limits(init, limit):
    w = init(SHAPE)
    assert w.dtype == np.float32 and w.shape == SHAPE
    low, high = (-limit, limit) if limit is not None else (-0.2, 0.3)
    assert low <= w.min() and w.max() <= high
    assert w.min() < low + 0.01 * (high - low) and w.max() > high - 0.01 * (high - low)
    assert abs(w.mean() - (low + high) / 2) < 0.01 * (high - low)


@pytest.mark.parametrize(
    "init, stddev",
    [
        (I.GlorotNormal(), math.sqrt(2 / (FAN_IN + FAN_OUT))),
        (I.HeNormal(), math.sqrt(2 / FAN_IN)),
        (I.LecunNormal(), math.sqrt(1 / FAN_IN)),
        (I.VarianceScaling(3.0, "fan_avg", "truncated_normal"), math.sqrt(3 / ((FAN_IN + FAN_OUT) / 2))),
    ],
)
def test_truncated_normals_keep_the_target_stddev(init, stddev):
    """Keras divides by 0.87962566103423978 so that the truncated draw has the wanted stddev."""
    w = np.asarray(init(SHAPE), dtype=np.float64)
    raw = stddev / 0.87962566103423978
    assert np.abs(w).max() <= 2 * raw * (1 + 1e-6)  # truncated at two (corrected) stddevs
    assert abs(w.std() / stddev - 1) < 0.02
    assert abs(w.mean()) < 0.05 * stddev


def test_normal_untruncated_and_truncated():
    w = np.asarray(I.RandomNormal(mean=1.0, stddev=0.5)(SHAPE), dtype=np.float64)
    assert abs(w.mean() - 1.0) < 0.01 and abs(w.std() - 0.5) < 0.01
    t = np.asarray(I.TruncatedNormal(mean=0.0, stddev=0.5)(SHAPE), dtype=np.float64)
    assert np.abs(t).max() <= 1.0 and abs(t.std() / (0.5 * 0.87962566103423978) - 1) < 0.02
    u = np.asarray(I.VarianceScaling(1.0, "fan_in", "untruncated_normal")(SHAPE), dtype=np.float64)
    assert abs(u.std() * math.sqrt(FAN_IN) - 1) < 0.02 and np.abs(u).max() > 2 / math.sqrt(FAN_IN)


def test_constants_orthogonal_identity():
    assert np.all(I.Zeros()((2, 3)) == 0) and np.all(I.Ones()((2,)) == 1)
    assert np.all(I.Constant(0.7)((3,), dtype="float64") == 0.7)
    for shape in ((6, 4), (4, 6), (2, 3, 5)):
        q = I.Orthogonal(gain=2.0, seed=1)(shape).astype(np.float64).reshape(-1, shape[-1])
        small = min(q.shape)
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 3)), [[3, 0, 0], [0, 3, 0]])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.Orthogonal()((3,))
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((3,))


def test_fans_follow_keras():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((5,)) == (5, 5)
    assert I.compute_fans((3, 4)) == (3, 4)
    assert I.compute_fans((2, 3, 4, 5)) == (4 * 6, 5 * 6)


def test_seeds_reproduce_and_global_seed_controls_the_rest():
    a, b = I.HeNormal(seed=7), I.HeNormal(seed=7)
    np.testing.assert_array_equal(a((3, 4)), b((3, 4)))
    np.testing.assert_array_equal(a((3, 4)), a((3, 4)))  # a seeded initializer repeats itself
    nn.utils.set_random_seed(1)
    first = I.GlorotUniform()((3, 4))
    nn.utils.set_random_seed(1)
    np.testing.assert_array_equal(I.GlorotUniform()((3, 4)), first)


ALL = [
    I.Zeros(),
    I.Ones(),
    I.Constant(2.0),
    I.RandomNormal(0.1, 0.2, seed=1),
    I.RandomUniform(-1, 1, seed=2),
    I.TruncatedNormal(seed=3),
    I.VarianceScaling(2.0, "fan_out", "uniform", seed=4),
    I.GlorotUniform(seed=5),
    I.GlorotNormal(),
    I.HeUniform(),
    I.HeNormal(),
    I.LecunUniform(),
    I.LecunNormal(),
    I.Orthogonal(gain=0.5),
    I.Identity(gain=2.0),
]


@pytest.mark.parametrize("init", ALL, ids=lambda i: type(i).__name__)
def test_config_round_trip_and_keras_form(init):
    data = I.serialize(init)
    assert data["module"] == "keras.initializers" and data["class_name"] == type(init).__name__
    again = I.deserialize(data)
    assert type(again) is type(init) and again.get_config() == init.get_config()
    assert I.get(I.name_of(init)).__class__ is type(init)


@pytest.mark.parametrize("init", ALL, ids=lambda i: type(i).__name__)
def test_config_keys_match_keras(init):
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.initializers, type(init).__name__).from_config(init.get_config())
    extra = {"input_axes", "output_axes"}  # Keras 3.1x's einsum fan axes, absent in nn
    ours = set(init.get_config()) - ({"gain"} if isinstance(init, I.Identity) else set())  # Keras 3.15 drops it
    assert set(theirs.get_config()) - extra == ours
    if not isinstance(init, I.Identity):
        assert I.deserialize(keras.initializers.serialize(theirs)).get_config() == init.get_config()


def test_get_resolves_keras_aliases_and_rejects_the_rest():
    assert isinstance(I.get("uniform"), I.RandomUniform) and isinstance(I.get("normal"), I.RandomNormal)
    assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
    assert isinstance(I.get({"class_name": "HeNormal", "config": {"seed": 1}}), I.HeNormal)
    with pytest.raises(ValueError, match="glorot_unifrom"):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="mode must be one of"):
        I.VarianceScaling(mode="fan_sum")


def test_initializers_return_tensors_as_keras():
    """Keras 3 returns a backend tensor: float() of a one-element result works under numpy 2."""
    import autograd_mini as am

    out = I.RandomNormal(seed=1)(shape=(1, 1))
    assert isinstance(out, am.Tensor) and out.dtype == np.float32
    assert isinstance(float(out), float)
    assert float(I.Constant(2.5)(shape=(1, 1))) == 2.5
