"""am.testing: check_grad for plain numpy functions, the strategies, assert_grads_match."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini.testing import (
    arrays,
    assert_grads_match,
    broadcastable_shapes,
    check_grad,
    grad_settings,
    shapes,
    tensors,
)


def logsumexp(x):
    m = x.max()
    return np.log(np.sum(np.exp(x - m))) + m


def test_check_grad_scalar_function_gradient_convention():
    x = np.array([[0.2, -1.0], [3.0, 0.5]])
    assert check_grad(logsumexp, lambda g, out, x: g * np.exp(x - out), x)
    with pytest.raises(am.GradcheckError, match=r"check_grad \(grad_f against finite differences of f\)"):
        check_grad(logsumexp, lambda g, out, x: g * np.exp(x), x)


def test_check_grad_former_conventions_still_work_and_warn():
    x = np.array([[0.2, -1.0], [3.0, 0.5]])
    with pytest.warns(DeprecationWarning, match=r"grad_f\(\*arrays\) for a scalar f is deprecated"):
        assert check_grad(logsumexp, lambda x: np.exp(x - logsumexp(x)), x)
    with pytest.warns(DeprecationWarning, match=r"grad_f\(\*arrays, g\) is deprecated"):
        assert check_grad(np.sin, lambda x, g: g * np.cos(x), x)
    # a 0-d output with the array convention (a 0-d Hypothesis draw) works too
    with pytest.warns(DeprecationWarning):
        assert check_grad(np.sin, lambda x, g: g * np.cos(x), np.array(0.3))
    assert check_grad(np.sin, lambda g, out, x: g * np.cos(x), np.array(0.3))
    with pytest.raises(TypeError, match=r"expected 3: grad_f\(g, out, \*arrays\)"):
        check_grad(np.sin, lambda a, b, c, d: a, x)


def test_check_grad_vjp_convention_with_several_arguments():
    a = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])
    b = np.array([[0.3, -0.2, 1.0], [2.0, 0.1, -0.5]])
    assert check_grad(np.matmul, lambda g, out, a, b: (g @ b.T, a.T @ g), a, b)
    with pytest.raises(am.GradcheckError, match="gradient of input 1"):
        check_grad(np.matmul, lambda g, out, a, b: (g @ b.T, a.T @ g * 1.01), a, b)
    assert check_grad(np.matmul, lambda g, out, a, b: (g @ b.T, a.T @ g * 1.01), a, b, raise_exception=False) is False


def test_check_grad_reports_full_jacobians_of_small_inputs():
    with pytest.raises(am.GradcheckError) as info:
        check_grad(np.sin, lambda g, out, x: g * np.sin(x), np.array([0.1, 0.2]))
    assert "Full Jacobians" in str(info.value)
    assert "analytic 0.0998" in str(info.value) and "numeric 0.995" in str(info.value)


def test_check_grad_passes_integer_arguments_through():
    def gather_sq(x, i):
        return np.sum(x[i] ** 2)

    def grad_gather_sq(g, out, x, i):
        grad = np.zeros_like(x)
        np.add.at(grad, i, 2 * g * x[i])
        return grad, None

    assert check_grad(gather_sq, grad_gather_sq, np.array([0.5, -1.0, 2.0]), np.array([0, 2, 2]))


def test_check_grad_names_calling_convention_mistakes():
    x = np.array([1.0, 2.0])
    with pytest.raises(am.GradcheckError, match="grad_f returned 1 gradients for 2 arguments"):
        check_grad(lambda a, b: np.sum(a * b), lambda g, out, a, b: (g * b,), x, x)
    with pytest.raises(am.GradcheckError, match=r"gradient for argument 0 has shape \(3,\), expected .* \(2,\)"):
        check_grad(lambda a: np.sum(a), lambda g, out, a: np.ones(3), x)
    with pytest.raises(ValueError, match="no arrays given"):
        check_grad(np.sum, lambda x: x)


@grad_settings
@given(shapes(min_dims=1, max_dims=2).flatmap(lambda s: st.tuples(arrays(s, low=0.1, high=3.0), arrays(s))))
def test_check_grad_under_hypothesis(xy):
    x, y = xy
    assert check_grad(lambda x, y: np.log(x) * y, lambda g, out, x, y: (g * y / x, g * np.log(x)), x, y)


def test_check_grad_fails_under_hypothesis_when_wrong():
    @grad_settings
    @given(arrays((3,), low=0.5, high=2.0))
    def prop(x):
        check_grad(lambda x: np.sum(x**3), lambda g, out, x: g * 3 * x, x)  # should be 3 x**2

    with pytest.raises(am.GradcheckError):
        prop()


@grad_settings
@given(st.data())
def test_strategies_respect_domain_kinks_and_distinctness(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2))
    x = data.draw(arrays(shape, low=-1.0, high=1.0, avoid=(0.0, 0.5), gap=1e-2))
    assert x.shape == shape and x.dtype == np.float64
    assert np.all(np.abs(x) >= 1e-2 - 1e-12) and np.all(np.abs(x - 0.5) >= 1e-2 - 1e-12)
    assert np.all(x >= -1.0 - 1e-2) and np.all(x <= 1.0 + 1e-2)
    d = data.draw(arrays(shape, distinct=True, gap=1e-3)).ravel()
    if d.size > 1:
        assert np.min(np.diff(np.sort(d))) > 1e-3
    a, b = data.draw(broadcastable_shapes(2))
    np.broadcast_shapes(a, b)
    t = data.draw(tensors(dtype=np.float32))
    assert isinstance(t, am.Tensor) and t.dtype == np.float32 and t.requires_grad


def test_assert_grads_match_catches_input_mutation_and_wrong_orders():
    class Mutating(am.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    x = am.tensor([1.0, 2.0])

    def mutate(t):
        x.data[0] += 1.0  # the caller's input changes
        return Mutating.apply(t)

    with pytest.raises(AssertionError, match="input 0 was modified"):
        assert_grads_match(mutate, x)
    assert_grads_match(lambda t: t.sin(), am.tensor([0.4, 1.0]), order=3, modes=("rev", "fwd"))


def test_grad_settings_lift_the_deadline():
    assert grad_settings.deadline is None and grad_settings.max_examples == 25


@grad_settings
@given(st.data())
def test_the_strategies_users_need(data):
    from autograd_mini.testing import (
        index_arrays,
        matmul_shapes,
        probability_vectors,
        sorted_arrays,
        well_conditioned_matrices,
    )

    sa, sb = data.draw(matmul_shapes())
    np.matmul(np.ones(sa), np.ones(sb))  # compatible
    a = data.draw(well_conditioned_matrices(batch=(2,)))
    assert np.all(np.linalg.cond(a) < 4 * a.shape[-1] + 4)
    s = data.draw(well_conditioned_matrices(3, spd=True))
    np.testing.assert_allclose(s, s.T)
    assert np.all(np.linalg.eigvalsh(s) >= 3 - 1e-9)
    i = data.draw(index_arrays(5, (2, 3)))
    assert i.dtype == np.int64 and i.shape == (2, 3) and i.min() >= 0 and i.max() < 5
    u = data.draw(index_arrays(5, (4,), unique=True))
    assert len(set(u.tolist())) == 4
    p = data.draw(probability_vectors((2, 3)))
    np.testing.assert_allclose(p.sum(-1), 1.0)
    assert np.all(p > 0)
    z = data.draw(sorted_arrays((2, 4)))
    assert np.all(np.diff(z, axis=-1) >= 1e-3)


def test_pushed_values_keep_their_distance_and_never_cancel():
    from autograd_mini.testing import _push_away

    pushed = _push_away(np.array([0.0, -0.0, 5e-4, -5e-4, 0.2]), (0.0,), 1e-3)
    assert np.all(np.abs(pushed) >= 1e-3) and pushed[4] == 0.2
    assert pushed[0] + pushed[1] != 0.0 and pushed[2] + pushed[3] != 0.0  # x / sum(x) stays finite
    assert np.all(np.diff(pushed[[3, 1, 0, 2]]) >= 0)  # order kept (0.0 and -0.0 are equal)


def test_check_grad_order_2_and_strict_dtype():
    x = np.array([0.3, -1.1, 2.0])
    assert check_grad(np.tanh, lambda g, out, x: g * (1 - out * out), x, order=2)
    # right values, but the output is read as a constant: the second derivative is wrong
    with pytest.raises(am.GradcheckError, match="order 2"):
        check_grad(np.tanh, lambda g, out, x: g * (1 - np.asarray(out) ** 2), x, order=2)
    with pytest.raises(am.GradcheckError, match="dtype float32 for input 0"):
        check_grad(np.tanh, lambda g, out, x: (g * (1 - out * out)).astype(np.float32), x)
