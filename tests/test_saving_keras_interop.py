"""Keras 3 reads nn's files and nn reads Keras 3's, with the same predictions (skipped without keras)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nn

os.environ.setdefault("KERAS_BACKEND", "jax")
pytest.importorskip("h5py")
keras = pytest.importorskip("keras")

X = np.random.default_rng(0).normal(size=(16, 6)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 16)


def _nn_model():
    L = nn.layers
    layers = [
        L.Dense(8, activation="relu", kernel_regularizer=nn.regularizers.l2(0.01)),
        L.Dropout(0.2),
        L.LeakyReLU(0.1),
        L.Dense(8, activation="tanh"),
        L.PReLU(),
        L.Activation("sigmoid"),
        L.Flatten(),
        L.Dense(3),
        L.Softmax(),
    ]
    for name in ("BatchNormalization", "LayerNormalization"):
        if hasattr(L, name):
            layers.insert(2, getattr(L, name)())
    model = nn.Sequential([nn.Input((6,)), *layers])
    model.compile(
        optimizer=nn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    return model


def _predict(keras_model):
    """Keras' inference pass, called eagerly (``predict`` would jit-compile, which is slow)."""
    return np.asarray(keras_model(X, training=False))


def _keras_model():
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(8, activation="relu"),
            L.Dropout(0.3),
            L.LeakyReLU(negative_slope=0.2),
            L.Dense(8, activation="tanh", kernel_regularizer=keras.regularizers.l2(0.01)),
            L.Activation("elu"),
            L.PReLU(),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,  # no jit compilation: keeps the test fast
    )
    gen = np.random.default_rng(2)  # a trained state without training (fit would be slow to compile)
    model.set_weights([gen.normal(size=w.shape).astype(w.dtype) * 0.5 for w in model.get_weights()])
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(4)
    for v in model.optimizer.variables[2:]:
        v.assign(gen.uniform(size=v.shape).astype(v.dtype))
    return model


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_keras_loads_nn_models(tmp_path, name):
    model = _nn_model()
    model.save(tmp_path / name)
    loaded = keras.saving.load_model(tmp_path / name)
    np.testing.assert_allclose(_predict(loaded), model.predict(X), atol=1e-6)
    assert type(loaded.optimizer).__name__ == "SGD"
    assert loaded.optimizer.nesterov and int(loaded.optimizer.iterations.numpy()) == 4


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_keras_loads_nn_weights(tmp_path, name):
    model = _nn_model()
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / name)
    target = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    for w in target.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    target.load_weights(tmp_path / name)
    np.testing.assert_allclose(_predict(target), model.predict(X), atol=1e-6)


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_nn_loads_keras_models(tmp_path, name):
    model = _keras_model()
    model.save(tmp_path / name)
    loaded = nn.models.load_model(tmp_path / name)
    np.testing.assert_allclose(loaded.predict(X), _predict(model), atol=1e-6)
    opt = loaded.optimizer
    assert type(opt) is nn.optimizers.Adam and opt.iterations == 4
    keras_slots = [np.asarray(v) for v in model.optimizer.variables[2:]]
    assert len(keras_slots) == 2 * len(loaded.parameters())
    np.testing.assert_allclose(opt.variables[2], keras_slots[0], atol=1e-7)


def test_nn_loads_keras_weights(tmp_path):
    model = _keras_model()
    model.save_weights(tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.keras")
    target = nn.models.load_model(tmp_path / "m.keras")
    for p in target.parameters():
        p.data = np.zeros_like(p.data)
    target.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(target.predict(X), _predict(model), atol=1e-6)


# ---- functional models and Normalization, both ways, in every format -----------------------------
def _functional(lib):
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    h = lib.layers.Dense(5, activation="relu", name="h")(a)
    g = lib.layers.Dense(5, name="g")(b)
    merged = lib.layers.Add(name="add")([h, g])
    joined = lib.layers.Concatenate(name="cat")([merged, b])
    out1 = lib.layers.Dense(2, name="o1")(joined)
    out2 = lib.layers.Dense(1, name="o2")(lib.layers.Multiply(name="mul")([merged, h]))
    return lib.Model([a, b], [out1, out2])


def _normalized(lib):
    layer = lib.layers.Normalization(name="norm")
    layer.adapt(np.arange(24.0, dtype="float32").reshape(8, 3))
    return lib.Sequential([lib.Input((3,)), layer, lib.layers.Dense(2, name="d")])


FUNCTIONAL_X = [np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4), np.full((2, 3), 0.5, "float32")]
NORMALIZED_X = np.linspace(0, 20, 6, dtype="float32").reshape(2, 3)


def _same_predictions(a, b, x):
    out_a, out_b = a.predict(x, verbose=0), b.predict(x, verbose=0)
    out_a = out_a if isinstance(out_a, (list, tuple)) else [out_a]
    out_b = out_b if isinstance(out_b, (list, tuple)) else [out_b]
    assert len(out_a) == len(out_b)
    for p, q in zip(out_a, out_b):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "build, x", [(_functional, FUNCTIONAL_X), (_normalized, NORMALIZED_X)], ids=["functional", "normalization"]
)
@pytest.mark.parametrize("ext", ["keras", "h5", "weights.h5"])
@pytest.mark.parametrize("direction", ["nn_to_keras", "keras_to_nn"])
def test_functional_and_normalization_travel_both_ways(tmp_path, build, x, ext, direction):
    src_lib, dst_lib = (nn, keras) if direction == "nn_to_keras" else (keras, nn)
    source = build(src_lib)
    path = tmp_path / f"m.{ext}"
    if ext == "weights.h5":
        source.save_weights(path)
        target = build(dst_lib)
        target.load_weights(path)
    else:
        source.save(path)
        target = (keras.saving.load_model if dst_lib is keras else nn.models.load_model)(path)
    _same_predictions(source, target, x)


