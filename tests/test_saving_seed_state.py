"""Seeded layers (Dropout, GaussianNoise, ... with ``seed=``) keep their ``SeedGenerator`` state in
saved files: a run saved, loaded and resumed equals an uninterrupted one, bit for bit; Keras 3
reads nn's files and nn reads Keras' (whose files hold no generator state)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nn

pytest.importorskip("h5py")

X = np.random.default_rng(0).normal(size=(32, 5)).astype(np.float32)
Y = np.random.default_rng(1).normal(size=(32, 2)).astype(np.float32)


def _model(jit_compile=False):
    L = nn.layers
    model = nn.Sequential(
        [
            nn.Input((5,)),
            L.Dense(8, activation="relu"),
            L.Dropout(0.3, seed=7),
            L.GaussianNoise(0.1, seed=3),
            L.Dense(2),
        ]
    )
    model.compile(optimizer=nn.optimizers.Adam(0.01), loss="mse", jit_compile=jit_compile)
    return model


def _fit(model, epochs):
    model.fit(X, Y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)


@pytest.mark.parametrize("jit_compile", [False, "auto"])
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_seeded_layers_resume_bit_for_bit(tmp_path, jit_compile, suffix):
    nn.utils.set_random_seed(0)
    whole = _model(jit_compile)
    _fit(whole, 4)

    nn.utils.set_random_seed(0)
    first = _model(jit_compile)
    _fit(first, 2)
    path = str(tmp_path / f"m{suffix}")
    if suffix == ".keras":
        first.save(path)
        nn.utils.set_random_seed(0)
        _fit(_model(jit_compile), 2)  # the global stream moves on differently than in `whole`
        resumed = nn.saving.load_model(path)
        resumed.compile(optimizer=resumed.optimizer, loss="mse", jit_compile=jit_compile)
    else:
        first.save_weights(path)
        nn.utils.set_random_seed(0)
        resumed = _model(jit_compile)
        resumed.build((None, 5))
        resumed.optimizer.build(resumed.trainable_weights)
        resumed.load_weights(path)
    assert resumed.layers[1].seed_generator.get_state().tolist() == first.layers[1].seed_generator.get_state().tolist()
    _fit(resumed, 2)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_bad_seed_state_is_refused_and_changes_nothing(tmp_path):
    import h5py

    model = _model()
    _fit(model, 1)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as h5:
        key = "layers/dropout/seed_generator/vars/0"
        del h5[key]
        h5[key] = np.array([7.0, -1.0])
    before = [w.copy() for w in model.get_weights()]
    state = model.layers[1].seed_generator.get_state()
    with pytest.raises(ValueError, match="seed_generator"):
        model.load_weights(path)
    assert model.layers[1].seed_generator.get_state().tolist() == state.tolist()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_seed_state_is_not_a_weight():
    layer = nn.layers.Dropout(0.5, seed=7)
    assert layer.weights == [] and layer.seed_generator.get_state().tolist() == [7, 0]


@pytest.mark.slow
def test_keras_reads_nn_seeded_dropout_and_back(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    model = _model()
    _fit(model, 1)
    path = str(tmp_path / "n.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[1].seed is not None and len(loaded.layers[1].weights) == 0
    np.testing.assert_allclose(np.asarray(loaded(X, training=False)), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)

    kmodel = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dropout(0.5, seed=9)])
    kmodel.compile(optimizer="sgd", loss="mse")
    kpath = str(tmp_path / "k.keras")
    kmodel.save(kpath)
    back = nn.saving.load_model(kpath)
    assert back.layers[1].seed_generator.get_state().tolist() == [9, 0]
    np.testing.assert_allclose(back.predict(X, verbose=0), np.asarray(kmodel(X, training=False)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("suffix", [".npz", ".weights.npz"])
def test_npz_keeps_the_seed_state(tmp_path, suffix):
    model = _model()
    _fit(model, 1)
    path = str(tmp_path / f"m{suffix}")
    if suffix == ".npz":
        model.save(path)
        loaded = nn.saving.load_model(path)
    else:
        model.save_weights(path)
        loaded = _model()
        loaded.build((None, 5))
        loaded.load_weights(path)
    for i in (1, 2):
        assert (
            loaded.layers[i].seed_generator.get_state().tolist() == model.layers[i].seed_generator.get_state().tolist()
        )
        assert loaded.layers[i].seed_generator.get_state()[1] > 0


@pytest.mark.parametrize("weights_only", [False, True])
def test_legacy_h5_keeps_the_seed_state(tmp_path, weights_only):
    model = _model()
    _fit(model, 1)
    path = str(tmp_path / "m.h5")
    if weights_only:
        model.save_weights(path)
        loaded = _model()
        loaded.build((None, 5))
        for a, b in zip(loaded.layers, model.layers):
            a.name = b.name  # Keras 2's layout matches a weightless layer's extras by name
        loaded.load_weights(path)
    else:
        model.save(path)
        loaded = nn.saving.load_model(path)
    for i in (1, 2):
        assert (
            loaded.layers[i].seed_generator.get_state().tolist() == model.layers[i].seed_generator.get_state().tolist()
        )
        assert loaded.layers[i].seed_generator.get_state()[1] > 0


def test_captured_steps_draw_once_per_step_from_the_seed_generator():
    """jit_compile="auto" equals eager bit for bit; a trace (jit_compile=True) that is undone and
    replayed leaves each generator one draw per step (2 epochs x 4 batches)."""
    weights = {}
    for jit_compile in (False, "auto", True):
        nn.utils.set_random_seed(0)
        model = _model(jit_compile)
        _fit(model, 2)
        weights[jit_compile] = model.get_weights()
        assert [model.layers[i].seed_generator.get_state().tolist() for i in (1, 2)] == [[7, 8], [3, 8]]
    for a, b in zip(weights[False], weights["auto"]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights[False], weights[True]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_seeded_rrelu_keeps_its_seed_state(tmp_path):
    model = nn.Sequential([nn.Input((5,)), nn.layers.Dense(4), nn.layers.RReLU(seed=5), nn.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    _fit(model, 1)
    path = str(tmp_path / "r.keras")
    model.save(path)
    state = model.layers[1].seed_generator.get_state().tolist()
    assert state == [5, 4] and len(model.layers[1].weights) == 0
    assert nn.saving.load_model(path).layers[1].seed_generator.get_state().tolist() == state


@pytest.mark.slow
def test_resume_in_a_new_process(tmp_path):
    import subprocess
    import sys

    nn.utils.set_random_seed(0)
    whole = _model()
    _fit(whole, 4)
    nn.utils.set_random_seed(0)
    first = _model()
    _fit(first, 2)
    path, out = str(tmp_path / "m.keras"), str(tmp_path / "w.npz")
    first.save(path)
    script = (
        "import sys, numpy as np, nn\n"
        "sys.path.insert(0, sys.argv[3])\n"
        "from test_saving_seed_state import _fit\n"
        "nn.utils.set_random_seed(123)\n"
        "m = nn.saving.load_model(sys.argv[1])\n"
        "_fit(m, 2)\n"
        "np.savez(sys.argv[2], *m.get_weights())\n"
    )
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, "-c", script, path, out, tests_dir], check=True, env=dict(os.environ))
    with np.load(out) as resumed:
        for i, a in enumerate(whole.get_weights()):
            np.testing.assert_array_equal(a, resumed[f"arr_{i}"])
