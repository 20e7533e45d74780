"""Models nested inside models (Keras' transfer-learning shape) save and load: ``.keras`` and
``.weights.h5`` in Keras 3's layout ``layers/<model>/layers/<layer>/vars``, both ways with Keras."""

import json
import os
import zipfile

import numpy as np
import pytest

import nn
from nn.saving import keras_config, limits


def _inner():
    return nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="relu")], name="inner")


def _nested_sequential():
    return nn.Sequential([nn.Input((4,)), _inner(), nn.layers.Dense(2)])


def _nested_functional():
    inputs = nn.Input((4,))
    return nn.Model(inputs, nn.layers.Dense(2)(_inner()(inputs)))


BUILDERS = {"sequential": _nested_sequential, "functional": _nested_functional}
X = np.random.default_rng(0).random((5, 4)).astype("float32")


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_nested_round_trip_keras_file(tmp_path, kind):
    model = BUILDERS[kind]()
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = nn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert [layer.name for layer in loaded.layers][-2:] == [layer.name for layer in model.layers][-2:]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_nested_round_trip_weights_file(tmp_path, kind):
    import h5py

    model = BUILDERS[kind]()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as h5:  # Keras 3's nested layout
        assert h5["layers/sequential/layers/dense/vars/0"].shape == (4, 3)
        assert h5["layers/dense/vars/0"].shape == (3, 2)
    other = BUILDERS[kind]()
    assert not np.array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


def _deep_config(depth):
    """config.json text of ``depth`` Sequential models nested in each other (built as text: too
    deep for ``json.dumps``)."""
    entry = json.dumps({"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}})
    first = json.dumps({"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "dtype": "float32"}})
    for _ in range(depth):
        entry = f'{{"module": "keras", "class_name": "Sequential", "config": {{"name": "m", "layers": [{first}, {entry}]}}}}'
    return entry


def _write_keras(path, config_text):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        z.writestr("config.json", config_text)


def test_crafted_deep_nesting_is_refused(tmp_path):
    path = str(tmp_path / "deep.keras")
    _write_keras(path, _deep_config(limits.MAX_NESTING + 1))
    with pytest.raises(ValueError, match=r"deep\.keras.*config\.json.*MAX_NESTING"):
        nn.models.load_model(path)
    _write_keras(path, _deep_config(200))  # deep enough to overflow a recursive rebuild
    with pytest.raises(ValueError, match="MAX_NESTING"):
        nn.models.load_model(path)
    model = keras_config.model_from_config(json.loads(_deep_config(limits.MAX_NESTING)), path)  # at the limit
    assert model.predict(np.ones((1, 2), "float32"), verbose=0).shape == (1, 2)


def test_nesting_within_the_limit_is_rebuilt(tmp_path):
    path = str(tmp_path / "ok.keras")
    model = nn.Sequential([nn.Input((4,)), nn.Sequential([nn.Input((4,)), _inner()]), nn.layers.Dense(2)])
    model.save(path)
    loaded = nn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.fixture
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_keras_loads_nn_nested(tmp_path, keras, kind):
    model = BUILDERS[kind]()
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)), model.predict(X, verbose=0), rtol=1e-6)


def test_nn_loads_keras_nested(tmp_path, keras):
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")], name="kinner")
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2)])
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
    for i, model in enumerate([outer, functional]):
        path = str(tmp_path / f"k{i}.keras")
        model.save(path)
        loaded = nn.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(X, verbose=0), np.asarray(model.predict(X, verbose=0)), rtol=1e-6)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_frozen_base_model_stays_frozen(tmp_path, kind):
    model = BUILDERS[kind]()
    base = next(layer for layer in model.layers if layer.name == "inner")
    base.trainable = False
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = nn.models.load_model(path)
    loaded_base = next(layer for layer in loaded.layers if layer.name == "inner")
    assert loaded_base.trainable is False and len(loaded.trainable_weights) == 2
    loaded_base.trainable = True  # fine-tuning unfreezes it, as in Keras' transfer-learning guide
    assert len(loaded.trainable_weights) == 4
