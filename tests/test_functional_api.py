"""The functional API: Model(inputs, outputs) over a DAG of layers, subclassed models, configs."""

import numpy as np
import pytest

import autograd_mini as am
import nn


@pytest.fixture(autouse=True)
def fresh():
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)


class Sum(nn.layers.Layer):
    """A two-input layer defined in the test: the elementwise sum of a list of inputs."""

    def call(self, inputs, training=None):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total

    def forward(self, inputs, training=None):  # today's Layer.forward converts its input to one Tensor
        return self.call(inputs, training=training)


class Scale(nn.layers.Layer):
    """x * factor (no weights)."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x, training=None):
        return x * self.factor

    def get_config(self):
        return {"name": self.name, "factor": self.factor}


def two_branch():
    inputs = nn.Input((4,), name="features")
    a = nn.Dense(3, name="a")(inputs)
    b = nn.Dense(3, activation="relu", name="b")(inputs)
    merged = Sum(name="sum")([a, b])
    outputs = nn.Dense(2, activation="softmax", name="head")(merged)
    return nn.Model(inputs, outputs, name="two_branch")


def test_a_dag_computes_what_its_layers_say():
    model = two_branch()
    assert isinstance(model, nn.models.Functional) and isinstance(model, nn.Model)
    assert [layer.name for layer in model.layers] == ["features", "a", "b", "sum", "head"]
    assert model.output_shape == (None, 2) and model.count_params() == 15 + 15 + 8
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    a, b, head = (model.get_layer(n) for n in ("a", "b", "head"))
    hidden = x @ a.kernel.data + a.bias.data + np.maximum(x @ b.kernel.data + b.bias.data, 0)
    logits = hidden @ head.kernel.data + head.bias.data
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)


def test_a_dag_trains_and_its_gradients_flow_through_both_branches():
    model = two_branch()
    x = np.random.default_rng(2).standard_normal((64, 4))
    y = (x[:, 0] > 0).astype(np.int64)
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert all((a != b).any() for a, b in zip(before, model.get_weights()))


def test_several_inputs_and_outputs():
    left, right = nn.Input((3,), name="left"), nn.Input((2,), name="right")
    joined = Sum()([nn.Dense(4)(left), nn.Dense(4)(right)])
    out1, out2 = nn.Dense(1, name="out1")(joined), nn.Dense(2, name="out2")(joined)
    model = nn.Model(inputs=[left, right], outputs=[out1, out2])
    xl, xr = np.ones((6, 3)), np.ones((6, 2))
    first, second = model.predict([xl, xr], verbose=0)
    assert first.shape == (6, 1) and second.shape == (6, 2)
    by_name = model.predict({"left": xl, "right": xr}, verbose=0)
    np.testing.assert_array_equal(by_name[1], second)
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(xl, verbose=0)


def test_a_shared_layer_is_called_twice():
    inputs = nn.Input((3,))
    shared = nn.Dense(3, name="shared")
    outputs = shared(shared(inputs))
    model = nn.Model(inputs, outputs)
    x = np.eye(3, dtype=np.float32)
    w, b = shared.kernel.data, shared.bias.data
    np.testing.assert_allclose(model.predict(x, verbose=0), (x @ w + b) @ w + b, rtol=1e-5)
    assert model.count_params() == 12


def test_disconnected_graphs_and_non_symbolic_arguments_are_refused():
    a, b = nn.Input((2,)), nn.Input((2,))
    out = Sum()([a, b])
    with pytest.raises(ValueError, match="disconnected"):
        nn.Model(a, out)
    with pytest.raises(ValueError, match="KerasTensor"):
        nn.Model(np.zeros((1, 2)), out)


def test_a_deep_chain_is_walked_without_recursion():
    inputs = nn.Input((2,))
    x = inputs
    for _ in range(3000):
        x = Scale(1.0)(x)
    model = nn.Model(inputs, nn.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    assert len(model.layers) == 3002


def test_functional_and_sequential_configs_round_trip():
    model = two_branch()
    config = model.get_config()
    assert [entry["name"] for entry in config["layers"]] == ["features", "a", "b", "sum", "head"]
    (node,) = config["layers"][3]["inbound_nodes"]  # Keras 3's node form: KerasTensors with their history
    assert [t["config"]["keras_history"] for t in node["args"][0]] == [["a", 0, 0], ["b", 0, 0]]
    rebuilt = nn.Model.from_config(config, custom_objects={"Sum": Sum})
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(3).standard_normal((4, 4))
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))

    seq = nn.Sequential([nn.Input((4,)), nn.Dense(5, activation="relu"), nn.Dropout(0.1), nn.Dense(2)])
    config = seq.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    again = nn.Sequential.from_config(config)
    assert [type(layer).__name__ for layer in again.layers] == ["Dense", "Dropout", "Dense"]
    again.set_weights(seq.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), seq.predict(x, verbose=0))


def test_subclassed_model_with_call():
    class TwoLayer(nn.Model):
        def __init__(self):
            super().__init__(name="two_layer")
            self.hidden = nn.Dense(8, activation="relu")
            self.drop = nn.Dropout(0.5)
            self.out = nn.Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            return self.out(self.drop(self.hidden(inputs), training=training))

    (x, y), _ = nn.datasets.iris.load_data()
    model = TwoLayer()
    model.compile(optimizer=nn.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit((x - x.mean(0)) / x.std(0), y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.7
    assert [layer.name for layer in model.layers] == ["dense", "dropout", "dense_1"]
    first = model(am.tensor(x[:5].astype(np.float32)))  # outside fit: inference, no dropout
    np.testing.assert_array_equal(first.data, model(am.tensor(x[:5].astype(np.float32))).data)
    assert model.get_layer(index=1) is model.drop


def test_keras_merge_layers_when_present():
    if not hasattr(nn.layers, "Add") or not hasattr(nn.layers, "Concatenate"):
        pytest.skip("Add / Concatenate come from the layers workstream")
    inputs = nn.Input((4,))
    a, b = nn.Dense(3)(inputs), nn.Dense(3)(inputs)
    model = nn.Model(inputs, nn.layers.Concatenate()([nn.layers.Add()([a, b]), a]))
    assert model.output_shape == (None, 6)
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 6)
