"""N steps of a compiled step in one native call (``autograd_mini.lowering.multi_step.run_steps``):
the same numbers as N single steps, or nothing done at all."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini.lowering.multi_step import run_steps

pytest.importorskip("numba")


@pytest.fixture(autouse=True, scope="module")
def _own_cache(tmp_path_factory):
    previous = os.environ.get("AUTOGRAD_MINI_CACHE_DIR")
    os.environ["AUTOGRAD_MINI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        del os.environ["AUTOGRAD_MINI_CACHE_DIR"]
    else:
        os.environ["AUTOGRAD_MINI_CACHE_DIR"] = previous


def _core_step():
    rng = np.random.default_rng(1)
    w = am.tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)

    def step(x, y):
        loss = ((am.tanh(x @ w) - y) ** 2).mean()
        w.grad = None
        loss.backward()
        return loss

    return am.compile(step, kernels=True), w


def _batches(rng, n):
    return [(rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)) for _ in range(n)]


def test_n_steps_of_a_core_step_equal_n_single_steps():
    rng = np.random.default_rng(2)
    warm, batches = _batches(rng, 3), _batches(rng, 6)
    many, w_many = _core_step()
    one, w_one = _core_step()
    for f in (many, one):
        for args in warm:
            f(*args)
    assert run_steps(many, warm[:1]) is None  # one batch: nothing to gain
    results = run_steps(many, batches)
    assert results is not None and len(results) == 6
    singles = [one(*args) for args in batches]
    for r, s in zip(results, singles):
        assert np.array_equal(r.data, s.data)
    assert np.array_equal(w_many.grad.data, w_one.grad.data)  # the last step's gradient
    assert run_steps(many, batches[:2] + [(np.ones((5, 3), np.float32), np.ones((5, 2), np.float32))]) is None


def test_a_step_not_compiled_yet_is_left_to_single_steps():
    many, w = _core_step()
    rng = np.random.default_rng(3)
    assert run_steps(many, _batches(rng, 4)) is None
    assert w.grad is None and many.traces == 0


def _lecture(optimizer):
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (24, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=optimizer(), loss="mse", jit_compile=True)
    model.fit(x[:4], y[:4], batch_size=1, epochs=1, shuffle=False, verbose=0)  # traced, checked, compiled
    return model, [(x[i : i + 1], y[i : i + 1], None) for i in range(4, 24)]


@pytest.mark.parametrize("invariant", [False, True])
def test_n_training_steps_equal_n_single_steps(invariant):
    """SGD with a constant rate: its values stay the same over the steps, so the N steps run in
    one call; weights, optimizer step count, the logs of each step and the loss tracker equal N
    single steps (the tracker's running state is carried from step to step inside the call)."""
    sgd = lambda: nn.optimizers.SGD(learning_rate=0.008)
    many, batches = _lecture(sgd)
    one, _ = _lecture(sgd)
    results = run_steps(many._captured_train_step.compiled, batches, invariant=invariant)
    assert results is not None
    singles = [one._captured_train_step.compiled(*args) for args in batches]
    for logs, logs1 in zip(results, singles):  # each step's logs: the running mean of the loss
        assert logs.keys() == logs1.keys() == {"loss"}
        assert np.array_equal(logs["loss"].data, logs1["loss"].data)
    assert many._loss_tracker.total == one._loss_tracker.total
    assert many._loss_tracker.count == one._loss_tracker.count
    for a, b in zip(many.get_weights(), one.get_weights()):
        assert np.array_equal(a, b)
    assert int(many.optimizer.iterations) == int(one.optimizer.iterations) == 24


def test_values_that_change_per_step_leave_nothing_applied():
    """Adam's bias corrections change every step: the N-step call is undone (weights, optimizer
    state, step count) and returns None; single steps then give the usual numbers."""
    adam = lambda: nn.optimizers.Adam(learning_rate=0.01)
    many, batches = _lecture(adam)
    one, _ = _lecture(adam)
    before = [w.copy() for w in many.get_weights()]
    assert run_steps(many._captured_train_step.compiled, batches) is None
    for a, b in zip(many.get_weights(), before):
        assert np.array_equal(a, b)
    assert int(many.optimizer.iterations) == 4
    assert run_steps(many._captured_train_step.compiled, batches) is None  # not tried again
    for args in batches:
        many._captured_train_step.compiled(*args)
        one._captured_train_step.compiled(*args)
    for a, b in zip(many.get_weights(), one.get_weights()):
        assert np.array_equal(a, b)
