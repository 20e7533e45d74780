"""Adafactor against installed Keras 3: values after several steps and the optimizer's variables."""

import os

import numpy as np
import pytest

import nn

os.environ.setdefault("KERAS_BACKEND", "jax")
SHAPES = [(4, 3), (3,), (2, 3, 5)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        pytest.param({"learning_rate": 0.05, "relative_step": False}, marks=pytest.mark.slow),
        pytest.param({"clip_threshold": 0.5, "weight_decay": 0.01}, marks=pytest.mark.slow),
    ],
)
def test_adafactor_equals_keras(kwargs):
    keras = pytest.importorskip("keras")
    rng = np.random.RandomState(0)
    init = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    steps = [[rng.standard_normal(s).astype("float32") for s in SHAPES] for _ in range(4)]
    theirs = [keras.Variable(a) for a in init]
    ours = [nn.Parameter(a.copy()) for a in init]
    k_opt, n_opt = keras.optimizers.Adafactor(**kwargs), nn.optimizers.Adafactor(**kwargs)
    for grads in steps:
        k_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], theirs))
        n_opt.apply_gradients(zip(grads, ours))
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(b.data, np.asarray(a), rtol=1e-5, atol=1e-6)
    assert [tuple(np.shape(v)) for v in n_opt.variables] == [tuple(np.shape(v)) for v in k_opt.variables]
    for a, b in zip(k_opt.variables[2:], n_opt.variables[2:]):
        np.testing.assert_allclose(b, np.asarray(a), rtol=1e-5, atol=1e-30)
    config = n_opt.get_config()
    for key in ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step"):
        assert config[key] == k_opt.get_config()[key]


@pytest.mark.parametrize(
    "kwargs",
    [{}, pytest.param({"learning_rate": 0.01, "warmup_steps": 3, "weight_decay": 0.004}, marks=pytest.mark.slow)],
)
def test_schedule_free_adamw_equals_keras(kwargs):
    keras = pytest.importorskip("keras")
    rng = np.random.RandomState(1)
    init = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    steps = [[rng.standard_normal(s).astype("float32") for s in SHAPES] for _ in range(5)]
    theirs = [keras.Variable(a) for a in init]
    ours = [nn.Parameter(a.copy()) for a in init]
    k_opt, n_opt = keras.optimizers.ScheduleFreeAdamW(**kwargs), nn.optimizers.ScheduleFreeAdamW(**kwargs)
    for grads in steps:
        k_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], theirs))
        n_opt.apply_gradients(zip(grads, ours))
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(b.data, np.asarray(a), rtol=1e-5, atol=1e-6)
    assert [tuple(np.shape(v)) for v in n_opt.variables] == [tuple(np.shape(v)) for v in k_opt.variables]
    for a, b in zip(k_opt.variables[2:], n_opt.variables[2:]):
        np.testing.assert_allclose(b, np.asarray(a), rtol=1e-5, atol=1e-7)
    assert n_opt.get_config()["warmup_steps"] == k_opt.get_config()["warmup_steps"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        pytest.param(
            {"learning_rate": 0.01, "nesterov": False, "weight_decay": 0.01, "rms_rate": None}, marks=pytest.mark.slow
        ),
    ],
)
def test_muon_equals_keras(kwargs):
    keras = pytest.importorskip("keras")
    rng = np.random.RandomState(2)
    shapes = [(5, 3), (3,), (3, 4)]
    init = [rng.standard_normal(s).astype("float32") for s in shapes]
    steps = [[rng.standard_normal(s).astype("float32") for s in shapes] for _ in range(3)]
    theirs = [keras.Variable(a, name=f"w{i}") for i, a in enumerate(init)]
    ours = [nn.Parameter(a.copy(), name=f"w{i}") for i, a in enumerate(init)]
    k_opt, n_opt = keras.optimizers.Muon(**kwargs), nn.optimizers.Muon(**kwargs)
    for grads in steps:
        k_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], theirs))
        n_opt.apply_gradients(zip(grads, ours))
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(b.data, np.asarray(a), rtol=2e-5, atol=2e-6)
    assert [tuple(np.shape(v)) for v in n_opt.variables] == [tuple(np.shape(v)) for v in k_opt.variables]
    assert n_opt.get_config()["weight_decay"] == k_opt.get_config()["weight_decay"]


def test_adafactor_trains_a_model_and_resolves_by_name():
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(4), nn.layers.Dense(1)])
    model.compile(optimizer="adafactor", loss="mse")
    rng = np.random.RandomState(0)
    x, y = rng.random_sample((32, 3)).astype("float32"), rng.random_sample((32, 1)).astype("float32")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert isinstance(model.optimizer, nn.optimizers.Adafactor)
    assert history.history["loss"][-1] < history.history["loss"][0]
