"""ONNX export: onnxruntime reproduces model.predict for every layer nn has."""

from __future__ import annotations

import numpy as np
import pytest

import nn

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


@pytest.mark.parametrize(
    "activation", ["linear", "relu", "tanh", "sigmoid", "softmax", "elu", "softplus", "leaky_relu"]
)
def test_dense_with_each_activation(tmp_path, activation):
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((5,)), nn.layers.Dense(7, activation=activation), nn.layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(9, 5)).astype(np.float32)
    nn.saving.export_model(model, tmp_path / "m.onnx", format="onnx")
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x), atol=1e-5, rtol=1e-5)


def _available(name):
    return getattr(nn.layers, name, None)


def test_every_layer_nn_has(tmp_path):
    """A stack of every layer type with a converter that this nn has (weights made non-trivial)."""
    nn.utils.set_random_seed(1)
    L = nn.layers
    layers = [L.Dense(6, activation="relu"), L.Dropout(0.5), L.Activation("tanh"), L.LeakyReLU(0.2)]
    layers += [L.Dense(6), L.PReLU(), L.RReLU(), L.Dense(4, activation="sigmoid"), L.Flatten(), L.Softmax()]
    for name, args in [("ReLU", ()), ("ELU", ()), ("BatchNormalization", ()), ("LayerNormalization", ())]:
        cls = _available(name)
        if cls is not None:
            layers.insert(1, cls(*args))
    model = nn.Sequential([nn.Input((5,)), *layers])
    gen = np.random.default_rng(2)
    for p in model.parameters():
        p.data = (p.data + gen.normal(size=p.shape) * 0.3).astype(p.dtype)
    x = gen.normal(size=(11, 5)).astype(np.float32)
    path = nn.saving.export_model(model, tmp_path / "m.onnx", format="onnx")
    np.testing.assert_allclose(_run(path, x), model.predict(x), atol=1e-5, rtol=1e-5)


def test_float64_model_exports_double(tmp_path):
    model = nn.Sequential([nn.Input((3,), dtype="float64"), nn.layers.Dense(2, activation="tanh", dtype="float64")])
    x = np.random.default_rng(0).normal(size=(4, 3))
    nn.saving.export_model(model, tmp_path / "m.onnx")
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x), atol=1e-12)


def test_unknown_layer_and_format_are_named(tmp_path):
    class Mystery(nn.layers.Layer):
        def call(self, x, training=False):
            return x

    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(2), Mystery(name="mystery")])
    with pytest.raises(ValueError, match=r"mystery \(Mystery\)"):
        nn.saving.export_model(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(ValueError, match="onnx"):
        nn.saving.export_model(model, tmp_path / "m.tflite", format="tflite")


def test_functional_model_with_merges_matches_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    inputs = nn.Input((5,), name="features")
    other = nn.Input((5,), name="other")
    a = nn.layers.Dense(4, activation="relu")(inputs)
    b = nn.layers.Dense(4, activation="tanh")(other)
    merged = [
        nn.layers.Add()([a, b]),
        nn.layers.Subtract()([a, b]),
        nn.layers.Multiply()([a, b]),
        nn.layers.Average()([a, b]),
        nn.layers.Maximum()([a, b]),
        nn.layers.Minimum()([a, b]),
    ]
    joined = nn.layers.Concatenate()([nn.layers.Dropout(0.5)(m) for m in merged])
    out = nn.layers.Dense(3, activation="softmax")(joined)
    model = nn.Model([inputs, other], [out, a])
    x1, x2 = (np.random.default_rng(i).standard_normal((7, 5)).astype(np.float32) for i in (0, 1))
    path = tmp_path / "f.onnx"
    model.export(path, format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_0": x1, "input_1": x2})
    expected = model.predict([x1, x2], verbose=0)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)
