"""N steps of a compiled step in one native call (``autograd_mini.lowering.multi_step.run_steps``):
the same numbers as N single steps, or nothing done at all."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini.lowering.multi_step import run_steps
from nn import progress

pytest.importorskip("numba")


pytestmark = pytest.mark.usefixtures("own_kernel_cache")


def _core_step(fresh=True):
    rng = np.random.default_rng(1)
    w = am.tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)
    if not fresh:
        w.grad = am.tensor(np.zeros((3, 2), np.float32))

    def step(x, y):
        out = am.tanh(x @ w)
        loss = ((out - y) ** 2).mean()
        if fresh:
            w.grad = None
            loss.backward()
            return loss
        loss.backward()  # (gradients accumulate over the steps; an array result per step)
        return loss, out

    return am.compile(step, kernels=True), w


def _batches(rng, n):
    return [(rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)) for _ in range(n)]


@pytest.mark.parametrize("fresh", [True, False])
def test_n_steps_of_a_core_step_equal_n_single_steps(fresh):
    rng = np.random.default_rng(2)
    warm, batches = _batches(rng, 3), _batches(rng, 6)
    many, w_many = _core_step(fresh)
    one, w_one = _core_step(fresh)
    for f in (many, one):
        for args in warm:
            f(*args)
    assert run_steps(many, warm[:1]) is None  # one batch: nothing to gain
    results = run_steps(many, batches)
    assert results is not None and len(results) == 6
    singles = [one(*args) for args in batches]
    for r, s in zip(results, singles):
        for a, b in zip(r, s) if not fresh else [(r, s)]:
            assert a.data.shape == b.data.shape and np.array_equal(a.data, b.data)
    assert np.array_equal(w_many.grad.data, w_one.grad.data)  # the last step's gradient
    assert run_steps(many, batches[:2] + [(np.ones((5, 3), np.float32), np.ones((5, 2), np.float32))]) is None


def test_a_one_kernel_step_compiles_once_for_single_calls_and_n_steps():
    from autograd_mini.lowering import disk_cache

    rng = np.random.default_rng(3)
    step, _ = _core_step()
    for args in _batches(rng, 3):
        step(*args)  # (traced, checked, compiled)
    (entry,) = step.cache.values()
    assert entry.kernel is not None and entry.kernel.plan is not None
    assert "for s in range(n):" in entry.kernel.sources[0]  # the step compiled as its N-step loop
    before = dict(disk_cache.stats())
    assert run_steps(step, _batches(rng, 5)) is not None
    step(*_batches(rng, 1)[0])
    after = disk_cache.stats()
    assert (after["compiled"], after["disk_hits"]) == (before["compiled"], before["disk_hits"])  # nothing more


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


# ---- fit(steps_per_execution=N, jit_compile=True): N batches in one native call -----------------------------
class _Hooks(nn.callbacks.Callback):
    """Every batch hook's (name, index, logs) and every epoch end's logs, in order."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch, dict(logs or {})))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch, dict(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch", epoch, dict(logs or {})))


def _fit(optimizer, spe, n, batch_size, validation_split=0.0, epochs=2, metrics=None):
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=optimizer(), loss="mse", metrics=metrics, jit_compile=True, steps_per_execution=spe)
    hooks = _Hooks()
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, validation_split=validation_split, verbose=0, callbacks=[hooks]
    )
    return model, history, hooks.calls


def _expected_hooks(single_calls, spe):
    """What Keras' steps_per_execution=spe reports, from a run of single steps: per execution,
    begin(first index) and end(first index + spe - 1) with the logs after its last batch."""
    expected, epoch_ends = [], []
    ends = []
    for name, index, logs in single_calls:
        if name == "end":
            ends.append(logs)
        elif name == "epoch":
            for begin in range(0, len(ends), spe):
                expected.append(("begin", begin, {}))
                expected.append(("end", begin + spe - 1, ends[min(begin + spe, len(ends)) - 1]))
            expected.append(("epoch", index, logs))
            epoch_ends.append(logs)
            ends = []
    return expected


SGD = lambda: nn.optimizers.SGD(learning_rate=0.01)  # (invariant: one unchecked call)
MOMENTUM = lambda: nn.optimizers.SGD(learning_rate=0.01, momentum=0.9)  # (checked after the call)
ADAM = lambda: nn.optimizers.Adam(learning_rate=0.01)  # (bias corrections change: single steps)
DECAY = lambda: nn.optimizers.SGD(nn.optimizers.schedules.ExponentialDecay(0.01, 3, 0.9))


