"""The engine's contract: accumulation, graph release, errors, no recursion, modes, dtypes."""

import gc
import math
import weakref

import numpy as np
import pytest

import autograd_mini as am


def leaf(values, dtype=np.float64):
    return am.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- the seeds' walkthroughs, exactly -------------------------------------------------------------
def test_chain_rule_walkthrough_value():
    x, y, z = am.Value(-2.0), am.Value(5.0), am.Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert [x.grad, y.grad, z.grad] == [-4.0, -4.0, 3.0]


def test_chain_rule_walkthrough_tensor():
    x, y, z = leaf(-2.0), leaf(5.0), leaf(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (q.item(), f.item()) == (3.0, -12.0)
    assert [x.grad.item(), y.grad.item(), z.grad.item()] == [-4.0, -4.0, 3.0]


DX = [0.3932238664829637, -0.5898357997244456]
DW = [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]


def test_sigmoid_neuron_value():
    w = [am.Value(2.0), am.Value(-3.0), am.Value(-3.0)]
    x = [am.Value(-1.0), am.Value(-2.0)]
    f = 1 / (1 + (-(w[0] * x[0] + w[1] * x[1] + w[2])).exp())
    f.backward()
    np.testing.assert_allclose([v.grad for v in x], DX, rtol=0, atol=1e-12)
    np.testing.assert_allclose([v.grad for v in w], DW, rtol=0, atol=1e-12)


def test_sigmoid_neuron_tensor():
    w, x = leaf([2.0, -3.0, -3.0]), leaf([-1.0, -2.0])
    f = 1 / (1 + am.exp(-((w[:2] * x).sum() + w[2])))
    f.backward()
    np.testing.assert_allclose(x.grad.data, DX, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w.grad.data, DW, rtol=0, atol=1e-12)


# ---- reuse, accumulation, release -----------------------------------------------------------------------
def test_reuse_and_diamond_are_exact():
    a = leaf(3.0)
    (a * a).backward()
    assert a.grad.item() == 6.0
    b = leaf(2.0)
    c = b * 3
    d = b + 1
    (c * d).backward()  # d/db (3b (b+1)) = 6b + 3
    assert b.grad.item() == 15.0
    v = am.Value(3.0)
    (v * v).backward()
    assert v.grad == 6.0


def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_value_backward_twice_accumulates_leaves_only():
    x, y = am.Value(2.0), am.Value(3.0)
    f = (x + y) * y
    f.backward()
    f.backward()
    assert (x.grad, y.grad) == (6.0, 16.0)


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_second_backward_through_released_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_non_scalar_backward_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.backward()
    y.backward(gradient=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, -2.0])


def test_graph_is_freed_after_backward():
    x = leaf(np.ones(3))
    hidden = x * 2
    ref = weakref.ref(hidden)
    y = (hidden.exp()).sum()
    del hidden
    gc.collect()
    assert ref() is not None  # the graph holds it
    y.backward()
    assert ref() is None  # released as backward consumed it


