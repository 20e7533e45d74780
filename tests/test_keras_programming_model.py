"""Keras 3's programming model on nn, side by side with installed Keras where it matters:
subclassed layers and models, add_loss, Variable names, freezing nested models, functional
internals."""

import os

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn import ops

os.environ.setdefault("KERAS_BACKEND", "jax")


def _keras():
    return pytest.importorskip("keras")


def _linear_class(K):
    class Linear(K.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
            self.total = self.add_weight(shape=(), initializer="zeros", trainable=False, name="total")

        def call(self, inputs):  # no training argument: Keras passes none
            self.add_loss(K.ops.mean(K.ops.square(self.w)) * 0.01)
            return K.ops.matmul(inputs, self.w) + self.b

    return Linear


@pytest.mark.parametrize("use_keras", [False, True])
def test_subclassed_layer_weights_and_losses(use_keras):
    K = _keras() if use_keras else nn
    layer = _linear_class(K)(3)
    out = layer(np.ones((2, 5), np.float32))
    assert tuple(out.shape) == (2, 3)
    assert [w.name for w in layer.weights] == ["variable", "variable_1", "total"]
    assert [w.path for w in layer.weights][:2] == [f"{layer.name}/variable", f"{layer.name}/variable_1"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 1
    assert len(layer.losses) == 1


def _nested(K, freeze_base):
    base = K.Sequential(
        [K.Input((4,)), K.layers.Dense(8), K.layers.BatchNormalization(), K.layers.Dense(6)], name="base"
    )
    if freeze_base:
        base.trainable = False
    inputs = K.Input((4,))
    x = base(inputs, training=False)
    outputs = K.layers.Dense(2)(x)
    return K.Model(inputs, outputs), base


@pytest.mark.parametrize("freeze_base", [False, True])
def test_nested_freezing_counts_and_order_equal_keras(freeze_base):
    K = _keras()
    ours, _ = _nested(nn, freeze_base)
    theirs, _ = _nested(K, freeze_base)
    for what in ("weights", "trainable_weights", "non_trainable_weights"):
        assert [tuple(w.shape) for w in getattr(ours, what)] == [tuple(w.shape) for w in getattr(theirs, what)], what
        assert [w.name for w in getattr(ours, what)] == [w.name for w in getattr(theirs, what)], what


def test_model_trainable_propagates_and_fit_never_updates_frozen_weights():
    model, base = _nested(nn, freeze_base=False)
    model.trainable = False
    assert all(not layer.trainable for layer in base.layers)
    model.trainable = True
    base.trainable = False
    frozen = [w.data.copy() for w in base.weights]
    top = model.layers[-1].kernel.data.copy()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.RandomState(0).standard_normal((32, 4)).astype(np.float32)
    model.fit(x, np.zeros((32, 2), np.float32), epochs=2, batch_size=8, verbose=0)
    for before, w in zip(frozen, base.weights):
        np.testing.assert_array_equal(before, w.data)  # BN moving stats too: a frozen BN runs in inference
    assert not np.array_equal(top, model.layers[-1].kernel.data)
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (2, 8)


def test_model_call_without_training_and_compile_without_loss():
    class Net(nn.Model):
        def __init__(self):
            super().__init__()
            self.dense = nn.layers.Dense(1)

        def call(self, inputs):  # no training argument
            out = self.dense(inputs)
            self.add_loss(ops.mean(ops.square(out - 1.0)))
            return out

    net = Net()
    net.compile(optimizer=nn.optimizers.SGD(0.1))
    x = np.ones((16, 3), np.float32)
    history = net.fit(x, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_functional_constructor_in_a_subclass_runs_its_train_step():
    class CustomModel(nn.Model):
        def train_step(self, data):
            self.steps_seen = getattr(self, "steps_seen", 0) + 1
            return super().train_step(data)

    inputs = nn.Input((3,))
    outputs = nn.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    assert isinstance(model, CustomModel) and model.inputs[0] is inputs
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=4, epochs=1, verbose=0)
    assert model.steps_seen == 2


def test_layer_and_model_input_output_for_feature_extraction():
    inputs = nn.Input((4,))
    hidden = nn.layers.Dense(3, name="hidden")
    h = hidden(inputs)
    out = nn.layers.Dense(2)(nn.layers.concatenate([h, h]))
    model = nn.Model(inputs, out)
    assert hidden.input is inputs and hidden.output is h and model.input is inputs and model.output is out
    extractor = nn.Model(model.inputs, [layer.output for layer in model.layers[1:2]])
    feats = extractor(np.ones((2, 4), np.float32))
    assert tuple(feats[0].shape if isinstance(feats, list) else feats.shape) == (2, 3)
    with pytest.raises(AttributeError, match="never called"):
        _ = nn.layers.Dense(2).output


def test_metric_add_variable():
    class Count(nn.metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.n = self.add_variable(shape=(), initializer="zeros", name="n")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(np.float32(len(y_true)))

        def result(self):
            return self.n

    m = Count()
    m.update_state(np.ones(3), np.ones(3))
    m.update_state(np.ones(2), np.ones(2))
    assert float(m.result()) == 5.0
    m.reset_state()
    assert float(m.result()) == 0.0 and m.variables == [m.n]


def test_frozen_batch_normalization_runs_in_inference_mode():
    bn = nn.layers.BatchNormalization()
    x = np.random.RandomState(1).standard_normal((8, 3)).astype(np.float32) * 5 + 2
    bn(x)
    bn.trainable = False
    out = bn(x, training=True)
    np.testing.assert_allclose(out.data, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_add_weight_signature_is_keras():
    layer = nn.layers.Layer()
    w = layer.add_weight((2, 3), "ones", name="w")
    assert w.name == "w" and w.shape == (2, 3) and np.all(w.data == 1)
    with pytest.raises(ValueError, match="both positionally"):
        layer.add_weight((2,), shape=(2,))
    assert isinstance(w.value, am.Tensor)
