"""Models' structure and Keras' module layout: summary (against installed Keras), get_layer,
Input's shape rule, nn.utils (to_categorical, normalize, rng state), imports."""

import json
import os

import numpy as np
import pytest

import nn


@pytest.fixture(autouse=True)
def fresh():
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)


def keras_or_skip():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def lines(text):
    return [line.rstrip() for line in text.strip().splitlines()]


def mnist_layers(lib):
    layers = lib.layers
    return [
        lib.Input((784,)),
        layers.Dense(512, activation="relu", name="dense"),
        layers.Dropout(0.2, name="dropout"),
        layers.Dense(512, activation="relu", name="dense_1"),
        layers.Dropout(0.2, name="dropout_1"),
        layers.Dense(10, activation="softmax", name="dense_2"),
    ]


def iris_layers(lib):
    layers = lib.layers
    return [
        lib.Input((4,)),
        layers.Dense(8, activation="relu", name="dense"),
        layers.Dense(4, activation="relu", name="dense_1"),
        layers.Dense(3, activation="softmax", name="dense_2"),
    ]


def captured_summary(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return "\n".join(out)


@pytest.mark.parametrize("build, total", [(mnist_layers, "669,706 (2.55 MB)"), (iris_layers, "91 (364.00 B)")])
def test_summary_text(build, total):
    model = nn.Sequential(build(nn), name="sequential")
    text = captured_summary(model)
    assert f"Total params: {total}" in text and "Non-trainable params: 0 (0.00 B)" in text
    assert lines(text)[2].startswith("┃ Layer (type)")


@pytest.mark.parametrize("build", [mnist_layers, iris_layers])
@pytest.mark.parametrize("line_length", [None, 70])
def test_summary_matches_installed_keras(build, line_length):
    keras = keras_or_skip()
    theirs = keras.Sequential(build(keras), name="sequential")
    ours = nn.Sequential(build(nn), name="sequential")
    assert lines(captured_summary(ours, line_length=line_length)) == lines(
        captured_summary(theirs, line_length=line_length)
    )


def test_functional_summary_matches_installed_keras():
    keras = keras_or_skip()

    def build(lib):
        inputs = lib.Input((4,), name="inputs")
        a = lib.layers.Dense(3, name="a")(inputs)
        b = lib.layers.Dense(3, name="b")(inputs)
        return lib.Model(inputs, [a, b], name="functional")

    assert lines(captured_summary(build(nn))) == lines(captured_summary(build(keras)))


def test_summary_reports_the_optimizer_once_built():
    model = nn.Sequential(iris_layers(nn))
    optimizer = model.optimizer
    assert optimizer is None
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    text = captured_summary(model)
    built = getattr(model.optimizer, "built", False) and hasattr(model.optimizer, "variables")
    assert ("Optimizer params" in text) == bool(built)


def test_get_layer_by_name_and_index():
    model = nn.Sequential(iris_layers(nn))
    assert model.get_layer("dense_1") is model.layers[1] and model.get_layer(index=-1) is model.layers[2]
    with pytest.raises(ValueError, match="no such layer"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 7"):
        model.get_layer(index=7)
    with pytest.raises(ValueError, match="only"):
        model.get_layer("dense", 0)


def test_input_takes_a_shape_tuple_as_keras_does():
    assert nn.Input((4,)).shape == nn.Input([4]).shape == (None, 4)
    with pytest.raises(ValueError, match=r"cannot convert 4 to a shape.*\(4,\)"):
        nn.Input(4)
    assert nn.Input((3,), batch_size=8).shape == (8, 3)


def test_a_model_is_in_inference_mode_outside_fit():
    model = nn.Sequential([nn.Input((50,)), nn.Dropout(0.5)])
    x = np.ones((2, 50), dtype=np.float32)
    np.testing.assert_array_equal(model(x).data, x)
    assert not np.array_equal(model(x, training=True).data, x)


def test_set_weights_checks_everything_first():
    model = nn.Sequential(iris_layers(nn))
    before = model.get_weights()
    bad = [np.zeros_like(w) for w in before]
    bad[-1] = np.zeros(7)
    with pytest.raises(ValueError, match=r"\(3,\).*\(7,\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_to_categorical_and_normalize_follow_keras():
    y = nn.utils.to_categorical([1, 2, 0])
    assert y.dtype == np.float64 and y.shape == (3, 3) and y[0].tolist() == [0, 1, 0]
    assert nn.utils.to_categorical(np.array([[1], [2]]), num_classes=4).shape == (2, 4)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        nn.utils.to_categorical([0, 3], num_classes=2)
    np.testing.assert_allclose(nn.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0, 0]])
    keras = keras_or_skip()
    labels = np.array([[0], [3], [1]])
    np.testing.assert_array_equal(nn.utils.to_categorical(labels), keras.utils.to_categorical(labels))
    x = np.random.default_rng(0).standard_normal((4, 3))
    for axis, order in [(-1, 2), (1, 1)]:  # (Keras 3 mishandles axis=0: `axis or -1`)
        np.testing.assert_allclose(nn.utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order))


def test_rng_state_is_json_and_exact():
    state = json.loads(json.dumps(nn.utils.get_rng_state()))
    first = nn.utils.rng().random(5)
    nn.utils.set_rng_state(state)
    np.testing.assert_array_equal(nn.utils.rng().random(5), first)
    with pytest.raises(ValueError, match="get_rng_state"):
        nn.utils.set_rng_state({"seed": 1})


def test_keras_module_layout():
    import nn as keras
    from nn import layers, models, optimizers, regularizers
    from nn.layers import Dense
    from nn.models import Model, Sequential, load_model

    assert keras.Model is Model and keras.Sequential is Sequential and callable(load_model)
    assert layers.Dense is Dense and optimizers.RMSprop and regularizers.l2 and models.Sequential is Sequential
    assert isinstance(keras.__version__, str)
    assert callable(keras.utils.plot_model) and issubclass(keras.utils.PyDataset, object)
    assert callable(keras.datasets.mnist.load_data) and callable(keras.datasets.iris.load_data)
    assert isinstance(Sequential(), Model)
