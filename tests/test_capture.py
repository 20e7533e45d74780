"""am.compile: a replayed step equals the eager step bit for bit; what cannot be captured is refused."""

import numpy as np
import pytest

import autograd_mini as am


def make_problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    w = am.tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True)
    b = am.tensor(np.zeros(4, dtype), requires_grad=True)
    xs = [rng.standard_normal((5, 3)).astype(dtype) for _ in range(6)]
    ys = [rng.standard_normal((5, 4)).astype(dtype) for _ in range(6)]
    return w, b, xs, ys


def make_step(w, b, lr=0.1):
    @am.replayable
    def sgd():
        for p in (w, b):
            data = p.mutable_data()
            data -= lr * p.grad.data

    def step(x, y):
        w.grad = b.grad = None
        out = am.tanh(x @ w + b)
        loss = ((out - y) ** 2).mean() + am.softmax(out).max() * 0.01
        loss.backward()
        sgd()
        return loss, out

    return step


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_replay_equals_eager_bit_for_bit(dtype):
    w, b, xs, ys = make_problem(dtype=dtype)
    step = make_step(w, b)
    eager = [step(am.tensor(x), am.tensor(y)) for x, y in zip(xs, ys)]
    w_eager, b_eager = w.data.copy(), b.data.copy()

    w2, b2, _, _ = make_problem(dtype=dtype)
    compiled = am.compile(make_step(w2, b2))
    replayed = [compiled(x, y) for x, y in zip(xs, ys)]
    assert compiled.traces == 2  # traced twice (the validation), replayed four times
    for (le, oe), (lc, oc) in zip(eager, replayed):
        assert lc.dtype == dtype and np.array_equal(le.data, lc.data) and np.array_equal(oe.data, oc.data)
    assert np.array_equal(w_eager, w2.data) and np.array_equal(b_eager, b2.data)
    assert np.array_equal(w.grad.data, w2.grad.data)


def test_a_new_signature_traces_again_and_both_replay():
    w, b, xs, ys = make_problem()
    compiled = am.compile(make_step(w, b))
    for i in range(3):
        compiled(xs[i], ys[i])
        compiled(xs[i + 3][:2], ys[i + 3][:2])  # the last partial batch: a second signature
    assert compiled.traces == 4  # two traces per signature, then replays


def test_parameters_are_read_by_reference_between_calls():
    w = am.tensor(np.ones((2, 2)), requires_grad=True)
    compiled = am.compile(lambda x: (x @ w).sum())
    assert compiled(np.ones((1, 2))).item() == 4.0
    with am.no_grad():
        w.mutable_data()[...] = 2.0
    assert compiled(np.ones((1, 2))).item() == 8.0


def test_random_draws_in_a_replayable_function_are_redrawn():
    rng = np.random.default_rng(0)

    @am.replayable
    def mask(shape):
        return (rng.random(shape) > 0.5).astype(np.float64)

    compiled = am.compile(lambda x: x * mask(x.shape))
    draws = {tuple(compiled(np.ones(16)).data) for _ in range(5)}
    assert len(draws) > 1


