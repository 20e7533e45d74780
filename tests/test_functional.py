"""Function transforms: gradients with repeated inputs, vjp, jvp (forward mode), hvp, and their errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS

import autograd_mini as am
from autograd_mini.testing import arrays, shapes


def leaf(values):
    return am.tensor(values, requires_grad=True)


def f_two(a, b):
    return (a * b).sin() + a.exp() * b


def test_gradients_returns_a_repeated_input_in_every_place():
    x = leaf([1.0, 2.0])
    y = leaf([3.0, 4.0])
    gx, gy, gx2 = am.gradients((x * x * y).sum(), [x, y, x])
    np.testing.assert_allclose(gx.data, [6.0, 16.0])
    np.testing.assert_allclose(gx2.data, [6.0, 16.0])
    np.testing.assert_allclose(gy.data, [1.0, 4.0])
    assert gx.data is not gx2.data  # no aliasing between the two places


def test_gradients_repeated_input_with_create_graph():
    x = leaf([1.0, 2.0])
    g1, g2 = am.gradients((x**3).sum(), [x, x], create_graph=True)
    assert g1.requires_grad and g2.requires_grad
    (h,) = am.gradients(g2.sum(), [x])
    np.testing.assert_allclose(h.data, [6.0, 12.0])


def test_gradients_names_bad_arguments():
    x = leaf([1.0])
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Tensor, got list"):
        am.gradients((x * x).sum(), [x, [1.0]])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\) but output 0 has shape \(1,\)"):
        am.gradients(x * x, [x], [np.ones(3)])


def test_vjp_matches_hand_derivative_and_can_be_called_twice():
    a, b = np.array([0.3, -1.2]), np.array([2.0, 0.5])
    out, vjp_fn = am.vjp(f_two, am.tensor(a), am.tensor(b))
    np.testing.assert_allclose(out.data, np.sin(a * b) + np.exp(a) * b)
    assert not out.requires_grad
    ct = np.array([1.0, -2.0])
    for _ in range(2):
        ga, gb = vjp_fn(am.tensor(ct))
        np.testing.assert_allclose(ga.data, ct * (np.cos(a * b) * b + np.exp(a) * b))
        np.testing.assert_allclose(gb.data, ct * (np.cos(a * b) * a + np.exp(a)))


def test_vjp_of_a_tuple_output_and_shape_errors():
    out, vjp_fn = am.vjp(lambda x: (x * 2.0, x.sum()), am.tensor([1.0, 2.0]))
    assert isinstance(out, tuple) and len(out) == 2
    (g,) = vjp_fn((np.ones(2), np.array(3.0)))
    np.testing.assert_allclose(g.data, [5.0, 5.0])
    with pytest.raises(ValueError, match=r"cotangents\[0\] has shape \(3,\), expected \(2,\)"):
        vjp_fn((np.ones(3), np.array(1.0)))
    with pytest.raises(TypeError, match="must be a tuple or list"):
        vjp_fn(np.ones(2))


def test_jvp_is_the_directional_derivative():
    a, b = np.array([0.3, -1.2]), np.array([2.0, 0.5])
    ta, tb = np.array([1.0, 0.0]), np.array([0.5, 2.0])
    out, t_out = am.jvp(f_two, (am.tensor(a), am.tensor(b)), (am.tensor(ta), am.tensor(tb)))
    expected = (np.cos(a * b) * b + np.exp(a) * b) * ta + (np.cos(a * b) * a + np.exp(a)) * tb
    np.testing.assert_allclose(t_out.data, expected)
    np.testing.assert_allclose(out.data, np.sin(a * b) + np.exp(a) * b)


def test_jvp_errors_name_the_argument():
    with pytest.raises(TypeError, match="jvp: primals must be a tuple or list"):
        am.jvp(lambda x: x, am.tensor([1.0]), (am.tensor([1.0]),))
    with pytest.raises(ValueError, match=r"jvp: tangents\[0\] has shape \(2,\), expected \(1,\)"):
        am.jvp(lambda x: x, (am.tensor([1.0]),), (am.tensor([1.0, 2.0]),))


def test_jvp_of_a_constant_function_is_zero_and_float32_stays_float32():
    _, t = am.jvp(lambda x: am.tensor([1.0, 2.0]), (am.tensor([3.0]),), (am.tensor([1.0]),))
    np.testing.assert_array_equal(t.data, [0.0, 0.0])
    x = am.tensor(np.array([1.0, 2.0], dtype=np.float32))
    out, t = am.jvp(lambda x: x.tanh(), (x,), (am.tensor(np.ones(2, dtype=np.float32)),))
    assert out.dtype == np.float32 and t.dtype == np.float32


def test_jvp_nests_inside_grad():
    # d/dx of (J_f(x) t) for f = x**3 along t = 1 is 6x
    def inner(x):
        return am.jvp(lambda y: y**3, (x,), (am.tensor(np.ones(2)),))[1].sum()

    np.testing.assert_allclose(am.grad(inner)(am.tensor([1.0, 2.0])).data, [6.0, 12.0])


@settings(max_examples=15)
@given(shapes(min_dims=1, max_dims=2).flatmap(lambda s: st.tuples(arrays(s), arrays(s), arrays(s))))
def test_jvp_equals_jacobian_times_tangent(xtv):
    x, t, v = xtv
    f = lambda x: (x * x).sin().sum(axis=-1, keepdims=True) * x
    _, jt = am.jvp(f, (am.tensor(x),), (am.tensor(t),))
    jac = am.jacobian(f)(am.tensor(x)).data.reshape(x.size, x.size)
    np.testing.assert_allclose(jt.data.ravel(), jac @ t.ravel(), atol=1e-10)
    hv = am.hvp(lambda x: f(x).sum(), am.tensor(x), am.tensor(v))
    hess = am.hessian(lambda x: f(x).sum())(am.tensor(x)).data.reshape(x.size, x.size)
    np.testing.assert_allclose(hv.data.ravel(), hess @ v.ravel(), atol=1e-10)


def test_hvp_of_several_arguments_and_errors():
    f = lambda a, b: (a * a * b).sum()
    ha, hb = am.hvp(f, (am.tensor([1.0, 2.0]), am.tensor([3.0, 4.0])), (am.tensor([1.0, 0.0]), am.tensor([0.0, 1.0])))
    # H = [[2b, 2a], [2a, 0]] per element: Hv for v = (e_a0, e_b1)
    np.testing.assert_allclose(ha.data, [6.0, 4.0])
    np.testing.assert_allclose(hb.data, [2.0, 0.0])
    with pytest.raises(TypeError, match="hvp: the function must return a one-element Tensor"):
        am.hvp(lambda x: x * 2.0, am.tensor([1.0, 2.0]), am.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"hvp: v\[0\] has shape \(3,\), expected \(2,\)"):
        am.hvp(lambda x: x.sum(), am.tensor([1.0, 2.0]), am.tensor([1.0, 1.0, 1.0]))


def test_jvp_matches_torch_func_jvp():
    torch = pytest.importorskip("torch")
    a, t = np.array([[0.3, -1.2], [0.7, 2.0]]), np.array([[1.0, 0.5], [-0.5, 2.0]])
    f_am = lambda x: (x @ x).tanh() * x.exp()
    f_torch = lambda x: torch.tanh(x @ x) * torch.exp(x)
    _, ours = am.jvp(f_am, (am.tensor(a),), (am.tensor(t),))
    _, theirs = torch.func.jvp(f_torch, (torch.tensor(a),), (torch.tensor(t),))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_jvp_and_hvp_match_jax():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):  # a context: other tests keep jax's float32 default
        jnp = jax.numpy
        a, t = np.array([0.3, -1.2, 0.8]), np.array([1.0, 0.5, -2.0])
        _, theirs = jax.jvp(lambda x: jnp.sin(x * x) / (1.0 + jnp.exp(x)), (jnp.asarray(a),), (jnp.asarray(t),))
        g = jax.grad(lambda x: jnp.sum(jnp.sin(x) * x**3))
        _, hv_jax = jax.jvp(g, (jnp.asarray(a),), (jnp.asarray(t),))
        theirs, hv_jax = np.asarray(theirs), np.asarray(hv_jax)
    assert theirs.dtype == np.float64
    _, ours = am.jvp(lambda x: (x * x).sin() / (1.0 + x.exp()), (am.tensor(a),), (am.tensor(t),))
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-12)
    hv = am.hvp(lambda x: (x.sin() * x**3).sum(), am.tensor(a), am.tensor(t))
    np.testing.assert_allclose(hv.data, hv_jax, rtol=1e-12)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@settings(max_examples=4)
@given(data=st.data())
def test_forward_mode_of_every_core_op(op, data):
    """jvp (forward mode, by transposing a vjp) against finite differences, over the core's op table."""
    args, kwargs = op.draw(data)
    tensors = [am.tensor(a, requires_grad=True) for a in args]
    assert am.gradcheck(lambda *ts: op.fn(*ts, **kwargs), tensors, modes=("fwd",), atol=1e-7, rtol=1e-5)
