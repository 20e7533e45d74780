"""keras-io guides/making_new_layers_and_models_via_subclassing.py (Keras 3 version: ``ops``),
imports changed. Random initialisers are kept; the compared figures are counts, shapes,
losses of known inputs and configs, and values after set_weights."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


@program
def linear_layer(keras, ops):
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    linear_layer.set_weights([np.arange(8.0).reshape(2, 4) / 10, np.zeros(4)])
    y = linear_layer(x)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    return {"y": ops.convert_to_numpy(y)}


@program
def compute_sum(keras, ops):
    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    first = ops.convert_to_numpy(my_sum(x))
    second = ops.convert_to_numpy(my_sum(x))
    return {
        "first": first,
        "second": second,
        "weights": len(my_sum.weights),
        "non_trainable": len(my_sum.non_trainable_weights),
        "trainable": len(my_sum.trainable_weights),
    }


def _lazy_linear(keras, ops):
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    return Linear


@program
def lazy_linear_and_mlp_block(keras, ops):
    Linear = _lazy_linear(keras, ops)

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = keras.activations.relu(x)
            x = self.linear_2(x)
            x = keras.activations.relu(x)
            return self.linear_3(x)

    linear_layer = Linear(32)
    y = linear_layer(ops.ones((2, 2)))
    mlp = MLPBlock()
    out = mlp(ops.ones(shape=(3, 64)))
    return {
        "y_shape": tuple(y.shape),
        "out_shape": tuple(out.shape),
        "weights": len(mlp.weights),
        "trainable_weights": len(mlp.trainable_weights),
    }


@program
def add_loss_layers(keras, ops):
    class ActivityRegularizationLayer(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    layer = OuterLayer()
    assert len(layer.losses) == 0
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    _ = layer(ops.ones((1, 1)) * 3)
    assert len(layer.losses) == 1
    value = float(layer.losses[0])

    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

        def call(self, inputs):
            return self.dense(inputs)

    layer2 = OuterLayerWithKernelRegularizer()
    _ = layer2(ops.zeros((1, 1)))
    layer2.dense.set_weights([np.full((1, 32), 0.5, "float32"), np.zeros(32, "float32")])
    _ = layer2(ops.zeros((1, 1)))
    penalty = float(layer2.losses[0])

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.RandomState(0).random_sample((2, 3)).astype("float32")
    y = np.random.RandomState(1).random_sample((2, 3)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    with_loss = model.fit(x, y, verbose=0).history["loss"]
    model.compile(optimizer="adam")
    without_loss = model.fit(x, y, verbose=0).history["loss"]
    return {"activity": value, "l2": penalty, "with_loss": with_loss, "without_loss": without_loss}


@program
def serializable_layer(keras, ops):
    Linear = _lazy_linear(keras, ops)
    layer = Linear(64)
    config = layer.get_config()
    new_layer = Linear.from_config(config)
    return {"units": config["units"], "new_units": new_layer.units, "keys": sorted(config)}


@program
def custom_dropout_training_flag(keras, ops):
    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    layer = CustomDropout(0.5)
    x = np.ones((4, 10), "float32")
    inference = ops.convert_to_numpy(layer(x))
    trained = ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(trained)) <= {0.0, 2.0}
    return {"inference": inference, "kept_values": sorted(set(np.unique(trained).tolist()))}


@program
def variational_autoencoder(keras, ops):
    layers = keras.layers

    class Sampling(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = ops.shape(z_mean)[0]
            dim = ops.shape(z_mean)[1]
            epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_output(x)

    class VariationalAutoEncoder(keras.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    x_train = np.random.RandomState(0).random_sample((64, 784)).astype("float32")  # stands in for MNIST
    original_dim = 784
    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    assert original_dim == vae.original_dim
    return {
        "losses_finite": bool(np.all(np.isfinite(history.history["loss"]))),
        "weights": len(vae.weights),
        "trainable": len(vae.trainable_weights),
    }


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog)
