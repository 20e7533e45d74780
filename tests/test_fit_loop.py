"""The loop around the step: one captured step per model, shuffled batches, callback dispatch,
``steps_per_execution`` (against Keras 3), the loss check inside an execution."""

import io
import math
import os
from contextlib import nullcontext

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini.numba_support import use_numba
from nn.models import data_adapters as da
from nn.models import step_function, trainer


@pytest.fixture(autouse=True)
def fresh():
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)


def data(n=120, features=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x, y


def classifier(jit="auto", dropout=0.2, spe=1):
    nn.utils.set_random_seed(3)
    model = nn.Sequential(
        [
            nn.Input((4,)),
            nn.layers.Dense(8, activation="relu"),
            nn.layers.Dropout(dropout),
            nn.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit,
        steps_per_execution=spe,
    )
    return model


# ---- the captured step survives epochs and fits ------------------------------------------------------------
@pytest.mark.parametrize("numba", [True, False])
def test_captured_step_traces_each_signature_once_across_epochs_and_fits(numba):
    x, y = data()  # 120 samples, batch 16: a full and a partial batch = two signatures
    with use_numba(numba):
        model = classifier()
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        step = model._captured_train_step
        assert not step.eager and step.compiled.traces == 4  # two signatures, each traced and checked once
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert model._captured_train_step is step and step.compiled.traces == 4
        eager = classifier(jit=False)
        eager.fit(x, y, batch_size=16, epochs=3, verbose=0)
        eager.fit(x, y, batch_size=16, epochs=2, verbose=0)
    for a, b in zip(eager.get_weights(), model.get_weights()):
        assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)


def test_captured_step_is_replaced_by_compile_and_by_other_trainable_variables():
    x, y = data()
    model = classifier()
    model.fit(x, y, batch_size=40, epochs=1, verbose=0)
    first = model._captured_train_step
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=40, epochs=1, verbose=0)
    second = model._captured_train_step
    assert second is not first and second.compiled.traces == 2
    frozen = model.layers[0]
    frozen.trainable = False
    before = frozen.kernel.data.copy()
    model.fit(x, y, batch_size=40, epochs=1, verbose=0)
    third = model._captured_train_step
    assert third is not second and third.compiled.traces == 2
    assert np.array_equal(frozen.kernel.data, before)  # the new trace leaves the frozen layer alone
    frozen.trainable = True
    model.fit(x, y, batch_size=40, epochs=1, verbose=0)
    assert model._captured_train_step is not third and not np.array_equal(frozen.kernel.data, before)


# ---- shuffled batches ------------------------------------------------------------------------------------------
def per_batch_gather(adapter):
    """The former iterator: one permutation per epoch, a fancy-index gather per batch."""
    order = nn.utils.rng().permutation(adapter.n)
    for start in range(0, adapter.n, adapter.batch_size):
        index = order[start : start + adapter.batch_size]
        yield da.pack_x_y_sample_weight(
            da._take(adapter.x, index), da._take(adapter.y, index), da._take(adapter.sample_weight, index)
        )


def flat(batch):
    out = []
    for item in batch:
        out.extend(item if isinstance(item, list) else [item])
    return out


@pytest.mark.parametrize("gather_rows", [None, 6, 3])
@pytest.mark.parametrize("form", ["x", "xy", "xyw", "lists"])
def test_shuffled_batches_are_the_per_batch_gathers_and_the_same_random_stream(gather_rows, form):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((23, 3)).astype(np.float32)
    y = rng.standard_normal((23, 2)).astype(np.float32)
    w = rng.uniform(size=23).astype(np.float32)
    args = {"x": (x, None, None), "xy": (x, y, None), "xyw": (x, y, w), "lists": ([x, x * 2], [y, y + 1], None)}[form]
    adapter = da.ArrayAdapter(*args, batch_size=3, shuffle=True, n=23)
    if gather_rows is not None:
        adapter.gather_rows = gather_rows  # several gathers per epoch (the real size is ~4 MiB of rows)
    for epoch in range(2):
        nn.utils.set_random_seed(epoch)
        expected = list(per_batch_gather(adapter))
        state = nn.utils.get_rng_state()
        nn.utils.set_random_seed(epoch)
        got = list(adapter.epoch_batches())
        assert nn.utils.get_rng_state() == state
        assert len(got) == len(expected) == 8
        for a, b in zip(got, expected):
            assert len(a) == len(b)
            for u, v in zip(flat(a), flat(b)):
                assert u.dtype == v.dtype and np.array_equal(u, v)


