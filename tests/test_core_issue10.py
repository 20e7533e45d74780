"""Issue 10: answers that were wrong, each pinned by a named test (PyTorch's values)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mini as am


# ---- 1. second order through an input and its detach(): roles, not identity ---------------
@pytest.mark.parametrize(
    "op",
    [lambda x, c: x * c, lambda x, c: x / (c + 5.0 * 0), lambda x, c: x @ c, lambda x, c: c * x, lambda x, c: x - c],
    ids=["mul", "div", "matmul", "rmul", "sub"],
)
def test_second_order_through_detach_is_zero(op):
    x = am.tensor([1.5, -2.0], requires_grad=True)
    (g,) = am.gradients(op(x, x.detach()).sum(), [x], create_graph=True)
    assert not g.requires_grad  # d/dx (x * c) = c: a constant, as in PyTorch
    with pytest.raises(RuntimeError, match="does not require grad"):
        am.gradients(g.sum(), [x])


def test_second_order_through_the_array_of_an_input_is_zero():
    x = am.tensor([1.5, -2.0], requires_grad=True)
    (g,) = am.gradients((x * x.data).sum(), [x], create_graph=True)
    assert not g.requires_grad
    np.testing.assert_allclose(g.data, [1.5, -2.0])


def test_hessian_of_product_with_outer_tensor_is_zero():
    x = am.tensor([1.5, -2.0], requires_grad=True)
    np.testing.assert_array_equal(am.hessian(lambda v: (v * x).sum())(x).data, np.zeros((2, 2)))
    np.testing.assert_array_equal(am.hessian(lambda v: (v * v).sum())(x).data, 2 * np.eye(2))


def test_second_order_of_x_times_x_still_exact():
    x = am.tensor([1.5, -2.0], requires_grad=True)
    (g,) = am.gradients((x * x * x).sum(), [x], create_graph=True)
    (h,) = am.gradients(g.sum(), [x])
    np.testing.assert_allclose(h.data, 6 * x.data)


class _SavesIntermediate(am.Function):
    """z = exp(a) * 2, saving exp(a) (an intermediate)"""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(a)
        ctx.save_for_backward(e)
        return e * 2

    @staticmethod
    def backward(ctx, g):
        (e,) = ctx.saved_tensors
        return g * e * 2


def test_saved_intermediate_raises_under_create_graph():
    x = am.tensor([0.5], requires_grad=True)
    y = _SavesIntermediate.apply(x).sum()
    (g,) = am.gradients(y, [x], retain_graph=True)  # first order is fine
    np.testing.assert_allclose(g.data, 2 * np.exp(0.5))
    with pytest.raises(RuntimeError, match="_savesintermediate.*neither an input nor the output"):
        am.gradients(y, [x], create_graph=True)


class _FirstOrderOnly(am.Function):
    """z = exp(a) * 2 (first order only)"""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(a)
        ctx.save_for_backward(e)
        return e * 2

    @staticmethod
    @am.once_differentiable
    def backward(ctx, g):
        (e,) = ctx.saved_tensors
        return g * e * 2


def test_once_differentiable_raises_on_double_backward():
    assert _FirstOrderOnly.once_differentiable
    x = am.tensor([0.5], requires_grad=True)
    (g,) = am.gradients(_FirstOrderOnly.apply(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 2 * np.exp(0.5))
    with pytest.raises(RuntimeError, match="_firstorderonly.*once_differentiable"):
        am.gradients(g.sum(), [x])


def test_once_differentiable_on_a_class():
    @am.once_differentiable
    class Twice(am.Function):
        """z = 2a"""

        @staticmethod
        def forward(ctx, a):
            return 2 * a

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    assert Twice.once_differentiable and not am.Function.once_differentiable


def test_create_graph_after_input_updated_raises():
    w = am.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.assign_add(np.ones(2))  # copy-on-write: the graph keeps the old values
    (g,) = am.gradients(y, [w], retain_graph=True)
    np.testing.assert_allclose(g.data, [2.0, 4.0])  # first order: exact, from the saved values
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        am.gradients(y, [w], create_graph=True)


# ---- 2. the same tensor twice in inputs --------------------------------------------------
def test_gradients_same_input_twice():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    a, b = am.gradients((x * x).sum(), [x, x])
    np.testing.assert_allclose(a.data, [2.0, 4.0])
    np.testing.assert_allclose(b.data, [2.0, 4.0])


# ---- 3. powers at zero -------------------------------------------------------------------
@pytest.mark.parametrize("p, grad, hess", [(0, 0.0, 0.0), (1, 1.0, 0.0), (2, 0.0, 2.0), (3, 0.0, 0.0)])
def test_power_at_zero_gradient_and_hessian(p, grad, hess):
    f = lambda v: (v**p).sum()
    x = am.tensor([0.0])
    assert am.grad(f)(x).item() == grad
    assert am.hessian(f)(x).item() == hess


def test_power_with_array_exponent_zero_at_zero():
    x = am.tensor([0.0, 0.0, 2.0])
    b = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(am.grad(lambda v: (v**b).sum())(x).data, [0.0, 1.0, 4.0])
    np.testing.assert_array_equal(am.hessian(lambda v: (v**b).sum())(x).data, np.diag([0.0, 0.0, 2.0]))


def test_value_power_at_zero():
    z = am.Value(0.0)
    y = z**0
    assert y.data == 1.0
    y.backward()
    assert z.grad == 0.0
    z = am.Value(0.0)
    y = z**0.5
    assert y.data == 0.0
    y.backward()
    assert z.grad == float("inf")
    z = am.Value(0.0)
    (z**1).backward()
    assert z.grad == 1.0


# ---- 4. retain_grad accumulates; softmax of a 0-d tensor -----------------------------------
def test_retain_grad_accumulates_across_backward():
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.data, 2 * y.data)
    z.backward()
    np.testing.assert_allclose(y.grad.data, 4 * y.data)
    np.testing.assert_allclose(x.grad.data, 2 * 18 * x.data)


def test_softmax_of_0d_tensor_is_one():
    x = am.tensor(3.0, requires_grad=True)
    y = am.softmax(x)
    assert y.shape == () and y.item() == 1.0
    y.backward()
    assert x.grad.item() == 0.0
    assert am.log_softmax(x).item() == 0.0
    with pytest.raises(ValueError, match="softmax: axis 2 is out of bounds for a 0-d tensor"):
        am.softmax(x, axis=2)


# ---- 5. gradient shapes and dtypes --------------------------------------------------------
class _WrongShape(am.Function):
    """z = a, with a backward returning a wrong shape"""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g.reshape(1, 8)


def test_gradient_of_wrong_shape_raises():
    x = am.tensor(np.ones((2, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_wrongshape.*\(1, 8\).*input 0 of shape \(2, 4\)"):
        _WrongShape.apply(x).sum().backward()


def test_broadcast_gradient_still_reduced():
    x = am.tensor(np.ones((2, 1)), requires_grad=True)
    (x + np.ones((3, 2, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 1), 12.0))


def test_complex_constant_raises_type_error():
    x = am.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="mul: the result has dtype complex128"):
        x * np.array([1 + 1j])
    with pytest.raises(TypeError, match="add: the result has dtype object"):
        x + np.array([1.0], dtype=object)


# ---- 6. numpy's errors stay readable -----------------------------------------------------
def test_numpy_no_loop_error_is_readable():
    with pytest.raises(TypeError, match=r"add: operands \(1,\) and a str \('a'\)"):
        am.tensor([1.0]) + "a"


def test_ragged_operand_names_the_op():
    with pytest.raises(ValueError, match="mul: operands .*ragged nested list"):
        am.tensor([1.0, 2.0]) * [[1.0], [1.0, 2.0]]