def test_leaf_data_is_writable_again_after_backward():
    w = leaf(np.ones((2, 2)))
    loss = (w @ w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data -= 1.0  # the graph still needs w: modifying it now would corrupt the gradient
    loss.backward()
    w.data -= 0.1 * w.grad.data  # the manual update works once no graph holds w
    np.testing.assert_allclose(w.data, 1 - 0.1 * 4)


def test_dropping_a_graph_without_backward_releases_leaves():
    w = leaf(np.ones(3))
    y = (w * w).sum()
    del y
    gc.collect()
    w.data += 1.0
    assert w.data[0] == 2.0


def test_setitem_on_graph_tensor_is_refused():
    w = leaf(np.ones(3))
    with pytest.raises(RuntimeError, match="in-place"):
        w[0] = 5.0


# ---- no recursion ------------------------------------------------------------------------------------
def test_million_node_value_chain():
    x = am.Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0 and y.data == 1_000_001.0


def test_million_node_tensor_chain():
    x = leaf(np.ones(2))
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ---- modes and dtypes -------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_enable_grad_restores():
    x = leaf([1.0])
    with am.no_grad():
        y = x * 2
        with am.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_integer_tensors_never_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        am.tensor([1, 2], requires_grad=True)
    t = am.tensor([1, 2])
    assert t.dtype == np.int64 and not (t * 2).requires_grad


def test_float32_stays_float32():
    x = leaf(np.ones((2, 3)), np.float32)
    w = leaf(np.ones((3, 2)), np.float32)
    y = (am.tanh(x @ w) * 0.5 + 1).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_python_floats_give_float64():
    assert am.tensor(1.5).dtype == np.float64
    assert am.tensor([1.0, 2.0]).dtype == np.float64


def test_value_and_zero_d_tensor_agree():
    def build(a, b):
        return ((a * b + 1.5) ** 2 / (b - 4.0)).tanh() + (a * 0.3).exp() - (b * b).log() + (a - b).relu()

    va, vb = am.Value(0.7), am.Value(-1.3)
    ta, tb = leaf(0.7), leaf(-1.3)
    vf, tf = build(va, vb), build(ta, tb)
    vf.backward()
    tf.backward()
    assert math.isclose(vf.data, tf.item(), rel_tol=1e-14)
    assert math.isclose(va.grad, ta.grad.item(), rel_tol=1e-12)
    assert math.isclose(vb.grad, tb.grad.item(), rel_tol=1e-12)


def test_value_supports_sum_and_reflected_ops():
    xs = [am.Value(float(i)) for i in range(4)]
    total = sum(x * x for x in xs)
    total.backward()
    assert total.data == 14.0 and [x.grad for x in xs] == [0.0, 2.0, 4.0, 6.0]
    a = am.Value(2.0)
    b = 2**a + 3 - a / 4
    b.backward()
    assert math.isclose(a.grad, 4 * math.log(2) - 0.25)
    c = am.Value(2.0)
    d = c ** am.Value(3.0)
    assert d.data == 8.0


def test_value_rejects_non_numbers():
    with pytest.raises(TypeError, match="real number"):
        am.Value("3")


# ---- numerical conventions and stability ------------------------------------------------------------
def test_kink_conventions():
    x = leaf([0.0, 0.0])
    am.relu(x).sum().backward()
    assert x.grad.data.tolist() == [0.0, 0.0]
    x = leaf([0.0])
    am.abs(x).sum().backward()
    assert x.grad.data.tolist() == [0.0]
    x = leaf([1.0, 3.0, 3.0])
    x.max().backward()
    assert x.grad.data.tolist() == [0.0, 0.5, 0.5]
    x = leaf([[1.0, 1.0], [2.0, 0.0]])
    x.min(axis=1).sum().backward()
    assert x.grad.data.tolist() == [[0.5, 0.5], [0.0, 1.0]]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "log_softmax", "logsumexp", "softmax", "exp"])
def test_stable_at_large_inputs(name):
    values = [-1e4, 1e4] if name != "exp" else [-1e4, -1e3]  # exp(+1e4) overflows in any float
    x = leaf(values)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):  # numpy's warnings, as errors
        y = getattr(am, name)(x)
        (y * am.tensor(np.ones(y.shape))).sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))


def test_value_functions_are_stable():
    assert am.Value(-1e4).sigmoid().data == 0.0
    assert am.Value(1e4).sigmoid().data == 1.0
    assert am.Value(1e4).exp().data == math.inf


# ---- errors --------------------------------------------------------------------------------------------
def test_matmul_shape_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned"):
        leaf(np.ones((2, 3))) @ leaf(np.ones((2, 3)))


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        leaf(np.ones((2, 3))) + leaf(np.ones(4))


def test_reduction_axis_error():
    with pytest.raises(ValueError, match="sum: axis 2 is out of bounds"):
        leaf(np.ones((2, 3))).sum(axis=2)


def test_tensor_rejects_non_numeric_data():
    with pytest.raises(TypeError, match="numeric"):
        am.tensor(["a", "b"])


