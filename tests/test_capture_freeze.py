"""am.compile never silently freezes a value computed from the batch: a Tensor made inside the
step from numpy on the data (``am.tensor(np.asarray(y) * 2)``, ``am.as_tensor(...)``) is a new
Tensor on each call, and the second trace compares its values with the first's, like an array
constant; a weight or an optimizer slot (the same Tensor on both calls) is still read by reference."""

import re

import numpy as np
import pytest

import autograd_mini as am
import nn


def batches(n=5, seed=0, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return [(rng.random(shape), rng.random((shape[0], 1))) for _ in range(n)]


def linear_step(target):
    """A step whose target is ``target(y)``, a Tensor the step makes on each call."""
    w = am.tensor(np.ones((3, 1)), requires_grad=True)

    def step(x, y):
        return ((x @ w - target(y)) ** 2).mean()

    return step


@pytest.mark.parametrize(
    "target",
    [
        lambda y: am.tensor(np.asarray(y) * 2),  # np.asarray of the traced argument loses its mark
        lambda y: am.as_tensor(np.asarray(y) * 2),
        lambda y: am.as_tensor(np.sign(y.data - 0.5)),  # as_tensor copies the traced array into a plain one
        lambda y: am.tensor(y.data.view(np.ndarray) + 1.0),
    ],
    ids=["tensor", "as_tensor", "as_tensor_of_traced", "view"],
)
@pytest.mark.parametrize("kernels", [False, True])
def test_a_tensor_made_from_the_batch_inside_the_step_is_refused(target, kernels):
    compiled = am.compile(linear_step(target), kernels=kernels)
    (x0, y0), (x1, y1) = batches(2)
    eager = linear_step(target)
    assert compiled(x0, y0).data == eager(am.tensor(x0), am.tensor(y0)).data  # the first call runs eagerly
    with pytest.raises(am.CaptureError, match=r"op 'sub' \(step \d+\) input 1 changed between two calls") as info:
        compiled(x1, y1)
    assert "a Tensor created inside the function" in str(info.value)


def test_the_message_says_what_was_expected_and_what_was_given():
    compiled = am.compile(linear_step(lambda y: am.tensor(np.asarray(y) * 2)))
    x = np.ones((4, 3))
    compiled(x, np.array([[1.0], [2.0], [3.0], [4.0]]))
    with pytest.raises(am.CaptureError) as info:
        compiled(x, np.array([[1.0], [2.0], [5.0], [4.0]]))
    message = str(info.value)
    assert re.search(r"expected \[\[2\.\], \[4\.\], \[6\.\], \[8\.\]\] \(shape \(4, 1\), float64\)", message)
    assert re.search(r"given \[\[ ?2\.\], \[ ?4\.\], \[10\.\], \[ ?8\.\]\] \(shape \(4, 1\), float64\)", message)
    assert "1 of 4 elements differ, the first at index (2, 0): 6.0 then 10.0" in message
    assert "\n" not in message


def test_an_array_constant_message_says_what_was_expected_and_given():
    w = am.tensor(np.ones((2, 3)), requires_grad=True)

    def step(x, labels):
        hot = np.eye(3)[labels.data.view(np.ndarray)]  # fancy indexing: a plain array, a constant
        return ((x @ w) * hot).sum()

    compiled = am.compile(step)
    compiled(np.ones((2, 2)), np.array([0, 1]))
    with pytest.raises(am.CaptureError, match="changed between two calls") as info:
        compiled(np.ones((2, 2)), np.array([0, 2]))
    message = str(info.value)
    assert "op 'mul'" in message and "it is a constant of the recording" in message
    assert "expected [[1., 0., 0.], [0., 1., 0.]] (shape (2, 3), float64)" in message
    assert "given [[1., 0., 0.], [0., 0., 1.]] (shape (2, 3), float64)" in message
    assert "2 of 6 elements differ, the first at index (1, 1): 1.0 then 0.0" in message


def test_a_tensor_made_from_a_weight_with_numpy_is_refused_once_the_weight_changes():
    w = am.tensor(np.ones((3, 1)), requires_grad=True)

    @am.replayable
    def sgd():
        w.mutable_data()[...] -= 0.1 * w.grad.data

    def step(x, y):
        doubled = am.tensor(w.data * 2)  # a copy of the weight's values made with numpy: frozen by a replay
        w.grad = None
        loss = ((x @ w - y) ** 2).mean() + (doubled * 0).sum()
        loss.backward()
        sgd()
        return loss

    compiled = am.compile(step)
    (x0, y0), (x1, y1) = batches(2)
    compiled(x0, y0)
    with pytest.raises(am.CaptureError, match="a Tensor created inside the function"):
        compiled(x1, y1)


def test_equal_tensors_made_on_each_call_and_weights_and_slots_still_replay_bit_for_bit():
    """Constants made on each call (the same values), weights and optimizer slots (the same
    Tensors, updated in place, slots created lazily by the first call) replay as eagerly."""

    def make():
        w = am.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
        slots = {}

        @am.replayable
        def momentum():
            if "v" not in slots:  # created during the first trace, the same Tensor from then on
                slots["v"] = am.tensor(np.zeros_like(w.data))
            v = slots["v"].mutable_data()
            v *= 0.9
            v += w.grad.data
            w.mutable_data()[...] -= 0.05 * v

        def step(x, y):
            half = am.tensor(0.5)  # a new Tensor on every call, always 0.5
            ones = am.as_tensor(np.ones((1, 2)))
            w.grad = None
            loss = (((x @ w) * half + ones - y) ** 2).mean()
            loss.backward()
            momentum()
            return loss, w.grad

        return w, slots, step

    data = batches(6, shape=(4, 3))
    w_e, slots_e, eager = make()
    expected = [eager(am.tensor(x), am.tensor(y)) for x, y in data]
    w_c, slots_c, step = make()
    compiled = am.compile(step)
    got = [compiled(x, y) for x, y in data]
    assert compiled.traces == 2 and compiled.stats()[0]["replays"] == 4
    for (le, ge), (lc, gc) in zip(expected, got):
        assert np.array_equal(le.data, lc.data) and np.array_equal(ge.data, gc.data)
    assert np.array_equal(w_e.data, w_c.data) and np.array_equal(slots_e["v"].data, slots_c["v"].data)


def test_a_replayable_call_given_a_tensor_made_from_the_batch_is_refused():
    seen = []

    @am.replayable
    def record(t):
        seen.append(float(t.data.sum()))

    def step(x):
        record(am.tensor(np.asarray(x).sum()))  # computed with numpy: a replay would pass the first value
        return (x * 2).sum()

    compiled = am.compile(step)
    compiled(np.ones(3))
    with pytest.raises(am.CaptureError, match=r"replayable call 'record' \(step \d+\) input 0 changed"):
        compiled(np.full(3, 2.0))


def test_a_returned_tensor_made_from_the_batch_is_refused():
    w = am.tensor(np.ones((3, 1)), requires_grad=True)

    def step(x, y):
        return (x @ w).sum(), am.tensor(np.asarray(y).sum())

    compiled = am.compile(step)
    (x0, y0), (x1, y1) = batches(2)
    compiled(x0, y0)
    with pytest.raises(am.CaptureError, match=r"returned a constant \(result\[1\].*changed between two calls"):
        compiled(x1, y1)


def test_a_returned_leaf_gradient_is_the_gradient_of_each_call():
    w = am.tensor(np.ones((3, 1)), requires_grad=True)

    def step(x):
        w.grad = None
        (x @ w).sum().backward()
        return w.grad

    compiled = am.compile(step)
    for x, _ in batches(5):
        grad = compiled(x)
        assert grad.data is w.grad.data and np.array_equal(grad.data, x.sum(axis=0)[:, None])


def test_a_leaf_with_requires_grad_made_on_each_call_is_refused_with_a_reason():
    def step(x):
        scale = am.tensor(np.ones(3), requires_grad=True)  # a new leaf on each call: its .grad is lost
        (x * scale).sum().backward()
        return scale.grad

    compiled = am.compile(step)
    compiled(np.ones(3))
    with pytest.raises(am.CaptureError, match="requires_grad=True created inside the function"):
        compiled(np.full(3, 2.0))


def test_different_work_names_the_first_different_step():
    def step(x):
        return (x * 2).sum() if x.data.view(np.ndarray)[0] > 0 else (x * 2).mean() + 1.0

    compiled = am.compile(step)
    compiled(np.ones(3))
    with pytest.raises(am.CaptureError, match=r"did different work.*op 'sum'.* on the first call, op 'mean'"):
        compiled(-np.ones(3))


# ---- nn ----------------------------------------------------------------------------------------------------
def classes(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x, y


def fit(jit, loss, y=None, epochs=3):
    x, labels = classes()
    nn.utils.set_random_seed(7)
    model = nn.Sequential(
        [nn.Input((4,)), nn.layers.Dense(8, activation="relu"), nn.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss=loss, jit_compile=jit)
    history = model.fit(x, labels if y is None else y, epochs=epochs, batch_size=16, shuffle=False, verbose=0)
    return model, history


def test_an_nn_loss_whose_one_hot_came_from_numpy_trains_as_eagerly_under_auto():
    """categorical_generalized_cross_entropy built its one-hot targets with numpy and
    am.as_tensor: "auto" replayed the first batch's targets on every batch (the loss went wrong
    silently). The second trace now refuses such a Tensor, and the loss builds its one-hot in a
    replayable function: "auto" captures the step and trains like the eager step, bit for bit."""
    loss = nn.losses.CategoricalGeneralizedCrossEntropy()
    eager, h_eager = fit(False, loss)
    auto, h_auto = fit("auto", loss)
    assert not auto.train_function.step.eager  # (captured, not an eager fallback)
    assert h_eager.history == h_auto.history
    for a, b in zip(eager.get_weights(), auto.get_weights()):
        assert np.array_equal(a, b)


def _doubled_targets_mse(y_true, y_pred):  # a user loss computing its targets with numpy on the batch
    return nn.losses.mean_squared_error(am.as_tensor(np.asarray(y_true.data) * 2), y_pred)


def test_a_user_loss_making_a_tensor_from_the_batch_raises_under_jit_compile_true():
    _, labels = classes()
    y = np.eye(3, dtype=np.float32)[labels]
    with pytest.raises(am.CaptureError, match="a Tensor created inside the function") as info:
        fit(True, _doubled_targets_mse, y=y, epochs=1)
    assert "expected" in str(info.value) and "given" in str(info.value)


class NumpyCentred(nn.layers.Layer):
    """A user layer that centres its input with a batch mean computed by numpy."""

    def call(self, inputs):
        return inputs - am.as_tensor(np.asarray(inputs.data).mean(axis=0, keepdims=True))


def test_a_user_layer_making_a_tensor_from_the_batch_raises_under_jit_compile_true():
    x, labels = classes()
    nn.utils.set_random_seed(7)
    model = nn.Sequential([nn.Input((4,)), NumpyCentred(), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    with pytest.raises(am.CaptureError, match="a Tensor created inside the function"):
        model.fit(x, labels, epochs=1, batch_size=16, shuffle=False, verbose=0)