@pytest.mark.parametrize(
    "optimizer, spe, n, batch_size, validation_split, native",
    [
        (SGD, 4, 24, 1, 0.0, True),  # full executions only
        (SGD, 5, 23, 1, 0.0, True),  # a partial last execution (3 batches)
        (MOMENTUM, 4, 30, 3, 0.2, True),  # the checked path, with validation; 8 batches of 3
        (SGD, 3, 22, 3, 0.0, True),  # a partial last batch (1 sample): its own signature, run singly
        (ADAM, 4, 24, 1, 0.2, False),  # undone once, then single steps: the same numbers
        (DECAY, 4, 24, 1, 0.0, False),  # a schedule changes the rate each step: undone, single steps
    ],
)
def test_fit_with_steps_per_execution_equals_single_steps(optimizer, spe, n, batch_size, validation_split, native):
    """Weights, History and every callback hook of ``fit(steps_per_execution=N, jit_compile=True)``
    are bit for bit those of N=1 under Keras' rule (hooks once per execution, the logs after its
    last batch); the N batches ran in one native call where the step allows it."""
    many, history, calls = _fit(optimizer, spe, n, batch_size, validation_split)
    one, history1, calls1 = _fit(optimizer, 1, n, batch_size, validation_split)
    for a, b in zip(many.get_weights(), one.get_weights()):
        assert np.array_equal(a, b)
    assert int(many.optimizer.iterations) == int(one.optimizer.iterations)
    assert history.history == history1.history and history.epoch == history1.epoch
    assert calls == _expected_hooks(calls1, spe)
    used = many.train_function.step.multi_step_batches
    assert (used > 0) if native else (used == 0)
    assert one.train_function.step.multi_step_batches == 0


def test_a_step_with_python_metrics_runs_single_steps_with_the_same_numbers():
    """Compiled metrics keep Python in the step (no single kernel): each batch is its own call."""
    many, history, calls = _fit(SGD, 4, 20, 1, 0.2, epochs=1, metrics=["mae"])
    one, history1, calls1 = _fit(SGD, 1, 20, 1, 0.2, epochs=1, metrics=["mae"])
    for a, b in zip(many.get_weights(), one.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == history1.history and set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert calls == _expected_hooks(calls1, 4)
    assert many.train_function.step.multi_step_batches == 0


# ---- fit without batch hooks: every batch of an epoch in few native calls, validation compiled too ------------
class _BatchEnds(nn.callbacks.Callback):
    """Observes every training and validation batch (so each runs in its own call)."""

    def __init__(self):
        super().__init__()
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1

    def on_test_batch_end(self, batch, logs=None):
        self.seen += 1


def _lecture_fit(optimizer, callbacks, jit_compile=True, epochs=3, n=50, batch_size=1):
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, (n, 1)).astype(np.float32)
    y = (x - 0.5) ** 2
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=optimizer(), loss="mse", jit_compile=jit_compile)
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2, verbose=0, callbacks=callbacks
    )
    return model, history, x


