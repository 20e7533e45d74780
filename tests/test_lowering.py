"""Captured steps compiled into numba loop kernels (``autograd_mini.lowering``): every op's loop
form against the numpy replay of the same step, whole training runs against eager ones, and
the switches (the replay by default, no numba, repeatable runs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_op_table import NN_OPS
from op_table import OPS

import autograd_mini as am
import nn
from autograd_mini.lowering import RULES, NotLowerable
from autograd_mini.lowering.kernel import plan_program
from autograd_mini.program import OpCall

pytest.importorskip("numba")

ROWS = OPS + NN_OPS
# the documented limits of the loop forms: a rule may refuse these, nothing else
LIMITS = (
    "only 2-d",
    "with axes",
    "another axis",
    "array exponent",
    "is large",
    "constant",
    "not 2-d",
    "0-d",
    "its exponent",
)


def _step_over(cases):
    """A step computing every case's op on its own leaves, weighted, summed, differentiated."""

    def step(*weights):
        loss = None
        outs = []
        for (op, leaves, kwargs), w in zip(cases, weights):
            out = op.fn(*leaves, **kwargs)
            outs.append(out)
            term = (out * w).sum()
            loss = term if loss is None else loss + term
        for _, leaves, _ in cases:
            for leaf in leaves:
                leaf.grad = None
        loss.backward()
        return outs

    return step


def _recorded(step, weights):
    compiled = am.compile(step)
    compiled(*weights)
    compiled(*weights)
    return next(iter(compiled.cache.values()))


def _lowerable(op, args, kwargs, rng):
    """(leaves, weight) when this drawn case has a loop form, else None; a rule may only refuse
    for a documented limit."""
    leaves = [am.tensor(a, requires_grad=True) for a in args]
    out = op.fn(*leaves, **kwargs)
    if not isinstance(out, am.Tensor) or out.dtype.kind != "f":
        return None
    weight = rng.standard_normal(out.shape)
    try:
        entry = _recorded(_step_over([(op, leaves, kwargs)]), [weight])
    except am.CaptureError:
        return None  # an op that needs the data in Python (where's mask): not captured at all
    classes = {call.cls for call in entry.program.instructions if isinstance(call, OpCall)}
    if not classes <= set(RULES):
        return None  # an op without a loop form: the replay serves it
    try:
        plan_program(entry.program)
    except NotLowerable as reason:
        assert any(limit in str(reason) for limit in LIMITS), f"{op.name}: {reason}"
        return None
    return leaves, weight


@settings(max_examples=1, deadline=None)  # one example compiles one large kernel (~30 s)
@given(data=st.data())
def test_loop_kernels_match_the_numpy_replay_for_every_op(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    cases, weights = [], []
    for op in ROWS:
        args, kwargs = op.draw(data)
        found = _lowerable(op, args, kwargs, rng)
        if found is not None:
            cases.append((op, found[0], kwargs))
            weights.append(found[1])
    assert len(cases) >= 15, [op.name for op, _, _ in cases]
    step = am.compile(_step_over(cases), kernels=True)
    step(*weights)
    step(*weights)  # two traces (checked), then a numpy replay that compiles the kernel
    replayed = [out.data.copy() for out in step(*weights)]
    replayed_grads = [leaf.grad.data.copy() for _, leaves, _ in cases for leaf in leaves]
    (stats,) = step.stats()
    assert stats["kernel"], stats["not_lowered"]
    kernel = step(*weights)
    grads = [leaf.grad.data for _, leaves, _ in cases for leaf in leaves]
    for (op, _, _), a, b in zip(cases, kernel, replayed):
        np.testing.assert_allclose(a.data, b, rtol=1e-10, atol=1e-12, err_msg=op.name)
    for a, b in zip(grads, replayed_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _train(jit, layers, optimizer, loss, x, y, batch_size, epochs):
    nn.utils.set_random_seed(0)
    model = nn.Sequential(layers())
    model.compile(optimizer=optimizer(), loss=loss, jit_compile=jit)
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return model, history.history["loss"]


def _lecture_layers():
    return [nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)]


def _classifier_layers():
    return [
        nn.Input((6,)),
        nn.Dense(16, activation="relu"),
        nn.Dropout(0.25),
        nn.Dense(8, activation="tanh"),
        nn.Dense(3, activation="softmax"),
    ]


@pytest.mark.parametrize(
    "layers, optimizer, loss",
    [
        (_lecture_layers, lambda: nn.optimizers.SGD(learning_rate=0.008), "mse"),
        (_classifier_layers, lambda: nn.optimizers.Adam(), "categorical_crossentropy"),
        (_classifier_layers, lambda: nn.optimizers.RMSprop(), "huber"),
    ],
    ids=["lecture-sgd", "classifier-adam", "classifier-rmsprop-huber"],
)
def test_training_with_kernels_matches_eager_training(layers, optimizer, loss):
    rng = np.random.default_rng(1)
    if layers is _lecture_layers:
        x = rng.uniform(-4, 4, (60, 1)).astype(np.float32)
        y, batch = (x - 0.5) ** 2, 1
    else:
        x = rng.normal(size=(96, 6)).astype(np.float32)  # whole batches: one signature to compile
        y, batch = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 96)], 16
    eager, eager_losses = _train(False, layers, optimizer, loss, x, y, batch, 3)
    captured, losses = _train(True, layers, optimizer, loss, x, y, batch, 3)
    stats = captured._captured_train_step.compiled.stats()
    assert any(s["kernel"] for s in stats), stats
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert captured.optimizer.iterations == eager.optimizer.iterations


