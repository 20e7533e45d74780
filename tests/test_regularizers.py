"""nn.regularizers: Keras 3's numbers and defaults, gradients, configs; nn.constraints."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn import regularizers as R

os.environ.setdefault("KERAS_BACKEND", "jax")

W = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


def test_numbers_are_keras():
    assert float(R.L1(0.1)(am.tensor(W)).data) == pytest.approx(0.1 * np.abs(W).sum(), rel=1e-6)
    assert float(R.L2(0.1)(am.tensor(W)).data) == pytest.approx(0.1 * np.square(W).sum(), rel=1e-6)  # no 1/2
    both = float(R.L1L2(0.1, 0.2)(am.tensor(W)).data)
    assert both == pytest.approx(0.1 * np.abs(W).sum() + 0.2 * np.square(W).sum(), rel=1e-6)
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0} == R.l1_l2().get_config()  # Keras 3 defaults
    assert R.L1().get_config() == {"l1": 0.01} and R.L2().get_config() == {"l2": 0.01}
    assert float(R.L1L2()(am.tensor(W)).data) == 0.0


@pytest.mark.parametrize(
    "reg",
    [R.L1(0.1), R.L2(0.3), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.5), R.OrthogonalRegularizer(0.2, "columns")],
    ids=lambda r: f"{type(r).__name__}{r.get_config()}",
)
def test_matches_keras_and_round_trips(reg):
    keras = pytest.importorskip("keras")
    theirs = keras.regularizers.deserialize(R.serialize(reg))
    np.testing.assert_allclose(float(reg(am.tensor(W)).data), float(theirs(keras.ops.convert_to_tensor(W))), rtol=1e-5)
    back = R.deserialize(keras.regularizers.serialize(theirs)).get_config()  # Keras keeps float32 numbers
    assert back.keys() == reg.get_config().keys()
    for key, value in reg.get_config().items():
        assert back[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value)
    assert R.get(R.serialize(reg)).get_config() == reg.get_config()


def test_gradients_in_float64():
    w = am.tensor(W.astype(np.float64), requires_grad=True)
    for reg in (R.L2(0.3), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.5)):
        assert am.gradcheck(lambda t, reg=reg: reg(t), [w])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="l2=-1"):
        R.L2(-1)
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(am.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="'l3'"):
        R.get("l3")
    assert isinstance(R.get("l1_l2"), R.L1L2) and R.get(None) is None


def test_constraints_project_as_keras():
    c = nn.constraints
    w = np.array([[3.0, 0.1], [4.0, -0.2]], np.float32)  # column norms 5 and ~0.22
    np.testing.assert_allclose(np.linalg.norm(c.MaxNorm(2.0)(w), axis=0), [2.0, np.linalg.norm(w[:, 1])], rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(c.UnitNorm()(w), axis=0), [1.0, 1.0], rtol=1e-5)
    assert np.all(c.NonNeg()(w) >= 0)
    np.testing.assert_allclose(np.linalg.norm(c.MinMaxNorm(0.5, 1.0)(w), axis=0), [1.0, 0.5], rtol=1e-5)
    keras = pytest.importorskip("keras")
    for ours in (c.MaxNorm(2.0), c.UnitNorm(), c.NonNeg(), c.MinMaxNorm(0.5, 1.0, rate=0.5)):
        theirs = getattr(keras.constraints, type(ours).__name__)(**ours.get_config())
        np.testing.assert_allclose(ours(w), np.asarray(theirs(w)), rtol=1e-5, atol=1e-6)
    layer = nn.layers.Dense(2, input_dim=2, kernel_constraint="non_neg")
    assert isinstance(layer.kernel.constraint, c.NonNeg)