def test_data_dependent_python_is_refused():
    w = am.tensor(np.ones(3), requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        if loss > 0:  # a Python branch on a traced value
            loss = loss * 2
        return loss

    with pytest.raises(am.CaptureError, match="data-dependent"):
        am.compile(step)(np.ones(3))


def test_raw_numpy_on_traced_values_is_refused():
    def step(x):
        return am.exp(am.tensor(1.0)) * np.exp(x.data)  # np.exp outside the op set

    with pytest.raises(am.CaptureError, match="outside the op set"):
        am.compile(step)(np.ones(3))


def test_a_tensor_computed_outside_must_be_an_argument():
    w = am.tensor(np.ones(3), requires_grad=True)
    outside = w * 2

    with pytest.raises(am.CaptureError, match="outside the compiled function"):
        am.compile(lambda x: (x * outside).sum())(np.ones(3))


def test_create_graph_is_refused():
    w = am.tensor(np.ones(3), requires_grad=True)

    def step(x):
        (x * w * w).sum().backward(create_graph=True)

    with pytest.raises(am.CaptureError, match="create_graph"):
        am.compile(step)(np.ones(3))


def test_a_parameter_that_changes_shape_retraces():
    w = am.tensor(np.ones(3), requires_grad=True)
    compiled = am.compile(lambda x: (x * w).sum(), validate=False)
    compiled(np.ones(3))
    w.data = np.ones(1)
    assert compiled(np.ones(3)).item() == 3.0
    assert compiled.traces == 2


def test_a_comparison_fed_into_an_op_is_refused():
    def step(x):
        return am.where(x > 0, x, x * 0.1).sum()

    with pytest.raises(am.CaptureError, match="outside the op set"):
        am.compile(step)(np.ones(3))


def test_outside_a_trace_a_replayable_function_is_a_plain_call():
    calls = []
    fn = am.replayable(lambda v: calls.append(v) or v)
    assert fn(3) == 3 and calls == [3]


def test_an_array_computed_from_the_inputs_with_numpy_is_caught_by_the_second_trace():
    w = am.tensor(np.ones((3, 3)), requires_grad=True)

    def step(x, labels):
        one_hot = np.zeros((len(labels.data), 3))
        one_hot[np.arange(len(labels.data)), labels.data] = 1  # fancy indexing loses the trace
        return ((x @ w) * one_hot).sum()

    compiled = am.compile(step)
    compiled(np.ones((2, 3)), np.array([0, 1]))
    with pytest.raises(am.CaptureError, match="changed between two calls"):
        compiled(np.ones((2, 3)), np.array([2, 2]))


def test_raw_data_of_an_argument_is_the_argument():
    compiled = am.compile(lambda x, y: am.tensor(2.0) * y.data - x)  # y.data: the argument's own array
    for i in range(4):
        assert compiled(np.zeros(2), np.full(2, float(i))).data.tolist() == [2.0 * i, 2.0 * i]


def test_a_replayable_function_with_several_results():
    @am.replayable
    def targets(labels):
        one_hot = np.zeros((len(labels), 3))
        one_hot[np.arange(len(labels)), labels] = 1
        return one_hot, labels > 0

    w = am.tensor(np.ones((3, 3)), requires_grad=True)
    compiled = am.compile(lambda x, labels: ((x @ w) * targets(labels.data)[0]).sum())
    eager = lambda x, labels: float(((am.tensor(x) @ w) * targets(labels)[0]).sum())
    for labels in ([0, 1], [2, 2], [1, 0], [2, 1]):
        x = np.arange(6.0).reshape(2, 3)
        assert float(compiled(x, np.array(labels))) == eager(x, np.array(labels))


def test_a_tensor_wrapped_around_a_replayable_result_reads_the_new_result():
    """``am.as_tensor(array)`` of a replayable's result (a loss converting its targets) is that
    slot, not a frozen leaf: each call sees its own targets, and a second conversion of the same
    array (an identity for a matching dtype) is replayed on the array, not on a wrapped Tensor."""

    @am.replayable
    def to_array(y):
        data = y.data if isinstance(y, am.Tensor) else y
        return data.astype(np.float64, copy=False)  # the same array, not a copy (as nn's loss to_array)

    w = am.tensor(np.ones(3), requires_grad=True)

    def step(y, z):
        first = (am.as_tensor(to_array(y)) * w).sum()
        return first + (am.as_tensor(to_array(z)) * w).sum()

    compiled = am.compile(step)
    for i in range(4):
        y = np.full(3, float(i))
        assert float(compiled(y, y)) == float(step(y, y)) == 6.0 * i
    constant = np.full(3, 2.0)  # a closed-over array converted twice: the second call got a Tensor in a Tensor
    twice = am.compile(lambda x: step(constant, constant) * x)
    for i in range(3):
        assert float(twice(np.array(float(i)))) == 12.0 * i


def test_a_replayed_leaf_gradient_owns_its_buffer():
    """A gradient reaching a leaf as a read-only view (sum's broadcast) is copied on replay, as eagerly."""
    w = am.tensor(np.ones(3), requires_grad=True)

    def step(x):
        w.grad = None
        (w.sum() + x.sum()).backward()  # w's gradient: sum's broadcast of the seed (a read-only view)
        return w.grad

    compiled = am.compile(step)
    for _ in range(4):
        compiled(np.arange(3.0))
        grad = w.grad.data
        assert grad.flags.writeable and np.array_equal(grad, np.ones(3))
        grad += 1.0  # a leaf's .grad can be updated in place