def test_normalization_has_keras_variables():
    names = [w.name.split(".")[-1] for w in _normalized(nn).get_layer("norm").weights]
    assert names == [w.path.split("/")[-1] for w in _normalized(keras).get_layer("norm").weights]


# ---- every layer nn has (that Keras 3 has too), both ways, in every format -----------------------
LAYER_SPECS = {
    "Dense": {"units": 3},
    "Embedding": {"input_dim": 10, "output_dim": 3},
    "Activation": {"activation": "tanh"},
    "ELU": {},
    "LeakyReLU": {"negative_slope": 0.2},
    "PReLU": {},
    "ReLU": {"max_value": 2.0},
    "Softmax": {},
    "Dropout": {"rate": 0.3},
    "AlphaDropout": {"rate": 0.2},
    "GaussianDropout": {"rate": 0.2},
    "GaussianNoise": {"stddev": 0.1},
    "ActivityRegularization": {"l1": 0.01},
    "Flatten": {},
    "Reshape": {"target_shape": (2, 2)},
    "Identity": {},
    "BatchNormalization": {},
    "LayerNormalization": {},
    "UnitNormalization": {},
    "Rescaling": {"scale": 0.5, "offset": 1.0},
    "Normalization": {"mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 2.0, 3.0, 4.0]},
    "GlobalAveragePooling1D": {},
    "GlobalMaxPooling1D": {},
}
SEQUENCE = {"GlobalAveragePooling1D", "GlobalMaxPooling1D"}  # (batch, steps, features) inputs
MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"]
FAST = {"Dense", "Embedding", "BatchNormalization", "Concatenate"}


def test_the_layer_list_covers_every_nn_layer_keras_has():
    not_in_keras = {"InputLayer", "Lambda", "Layer", "RReLU"}  # (Lambda holds code: never saved)
    assert set(nn.layers.LAYER_TYPES) - not_in_keras == set(LAYER_SPECS) | set(MERGES)


def _one_layer_model(lib, name):
    inputs = lib.Input((2, 4) if name in SEQUENCE else (4,))
    if name in MERGES:
        a, b = lib.layers.Dense(4, name="a")(inputs), lib.layers.Dense(4, name="b")(inputs)
        merge = getattr(lib.layers, name)(name="m", **({"axes": 1} if name == "Dot" else {}))
        return lib.Model(inputs, merge([a, b]))
    layer = getattr(lib.layers, name)(name="m", **LAYER_SPECS[name])
    out = layer(inputs)
    return lib.Model(inputs, lib.layers.Flatten()(out) if name == "Embedding" else out)


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in [*LAYER_SPECS, *MERGES]],
)
def test_every_layer_travels_both_ways(tmp_path, name):
    x = (np.arange(8).reshape(2, 4) % 10).astype("float32") if name == "Embedding" else FUNCTIONAL_X[0]
    if name in SEQUENCE:
        x = np.stack([x, 2 * x - 1], axis=1)
    for ext in ("keras", "h5", "weights.h5"):
        for src, dst in ((nn, keras), (keras, nn)):
            source = _one_layer_model(src, name)
            path = tmp_path / f"{src.__name__}.{ext}"
            if ext == "weights.h5":
                source.save_weights(path)
                target = _one_layer_model(dst, name)
                target.load_weights(path)
            else:
                source.save(path)
                target = (keras.saving.load_model if dst is keras else nn.models.load_model)(path)
            _same_predictions(source, target, x)


@pytest.mark.slow  # (Keras' fit traces for ~10 s)
@pytest.mark.parametrize("direction", ["nn_to_keras", "keras_to_nn"])
def test_compile_settings_travel_both_ways(tmp_path, direction):
    src, dst = (nn, keras) if direction == "nn_to_keras" else (keras, nn)
    inputs = src.Input((4,), name="x")
    hidden = src.layers.Dense(6, activation="relu")(inputs)
    model = src.Model(inputs, [src.layers.Dense(1, name="r")(hidden), src.layers.Dense(3, name="c")(hidden)])
    model.compile(
        optimizer=src.optimizers.Adam(0.01),
        loss=["mean_squared_error", "sparse_categorical_crossentropy"],
        loss_weights=[0.5, 2.0],
        metrics=[["mae"], [src.metrics.SparseCategoricalAccuracy(name="acc")]],
        weighted_metrics=[["mean_squared_error"], []],
        steps_per_execution=2,
        jit_compile=False,
    )
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = [np.ones((8, 1), "float32"), np.zeros(8, "int64")]
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = (keras.saving.load_model if dst is keras else nn.models.load_model)(tmp_path / "m.keras")
    config = loaded.get_compile_config()
    assert config["loss_weights"] == [0.5, 2.0] and config["steps_per_execution"] == 2
    assert config["metrics"][1][0]["config"]["name"] == "acc"
    assert config["weighted_metrics"] == [["mean_squared_error"], []]
    loaded.fit(x, y, epochs=1, verbose=0)
    assert int(np.asarray(loaded.optimizer.iterations)) == 2
