"""Sample weights (``sample_weight=``, ``class_weight=``, ``validation_data=(x, y, sw)``,
``weighted_metrics=``) under ``compile(jit_compile=...)``: the loss applies the batch's weights
with ops, so the captured step reads each batch's weights (they were frozen as the first batch's
constants, and the second trace refused them). "auto" (the numpy replay) gives the eager numbers
bit for bit and stays captured; True (loop kernels) stays within float32 rounding of eager, as in
test_jit_compile.py."""

import warnings

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn.models.step_function import CapturedStep

RNG = np.random.default_rng(0)
X = RNG.normal(size=(72, 4)).astype(np.float32)  # 72 = 4 full batches of 16 and a partial one of 8
Y_REG = X.sum(1, keepdims=True)
LABELS = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)).astype(np.int64)
SW = np.linspace(0.5, 1.5, 72).astype(np.float32)
SW_ZERO_BATCH = SW.copy()
SW_ZERO_BATCH[16:32] = 0.0  # the second batch weighs nothing: Keras' divide_no_nan gives 0


def _case(name):
    """(loss, y, output units, output activation, fit keyword arguments, compile keyword arguments)."""
    mse, scce = "mse", "sparse_categorical_crossentropy"
    cases = {
        "mse": (mse, Y_REG, 1, None, {"sample_weight": SW}, {}),
        "mse_weights_n_by_1": (mse, Y_REG, 1, None, {"sample_weight": SW[:, None]}, {}),
        "mse_float64_weights": (mse, Y_REG, 1, None, {"sample_weight": SW.astype(np.float64)}, {}),
        "mse_sum": (nn.losses.MeanSquaredError(reduction="sum"), Y_REG, 1, None, {"sample_weight": SW}, {}),
        "mse_mean_with_sample_weight": (
            nn.losses.MeanSquaredError(reduction="mean_with_sample_weight"),
            Y_REG,
            1,
            None,
            {"sample_weight": SW_ZERO_BATCH},
            {},
        ),
        "huber_validation": (
            "huber",
            Y_REG,
            1,
            None,
            {"sample_weight": SW, "validation_data": (X[:40], Y_REG[:40], SW[:40])},
            {"weighted_metrics": ["mae"]},
        ),
        "binary_class_weight": (
            "binary_crossentropy",
            (LABELS > 0).astype(np.float32)[:, None],
            1,
            "sigmoid",
            {"class_weight": {0: 2.0, 1: 0.5}},
            {"metrics": ["accuracy"], "weighted_metrics": ["accuracy"]},
        ),
        "softmax_fused_weighted_metrics": (
            scce,
            LABELS,
            3,
            "softmax",
            {"sample_weight": SW, "validation_data": (X[:40], LABELS[:40], SW[:40])},
            {"metrics": ["accuracy"], "weighted_metrics": ["accuracy"]},
        ),
        "softmax_fused_class_weight": (scce, LABELS, 3, "softmax", {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}, {}),
        "categorical_fused_mean_with_sample_weight": (
            nn.losses.CategoricalCrossentropy(reduction="mean_with_sample_weight"),
            nn.utils.to_categorical(LABELS, 3),
            3,
            "softmax",
            {"sample_weight": SW_ZERO_BATCH},
            {},
        ),
        "categorical_label_smoothing": (  # (the smoothed targets are recomputed per batch: @am.replayable)
            nn.losses.CategoricalCrossentropy(label_smoothing=0.1),
            nn.utils.to_categorical(LABELS, 3),
            3,
            "softmax",
            {"sample_weight": SW},
            {},
        ),
        "binary_label_smoothing": (
            nn.losses.BinaryCrossentropy(label_smoothing=0.2),
            (LABELS > 0).astype(np.float32)[:, None],
            1,
            "sigmoid",
            {"sample_weight": SW},
            {},
        ),
        "sparse_ignore_class_plain": (  # (softplus: no logits to fuse; the mask and the weights merge with ops)
            nn.losses.SparseCategoricalCrossentropy(ignore_class=2),
            LABELS,
            3,
            "softplus",
            {"sample_weight": SW},
            {},
        ),
    }
    return cases[name]


CASES = [
    "mse",
    "mse_weights_n_by_1",
    "mse_float64_weights",
    "mse_sum",
    "mse_mean_with_sample_weight",
    "huber_validation",
    "binary_class_weight",
    "softmax_fused_weighted_metrics",
    "softmax_fused_class_weight",
    "categorical_fused_mean_with_sample_weight",
    "categorical_label_smoothing",
    "binary_label_smoothing",
    "sparse_ignore_class_plain",
]


def _fit(jit, name):
    loss, y, units, activation, fit_kwargs, compile_kwargs = _case(name)
    nn.utils.set_random_seed(1)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss, jit_compile=jit, **compile_kwargs)
    evaluate_weights = fit_kwargs.get("sample_weight")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would warn (see NN_DEBUG_CAPTURE below)
        history = model.fit(X, y, batch_size=16, epochs=2, verbose=0, shuffle=False, **fit_kwargs).history
        result = model.evaluate(X, y, sample_weight=evaluate_weights, batch_size=16, verbose=0, return_dict=True)
    return model, history, result


@pytest.fixture(autouse=True)
def _fallbacks_warn(monkeypatch):
    monkeypatch.setenv("NN_DEBUG_CAPTURE", "1")  # "auto" warns (an error here) when it falls back to eager


