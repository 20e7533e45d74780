"""Sparse categorical cross-entropy under jit_compile=True: the integer labels become one-hot
targets inside the kernel (``one_hot_targets``' loop form, nn/lowering_rules.py), so the step is
one kernel and an unobserved fit runs N steps per native call; invalid labels still raise the
eager ValueError before the step writes anything."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from nn.losses import crossentropy

pytest.importorskip("numba")

RTOL, ATOL = 1e-4, 1e-5  # float32 kernels against the eager step (tests/test_jit_compile.py)


pytestmark = pytest.mark.usefixtures("own_kernel_cache")


def _data(dtype="int64", n=96, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(dtype)
    return x, y


def _model(jit, loss=None, optimizer="rmsprop", metrics=()):
    nn.utils.set_random_seed(3)
    inputs = nn.Input(shape=(6,))
    h = nn.layers.Dense(8, activation="relu")(inputs)
    model = nn.Model(inputs, nn.layers.Dense(4)(h))
    loss = loss if loss is not None else nn.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(loss=loss, optimizer=optimizer, metrics=list(metrics), jit_compile=jit)
    return model


def _entry(model):
    entries = list(model.train_function.step.compiled.cache.values())
    assert len(entries) == 1
    return entries[0]


def _close(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=RTOL, atol=ATOL)


class _Observer(nn.callbacks.Callback):
    """A batch hook: the fit runs one step per native call."""

    def on_train_batch_end(self, batch, logs=None):
        pass


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_a_sparse_step_is_one_kernel_and_groups_its_batches(dtype):
    x, y = _data(dtype)
    eager, compiled = _model(False), _model(True)
    h_eager = eager.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    h_compiled = compiled.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    entry = _entry(compiled)
    assert entry.kernel is not None and entry.kernel.plan is not None, entry.not_lowered  # one kernel
    assert len(entry.kernel.sources) == 2  # the block and its driver: no Python between two kernels
    assert compiled.train_function.step.multi_step_batches > 0  # N steps per native call
    _close(compiled, eager)
    np.testing.assert_allclose(h_compiled.history["loss"], h_eager.history["loss"], rtol=RTOL, atol=ATOL)
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 18


def test_probabilities_with_the_loss_by_name_are_one_kernel_too():
    x, y = _data()

    def build(jit):
        nn.utils.set_random_seed(3)
        model = nn.Sequential([nn.Input((6,)), nn.layers.Dense(8, activation="tanh"), nn.layers.Dense(4, "softmax")])
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", jit_compile=jit)
        model.fit(x, y[:, None], batch_size=16, epochs=2, shuffle=False, verbose=0)  # (labels with a trailing 1)
        return model

    eager, compiled = build(False), build(True)
    entry = _entry(compiled)
    assert entry.kernel is not None and entry.kernel.plan is not None, entry.not_lowered
    _close(compiled, eager)


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
def test_auto_is_the_eager_step_bit_for_bit(dtype):
    x, y = _data(dtype)
    eager, auto = _model(False), _model("auto")
    nn.utils.set_random_seed(5)  # (the shuffles)
    h_eager = eager.fit(x, y, batch_size=16, epochs=2, verbose=0)
    nn.utils.set_random_seed(5)
    h_auto = auto.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert h_auto.history == h_eager.history
    for a, b in zip(auto.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_uint8_labels_train_like_eager():
    """uint8 labels (MNIST's): the kernels have no uint8 loop form yet, so ``sparse_targets`` records its
    Python twin (a rule could not read them: the step would lose its kernel); one kernel once they do."""
    x, y = _data("uint8")
    eager, compiled = _model(False), _model(True)
    eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    compiled.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    entry = _entry(compiled)
    assert entry.kernel is not None, entry.not_lowered
    if np.dtype(np.uint8) in crossentropy.LOOP_LABEL_DTYPES:
        assert entry.kernel.plan is not None
    _close(compiled, eager)


def test_ignore_class_keeps_working_in_the_kernel():
    x, y = _data()
    y[::5] = 3  # the ignored class, some of every batch

    def build(jit):
        model = _model(jit, nn.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3))
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return model, history

    (eager, h_eager), (compiled, h_compiled) = build(False), build(True)
    entry = _entry(compiled)
    assert entry.kernel is not None and entry.kernel.plan is not None, entry.not_lowered  # (the mask's weights too)
    assert compiled.train_function.step.multi_step_batches > 0
    _close(compiled, eager)
    np.testing.assert_allclose(h_compiled.history["loss"], h_eager.history["loss"], rtol=RTOL, atol=ATOL)


def test_one_hot_targets_loop_form_equals_numpy_with_ignore_class_and_class_axis():
    """The loop form alone, on a captured function: labels on axis 1 of a 3-d y_pred, an ignored class."""
    import autograd_mini as am

    labels = np.array([[0, 2], [5, 1], [1, 5]], dtype=np.int64)  # (3, 2): y_pred (3, 4, 2), classes on axis 1

    def step(y):
        return crossentropy.sparse_targets(y, (3, 4, 2), np.float32, 5, 1)

    compiled = am.compile(step, kernels=True)
    for _ in range(4):
        one_hot, mask = compiled(labels)
    entry = next(iter(compiled.cache.values()))
    assert entry.kernel is not None, entry.not_lowered
    want, want_mask = crossentropy._one_hot(labels, (3, 4, 2), np.float32, 5, 1)
    np.testing.assert_array_equal(one_hot, want)
    np.testing.assert_array_equal(mask, want_mask)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
@pytest.mark.parametrize("ignored", [[1, 0, 0], [1, 1, 1]], ids=["some", "all"])
def test_ignore_class_weights_loop_form_equals_numpy_bit_for_bit(reduction, ignored):
    import autograd_mini as am
    from nn.losses.loss import _float_mask

    labels = np.where(np.array(ignored, bool), 7, np.array([0, 1, 2]))

    def step(y):
        _, mask = crossentropy.sparse_targets(y, (3, 3), np.float32, 7)
        return _float_mask(mask, np.float32, reduction)

    compiled = am.compile(step, kernels=True)
    for _ in range(4):
        weights = compiled(labels)
    assert next(iter(compiled.cache.values())).kernel is not None
    want = _float_mask.__wrapped__(labels != 7, np.float32, reduction)
    assert weights.dtype == want.dtype
    np.testing.assert_array_equal(weights, want)


def _eager_error(x, y, **fit):
    model = _model(False)
    with pytest.raises(ValueError) as error:
        model.fit(x, y, batch_size=16, verbose=0, shuffle=False, **fit)
    return model, str(error.value)


@pytest.mark.parametrize("observed", [True, False], ids=["single-steps", "grouped"])
@pytest.mark.parametrize("bad", ["above", "negative", "fraction"])  # (NaN and inf: fit refuses them up front)
def test_invalid_labels_raise_the_eager_error_before_the_step_writes(bad, observed):
    dtype = "float32" if bad == "fraction" else "int64"
    x, y = _data(dtype, n=96 * 2)
    y[96 + 16 * 3 + 5] = {"above": 4, "negative": -1, "fraction": 1.5}[bad]  # 2nd epoch's 4th batch
    x, y = np.concatenate([x[:96], x]), np.concatenate([y[:96], y])  # (an epoch of good batches first)
    fit = {"epochs": 1, "callbacks": [_Observer()] if observed else []}
    eager, message = _eager_error(x, y, **fit)
    compiled = _model(True)
    with pytest.raises(ValueError) as error:
        compiled.fit(x, y, batch_size=16, verbose=0, shuffle=False, **fit)
    assert str(error.value) == message
    assert "sparse_categorical_crossentropy" in message
    entry = _entry(compiled)
    assert entry.kernel is not None and entry.kernel.plan is not None
    # grouped: the bad batch came in an N-step native call (its runner was built; observed: never)
    assert (type(getattr(entry, "multi_step", None)).__name__ == "_Runner") is not observed
    # the batches before the bad one trained, that one and the rest did not: as eagerly
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 6 + 6 + 3
    _close(compiled, eager)
    for w in compiled.get_weights():
        assert np.isfinite(w).all()
    # and the model trains on afterwards
    good = _data(dtype)
    compiled.fit(*good, batch_size=16, epochs=1, shuffle=False, verbose=0)
    eager.fit(*good, batch_size=16, epochs=1, shuffle=False, verbose=0)
    _close(compiled, eager)


def test_labels_of_the_wrong_shape_raise_as_eagerly():
    x, y = _data()
    y = np.stack([y, y], axis=1)
    _, message = _eager_error(x, y, epochs=1)
    with pytest.raises(ValueError) as error:
        _model(True).fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert str(error.value) == message
    assert "expected (16,)" in message
