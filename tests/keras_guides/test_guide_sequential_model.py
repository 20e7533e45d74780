"""keras-io guides/sequential_model.py, imports changed (the Dense programs; the Conv2D ones
are out of nn's scope)."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn, set_weights_from

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


@program
def when_to_use_sequential(keras, ops):
    layers = keras.layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    x = ops.ones((3, 3))
    y = model(x)
    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")
    y2 = layer3(layer2(layer1(x)))
    return {"y_shape": tuple(y.shape), "y2_shape": tuple(y2.shape)}


@program
def creating_and_popping(keras, ops):
    layers = keras.layers
    model = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"), layers.Dense(4)])
    n = len(model.layers)
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.pop()
    after_pop = len(model.layers)
    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    return {"n": n, "after_pop": after_pop, "name": model.name, "names": [layer.name for layer in model.layers]}


@program
def specifying_the_input_shape(keras, ops):
    layers = keras.layers
    layer = layers.Dense(3)
    before = len(layer.weights)
    x = ops.ones((1, 4))
    y = layer(x)
    after = [tuple(w.shape) for w in layer.weights]
    model = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"), layers.Dense(4)])
    x = ops.ones((1, 4))
    y = model(x)
    weights = len(model.weights)
    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    summary = []
    model.summary(print_fn=lambda line, *args, **kwargs: summary.append(line))
    total = [line for line in "\n".join(summary).splitlines() if "Total params" in line]
    return {
        "before": before,
        "after": after,
        "y_shape": tuple(y.shape),
        "weights": weights,
        "layers": len(model.layers),
        "total": total[0].split(":")[1].split("(")[0].strip(),
    }


@program
def feature_extraction(keras, ops):
    layers = keras.layers
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)[:1]),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu", name="my_intermediate_layer"),
        ]
    )
    set_weights_from(initial_model)
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    x = np.random.RandomState(2).standard_normal((1, 250)).astype("float32")
    features = feature_extractor(x)
    one = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    single = one(x)
    return {
        "features": [ops.convert_to_numpy(f) for f in features],
        "single": ops.convert_to_numpy(single),
    }


@program
def transfer_learning_with_sequential(keras, ops):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )
    set_weights_from(model, scale=0.05)
    for layer in model.layers[:-1]:
        layer.trainable = False
    frozen = [w.copy() for w in model.get_weights()[:-2]]
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.RandomState(1)
    x, y = rng.random_sample((32, 784)).astype("float32"), rng.random_sample((32, 10)).astype("float32")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for before, after in zip(frozen, model.get_weights()[:-2]):
        np.testing.assert_array_equal(before, after)
    return {
        "loss": history.history["loss"],
        "trainable": len(model.trainable_weights),
        "non_trainable": len(model.non_trainable_weights),
    }


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog)