@pytest.mark.parametrize("name", CASES)
def test_auto_replays_weighted_steps_bit_for_bit(name):
    eager, h_eager, r_eager = _fit(False, name)
    auto, h_auto, r_auto = _fit("auto", name)
    for kind in ("train", "test"):
        step = getattr(auto, f"{kind}_function").step
        assert isinstance(step, CapturedStep) and not step.eager, kind  # captured, not fallen back to eager
        assert step.compiled.traces >= 2  # (checked: two traces of a signature agreed)
    for a, b in zip(eager.get_weights(), auto.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert h_auto == h_eager
    assert r_auto == r_eager


@pytest.mark.parametrize("name", CASES)
def test_kernels_train_weighted_steps_within_rounding(name):
    eager, h_eager, r_eager = _fit(False, name)
    jit, h_jit, r_jit = _fit(True, name)
    for a, b in zip(eager.get_weights(), jit.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert h_jit.keys() == h_eager.keys()
    for key in h_eager:
        np.testing.assert_allclose(h_jit[key], h_eager[key], rtol=1e-4, atol=1e-5)
    assert r_jit.keys() == r_eager.keys()
    for key in r_eager:
        np.testing.assert_allclose(r_jit[key], r_eager[key], rtol=1e-4, atol=1e-5)


def test_the_reported_regression_fits_and_evaluates_under_kernels():
    """The report: mse with sample weights and jit_compile=True raised CaptureError ('mul' input
    changed between two calls); its step now compiles to loop kernels."""
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    sw = np.linspace(0.5, 1.5, 64).astype(np.float32)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(1)])
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    history = model.fit(x, y, sample_weight=sw, batch_size=16, epochs=2, verbose=0).history
    value = model.evaluate(x, y, sample_weight=sw, verbose=0)
    assert np.all(np.isfinite(history["loss"])) and np.isfinite(value)
    assert any(s["kernel"] for s in model._captured_train_step.compiled.stats())


@pytest.mark.parametrize(
    "loss",
    [
        nn.losses.MeanSquaredError(),
        nn.losses.MeanSquaredError(reduction="sum"),
        nn.losses.MeanSquaredError(reduction="mean_with_sample_weight"),
        nn.losses.MeanSquaredError(reduction="none"),
        nn.losses.CategoricalCrossentropy(from_logits=True),
        nn.losses.CategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        nn.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    ],
    ids=["mse", "mse_sum", "mse_mws", "mse_none", "cce_logits", "cce_logits_mws", "scce_logits_ignore"],
)
def test_a_compiled_loss_reads_each_call_s_weights(loss):
    """am.compile of the loss alone: the weights are an argument, so every call (replays included)
    uses its own weights, the numbers of the plain call bit for bit; all-zero weights give 0."""
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 3)).astype(np.float32)
    if isinstance(loss, nn.losses.SparseCategoricalCrossentropy):
        y = np.array([0, 1, 2, 1, 0, 2])
    elif isinstance(loss, nn.losses.CategoricalCrossentropy):
        y = nn.utils.to_categorical(np.array([0, 1, 2, 1, 0, 2]), 3)
    else:
        y = rng.normal(size=(6, 3)).astype(np.float32)

    def value(p, t, w):
        p = am.as_tensor(p) if not isinstance(p, am.Tensor) else p
        return loss(t, p, w)

    compiled = am.compile(value)
    weights = [rng.uniform(0.1, 2.0, size=6).astype(np.float32) for _ in range(4)] + [np.zeros(6, np.float32)]
    for w in weights:
        got = compiled(logits, y, w).data
        expected = value(logits, y, w).data
        assert np.array_equal(got, expected)
    assert compiled.traces == 2  # two checked traces, then replays
    if loss.reduction == "mean_with_sample_weight":
        assert float(expected) == 0.0  # (the last weights are all 0)


def test_tensor_and_array_weights_give_the_same_loss_and_gradient():
    rng = np.random.default_rng(4)
    p = rng.normal(size=(5, 1)).astype(np.float32)
    y = rng.normal(size=(5, 1)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, size=5)  # float64: cast to the loss's float32
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        results = []
        for weights in (w, am.as_tensor(w), list(w)):
            pred = am.tensor(p, requires_grad=True)
            out = nn.losses.MeanSquaredError(reduction=reduction)(y, pred, sample_weight=weights)
            out.backward()
            results.append((out.data, pred.grad.data))
        for out, grad in results[1:]:
            assert np.array_equal(out, results[0][0]) and np.array_equal(grad, results[0][1])
        assert results[0][0].dtype == np.float32


def test_label_smoothing_with_sample_weights_is_never_frozen():
    """The smoothed targets are numpy on the batch's labels: a captured step must not read them as
    a constant of the first batch (a Tensor wrapped around them would be a leaf, read by
    reference, silently frozen). "auto" gives the eager numbers."""
    y = nn.utils.to_categorical(LABELS, 3)

    def fit(jit):
        nn.utils.set_random_seed(1)
        model = nn.Sequential([nn.Input((4,)), nn.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss=nn.losses.CategoricalCrossentropy(label_smoothing=0.1), jit_compile=jit)
        history = model.fit(X, y, sample_weight=SW, batch_size=16, epochs=2, verbose=0, shuffle=False).history
        return history, model.get_weights()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (whether "auto" captures it or runs eagerly, the numbers are eager's)
        h_eager, w_eager = fit(False)
        h_auto, w_auto = fit("auto")
    assert h_auto == h_eager
    for a, b in zip(w_eager, w_auto):
        assert np.array_equal(a, b)