def test_gather_rows_is_a_multiple_of_the_batch_size():
    x = np.zeros((60_000, 784), np.float32)
    mnist = da.ArrayAdapter(x, np.zeros((60_000, 10), np.float32), batch_size=128, shuffle=True, n=60_000)
    assert mnist.gather_rows == 128  # a batch is larger than GATHER_BYTES: one gather per batch
    small = da.ArrayAdapter(x[:, :4], np.zeros(60_000), batch_size=32, shuffle=True, n=60_000)
    assert small.gather_rows % 32 == 0 and small.gather_rows * 24 <= da.GATHER_BYTES < (small.gather_rows + 32) * 24
    lecture = da.ArrayAdapter(x[:800, :1], x[:800, :1], batch_size=1, shuffle=True, n=800)
    assert lecture.gather_rows >= 800  # small data: one gather per epoch


# ---- callback dispatch -------------------------------------------------------------------------------------
def test_callback_list_skips_base_class_no_op_batch_hooks():
    class EpochOnly(nn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class OldStyle(nn.callbacks.Callback):  # Keras' alias: on_batch_end serves on_train_batch_end
        def on_batch_end(self, batch, logs=None):
            pass

    lam = nn.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: None)
    epoch_only, old = EpochOnly(), OldStyle()
    history = nn.callbacks.History()
    cbs = nn.callbacks.CallbackList([epoch_only, old, lam, history])
    assert [m.__self__ for m in cbs.hooks("on_train_batch_end")] == [old]
    assert cbs.hooks("on_train_batch_begin") == [lam.on_train_batch_begin]
    assert cbs.hooks("on_test_batch_end") == [] and [m.__self__ for m in cbs.hooks("on_epoch_end")] == [
        epoch_only,
        history,
    ]


def test_batch_end_logs_are_python_floats():
    seen = []

    class TensorLogs(nn.Sequential):
        def train_step(self, data):
            logs = super().train_step(data)
            return {"loss": am.tensor(np.float32(logs["loss"])), "n": np.int64(3)}

    model = TensorLogs([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = data(20)
    cb = nn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[cb])
    assert len(seen) == 2 and all(type(v) is float for logs in seen for v in logs.values())
    assert type(history.history["loss"][0]) is float
    plain = {"loss": 0.5}
    assert trainer._callback_logs(plain) is plain  # already floats: no copy per batch


# ---- steps_per_execution ---------------------------------------------------------------------------------------
HOOKS = ("train_batch", "test_batch", "predict_batch")


def recorder_class(base):
    class Recorder(base):
        def __init__(self):
            super().__init__()
            self.calls = []

        def _record(self, name, batch, logs):
            outputs = (logs or {}).get("outputs")
            self.calls.append((name, batch, None if outputs is None else np.shape(outputs)))

    for kind in HOOKS:
        for when in ("begin", "end"):
            name = f"on_{kind}_{when}"
            setattr(Recorder, name, lambda self, batch, logs=None, _n=name: self._record(_n, batch, logs))
    return Recorder


def run_loops(lib, model, spe):
    """fit (2 epochs, validation), evaluate, predict on 10 batches; the batch hooks called."""
    x, y = data(20)
    x, y = x[:, :2], y.astype(np.float32)[:, None]
    rec = recorder_class(lib.callbacks.Callback)()
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False, validation_data=(x[:6], y[:6]), callbacks=[rec])
    model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[rec])
    predictions = model.predict(x, batch_size=2, verbose=0, callbacks=[rec])
    return rec.calls, predictions


