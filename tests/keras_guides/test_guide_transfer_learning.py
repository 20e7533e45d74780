"""keras-io guides/transfer_learning.py, imports changed: the freezing programs (Dense and
BatchNormalization; the Xception fine-tuning needs image models and downloads)."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn, set_weights_from

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


@program
def dense_weights(keras, ops):
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    return {
        "weights": len(layer.weights),
        "trainable": len(layer.trainable_weights),
        "non_trainable": len(layer.non_trainable_weights),
    }


@program
def batch_normalization_weights(keras, ops):
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    return {
        "weights": len(layer.weights),
        "trainable": len(layer.trainable_weights),
        "non_trainable": len(layer.non_trainable_weights),
    }


@program
def freezing_a_layer(keras, ops):
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    layer.trainable = False
    return {
        "weights": len(layer.weights),
        "trainable": len(layer.trainable_weights),
        "non_trainable": len(layer.non_trainable_weights),
    }


@program
def frozen_layer_is_not_updated(keras, ops):
    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
    set_weights_from(model)
    layer1.trainable = False
    initial_layer1_weights_values = layer1.get_weights()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.RandomState(0)
    history = model.fit(rng.random_sample((2, 3)), rng.random_sample((2, 3)), shuffle=False, verbose=0)
    final_layer1_weights_values = layer1.get_weights()
    np.testing.assert_allclose(initial_layer1_weights_values[0], final_layer1_weights_values[0])
    np.testing.assert_allclose(initial_layer1_weights_values[1], final_layer1_weights_values[1])
    kernel, bias = layer2.get_weights()
    return {"loss": history.history["loss"], "layer2_kernel": kernel, "layer2_bias": bias}


@program
def recursive_setting_of_trainable(keras, ops):
    inner_model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(3, activation="relu"),
        ]
    )
    model = keras.Sequential([keras.Input(shape=(3,)), inner_model, keras.layers.Dense(3, activation="sigmoid")])
    model.trainable = False
    assert inner_model.trainable is False
    assert inner_model.layers[0].trainable is False
    return {"trainable": len(model.trainable_weights), "non_trainable": len(model.non_trainable_weights)}


@program
def base_model_frozen_inside_a_new_model(keras, ops):
    base_model = keras.Sequential(
        [keras.Input(shape=(8,)), keras.layers.Dense(16, activation="relu"), keras.layers.BatchNormalization()]
    )
    base_model.trainable = False
    inputs = keras.Input(shape=(8,))
    x = base_model(inputs, training=False)
    x = keras.layers.Dense(4, activation="relu")(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    set_weights_from(model, seed=3)
    frozen = base_model.get_weights()
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    rng = np.random.RandomState(4)
    x_train, y_train = (
        rng.standard_normal((32, 8)).astype("float32"),
        (rng.random_sample((32, 1)) > 0.5).astype("float32"),
    )
    first = model.fit(x_train, y_train, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    for before, after in zip(frozen, base_model.get_weights()):
        np.testing.assert_array_equal(before, after)
    counts = (len(model.trainable_weights), len(model.non_trainable_weights))
    base_model.trainable = True  # fine-tuning: the whole model, a low learning rate, recompiled
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    second = model.fit(x_train, y_train, batch_size=8, epochs=1, shuffle=False, verbose=0).history["loss"]
    return {"first": first, "second": second, "counts": counts, "tuned": len(model.trainable_weights)}


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog, rtol=2e-5)
