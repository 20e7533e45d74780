"""Round trips of every format: weights, whole models (compile config, optimizer state), exact resume."""

from __future__ import annotations

import numpy as np
import pytest

import nn

pytest.importorskip("h5py")

MODEL_FORMATS = ["m.keras", "m.h5", "m.npz", "checkpoint_without_extension"]
WEIGHT_FORMATS = ["w.weights.h5", "w.h5", "w.npz", "my_checkpoint"]


def _data(n=48, features=4, classes=3, dtype="float32"):
    gen = np.random.default_rng(1)
    return gen.normal(size=(n, features)).astype(dtype), gen.integers(0, classes, n)


def _model(optimizer=None, dtype="float32", dropout=0.25):
    layers = [nn.Input((4,), dtype=dtype), nn.layers.Dense(8, activation="relu", dtype=dtype)]
    if dropout:
        layers.append(nn.layers.Dropout(dropout, dtype=dtype))
    layers.append(nn.layers.Dense(3, activation="softmax", dtype=dtype))
    model = nn.Sequential(layers)
    model.compile(
        optimizer=optimizer or nn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _slots(optimizer, params):
    """The optimizer's slot variables (Keras' order, after iterations and the learning rate)."""
    return [(i, np.array(v, copy=True)) for i, v in enumerate(optimizer.variables[2:])]


@pytest.mark.parametrize("name", MODEL_FORMATS)
def test_model_round_trip_keeps_weights_compile_config_and_optimizer_state(tmp_path, name):
    nn.utils.set_random_seed(3)
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / name
    model.save(path)
    loaded = nn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    opt = loaded.optimizer
    assert type(opt) is nn.optimizers.SGD
    assert (opt.momentum, opt.nesterov, opt.learning_rate, opt.iterations) == (0.9, True, 0.05, 6)
    assert type(loaded.loss) is type(model.loss)
    old, new = _slots(model.optimizer, model.parameters()), _slots(opt, loaded.parameters())
    assert len(old) == len(new) == 4
    for (k1, a), (k2, b) in zip(old, new):
        assert k1 == k2
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", WEIGHT_FORMATS)
def test_weights_round_trip(tmp_path, name):
    x, _ = _data()
    model, other = _model(), _model()
    path = tmp_path / name
    model.save_weights(path)
    assert not np.array_equal(other.predict(x), model.predict(x))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.npz"])
def test_float64_model_reloads_as_float64(tmp_path, name):
    x, y = _data(dtype="float64")
    model = _model(dtype="float64")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / name)
    loaded = nn.models.load_model(tmp_path / name)
    assert all(p.dtype == np.float64 for p in loaded.parameters())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_every_layer_config_round_trips(tmp_path):
    layers = [
        nn.layers.Dense(6, activation="tanh", use_bias=False, kernel_regularizer=nn.regularizers.l2(0.01)),
        nn.layers.Dropout(0.3, seed=4),
        nn.layers.Activation("sigmoid"),
        nn.layers.LeakyReLU(0.1),
        nn.layers.PReLU(),
        nn.layers.RReLU(0.1, 0.2),
        nn.layers.Flatten(),
        nn.layers.Dense(3, activation="elu"),
        nn.layers.Softmax(),
    ]
    model = nn.Sequential([nn.Input((4,)), *layers])
    for name in ("m.keras", "m.h5", "m.npz"):
        model.save(tmp_path / name)
        loaded = nn.models.load_model(tmp_path / name)
        assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in layers]
        np.testing.assert_array_equal(loaded.predict(_data()[0]), model.predict(_data()[0]))


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: nn.optimizers.Adam(0.01, amsgrad=True),
        lambda: nn.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        lambda: nn.optimizers.Adagrad(0.05),
        lambda: nn.optimizers.Adadelta(1.0),
        lambda: nn.optimizers.AdamW(0.01, weight_decay=0.01),
        lambda: nn.optimizers.SGD(learning_rate=nn.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)),
    ],
)
@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_exact_resume(tmp_path, optimizer, name):
    """Save mid-training, load, continue: bit-identical to the uninterrupted run (shuffling and dropout included)."""
    x, y = _data()
    nn.utils.set_random_seed(7)
    model = _model(optimizer())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / name)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    expected = model.get_weights()

    nn.utils.set_random_seed(12345)  # a different random state: the file must restore it
    resumed = nn.models.load_model(tmp_path / name)
    resumed.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert resumed.optimizer.iterations == model.optimizer.iterations == 12
    for a, b in zip(resumed.get_weights(), expected):
        np.testing.assert_array_equal(a, b)