@pytest.mark.parametrize(
    "optimizer, native, batch_size",
    [(SGD, True, 1), (SGD, True, 3), (MOMENTUM, True, 1), (ADAM, False, 1)],  # (3: a last batch of 1)
)
def test_an_unobserved_fit_runs_its_epochs_in_few_native_calls_bit_for_bit(optimizer, native, batch_size):
    """No callback has batch hooks and nothing is printed (Keras calls batch hooks only when a
    callback overrides them): the epoch's batches and the validation's go through ``run_steps``,
    and weights and History are bit for bit those of a fit whose batches are observed one by one."""
    grouped, history, _ = _lecture_fit(optimizer, [], batch_size=batch_size)
    observer = _BatchEnds()
    single, history1, _ = _lecture_fit(optimizer, [observer], batch_size=batch_size)
    assert observer.seen == 3 * (-(-40 // batch_size) + -(-10 // batch_size))
    for a, b in zip(grouped.get_weights(), single.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == history1.history
    assert int(grouped.optimizer.iterations) == int(single.optimizer.iterations) == 3 * -(-40 // batch_size)
    assert grouped._loss_tracker.total == single._loss_tracker.total  # (a group's values at once: the same sums)
    assert single.train_function.step.multi_step_batches == 0 == single.test_function.step.multi_step_batches
    used = grouped.train_function.step.multi_step_batches
    assert (used > 0) if native else (used == 0)  # (Adam's step count changes what its kernel reads)
    assert grouped.test_function.step.multi_step_batches > 0  # (validation reads no optimizer value)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_live_progress_bar_moves_per_native_call_with_the_single_steps_numbers(monkeypatch):
    """``verbose=1`` on a terminal (Keras' default): the bar is drawn after each group of batches
    run in one native call, so the fit is grouped as an unobserved one; weights, History and the
    epoch's final line are those of a fit observed batch by batch."""
    monkeypatch.setenv("COLUMNS", "200")
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, (6000, 1)).astype(np.float32)  # (4800 training batches: groups of 4096 at most)
    y = (x - 0.5) ** 2

    def fit(callbacks):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        model.compile(optimizer=SGD(), loss="mse", jit_compile=True)
        out = _Terminal()
        monkeypatch.setattr(sys, "stdout", out)
        history = model.fit(x, y, batch_size=1, epochs=1, validation_split=0.2, callbacks=callbacks)
        monkeypatch.setattr(sys, "stdout", sys.__stdout__)
        return model, history, out.getvalue()

    updates = []
    update = progress.EpochProgress.update
    monkeypatch.setattr(
        progress.EpochProgress,
        "update",
        lambda self, logs, steps=1: (updates.append(steps), update(self, logs, steps))[1],
    )
    grouped, history, text = fit([])
    groups = list(updates)
    updates.clear()
    single, history1, text1 = fit([_BatchEnds()])
    assert grouped.train_function.step.multi_step_batches > 0 and grouped.test_function.step.multi_step_batches > 0
    assert single.train_function.step.multi_step_batches == 0
    for a, b in zip(grouped.get_weights(), single.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == history1.history
    assert groups == [4096, 704] and updates == [1] * 4800  # (validation has no bar, as in Keras)

    def final_lines(output):  # (the elapsed time and speed differ)
        return [line.split("step - ")[-1] for line in output.split("\r") if "val_loss" in line]

    assert final_lines(text) == final_lines(text1) and len(final_lines(text)) == 1
    assert text.startswith("Epoch 1/1\n") and text1.startswith("Epoch 1/1\n")


def test_validation_and_predict_run_kernels_within_kernel_rounding():
    """``jit_compile=True`` compiles ``test_step`` and ``predict_step`` too (``stats()``: a kernel,
    no numpy replays for validation); the numbers are the eager ones within the kernels' rounding."""
    compiled, history, x = _lecture_fit(SGD, [])
    eager, history1, _ = _lecture_fit(SGD, [], jit_compile=False)
    for stats in (compiled.test_function.step.compiled.stats(),):
        assert stats and all(s["kernel"] and s["replays"] == 0 for s in stats)
    np.testing.assert_allclose(history.history["val_loss"], history1.history["val_loss"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(history.history["loss"], history1.history["loss"], rtol=1e-4, atol=1e-6)
    assert np.isclose(compiled.evaluate(x, (x - 0.5) ** 2, batch_size=4, verbose=0),
                      eager.evaluate(x, (x - 0.5) ** 2, batch_size=4, verbose=0), rtol=1e-4)  # fmt: skip
    predicted = compiled.predict(x, batch_size=5, verbose=0)
    np.testing.assert_allclose(predicted, eager.predict(x, batch_size=5, verbose=0), rtol=1e-4, atol=1e-6)
    assert all(s["kernel"] for s in compiled.predict_function.step.compiled.stats())


def test_an_unobserved_predict_runs_in_few_native_calls_with_the_single_calls_outputs():
    """``predict`` with no batch hook hands its batches to ``run_steps``: the outputs of a predict
    whose batches are observed one by one, bit for bit, the last partial batch included."""

    class Observer(nn.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            pass

    model, _, x = _lecture_fit(SGD, [], epochs=1)
    x = np.concatenate([x, x[:3]])  # 53 samples: 13 batches of 4 and one of 1
    grouped = model.predict(x, batch_size=4, verbose=0)
    step = model.predict_function.step
    assert step.multi_step_batches > 0
    used = step.multi_step_batches
    single = model.predict(x, batch_size=4, verbose=0, callbacks=[Observer()])
    assert step.multi_step_batches == used and grouped.shape == single.shape == (53, 1)
    assert np.array_equal(grouped, single)


@pytest.mark.parametrize("observed", [False, True])
def test_a_resumed_unobserved_fit_equals_the_whole_run_bit_for_bit(tmp_path, observed):
    """Saved after 2 epochs of grouped steps, loaded and resumed (grouped, or observed batch by
    batch): the weights and the optimizer's step count of the uninterrupted grouped run."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, (40, 1)).astype(np.float32)
    y = (x - 0.5) ** 2

    def model():
        nn.utils.set_random_seed(0)
        m = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
        m.compile(optimizer=nn.optimizers.SGD(learning_rate=0.01, momentum=0.5), loss="mse", jit_compile=True)
        return m

    whole = model()
    whole.fit(x, y, batch_size=1, epochs=4, validation_split=0.25, verbose=0)
    half = model()
    half.fit(x, y, batch_size=1, epochs=2, validation_split=0.25, verbose=0)
    assert half.train_function.step.multi_step_batches > 0
    half.save(tmp_path / "half.keras")
    resumed = nn.models.load_model(tmp_path / "half.keras")
    resumed.compile(optimizer=resumed.optimizer, loss="mse", jit_compile=True)
    callbacks = [_BatchEnds()] if observed else []
    resumed.fit(x, y, batch_size=1, epochs=4, initial_epoch=2, validation_split=0.25, verbose=0, callbacks=callbacks)
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        assert np.array_equal(a, b)
    assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations) == 4 * 30


def test_a_step_with_a_0d_argument_runs_single_and_n_steps():
    w = am.tensor(np.ones(3), requires_grad=True)

    def step(x, c):
        loss = ((w * c + x) ** 2).sum()
        w.grad = None
        loss.backward()
        return loss

    compiled = am.compile(step, kernels=True)
    singles = [compiled(np.arange(3.0), np.array(float(k))).data for k in range(6)]
    assert compiled.stats()[0]["kernel"]  # (the last calls ran the kernel: a 0-d argument per step)
    assert [float(v) for v in singles] == [float(((k + np.arange(3.0)) ** 2).sum()) for k in range(6)]
    results = run_steps(compiled, [(np.arange(3.0), np.array(float(k))) for k in range(3)])
    assert [float(r.data) for r in results] == [5.0, 14.0, 29.0]


@pytest.mark.parametrize("class_weighted", [False, True])
def test_an_unobserved_weighted_fit_groups_its_batches_bit_for_bit(class_weighted):
    """Sample weights (or class weights, which become them) are stacked with x and y: a fit that
    nothing observes per batch runs them in few native calls, with the single steps' numbers."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(48, 3)).astype(np.float32)
    y = rng.integers(0, 2, (48, 1)).astype(np.float32)
    weights = {"sample_weight": rng.uniform(0.5, 2.0, 48).astype(np.float32)}
    if class_weighted:
        weights = {"class_weight": {0: 0.5, 1: 2.0}}

    def run(callbacks):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="tanh"), nn.Dense(1, activation="sigmoid")])
        model.compile(optimizer=nn.optimizers.SGD(0.05), loss="binary_crossentropy", jit_compile=True)
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks, **weights)
        return model, history

    grouped, grouped_history = run([])
    single, single_history = run([_BatchEnds()])
    assert grouped.train_function.step.multi_step_batches > 0
    assert single.train_function.step.multi_step_batches == 0
    assert grouped_history.history == single_history.history
    for a, b in zip(grouped.get_weights(), single.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_a_gradient_kept_from_one_call_is_not_written_by_the_next():
    """The N-step function allocates its buffers once per call (shared by that call's steps):
    a gradient returned by one call is never a buffer a later call writes."""
    rng = np.random.default_rng(11)
    step, w = _core_step()
    batches = _batches(rng, 8)
    for args in batches[:4]:
        step(*args)  # (traced, checked, compiled: the last calls ran the kernel)
    kept = w.grad.data
    before = kept.copy()
    step(*batches[4])
    assert w.grad.data is not kept and np.array_equal(kept, before)
    kept = w.grad.data
    before = kept.copy()
    assert run_steps(step, batches[5:]) is not None
    assert np.array_equal(kept, before)


def test_the_step_count_of_a_group_is_its_single_steps_count():
    """``step_lowering._count_steps``: N applied steps count N at once; a group with a skipped step
    (the loss not finite: flag 0; a weight that would not be finite: flag 2 + its index) counts
    and warns step by step, as the single steps do."""
    from nn.optimizers import step_lowering

    class Optimizer:
        _iterations = 0
        skipped: list = []

        def skip_step(self, why):
            self.skipped.append(why)

    optimizer = Optimizer()
    count = step_lowering._count_step(optimizer, [types.SimpleNamespace(name="kernel")])
    many = step_lowering._count_steps(optimizer, count)
    many(np.ones((5, 1)))
    assert optimizer._iterations == 5 and optimizer.skipped == []
    many(np.array([[1.0], [0.0], [1.0], [2.0]]))
    assert optimizer._iterations == 7
    assert optimizer.skipped == ["the loss is not finite", "it would make 'kernel' non-finite"]