def nn_regressor(spe):
    nn.utils.set_random_seed(5)
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(4, activation="tanh"), nn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], steps_per_execution=spe)
    return model


EXPECTED_SPE3 = (
    [("on_train_batch_begin", 0, None), ("on_train_batch_end", 2, None)]
    + [("on_train_batch_begin", 3, None), ("on_train_batch_end", 5, None)]
    + [("on_train_batch_begin", 6, None), ("on_train_batch_end", 8, None)]
    + [("on_train_batch_begin", 9, None), ("on_train_batch_end", 11, None)]  # the short last execution
    + [("on_test_batch_begin", 0, None), ("on_test_batch_end", 2, None)]
)


def test_steps_per_execution_batch_hooks_and_identical_training():
    calls1, pred1 = run_loops(nn, model1 := nn_regressor(1), 1)
    calls3, pred3 = run_loops(nn, model3 := nn_regressor(3), 3)
    assert len([c for c in calls1 if c[0] == "on_train_batch_end"]) == 20
    assert calls3[: len(EXPECTED_SPE3)] == EXPECTED_SPE3
    assert [c for c in calls3 if c[0] == "on_predict_batch_end"] == [
        ("on_predict_batch_end", 2, (6, 1)),
        ("on_predict_batch_end", 5, (6, 1)),
        ("on_predict_batch_end", 8, (6, 1)),
        ("on_predict_batch_end", 11, (2, 1)),
    ]
    for a, b in zip(model1.get_weights(), model3.get_weights()):
        assert np.array_equal(a, b)
    assert np.array_equal(pred1, pred3) and pred3.shape == (20, 1)
    assert model1.history.history == model3.history.history


@pytest.mark.parametrize("spe", [1, 3])
def test_steps_per_execution_hooks_match_keras(spe):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras only in tests, on jax (never required)
    keras = pytest.importorskip("keras")
    reference = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    reference.compile(optimizer="sgd", loss="mse", metrics=["mae"], steps_per_execution=spe)
    expected, _ = run_loops(keras, reference, spe)
    got, _ = run_loops(nn, nn_regressor(spe), spe)
    assert got == expected


def test_steps_per_epoch_runs_exactly_that_many_batches_per_epoch():
    x, y = data(40)
    seen = []
    model = classifier(jit=False, spe=3)
    cb = nn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=4, verbose=0, callbacks=[cb])
    assert seen == [2, 5, 2, 5]
    reference = classifier(jit=False)
    reference.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=4, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        assert np.array_equal(a, b)


def test_captured_steps_per_execution_trains_as_the_eager_per_batch_loop():
    x, y = data()
    captured = classifier(jit="auto", spe=4)
    eager = classifier(jit=False, spe=1)
    out = io.StringIO()
    for model in (captured, eager):
        nn.utils.set_random_seed(4)  # the same shuffles and Dropout masks
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    assert captured._captured_train_step.compiled.traces == 4 and not captured._captured_train_step.eager
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        assert np.array_equal(a, b)
    assert captured.history.history == eager.history.history
    progress = nn.progress.EpochProgress("Epoch 1/1", 6, 2, stream=out)
    progress.update({}, 4)
    progress.update({"loss": 1.0}, 2)
    progress.close({"loss": 1.0})
    assert out.getvalue().startswith("Epoch 1/1 - 6/6 - ")


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "3", None])
def test_steps_per_execution_must_be_a_positive_int(bad):
    model = classifier(jit=False)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=bad)
    model.steps_per_execution = bad  # set by hand: the loops check it before anything changes
    x, y = data(20)
    before = model.get_weights()
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0)):
        with pytest.raises(ValueError, match=f"`steps_per_execution` must be a positive integer, got .*{bad!r}"):
            call()
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.predict(x, verbose=0)
    assert model.history is None and all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_progress_counts_batches_per_execution():
    x, y = data(20)
    model = classifier(jit=False, spe=3)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    progress = nn.progress.EpochProgress("Epoch 1/1", 10, 2, stream=io.StringIO())
    for count in (3, 3, 3, 1):
        progress.update({"loss": 0.5}, count)
    assert progress.seen == 10
    progress.close({"loss": 0.5})
    assert " - 10/10 - " in progress.stream.getvalue()
    logger = nn.callbacks.ProgbarLogger(stream=io.StringIO())
    logger.set_params({"verbose": 2, "epochs": 1, "steps": 10})
    logger.on_epoch_begin(0)
    for end in (2, 5, 8, 11):  # Keras' end indices; the last execution is shorter
        logger.on_train_batch_end(end, {"loss": 0.5})
    assert logger.progress.seen == logger.seen == 10
    logger.on_epoch_end(0, {"loss": 0.5})
    assert "10/10" in logger.stream.getvalue()


