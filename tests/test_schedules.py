"""Learning-rate schedules: Keras 3's numbers on a grid of steps, configs and (de)serialization."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nn

S = nn.optimizers.schedules
STEPS = [
    0,
    1,
    2,
    3,
    5,
    7,
    9,
    10,
    11,
    15,
    20,
    25,
    31,
    40,
    64,
    100,
    149,
]  # no multiple of a cycle length: float32 ceil differs there

CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9, "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.2, "decay_steps": 5, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.2, "decay_steps": 5, "decay_rate": 0.5, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [5, 20, 40], "values": [1.0, 0.5, 0.25, 0.1]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "end_learning_rate": 0.01, "power": 2.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "power": 0.5, "cycle": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50, "alpha": 0.1}),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.0, "decay_steps": 50, "alpha": 0.05, "warmup_target": 0.2, "warmup_steps": 10},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.5}),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 8, "t_mul": 1.5, "m_mul": 0.8, "alpha": 0.1},
    ),
]


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras only in tests, on jax (never required)
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name, kwargs", CASES)
def test_matches_keras(keras, name, kwargs):
    ours = getattr(S, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    got = [ours(step) for step in STEPS]
    if keras.backend.backend() == "jax":  # one compiled call instead of many slow eager conds
        import jax

        want = [float(v) for v in np.asarray(jax.jit(jax.vmap(theirs))(np.array(STEPS)))]
    else:
        want = [float(np.asarray(theirs(step))) for step in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert all(isinstance(v, float) for v in got)
    assert ours.get_config() == pytest.approx(theirs.get_config()) or ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("name, kwargs", CASES)
def test_config_round_trip(name, kwargs):
    schedule = getattr(S, name)(**kwargs)
    again = S.deserialize(S.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(s) for s in STEPS] == [schedule(s) for s in STEPS]


def test_formulas_at_known_points():
    assert S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(10) == pytest.approx(0.05)
    assert S.ExponentialDecay(0.1, 10, 0.5, staircase=True)(19) == pytest.approx(0.05)
    assert S.PiecewiseConstantDecay([5], [1.0, 0.5])(5) == 1.0
    assert S.PiecewiseConstantDecay([5], [1.0, 0.5])(6) == 0.5
    assert S.CosineDecay(1.0, 10)(10) == pytest.approx(0.0)
    assert S.CosineDecay(1.0, 10)(5) == pytest.approx(0.5)
    assert S.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)(2) == pytest.approx(0.5)
    assert S.InverseTimeDecay(1.0, 1, 1.0)(1) == 0.5
    assert S.PolynomialDecay(1.0, 10, end_learning_rate=0.0)(5) == pytest.approx(0.5)
    assert S.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)(15) == pytest.approx(0.25)
    assert S.CosineDecayRestarts(1.0, 10, t_mul=1.0)(10) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: S.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: S.PolynomialDecay(0.1, -1), "decay_steps"),
        (lambda: S.CosineDecayRestarts(0.1, 0), "first_decay_steps"),
        (lambda: S.PiecewiseConstantDecay([1, 2], [1.0, 0.5]), "1 less than"),
        (lambda: S.deserialize({"class_name": "Nope", "config": {}}), "unknown learning rate schedule"),
    ],
)
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
