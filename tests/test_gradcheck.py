"""gradcheck: reverse and forward mode, orders 1 to 3, and reports a person can verify."""

import importlib
import re

import numpy as np
import pytest

import autograd_mini as am

gradcheck_module = importlib.import_module("autograd_mini.gradcheck")  # the name am.gradcheck is the function


def leaf(values):
    return am.tensor(values, requires_grad=True)


class HalfSquare(am.Function):
    """y = x**2 with a wrong derivative (x instead of 2x): every check must catch it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class CubeWrongSecond(am.Function):
    """y = x**3 with a right first derivative whose own derivative is wrong (3 x**2 built from constants)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        x = x.data if isinstance(x, am.Tensor) else x  # drops the graph: second derivative is 0
        return g * 3 * x**2


class Sin3(am.Function):
    """y = sin x with a third derivative that is wrong: dy/dx = cos x, written through a wrong op."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if isinstance(x, am.Tensor):
            return g * SinPrime.apply(x)
        return g * np.cos(x)


class SinPrime(am.Function):
    """cos x, whose derivative is given as -sin x correctly, but only to first order (its own backward drops the graph)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        x = x.data if isinstance(x, am.Tensor) else x
        return -g * np.sin(x)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_a_wrong_derivative_fails_in_each_mode(mode):
    with pytest.raises(am.GradcheckError, match=f"{mode} mode"):
        am.gradcheck(HalfSquare.apply, (leaf([1.0, 2.0]),), modes=(mode,))
    assert am.gradcheck(HalfSquare.apply, (leaf([1.0, 2.0]),), modes=(mode,), raise_exception=False) is False
    assert am.gradcheck(lambda x: x * x, (leaf([1.0, 2.0]),), modes=(mode,))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_order_finds_the_first_wrong_order(mode):
    x = (leaf([0.5, 1.5]),)
    assert am.gradcheck(CubeWrongSecond.apply, x, modes=(mode,), order=1)
    with pytest.raises(am.GradcheckError, match="order 2"):
        am.gradcheck(CubeWrongSecond.apply, x, modes=(mode,), order=2)
    assert am.gradcheck(Sin3.apply, x, modes=(mode,), order=2)
    with pytest.raises(am.GradcheckError, match="order 3"):
        am.gradcheck(Sin3.apply, x, modes=(mode,), order=3)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    with pytest.raises(am.GradcheckError, match="order 2"):
        am.gradgradcheck(CubeWrongSecond.apply, (leaf([0.5, 1.5]),))
    assert am.gradgradcheck(lambda x: x**3, (leaf([0.5, 1.5]),), grad_outputs=[np.array([1.0, -2.0])])


def test_small_failures_list_the_full_jacobians():
    # y = x**2 elementwise: the true Jacobian is diag(2x) = diag(2, 4); the wrong one diag(1, 2)
    with pytest.raises(am.GradcheckError) as info:
        am.gradcheck(HalfSquare.apply, (leaf([1.0, 2.0]),))
    message = str(info.value)
    assert "random upstream gradient" in message  # which comparison failed
    assert "Full Jacobians" in message
    assert re.search(r"\[\(0,\), \(0,\)\]: analytic 1\.0, numeric (1\.99|2\.00)", message)
    assert re.search(r"\[\(1,\), \(1,\)\]: analytic 2\.0, numeric (3\.99|4\.00)", message)
    assert "2 of 4 differ" in message


def test_several_inputs_and_outputs_in_the_report():
    def f(a, b):
        return HalfSquare.apply(a) * b, a + b

    with pytest.raises(am.GradcheckError) as info:
        am.gradcheck(f, (leaf([1.0, 2.0]), leaf([3.0, 5.0])), modes=("fwd",))
    message = str(info.value)
    assert "d output 0 (2,) / d input 0 (2,): 2 of 4 differ" in message
    assert "d output 1 (2,) / d input 1 (2,): 0 of 4 differ" in message
    assert re.search(r"\[\(1,\), \(1,\)\]: analytic 10\.0, numeric (19\.99|20\.00)", message)


def test_large_failures_say_only_the_projection_was_compared(monkeypatch):
    monkeypatch.setattr(gradcheck_module, "FULL_JACOBIAN_LIMIT", 3)
    with pytest.raises(am.GradcheckError, match="Only that random projection was compared") as info:
        am.gradcheck(HalfSquare.apply, (leaf([1.0, 2.0, 3.0, 4.0]),))
    assert "Full Jacobians" not in str(info.value)


def test_integer_inputs_pass_through_and_bad_arguments_are_named():
    x = leaf([1.0, 2.0, 3.0])
    index = am.tensor(np.array([0, 2]))
    assert am.gradcheck(lambda x, i: x[i.data] ** 2, (x, index), modes=("rev", "fwd"), order=2)
    with pytest.raises(ValueError, match="modes must hold 'rev' and/or 'fwd', got 'forward'"):
        am.gradcheck(lambda x: x, (x,), modes=("forward",))
    with pytest.raises(ValueError, match="order must be 1, 2 or 3, got 4"):
        am.gradcheck(lambda x: x, (x,), order=4)


def test_the_torch_style_signature_still_works():
    assert am.gradcheck(lambda x: x.tanh(), (leaf([0.2, -0.4]),), 1e-6, 1e-5, 1e-3, True)
    assert am.gradcheck(func=lambda x: x.exp(), inputs=leaf([0.2]), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_check_grads_style_call_on_a_smooth_function():
    # jax.test_util.check_grads(f, (x,), order=2, modes=("fwd", "rev")) in autograd_mini's words
    assert am.gradcheck(lambda x: x.tanh() * x**2, (leaf([0.3, -1.1]),), modes=("fwd", "rev"), order=2)