def test_overwrite_false_refuses_without_a_terminal(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        nn.saving.save_model(model, path, overwrite=False)
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FileExistsError):
        nn.saving.save_weights(model, tmp_path / "w.weights.h5", overwrite=False)
    assert path.read_bytes() == before
    nn.saving.save_model(model, tmp_path / "new.keras", overwrite=False)  # a new file is fine
    assert (tmp_path / "new.keras").exists()


def test_overwrite_false_asks_on_a_terminal(tmp_path, monkeypatch):
    import sys

    model = _model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    before = path.read_bytes()

    class Tty:
        def isatty(self):
            return True

        def write(self, text):
            return len(text)

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(sys, "stdout", Tty())
    answers = iter(["maybe", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    nn.layers.Dense(1)  # any change of the model would be visible below
    model.layers[0].kernel.data = model.layers[0].kernel.data + 1
    nn.saving.save_weights(model, path, overwrite=False)
    assert path.read_bytes() == before
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    nn.saving.save_weights(model, path, overwrite=False)
    assert path.read_bytes() != before


def test_save_format_and_keyword_arguments(tmp_path):
    model = _model()
    x, _ = _data()
    nn.saving.save_model(model, tmp_path / "ckpt", save_format="tf")
    np.testing.assert_array_equal(nn.models.load_model(tmp_path / "ckpt").predict(x), model.predict(x))
    nn.saving.save_weights(model, tmp_path / "weights.bin", save_format="h5")
    other = _model()
    nn.saving.load_weights(other, tmp_path / "weights.bin", skip_mismatch=False)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "m.pkl")
    with pytest.raises(ValueError, match="save_format"):
        nn.saving.save_model(model, tmp_path / "m.keras", save_format="pickle")


def test_python_callable_loss_or_activation_is_refused_at_save(tmp_path):
    model = _model()
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: (y_pred - y_true) ** 2)
    with pytest.raises(ValueError, match="Python function"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    assert list(tmp_path.iterdir()) == []

    custom = nn.Sequential([nn.Input((4,)), nn.layers.Dense(2, activation=lambda t: t * 2)])
    with pytest.raises(ValueError, match="activation"):
        custom.save(tmp_path / "c.keras")
    assert list(tmp_path.iterdir()) == []


def test_builtin_loss_function_saves_by_its_registered_name(tmp_path):
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=nn.losses.mean_squared_error)
    model.save(tmp_path / "m.keras")
    loaded = nn.models.load_model(tmp_path / "m.keras")
    assert loaded.loss is not None


def test_refused_load_weights_leaves_the_model_untouched(tmp_path):
    small = nn.Sequential([nn.Input((4,)), nn.layers.Dense(8), nn.layers.Dense(2)])
    model = _model()
    opt_before = _slots(model.optimizer, model.parameters())
    weights = model.get_weights()
    for name in WEIGHT_FORMATS:
        small.save_weights(tmp_path / name)
        with pytest.raises(ValueError):
            model.load_weights(tmp_path / name)
        for a, b in zip(model.get_weights(), weights):
            np.testing.assert_array_equal(a, b)
    assert len(_slots(model.optimizer, model.parameters())) == len(opt_before)


def test_custom_objects_are_accepted_and_compile_false_skips_the_optimizer(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    with pytest.raises(TypeError, match="custom_objects"):
        nn.models.load_model(tmp_path / "m.keras", custom_objects=[print])
    assert (
        nn.models.load_model(tmp_path / "m.keras", custom_objects={"f": print}).count_params() == model.count_params()
    )
    loaded = nn.models.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.optimizer is None
