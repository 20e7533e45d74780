"""keras-io guides/functional_api.py, imports changed: the Dense programs (MNIST with small
random data of its shapes, saving, models as callables, ensembling, a custom layer with
get_config); the Conv/LSTM/Embedding ones are out of nn's scope."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn, set_weights_from

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


def _mnist_model(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    set_weights_from(model, scale=0.05)
    return model


@program
def mnist_training_evaluation_inference(keras, ops):
    model = _mnist_model(keras)
    rng = np.random.RandomState(0)
    x_train, y_train = rng.random_sample((96, 784)).astype("float32"), rng.randint(0, 10, 96)
    x_test, y_test = rng.random_sample((32, 784)).astype("float32"), rng.randint(0, 10, 32)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_split=0.25, shuffle=False, verbose=0)
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    return {**dict(history.history), "test": test_scores, "name": model.name, "inputs": len(model.inputs)}


@program
def save_and_serialize(keras, ops, tmp=None):
    import tempfile
    from pathlib import Path

    model = _mnist_model(keras)
    x = np.random.RandomState(1).random_sample((4, 784)).astype("float32")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "my_model.keras"
        model.save(path)
        restored = keras.models.load_model(path)
    return {"before": ops.convert_to_numpy(model(x)), "after": ops.convert_to_numpy(restored(x))}


@program
def models_are_callable_ensembling(keras, ops):
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = keras.layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    for seed, m in enumerate((model1, model2, model3)):
        set_weights_from(m, seed=seed)
    inputs = keras.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = keras.layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    x = np.random.RandomState(5).random_sample((3, 128)).astype("float32")
    return {"out": ops.convert_to_numpy(ensemble_model(x)), "weights": len(ensemble_model.weights)}


@program
def custom_dense_layer_config(keras, ops):
    class CustomDense(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    set_weights_from(model)
    new_layer = CustomDense.from_config(model.layers[-1].get_config())
    x = np.ones((2, 4), "float32")
    return {"out": ops.convert_to_numpy(model(x)), "units": new_layer.units, "config": model.layers[-1].get_config()}


@program
def mixing_subclassed_and_functional(keras, ops):
    units, timesteps, input_dim = 32, 10, 5
    inputs = keras.Input((None, units))
    x = keras.layers.GlobalAveragePooling1D()(inputs)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    set_weights_from(model)

    class CustomModel(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.projection = keras.layers.Dense(units)
            self.classifier = model

        def call(self, inputs):
            x = self.projection(inputs)
            return self.classifier(x)

    layer = CustomModel()
    data = np.random.RandomState(0).random_sample((1, timesteps, input_dim)).astype("float32")
    out = layer(data)
    return {"shape": tuple(out.shape), "weights": len(layer.weights)}


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog, rtol=1e-4, atol=1e-5)
