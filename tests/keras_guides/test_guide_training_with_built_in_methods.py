"""keras-io guides/training_with_built_in_methods.py, imports changed; MNIST replaced by
small random data of its shapes, weights set from a fixed RandomState, shuffle off."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn, set_weights_from

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


def _data(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.random_sample((n, 784)).astype("float32")
    y = rng.randint(0, 10, n).astype("float32")
    return x, y


def get_uncompiled_model(keras):
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    set_weights_from(model, scale=0.05)
    return model


@program
def api_overview(keras, ops):
    x_train, y_train = _data()
    x_val, y_val = _data(16, 1)
    model = get_uncompiled_model(keras)
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train, y_train, batch_size=16, epochs=2, validation_data=(x_val, y_val), shuffle=False, verbose=0
    )
    results = model.evaluate(x_val, y_val, batch_size=8, verbose=0)
    predictions = model.predict(x_val[:3], verbose=0)
    return {**{k: v for k, v in history.history.items()}, "results": results, "predictions": predictions}


@program
def string_identifiers(keras, ops):
    x_train, y_train = _data()
    model = get_uncompiled_model(keras)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=1, shuffle=False, verbose=0)
    return dict(history.history)


@program
def custom_losses(keras, ops):
    x_train, y_train = _data()
    y_train_one_hot = ops.convert_to_numpy(ops.one_hot(y_train, num_classes=10))

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    model = get_uncompiled_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    first = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, shuffle=False, verbose=0).history["loss"]

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    model = get_uncompiled_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    second = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, shuffle=False, verbose=0).history["loss"]
    return {"function": first, "class": second}


@program
def custom_metrics(keras, ops):
    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    x_train, y_train = _data()
    model = get_uncompiled_model(keras)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train.reshape(-1, 1), batch_size=64, epochs=3, shuffle=False, verbose=0)
    return dict(history.history)


@program
def add_loss_in_a_layer(keras, ops):
    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs

    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    set_weights_from(model, scale=0.05)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x_train, y_train = _data()
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return dict(history.history)


@program
def logistic_endpoint(keras, ops):
    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)
            return ops.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    set_weights_from(model)
    model.compile(optimizer="adam")
    rng = np.random.RandomState(0)
    data = {
        "inputs": rng.random_sample((3, 3)).astype("float32"),
        "targets": rng.random_sample((3, 10)).astype("float32"),
    }
    history = model.fit(data, epochs=2, verbose=0)
    return dict(history.history)


@program
def class_and_sample_weights(keras, ops):
    x_train, y_train = _data()
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    model = get_uncompiled_model(keras)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    by_class = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1, shuffle=False, verbose=0)
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_uncompiled_model(keras)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    by_sample = model.fit(
        x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1, shuffle=False, verbose=0
    )
    return {"class": by_class.history["loss"], "sample": by_sample.history["loss"]}


@program
def multi_input_multi_output(keras, ops):
    image_input = keras.Input(shape=(32,), name="img_input")
    timeseries_input = keras.Input(shape=(20,), name="ts_input")
    x1 = keras.layers.Dense(8, activation="relu")(image_input)
    x2 = keras.layers.Dense(8, activation="relu")(timeseries_input)
    x = keras.layers.concatenate([x1, x2])
    score_output = keras.layers.Dense(1, name="score_output")(x)
    class_output = keras.layers.Dense(5, name="class_output")(x)
    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    set_weights_from(model, scale=0.1)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy(from_logits=True)],
        loss_weights=[1.0, 1.0],
    )
    rng = np.random.RandomState(0)
    img_data, ts_data = rng.random_sample((20, 32)).astype("float32"), rng.random_sample((20, 20)).astype("float32")
    score_targets, class_targets = (
        rng.random_sample((20, 1)).astype("float32"),
        rng.random_sample((20, 5)).astype("float32"),
    )
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=10, epochs=1, shuffle=False, verbose=0
    )
    return {"loss": history.history["loss"]}


@program
def callbacks_early_stopping_and_schedule(keras, ops):
    x_train, y_train = _data()
    model = get_uncompiled_model(keras)
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr_schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=0)]
    history = model.fit(
        x_train, y_train, epochs=4, batch_size=16, callbacks=callbacks, validation_split=0.25, shuffle=False, verbose=0
    )
    return dict(history.history)


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog, rtol=1e-4, atol=1e-5, keras_environment_failure="__jax_array__")
