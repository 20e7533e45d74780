"""Issue 24's correctness rules: custom loops never silently skip weights, defaults never warn,
and training faults follow Keras 3 (nn never writes a non-finite weight)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nn


class Net(nn.Module):
    """The issue's PyTorch-habit model: the second layer has no declared input size."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.layers.Dense(128, activation="relu", input_dim=784)
        self.fc2 = nn.layers.Dense(10)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def batches(n=3, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((size, 784), dtype=np.float32), rng.integers(0, 10, size)) for _ in range(n)]


def train(model, opt, data):
    loss_fn = nn.losses.SparseCategoricalCrossentropy(from_logits=True)
    for xb, yb in data:
        opt.zero_grad()
        loss_fn(yb, model(xb)).backward()
        opt.step()


# ---- custom loops never silently skip weights ------------------------------------------------------------------
def test_an_optimizer_refuses_parameters_of_unbuilt_layers_naming_the_layer():
    model = Net()
    with pytest.raises(ValueError, match=r"layer 'fc2' \(Dense '.*'\) of Net is not built yet.*Call the model once"):
        nn.optimizers.Adam(model.parameters())


def test_after_one_call_every_layer_trains():
    model = Net()
    data = batches()
    model(data[0][0])  # builds fc2: the error's first advice
    opt = nn.optimizers.Adam(model.parameters())
    before = [p.data.copy() for p in model.parameters()]
    assert sum(p.size for p in model.parameters()) == 101_770
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(model, opt, data)
    assert all(not np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


def test_a_gradient_no_optimizer_tracks_warns_once_after_step():
    model = Net()
    data = batches()
    model(data[0][0])
    opt = nn.optimizers.SGD(model.parameters(), learning_rate=0.1)
    model.fc3 = nn.layers.Dense(10, input_dim=10)  # a layer added after the optimizer
    original = Net.forward
    try:
        Net.forward = lambda self, x: self.fc3(original(self, x))
        with pytest.warns(UserWarning, match=r"not tracked by this optimizer.*fc3") as record:
            train(model, opt, data)
    finally:
        Net.forward = original
    assert len([w for w in record if "not tracked" in str(w.message)]) == 1


# ---- defaults never warn -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, activation", [("mse", None), ("binary_crossentropy", "sigmoid"), ("huber", None), ("mae", None)]
)
def test_jit_compile_auto_captures_1d_targets_without_a_warning(loss, activation):
    rng = np.random.default_rng(0)
    x = rng.random((64, 3), dtype=np.float32)
    y = (x.sum(axis=1) > 1.5).astype(np.float32)  # 1-d targets
    model = nn.Sequential(
        [nn.Input((3,)), nn.layers.Dense(4, activation="relu"), nn.layers.Dense(1, activation=activation)]
    )
    model.compile(optimizer="adam", loss=loss, metrics=["mae"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model._captured_train_step is not None and not model._captured_train_step.eager


def test_the_lecture_x_squared_script_prints_no_warning():
    from examples import keras_x_squared

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras_x_squared.main(["--quick"])


# ---- training faults -----------------------------------------------------------------------------------------------
def small_model(optimizer, metrics=()):
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 4), dtype=np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("jit", ["auto", False])
def test_an_overflowing_update_is_never_applied(jit):
    x, y = data()
    x *= 1e3  # gradients of ~100: the first update overflows float32 while the loss is finite
    model = small_model(nn.optimizers.SGD(learning_rate=1e38))
    model.jit_compile = jit
    before = model.get_weights()
    with pytest.warns(RuntimeWarning, match=r"SGD '.*': step 1 was skipped because it would make .* non-finite"):
        history = model.fit(x, y, batch_size=10, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # every step overflowed: the weights are the initial ones
    assert model.optimizer.iterations == 0 and history.epoch == [0]


def nan_at(*steps):
    calls = []

    def loss(y_true, y_pred):
        calls.append(1)
        value = nn.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return value * float("nan") if len(calls) in steps else value

    return loss


@pytest.mark.parametrize("metrics", [[], ["accuracy"], ["accuracy", "sparse_top_k_categorical_accuracy"]])
def test_a_non_finite_first_loss_is_handled_whatever_metrics(metrics):
    """No "metric has not yet been built": the metrics see every batch, as in Keras."""
    x, y = data()
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss=nan_at(1), metrics=metrics)
    with pytest.warns(RuntimeWarning, match="step 1 was skipped because the loss is nan"):
        history = model.fit(x, y, batch_size=10, epochs=2, verbose=0, shuffle=False)
    assert history.epoch == [0, 1] and math.isnan(history.history["loss"][0])
    assert math.isfinite(history.history["loss"][1]) and model.optimizer.iterations == 7
    assert set(history.history) == {"loss", *metrics}


def test_terminate_on_nan_stops_quietly():
    x, y = data()
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss=nan_at(2), metrics=["accuracy"])
    with pytest.warns(RuntimeWarning, match="skipped"):
        history = model.fit(
            x, y, batch_size=10, epochs=3, verbose=0, shuffle=False, callbacks=nn.callbacks.TerminateOnNaN()
        )
    assert model.stop_training and history.epoch == [0] and math.isnan(history.history["loss"][0])