def test_auto_and_no_numba_keep_the_bit_exact_replay():
    rng = np.random.default_rng(2)
    x = rng.uniform(-4, 4, (40, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    sgd = lambda: nn.optimizers.SGD(0.008)
    eager, eager_losses = _train(False, _lecture_layers, sgd, "mse", x, y, 1, 2)
    auto, auto_losses = _train("auto", _lecture_layers, sgd, "mse", x, y, 1, 2)
    with am.use_numba(False):
        captured, losses = _train(True, _lecture_layers, sgd, "mse", x, y, 1, 2)
    assert not any(s["kernel"] for s in auto._captured_train_step.compiled.stats())
    stats = captured._captured_train_step.compiled.stats()
    assert stats and all("numba is not available" in s["not_lowered"] for s in stats)
    assert losses == eager_losses == auto_losses
    for a, b, c in zip(captured.get_weights(), eager.get_weights(), auto.get_weights()):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_kernel_training_is_repeatable_and_resumes_bit_for_bit(tmp_path):
    """jit_compile=True undoes its traces, so the first steps compute as the later ones do: a run
    split by a save and a load into a fresh model equals the run in one go."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    adam = lambda: nn.optimizers.Adam()
    whole, losses = _train(True, _classifier_layers, adam, "categorical_crossentropy", x, y, 16, 4)
    again, losses_again = _train(True, _classifier_layers, adam, "categorical_crossentropy", x, y, 16, 4)
    assert losses == losses_again
    first, _ = _train(True, _classifier_layers, adam, "categorical_crossentropy", x, y, 16, 2)
    first.save(tmp_path / "half.keras")
    resumed = nn.models.load_model(tmp_path / "half.keras")
    resumed.compile(optimizer=resumed.optimizer, loss="categorical_crossentropy", jit_compile=True)
    resumed.fit(x, y, batch_size=16, epochs=4, initial_epoch=2, verbose=0)
    assert any(s["kernel"] for s in resumed._captured_train_step.compiled.stats())
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        assert np.array_equal(a, b)


def test_a_step_without_a_loop_form_keeps_the_replay_and_says_why():
    w = am.tensor(np.ones(3), requires_grad=True)

    def step(v):
        loss = am.max(w * v)  # max has no loop form
        w.grad = None
        loss.backward()
        return loss

    f = am.compile(step, kernels=True)
    results = [f(np.arange(3.0)).data for _ in range(4)]
    assert f.stats()[0]["not_lowered"] == "op 'max' has no loop form"
    assert all(r == results[0] for r in results)


def test_kernels_check_the_recording_on_a_second_batch():
    """jit_compile=True undoes each trace, but the check still records a second, different batch:
    a constant computed from the data with raw numpy is refused, not frozen into the kernel, and
    the refused batch leaves nothing applied."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 20)]

    def scaled_mse(y_true, y_pred):  # a constant computed from the data with raw numpy
        return nn.losses.mean_squared_error(y_true, y_pred) * float(np.asarray(y_true.data)[:, 0].sum() + 1)

    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=scaled_mse, jit_compile=True)
    with pytest.raises(am.CaptureError, match="changed between two calls"):
        model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 1  # the first batch ran (its own recording); the second was undone