def test_detect_anomaly_names_op_shapes_and_line():
    x = leaf([1.0, -1.0])
    with am.detect_anomaly(), pytest.raises(FloatingPointError, match=r"op 'log'.*\(2,\).*test_engine.py:\d+"):
        am.log(x - 1.0)  # log(0) and log(-2): the first non-finite value is here
    y = leaf([0.0])
    with am.detect_anomaly():
        z = am.sqrt(y)  # forward is finite (0) but its gradient 1/(2*0) is not
        with pytest.raises(FloatingPointError, match="sqrt.*backward"):
            z.sum().backward()


# ---- custom functions and higher order ---------------------------------------------------------------
class Cube(am.Function):
    """y = x**3;  dy/dx = 3 x**2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


def test_custom_function_first_and_second_order():
    x = leaf([1.0, -2.0])
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])
    assert am.gradcheck(Cube.apply, (leaf([0.5, 1.5]),))
    assert am.gradgradcheck(Cube.apply, (leaf([0.5, 1.5]),))
    second = am.grad(lambda t: am.grad(lambda s: Cube.apply(s).sum())(t).sum())(am.tensor([1.0, 2.0]))
    np.testing.assert_allclose(second.data, [6.0, 12.0])


def test_needs_input_grad_skips_work():
    seen = []

    class Spy(am.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    Spy.apply(leaf([1.0]), am.tensor([2.0])).sum().backward()
    assert seen == [(True, False)]


def test_functional_api():
    f = lambda x: (x**3).sum()
    x = am.tensor([1.0, 2.0])
    np.testing.assert_allclose(am.grad(f)(x).data, [3.0, 12.0])
    value, g = am.value_and_grad(f)(x)
    assert value.item() == 9.0
    np.testing.assert_allclose(am.hessian(f)(x).data, [[6.0, 0.0], [0.0, 12.0]])
    np.testing.assert_allclose(am.jacobian(lambda x: x * x)(x).data, [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(am.grad(lambda x: am.grad(f)(x).sum())(x).data, [6.0, 12.0])
    ga, gb = am.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(am.tensor([1.0, 2.0]), am.tensor([3.0, 4.0]))
    np.testing.assert_allclose(ga.data, [3.0, 4.0])
    np.testing.assert_allclose(gb.data, [1.0, 2.0])


def test_create_graph_gives_differentiable_gradients():
    x = leaf([1.0, 2.0])
    y = (x**3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gx,) = am.gradients(g.sum(), [x])
    np.testing.assert_allclose(gx.data, [6.0, 12.0])


def test_gradcheck_reports_element_and_values():
    class Wrong(am.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2x

    with pytest.raises(am.GradcheckError, match=r"input 0 .*index \(0,\).*analytic.*numeric"):
        am.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),))
    assert am.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),), raise_exception=False) is False


def test_getitem_accumulates_repeated_indices():
    x = leaf([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 1.0])
    y = leaf([[1.0, -1.0], [2.0, 3.0]])
    y[y > 0].sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[1.0, 0.0], [1.0, 1.0]])


def test_comparisons_and_array_protocol():
    x = am.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert np.asarray(x).tolist() == [1.0, 2.0, 3.0]
    assert (np.ones(3) * x).requires_grad  # ndarray (op) Tensor defers to the Tensor


def test_leaf_grads_never_alias():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0


def test_backward_walk_sets_grad_mode_and_restores_it_after_an_error():
    seen = []

    class Probe(am.Function):
        """y = 2 x;  dy/dx = 2 (records the grad mode its backward runs in)"""

        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            seen.append(am.is_grad_enabled())
            if len(seen) == 3:
                raise ValueError("probe")
            return 2 * g

    x = am.tensor([1.0, 2.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    Probe.apply(x).sum().backward(create_graph=True)
    with pytest.raises(ValueError, match="probe"):
        Probe.apply(x).sum().backward()
    assert seen == [False, True, False]
    assert am.is_grad_enabled()
    with am.no_grad():
        y = Probe.apply(am.tensor([1.0], requires_grad=True))
    assert am.is_grad_enabled() and y._ctx is None