@pytest.mark.parametrize(
    "weights", [{0: float("nan"), 1: 1.0, 2: 1.0}, {0: float("inf"), 1: 1, 2: 1}, {0: "a", 1: 1, 2: 1}]
)
def test_class_weight_values_are_checked(weights):
    x, y = data()
    model = small_model("sgd")
    before = model.get_weights()
    with pytest.raises(ValueError, match="class_weight: the weight of class 0 must be a finite number"):
        model.fit(x, y, class_weight=weights, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda m, x, y: m.fit(x, 0, verbose=0), "y"),
        (lambda m, x, y: m.evaluate(x, np.int64(0), verbose=0), "y"),
        (lambda m, x, y: m.train_on_batch(x, 1), "y"),
        (lambda m, x, y: m.fit(x, y, sample_weight=2.0, verbose=0), "sample_weight"),
    ],
)
def test_scalar_targets_or_sample_weights_name_the_argument(call, name):
    x, y = data()
    with pytest.raises(ValueError, match=rf"{name} must have (a batch axis|one weight per sample)"):
        call(small_model("sgd"), x, y)


def test_one_callback_object_and_logs_are_dicts():
    seen = []

    class Keys(nn.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("train_begin", logs.keys()))

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("epoch_begin", dict(logs)))

        def on_train_batch_begin(self, batch, logs=None):
            seen.append(("batch_begin", dict(logs)))

        def on_predict_end(self, logs=None):
            seen.append(("predict_end", dict(logs)))

    x, y = data()
    model = small_model("sgd")
    history = model.fit(x, y, epochs=1, verbose=False, callbacks=Keys())
    model.predict(x, verbose=False, callbacks=Keys())
    assert history.epoch == [0] and all(isinstance(logs, (dict, type({}.keys()))) for _, logs in seen)
    assert {name for name, _ in seen} == {"train_begin", "epoch_begin", "batch_begin", "predict_end"}
    model.fit(x, y, epochs=1, verbose=True, batch_size=40)


def test_validation_steps_restart_at_the_beginning_each_epoch():
    x, y = data(60)
    seen = []

    class Recorder(nn.models.Sequential):
        def test_step(self, data):
            seen.append(float(data[0][0, 0]))
            return super().test_step(data)

    nn.utils.set_random_seed(0)
    model = Recorder([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x[:20], y[:20], epochs=3, verbose=0, validation_data=(x[20:], y[20:]), validation_steps=1, batch_size=10)
    assert seen == [float(x[20, 0])] * 3  # Keras: the first validation batch each time


class Batches(nn.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.x[i * 10 : (i + 1) * 10], self.y[i * 10 : (i + 1) * 10]


def test_a_py_dataset_ignores_batch_size_as_keras():
    x, y = data()
    model = small_model("sgd")
    history = model.fit(Batches(x, y), batch_size=3, epochs=1, verbose=0)
    assert history.params["steps"] == 4


def test_a_torch_dataloader_is_accepted():
    torch = pytest.importorskip("torch")
    x, y = data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(dataset, batch_size=10)
    model = small_model("sgd", metrics=["accuracy"])
    reference = small_model("sgd", metrics=["accuracy"])
    history = model.fit(loader, epochs=2, verbose=0)
    expected = reference.fit(x, y, batch_size=10, epochs=2, verbose=0, shuffle=False)
    assert history.history == expected.history and history.params["steps"] == 4
    assert model.evaluate(loader, verbose=0)[0] == reference.evaluate(x, y, batch_size=10, verbose=0)[0]


# ---- one step, one seam ----------------------------------------------------------------------------------------
def test_the_captured_steps_are_the_models_own_methods():
    """make_*_function returns am.compile of the same train/test/predict step, not a second body."""
    from nn.models.step_function import CapturedStep
    from nn.models.trainer import Trainer

    x, y = data()
    model = small_model("sgd", metrics=["accuracy"])
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, validation_split=0.25)
    model.predict(x, verbose=0)
    for kind in ("train", "test", "predict"):
        step = getattr(model, f"{kind}_function").step
        assert isinstance(step, CapturedStep) and not step.eager
        assert step.step.__func__ is getattr(Trainer, f"{kind}_step")
        assert step.compiled.traces >= 1  # traced (validation and predict too), then checked and replayed
    assert "fit" not in type(model).__dict__ and type(model).fit is Trainer.fit  # inherited, not forwarded
