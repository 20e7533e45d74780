"""numpy's dispatch protocols on Tensor: custom ops written with numpy work at first and second order."""

import warnings

import numpy as np
import pytest

import autograd_mini as am


def leaf(values):
    return am.tensor(values, requires_grad=True)


class NumpySoftplus(am.Function):
    """y = log(1 + e^x);  dy/dx = e^x / (1 + e^x), written with numpy calls only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(1.0 + np.exp(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = np.exp(x)
        return g * np.divide(e, np.add(1.0, e))


class NumpyNormalize(am.Function):
    """y = x / sum(x**2) over the last axis, written with numpy functions (sum, square, reshape, where)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / np.sum(np.square(x), axis=-1, keepdims=True)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = np.sum(np.square(x), axis=-1, keepdims=True)
        # d(x/s) = g/s - 2 x <g, x> / s^2
        gx = np.sum(np.multiply(g, x), axis=-1, keepdims=True)
        return np.subtract(g / s, 2.0 * x * gx / np.power(s, 2))


def test_a_numpy_backward_works_at_first_second_and_third_order():
    x = (leaf([0.3, -1.2, 2.0]),)
    assert am.gradcheck(NumpySoftplus.apply, x, modes=("rev", "fwd"), order=3)
    assert am.gradgradcheck(NumpySoftplus.apply, x)


def test_numpy_functions_in_a_backward_are_differentiable():
    x = (leaf([[0.3, -1.2, 2.0], [1.0, 0.5, -0.7]]),)
    assert am.gradcheck(NumpyNormalize.apply, x, order=2)


def test_supported_ufuncs_give_graph_tensors():
    x = leaf([0.5, 1.5])
    y = leaf([2.0, 0.25])
    cases = {
        "add": np.add(x, y),
        "subtract": np.subtract(x, y),
        "multiply": np.multiply(x, y),
        "divide": np.divide(x, y),
        "power": np.power(x, y),
        "negative": np.negative(x),
        "square": np.square(x),
        "reciprocal": np.reciprocal(x),
        "exp": np.exp(x),
        "log": np.log(x),
        "sqrt": np.sqrt(x),
        "abs": np.abs(x),
        "sin": np.sin(x),
        "cos": np.cos(x),
        "tanh": np.tanh(x),
        "maximum": np.maximum(x, y),
        "minimum": np.minimum(x, y),
        "matmul": np.matmul(x, y),
    }
    for name, out in cases.items():
        assert isinstance(out, am.Tensor) and out.requires_grad, name
    np.testing.assert_allclose(np.square(x).data, [0.25, 2.25])
    (g,) = am.gradients(np.tanh(x).sum(), [x])
    np.testing.assert_allclose(g.data, 1 - np.tanh([0.5, 1.5]) ** 2)


def test_array_functions_record_ops_when_a_tensor_requires_grad():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    outs = [
        np.sum(x, axis=0),
        np.mean(x),
        np.max(x, axis=1),
        np.min(x),
        np.reshape(x, (4,)),
        np.ravel(x),
        np.transpose(x),
        np.swapaxes(x, 0, 1),
        np.expand_dims(x, (0, 2)),
        np.squeeze(np.expand_dims(x, 0)),
        np.broadcast_to(x, (3, 2, 2)),
        np.concatenate([x, x], axis=None),
        np.stack([x, x], axis=1),
        np.where(np.array([[True, False], [False, True]]), x, 0.0),
        np.clip(x, 1.5, 3.5),
        np.dot(x, x),
        np.outer(x, x),
    ]
    for out in outs:
        assert isinstance(out, am.Tensor) and out.requires_grad
    assert np.expand_dims(x, (0, 2)).shape == (1, 2, 1, 2)
    (g,) = am.gradients(np.sum(np.clip(x, 1.5, 3.5)), [x])
    np.testing.assert_array_equal(g.data, [[0.0, 1.0], [1.0, 0.0]])


def test_without_grad_array_functions_behave_as_before():
    t = am.tensor([1.0, 2.0, 3.0])
    total = np.sum(t)
    assert isinstance(total, np.floating) and total == 6.0
    assert isinstance(np.concatenate([t, t]), np.ndarray)
    with am.no_grad():
        assert isinstance(np.mean(leaf([1.0, 2.0])), np.floating)
    assert np.shape(t) == (3,) and np.allclose(t, [1.0, 2.0, 3.0])


def test_ndarray_op_tensor_gives_a_tensor():
    x = leaf([1.0, 2.0])
    for out in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x, np.float64(2.0) * x):
        assert isinstance(out, am.Tensor) and out.requires_grad
    compared = np.array([1.5, 1.5]) < x
    assert isinstance(compared, am.Tensor) and not compared.requires_grad
    np.testing.assert_array_equal(compared.data, [False, True])


def test_piecewise_constant_ufuncs_give_tensors_without_gradient():
    x = leaf([-1.5, 2.5])
    for out in (np.sign(x), np.floor(x), np.isfinite(x), np.equal(x, x)):
        assert isinstance(out, am.Tensor) and not out.requires_grad
    np.testing.assert_array_equal(np.sign(x).data, [-1.0, 1.0])


def test_unsupported_calls_raise_errors_naming_the_op():
    x = leaf([0.5])
    with pytest.raises(TypeError, match=r"np.arctan has no differentiable op in autograd_mini.*am.Function"):
        np.arctan(x)
    with pytest.raises(TypeError, match=r"np.add.reduce on a Tensor"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"np.exp\(\.\.\., out=\.\.\.\) on a Tensor"):
        np.exp(x, out=np.empty(1))
    with pytest.raises(
        TypeError, match=r"np.sum on a Tensor that requires grad: unsupported argument\(s\) \['dtype'\]"
    ):
        np.sum(x, dtype=np.float32)


def test_an_unsupported_function_on_a_graph_tensor_warns():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.warns(RuntimeWarning, match="np.cumprod on a Tensor of a graph"):
        out = np.cumprod(y)
    np.testing.assert_array_equal(out, [2.0, 8.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.argmax(y)  # no gradient by nature: no warning
        np.cumprod(leaf([1.0]))  # a leaf: the caller reads values, as before


def test_float32_stays_float32():
    x = am.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    assert np.exp(x).dtype == np.float32
    assert np.sum(np.square(x)).dtype == np.float32
