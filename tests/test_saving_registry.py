"""Saving driven by the objects (Keras 3): the registry, every compile argument, custom names,
custom classes through ``register_keras_serializable`` or ``custom_objects``, clone and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nn

pytest.importorskip("h5py")

MODEL_FORMATS = ["m.keras", "m.h5", "m.npz"]


def _two_output_model():
    inputs = nn.Input((4,), name="x")
    hidden = nn.layers.Dense(6, activation="relu")(inputs)
    a = nn.layers.Dense(1, name="a")(hidden)
    b = nn.layers.Dense(3, activation="softmax", name="b")(hidden)
    return nn.Model(inputs, [a, b])


@pytest.mark.parametrize("name", MODEL_FORMATS)
def test_every_compile_argument_round_trips(tmp_path, name):
    model = _two_output_model()
    model.compile(
        optimizer=nn.optimizers.Adam(0.01),
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[0.25, 2.0],
        metrics=[["mae"], [nn.metrics.SparseCategoricalAccuracy(name="acc")]],
        weighted_metrics=[["mse"], []],
        steps_per_execution=4,
        jit_compile=True,
    )
    model.save(tmp_path / name)
    config = nn.models.load_model(tmp_path / name).get_compile_config()
    assert config["loss_weights"] == [0.25, 2.0]
    assert config["steps_per_execution"] == 4 and config["jit_compile"] is True
    assert config["weighted_metrics"] == [["mse"], []]
    assert config["metrics"][1][0]["class_name"] == "SparseCategoricalAccuracy"
    assert config["metrics"][1][0]["config"]["name"] == "acc"
    assert config == model.get_compile_config()


@pytest.mark.parametrize(
    "metric", [lambda: nn.metrics.SparseCategoricalAccuracy(name="acc"), lambda: nn.metrics.FalseNegatives(name="fn")]
)
def test_metrics_with_a_custom_name_save_and_checkpoint(tmp_path, metric):
    gen = np.random.default_rng(0)
    x, y = gen.normal(size=(16, 4)).astype("float32"), gen.integers(0, 2, 16)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metric()])
    checkpoint = nn.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[checkpoint])
    loaded = nn.models.load_model(tmp_path / "best.keras")
    assert loaded.get_compile_config()["metrics"] == model.get_compile_config()["metrics"]


def test_an_npz_without_a_loss_loads_uncompiled(tmp_path):
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(2)])
    model.save(tmp_path / "m.npz")
    loaded = nn.models.load_model(tmp_path / "m.npz")
    assert loaded.optimizer is None
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


class Scale(nn.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.add_weight("gain", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.gain * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _scaled_model(layer_cls):
    inputs = nn.Input((3,))
    return nn.Model(inputs, nn.layers.Dense(2)(layer_cls(3.0, name="scale")(inputs)))


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_a_user_layer_needs_custom_objects_or_registration(tmp_path, name):
    model = _scaled_model(Scale)
    model.layers[1].gain.mutable_data()[...] = [1.0, 2.0, 3.0]
    model.save(tmp_path / name)
    with pytest.raises(ValueError, match="Scale"):
        nn.models.load_model(tmp_path / name)
    loaded = nn.models.load_model(tmp_path / name, custom_objects={"Scale": Scale})
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with nn.saving.custom_object_scope({"Scale": Scale}):
        assert nn.models.load_model(tmp_path / name).get_layer("scale").factor == 3.0


def test_register_keras_serializable(tmp_path):
    @nn.saving.register_keras_serializable(package="Tests")
    class Shift(Scale):
        pass

    assert nn.utils.register_keras_serializable is nn.saving.register_keras_serializable
    assert nn.saving.get_registered_name(Shift) == "Tests>Shift"
    assert nn.saving.get_registered_object("Tests>Shift") is Shift
    assert nn.saving.get_custom_objects()["Tests>Shift"] is Shift
    model = _scaled_model(Shift)
    model.save(tmp_path / "m.keras")
    assert type(nn.models.load_model(tmp_path / "m.keras").get_layer("scale")) is Shift
    with pytest.raises(ValueError, match="get_config"):
        nn.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_a_file_cannot_name_code():
    for entry in (
        {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
        {"module": "builtins", "class_name": "eval", "config": {}},
        {"class_name": "__lambda__", "config": {"code": "abc"}},
        {"module": "numpy", "class_name": "function", "config": "load", "registered_name": "load"},
    ):
        with pytest.raises(ValueError):
            nn.saving.deserialize_keras_object(entry)


def test_serialize_deserialize_keras_object_round_trip():
    for obj in (
        nn.optimizers.Adam(0.003),
        nn.losses.Huber(delta=2.0),
        nn.metrics.FalseNegatives(name="fn"),
        nn.layers.Dense(3, activation="relu"),
        nn.initializers.RandomNormal(stddev=0.3),
    ):
        config = nn.saving.serialize_keras_object(obj)
        json.dumps(config)
        again = nn.saving.deserialize_keras_object(config)
        assert type(again) is type(obj)
        assert nn.saving.serialize_keras_object(again) == config
    assert nn.saving.deserialize_keras_object(nn.saving.serialize_keras_object((1, 2))) == (1, 2)


def test_to_json_model_from_json_and_clone_model():
    for model in (_two_output_model(), nn.Sequential([nn.Input((4,)), nn.layers.Dense(3), nn.layers.Dense(1)])):
        again = nn.models.model_from_json(model.to_json())
        clone = nn.models.clone_model(model)
        for other in (again, clone):
            assert type(other) is type(model)
            assert [type(layer) for layer in other.layers] == [type(layer) for layer in model.layers]
            assert [w.shape for w in other.get_weights()] == [w.shape for w in model.get_weights()]
            assert other.layers[-1] is not model.layers[-1]


def test_layer_variables_and_build_config():
    layer = nn.layers.Dense(3)
    layer.build_for((None, 4))
    store = {}
    layer.save_own_variables(store)
    other = nn.layers.Dense(3)
    other.build_from_config(layer.get_build_config())
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.kernel.data, layer.kernel.data)
    with pytest.raises(ValueError, match="expected 2 variables"):
        other.load_own_variables({"0": store["0"]})


@nn.saving.register_keras_serializable(package="Tests")
class Twice(nn.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = nn.layers.Dense(units)

    def call(self, x, training=None):
        return self.dense(x) * 2

    def get_config(self):
        return {"units": self.units, "name": self.name}


@pytest.mark.parametrize("name", MODEL_FORMATS)
def test_a_registered_subclassed_model_round_trips(tmp_path, name):
    x = np.ones((2, 4), "float32")
    model = Twice(2)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((2, 2)), verbose=0)
    model.save(tmp_path / name)
    loaded = nn.models.load_model(tmp_path / name)
    assert type(loaded) is Twice and loaded.optimizer.iterations == 1
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_subclassed_models_allocations_are_bounded(tmp_path, monkeypatch):
    model = Twice(2)
    model.predict(np.ones((2, 4), "float32"), verbose=0)
    model.save(tmp_path / "m.keras")
    monkeypatch.setattr(nn.saving.limits, "MAX_ARRAY_BYTES", 16)
    with pytest.raises(ValueError, match=r"m\.keras: config\.json: layer '.*' weight 'kernel'.*MAX_ARRAY_BYTES"):
        nn.models.load_model(tmp_path / "m.keras")


class Counter(nn.layers.Layer):
    """A layer that saves more than its weights (Keras' save_own_variables rule)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = np.zeros((), "int64")

    def call(self, inputs):
        return inputs

    def save_own_variables(self, store):
        store["calls"] = self.calls

    def load_own_variables(self, store):
        self.calls = np.asarray(store["calls"]).copy()


@pytest.mark.parametrize("name", ["m.keras", "w.weights.h5"])
def test_a_layers_own_save_own_variables_is_used(tmp_path, name):
    def build():
        inputs = nn.Input((2,))
        return nn.Model(inputs, nn.layers.Dense(1)(Counter(name="counter")(inputs)))

    model = build()
    model.get_layer("counter").calls = np.array(41)
    path = tmp_path / name
    if name.endswith(".keras"):
        model.save(path)
        loaded = nn.models.load_model(path, custom_objects={"Counter": Counter})
    else:
        model.save_weights(path)
        loaded = build()
        loaded.load_weights(path)
    assert int(loaded.get_layer("counter").calls) == 41


@pytest.mark.parametrize("name", MODEL_FORMATS)
def test_a_sequential_with_a_user_layer(tmp_path, name):
    model = nn.Sequential([nn.Input((3,)), Scale(3.0, name="scale"), nn.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / name)
    with pytest.raises(ValueError, match="Scale"):
        nn.models.load_model(tmp_path / name)
    loaded = nn.models.load_model(tmp_path / name, custom_objects={"Scale": Scale})
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saving_never_imports_nn_models():
    """Class names resolve through the registry; nn.models registers its classes there."""
    import ast
    from pathlib import Path

    folder = Path(nn.saving.__file__).parent
    for source in folder.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
                assert not (node.level == 2 and ("models" in names or (node.module or "").startswith("models"))), (
                    f"{source.name} imports nn.models"
                )


def test_clone_model_with_a_clone_function():
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, name="d1"), nn.layers.Dense(1, name="d2")])
    seen = []

    def clone(layer):
        seen.append(layer.name)
        return type(layer).from_config({**layer.get_config(), "name": layer.name + "_copy"})

    copy = nn.models.clone_model(model, clone_function=clone)
    assert seen == ["d1", "d2"]
    assert [layer.name for layer in copy.layers] == ["d1_copy", "d2_copy"]
