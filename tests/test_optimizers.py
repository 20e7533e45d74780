"""Optimizers: Keras 3's numbers (installed Keras, every option), the rules written out in numpy,
the API (constructor forms, variables, save/load, config) and all-or-nothing copy-on-write steps."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

import autograd_mini as am
import nn

O = nn.optimizers
SHAPES = [(3, 4), (4,)]
STEPS = 5


def problem(seed=0, dtype=np.float32):
    """Initial parameters and a fixed sequence of gradients (random, float32)."""
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def run_ours(cls, kwargs, steps=STEPS, seed=0):
    init, grads = problem(seed)
    params = [nn.Parameter(a) for a in init]
    opt = cls(**kwargs)
    for g in grads[:steps]:
        opt.apply(g, params)
    return opt, params


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras only in tests, on jax (never required)
    keras = pytest.importorskip("keras")
    return keras


def run_keras(keras, cls_name, kwargs, steps=STEPS, seed=0):
    init, grads = problem(seed)
    variables = [keras.Variable(a) for a in init]
    kwargs = dict(kwargs)
    lr = kwargs.get("learning_rate")
    if isinstance(lr, O.schedules.LearningRateSchedule):
        kwargs["learning_rate"] = getattr(keras.optimizers.schedules, type(lr).__name__).from_config(lr.get_config())
    opt = getattr(keras.optimizers, cls_name)(**kwargs)
    for g in grads[:steps]:
        opt.apply(g, variables)
    return opt, variables


CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"rho": 0.8, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "beta_1": 0.8}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Ftrl", {"learning_rate": 0.1}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.03,
            "beta": 0.1,
            "learning_rate_power": -0.7,
        },
    ),
    ("Lion", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.01}),
    # the base options, on two rules
    ("Adam", {"learning_rate": 0.01, "weight_decay": 0.05}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.01, "clipvalue": 0.3}),
    ("RMSprop", {"learning_rate": 0.01, "global_clipnorm": 0.7}),
    ("Adam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "loss_scale_factor": 4.0}),
    ("Nadam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2, "use_ema": True}),
    ("SGD", {"learning_rate": O.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)}),
]


@pytest.mark.parametrize("cls_name, kwargs", CASES, ids=[f"{c}-{'-'.join(k)}" for c, k in CASES])
def test_matches_keras(keras, cls_name, kwargs):
    theirs, their_params = run_keras(keras, cls_name, kwargs)
    ours, our_params = run_ours(getattr(O, cls_name), kwargs)
    for p, q in zip(our_params, their_params):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, np.asarray(q), rtol=2e-5, atol=2e-6)
    their_vars = [np.asarray(v) for v in theirs.variables]
    assert len(ours.variables) == len(their_vars)
    for a, b in zip(ours.variables, their_vars):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    assert ours.iterations == int(np.asarray(theirs.iterations))
    assert ours.learning_rate == pytest.approx(float(np.asarray(theirs.learning_rate)), rel=1e-6)


def test_ema_finalize_matches_keras(keras):
    kwargs = {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "ema_momentum": 0.8}
    theirs, their_params = run_keras(keras, "SGD", kwargs)
    ours, our_params = run_ours(O.SGD, kwargs)
    theirs.finalize_variable_values(their_params)
    ours.finalize_variable_values(our_params)
    for p, q in zip(our_params, their_params):
        np.testing.assert_allclose(p.data, np.asarray(q), rtol=2e-5, atol=2e-6)
    assert not np.allclose(our_params[0].data, run_ours(O.SGD, kwargs)[1][0].data)  # the averages moved in


def test_defaults_and_config_keys_match_keras(keras):
    for cls in O._CLASSES:
        ours, theirs = cls().get_config(), getattr(keras.optimizers, cls.__name__)().get_config()
        assert set(ours) == set(theirs), cls.__name__
        for key, value in theirs.items():
            if key != "name":
                assert ours[key] == pytest.approx(value, rel=1e-6), (cls.__name__, key)


# ---- the rules written out in numpy (float64) ----------------------------------------------------------
def adamax_rule(p, g, s, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
    return p - lr * s["m"] / ((1 - b1**t) * (s["u"] + eps))


def nadam_rule(p, g, s, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    u_t, u_next = b1 * (1 - 0.5 * 0.96**t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["prod"] = s.get("prod", 1.0) * u_t
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
    s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - b2)
    m_hat = u_next * s["m"] / (1 - s["prod"] * u_next) + (1 - u_t) * g / (1 - s["prod"])
    return p - lr * m_hat / (np.sqrt(s["v"] / (1 - b2**t)) + eps)


def lion_rule(p, g, s, t, lr=0.01, b1=0.9, b2=0.99):
    m = s.get("m", 0)
    s["m"] = b2 * m + (1 - b2) * g
    return p - lr * np.sign(b1 * m + (1 - b1) * g)


def lamb_rule(p, g, s, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
    s["v"] = s.get("v", 0) + (g * g - s.get("v", 0)) * (1 - b2)
    u = (s["m"] / (1 - b1**t)) / (np.sqrt(s["v"] / (1 - b2**t)) + eps)
    return p - np.linalg.norm(p) / np.linalg.norm(u) * lr * u


def ftrl_rule(p, g, s, t, lr=0.1, power=-0.5, n0=0.1, l1=0.01, l2=0.02):
    n = s.get("n", np.full_like(p, n0))
    z = s.get("z", np.zeros_like(p))
    new_n = n + g * g
    z = z + g - (new_n ** (-power) - n ** (-power)) / lr * p
    s["n"], s["z"] = new_n, z
    return (np.clip(z, -l1, l1) - z) / (new_n ** (-power) / lr + 2 * l2)


@pytest.mark.parametrize(
    "cls, kwargs, rule",
    [
        (O.Adamax, {"learning_rate": 0.01}, adamax_rule),
        (O.Nadam, {"learning_rate": 0.01}, nadam_rule),
        (O.Lion, {"learning_rate": 0.01}, lion_rule),
        (O.Lamb, {"learning_rate": 0.01}, lamb_rule),
        (
            O.Ftrl,
            {"learning_rate": 0.1, "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02},
            ftrl_rule,
        ),
    ],
)
def test_rules_written_out(cls, kwargs, rule):
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=5)
    grads = [rng.normal(size=5) for _ in range(4)]
    param = nn.Parameter(p0.copy())
    opt = cls([param], **kwargs)
    p, state = p0.copy(), {}
    for t, g in enumerate(grads, start=1):
        param.grad = am.tensor(g)
        opt.step()
        p = rule(p, g, state, t)
        np.testing.assert_allclose(param.data, p, rtol=1e-10, atol=1e-12)


# ---- constructor forms and validation ------------------------------------------------------------------
def test_keras_positional_and_pytorch_forms():
    assert O.SGD(0.05).learning_rate == 0.05
    sgd = O.SGD(0.05, 0.9, True)
    assert (sgd.momentum, sgd.nesterov) == (0.9, True)
    p = nn.Parameter(np.ones(2))
    opt = O.Adam([p], learning_rate=0.01)
    assert opt.built and opt.learning_rate == 0.01
    opt = O.Adam((q for q in [p]), 0.02)  # a generator, then the positional learning rate
    assert opt.built and opt.learning_rate == 0.02
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(2)])
    opt = O.RMSprop(model.parameters(), learning_rate=1e-3)
    assert len(opt.variables) == 2 + 2  # iterations, learning_rate, one velocity per parameter
    assert O.AdamW(params=[p]).weight_decay == 0.004


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: O.Adam([]), ValueError, "empty parameter list"),
        (lambda: O.SGD(learning_rate="0.01"), ValueError, "should be float"),
        (lambda: O.SGD(-0.1), ValueError, ">= 0"),
        (lambda: O.SGD(momentum=1.5), ValueError, "momentum"),
        (lambda: O.Adam(clipnorm=1.0, clipvalue=1.0), ValueError, "Only one of"),
        (lambda: O.Adam(gradient_accumulation_steps=1), ValueError, ">= 2"),
        (lambda: O.Adam(use_ema=True, ema_momentum=2.0), ValueError, "ema_momentum"),
        (lambda: O.AdamW(weight_decay=None), ValueError, "weight_decay"),
        (lambda: O.Adam(foo=1), ValueError, "not recognized"),
        (lambda: O.Adam(nn.Parameter(np.ones(2))), TypeError, "iterable of Tensors"),
        (lambda: O.Adam([np.ones(2)]), TypeError, "Tensors/Parameters"),
        (lambda: O.Lion(beta_1=0.0), ValueError, "beta_1"),
        (lambda: O.Ftrl(learning_rate_power=0.5), ValueError, "learning_rate_power"),
        (lambda: O.get("nadamx"), ValueError, "Could not interpret"),
    ],
)
def test_bad_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_learning_rate_property_and_schedules():
    opt = O.SGD(0.1)
    opt.learning_rate = 0.05
    assert opt.learning_rate == 0.05
    with pytest.raises(ValueError):
        opt.learning_rate = "fast"
    schedule = O.schedules.PiecewiseConstantDecay([1], [1.0, 0.5])
    p = nn.Parameter(np.zeros(1))
    opt = O.SGD([p], learning_rate=schedule)
    assert [v.shape for v in opt.variables] == [()]  # a schedule is not a variable
    seen = []
    for _ in range(3):
        seen.append(opt.learning_rate)
        p.grad = am.tensor([1.0])
        opt.step()
    assert seen == [1.0, 1.0, 0.5]
    np.testing.assert_allclose(p.data, [-2.5])
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_step_skips_missing_and_frozen_and_zero_grad():
    a, b, c = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    c.trainable = False
    opt = O.SGD([a, b, c], learning_rate=0.5)
    a.grad = am.tensor([1.0, 1.0])
    c.grad = am.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(a.data, [0.5, 0.5])
    np.testing.assert_allclose(b.data, [1.0, 1.0])
    np.testing.assert_allclose(c.data, [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None and c.grad is None
    opt.step()  # no gradients: nothing happens
    assert opt.iterations == 1


def test_apply_forms_and_errors():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = O.SGD(1.0)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.ones(2)])
    assert opt.apply_gradients([(np.ones(2), a), (np.ones(3), b)]) == 1
    opt.apply([np.ones(2), np.ones(3)])
    np.testing.assert_allclose(a.data, [-1.0, -1.0])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([np.ones(2)], [nn.Parameter(np.ones(2))])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([None, np.ones(3)], [a, b])
    np.testing.assert_allclose(b.data, [-2.0, -2.0, -2.0])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply([None, None], [a, b])
    with pytest.raises(TypeError, match="dtype"):
        opt.apply([np.array(["x", "y"]), np.ones(3)], [a, b])


# ---- all-or-nothing and copy-on-write -----------------------------------------------------------------
def snapshot(opt, params):
    return [p.data.copy() for p in params], [np.array(v, copy=True) for v in opt.variables]


@pytest.mark.parametrize("cls", O._CLASSES)
def test_failed_step_changes_nothing(cls):
    params = [nn.Parameter(np.random.default_rng(0).normal(size=s).astype(np.float32)) for s in SHAPES]
    opt = cls(params, use_ema=True)
    opt.apply([np.ones(s, np.float32) for s in SHAPES], params)  # a first good step fills the slots
    before = snapshot(opt, params)
    bad = [np.ones(SHAPES[0], np.float32), np.ones((5,), np.float32)]  # the last gradient has the wrong shape
    with pytest.raises(ValueError, match=r"gradient of shape \(5,\) for variable .* of shape \(4,\)"):
        opt.apply(bad, params)
    after = snapshot(opt, params)
    for x, y in zip(before[0] + before[1], after[0] + after[1]):
        np.testing.assert_array_equal(x, y)
    assert opt.iterations == 1


def test_step_with_a_live_graph_is_copy_on_write():
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(4, activation="tanh"), nn.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    out = model(am.tensor(x))  # a live graph holds the weights
    loss = (out * out).mean()
    kernel = model.parameters()[0]
    held = kernel.data
    opt = O.RMSprop(model.parameters(), learning_rate=0.1)
    for p in model.parameters():
        p.grad = am.tensor(np.ones_like(p.data))
    opt.step()  # must not fail with "read-only"
    assert kernel.data is not held and not np.allclose(kernel.data, held)
    assert kernel.data.dtype == np.float32
    loss.backward()  # the pending graph still sees the old values: gradients are those of the old weights
    assert kernel.grad.shape == kernel.shape


def test_float32_stays_float32_with_float64_gradients():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = O.Adam([p], weight_decay=0.1, clipnorm=1.0)
    p.grad = am.tensor(np.ones(3, np.float64))
    opt.step()
    assert p.data.dtype == np.float32 and all(v.dtype == np.float32 for v in opt.variables[2:])  # slots


# ---- variables, save/load, config ----------------------------------------------------------------------
def test_save_and_load_own_variables_resume_exactly():
    reference, ref_params = run_ours(O.Adam, {"learning_rate": 0.01, "amsgrad": True}, steps=STEPS)
    first, params = run_ours(O.Adam, {"learning_rate": 0.01, "amsgrad": True}, steps=3)
    store = {}
    first.save_own_variables(store)
    assert sorted(store, key=int) == [str(i) for i in range(len(first.variables))]
    resumed = O.Adam(learning_rate=0.5, amsgrad=True)
    resumed.build(params)
    resumed.load_own_variables(store)
    assert resumed.iterations == 3 and resumed.learning_rate == pytest.approx(0.01)
    _, grads = problem()
    for g in grads[3:]:
        resumed.apply(g, params)
    for p, q in zip(params, ref_params):
        np.testing.assert_array_equal(p.data, q.data)
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        O.Adam().load_own_variables(store)


def test_config_round_trip_and_serialize():
    schedule = O.schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10)
    opt = O.Nadam(learning_rate=schedule, clipnorm=1.0, use_ema=True)
    config = O.serialize(opt)
    assert config["class_name"] == "Nadam" and config["config"]["learning_rate"]["class_name"] == "CosineDecay"
    again = O.deserialize(config)
    assert type(again) is O.Nadam and again.get_config() == opt.get_config()
    assert O.get({"class_name": "adam", "config": {"learning_rate": 0.5}}).learning_rate == 0.5
    assert type(O.get("AdamW")) is O.AdamW
    assert O.RMSprop.from_config(O.RMSprop(rho=0.5).get_config()).rho == 0.5


def test_exclude_from_weight_decay():
    a, b = nn.Parameter(np.ones(2), name="kernel"), nn.Parameter(np.ones(2), name="bias")
    opt = O.SGD([a, b], learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.zeros(2), np.zeros(2)], [a, b])
    np.testing.assert_allclose(a.data, [0.95, 0.95])
    np.testing.assert_allclose(b.data, [1.0, 1.0])


def test_gradient_accumulation_counts_applied_steps():
    p = nn.Parameter(np.zeros(1))
    opt = O.SGD([p], learning_rate=1.0, gradient_accumulation_steps=3)
    for k, g in enumerate([1.0, 2.0, 6.0, 3.0]):
        p.grad = am.tensor([g])
        opt.step()
        assert opt.iterations == (k + 1) // 3
    np.testing.assert_allclose(p.data, [-3.0])  # the mean of the first three
    assert math.isclose(float(opt.variables[2][0]), 3.0)  # the accumulator holds the fourth


def test_fit_with_every_optimizer_name():
    (x, y), _ = nn.datasets.iris.load_data()
    x = (x - x.mean(0)) / x.std(0)
    for cls in O._CLASSES:
        model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=cls.__name__.lower(), loss="sparse_categorical_crossentropy")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        assert np.isfinite(history.history["loss"]).all(), cls.__name__


def test_constraints_apply_after_each_update_as_in_keras():
    layer = nn.layers.Dense(3, input_dim=2, kernel_constraint=nn.constraints.NonNeg())
    opt = nn.optimizers.SGD(1.0)
    layer(np.ones((4, 2), np.float32), training=True).sum().backward()
    opt.apply_gradients([(p.grad, p) for p in layer.trainable_weights])
    assert layer.kernel.data.min() >= 0 and layer.bias.data.max() < 0  # the unconstrained bias moved below 0