# ---- the loss check inside an execution -----------------------------------------------------------------------
class Exploding(nn.Sequential):
    """The loss becomes NaN from the 5th training batch on."""

    def train_step(self, data):
        self.batches = getattr(self, "batches", 0) + 1
        if self.batches >= 5:
            x, y = data
            data = (x, np.full_like(y, np.nan))
        return super().train_step(data)


def exploding(spe, jit=False):
    nn.utils.set_random_seed(2)
    model = Exploding([nn.Input((4,)), nn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=spe, jit_compile=jit)
    return model


@pytest.mark.parametrize("spe", [1, 3])
def test_a_non_finite_loss_is_logged_and_training_continues_without_updates(spe):
    """Keras 3: fit goes on and logs NaN; nn skips the non-finite steps and warns once."""
    x, _ = data(40)
    y = x[:, :1].copy()
    model = exploding(spe)
    reference = exploding(1)
    reference.fit(x[:16], y[:16], batch_size=4, epochs=1, shuffle=False, verbose=0)  # the 4 finite batches
    with pytest.warns(RuntimeWarning, match=r"step 5 was skipped because the loss is nan") as record:
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert len([w for w in record if "was skipped" in str(w.message)]) == 1  # once
    assert model.batches == 20 and history.epoch == [0, 1]  # every batch ran
    assert all(math.isnan(v) for v in history.history["loss"])
    assert model.optimizer.iterations == 4
    for a, b in zip(model.get_weights(), reference.get_weights()):
        assert np.array_equal(a, b)  # the weights of the last finite step


def test_terminate_on_nan_stops_quietly_with_steps_per_execution():
    x, _ = data(40)
    ends = []
    model = exploding(3)
    cbs = [
        nn.callbacks.TerminateOnNaN(),
        nn.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: ends.append(b)),
    ]
    history = model.fit(x, x[:, :1], batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=cbs)
    assert ends == [2, 5] and model.batches == 6 and model.stop_training  # Keras: the whole execution runs
    assert history.epoch == [0] and math.isnan(history.history["loss"][0])  # Keras: the epoch still ends


def test_the_eager_fallback_applies_each_batch_once(monkeypatch):
    """A refused check trace is undone (the step's state is restored) before the eager fallback."""
    x, y = data(20)

    def scaled_mse(y_true, y_pred):  # a constant computed from the data with raw numpy: refused
        return nn.losses.mean_squared_error(y_true, y_pred) * float(np.asarray(y_true.data)[:, 0].sum() + 1)

    monkeypatch.setattr(step_function, "_ours_loss", lambda loss: True)  # let "auto" capture it
    monkeypatch.setenv("NN_DEBUG_CAPTURE", "1")  # "auto" falls back silently unless debugging
    weights = {}
    for jit in (False, "auto"):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
        model.compile(optimizer="sgd", loss=scaled_mse, jit_compile=jit)
        with pytest.warns(UserWarning, match="running eagerly") if jit else nullcontext():
            model.fit(x, nn.utils.to_categorical(y, 3), batch_size=5, epochs=1, shuffle=False, verbose=0)
        weights[jit] = model.get_weights()
    for a, b in zip(weights[False], weights["auto"]):
        assert np.array_equal(a, b)
