"""nn.random: Keras' seed semantics and a SeedGenerator whose state resumes a stream."""

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn import random as krandom


def test_int_seed_is_stateless_and_generator_advances():
    a = krandom.normal((3,), seed=7).data
    b = krandom.normal((3,), seed=7).data
    np.testing.assert_array_equal(a, b)
    g = krandom.SeedGenerator(42)
    x, y = krandom.uniform((4,), seed=g).data, krandom.uniform((4,), seed=g).data
    assert not np.array_equal(x, y)
    assert a.dtype == np.float32


def test_seed_generator_state_restores_the_stream():
    g = krandom.SeedGenerator(5)
    krandom.normal((2,), seed=g)
    saved = g.state.data.copy()
    expected = [krandom.normal((2,), seed=g).data for _ in range(3)]
    g2 = krandom.SeedGenerator(123)
    g2.state.assign(saved)
    got = [krandom.normal((2,), seed=g2).data for _ in range(3)]
    np.testing.assert_array_equal(np.array(expected), np.array(got))
    assert g.get_config() == {"seed": 5, "name": g.name}
    assert not g.state.requires_grad


def test_global_seed_repeats():
    nn.utils.set_random_seed(3)
    a = krandom.normal((3,)).data
    nn.utils.set_random_seed(3)
    np.testing.assert_array_equal(a, krandom.normal((3,)).data)


def test_draws_shapes_and_ranges():
    r = krandom.randint((100,), 2, 5, seed=1).data
    assert r.min() >= 2 and r.max() < 5 and r.dtype == np.int32
    t = krandom.truncated_normal((1000,), seed=1).data
    assert np.abs(t).max() <= 2.0
    c = krandom.categorical(np.log([[0.0001, 0.9999]]), 50, seed=1).data
    assert c.shape == (1, 50) and c.sum() >= 45
    s = krandom.shuffle(np.arange(10.0), seed=0).data
    assert sorted(s) == list(range(10))


def test_dropout_scales_and_differentiates():
    x = am.tensor(np.ones((200, 5)), requires_grad=True)
    y = krandom.dropout(x, 0.5, seed=1)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 2.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.where(kept, 2.0, 0.0))
    with pytest.raises(ValueError, match="rate"):
        krandom.dropout(x, 1.0)
