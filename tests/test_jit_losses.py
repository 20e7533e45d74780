"""Every Keras loss of nn.losses under compile(jit_compile=...): "auto" (the numpy replay) is
captured (no fallback to eager) and gives the eager numbers bit for bit; True (loop kernels)
stays within float32 rounding of eager and runs a kernel where the step has loop forms.

The losses that computed values from y_true with numpy inside the step (MAPE, MSLE, hinge,
squared hinge, categorical hinge, KL divergence, cosine similarity, binary focal, binary
cross-entropy from probabilities) raised CaptureError under True and ran eagerly under "auto";
they compute those values with ops while a step is recorded (``functions.targets``).

Under True, a step that clips probabilities (``am.clip``: the cross-entropies from
probabilities, both focal losses, KL divergence) or takes a max over classes (categorical
hinge) replays numpy: those two ops have no loop form yet (``NO_LOOP_FORM``)."""

import warnings

import numpy as np
import pytest

import autograd_mini as am
import nn
from nn.models.step_function import CapturedStep

L = nn.losses
RNG = np.random.default_rng(0)
X = RNG.normal(size=(80, 4)).astype(np.float32)  # 5 batches of 16: two traces, then replays
LABELS = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)).astype(np.int64)
ONE_HOT = nn.utils.to_categorical(LABELS, 3)
BINARY = (LABELS > 0).astype(np.float32)[:, None]
SIGNS = BINARY * 2.0 - 1.0
REAL = np.round(X[:, :3] @ RNG.normal(size=(3, 3)).astype(np.float32), 1)  # some exact zeros (MAPE's floor)
POSITIVE = np.abs(REAL) + 0.1
DISTRIBUTION = (ONE_HOT * 0.7 + 0.1).astype(np.float32)
SW = np.linspace(0.5, 1.5, 80).astype(np.float32)

NO_LOOP_FORM = ("op 'max' has no loop form",)

# id: (loss, y, output units, output activation, fit keyword arguments, a kernel runs under True)
CASES = {
    "mse": ("mean_squared_error", REAL, 3, None, {}, True),
    "MeanSquaredError_sum": (L.MeanSquaredError(reduction="sum"), REAL, 3, None, {}, True),
    "mae": ("mae", REAL, 3, None, {}, True),
    "MeanAbsoluteError_mws": (L.MeanAbsoluteError(reduction="mean_with_sample_weight"), REAL, 3, None, {}, True),
    "mape": ("mean_absolute_percentage_error", REAL, 3, None, {}, True),
    "MeanAbsolutePercentageError_weighted": (
        L.MeanAbsolutePercentageError(),
        REAL,
        3,
        None,
        {"sample_weight": SW},
        True,
    ),
    "msle": ("msle", POSITIVE, 3, "softplus", {}, True),
    "MeanSquaredLogarithmicError_sum": (
        L.MeanSquaredLogarithmicError(reduction="sum"),
        POSITIVE,
        3,
        "softplus",
        {},
        True,
    ),
    "huber": ("huber", REAL, 3, None, {}, True),
    "Huber_delta": (L.Huber(delta=0.5), REAL, 3, None, {"sample_weight": SW}, True),
    "log_cosh": ("log_cosh", REAL, 3, None, {}, True),
    "LogCosh": (L.LogCosh(), REAL, 3, None, {}, True),
    "poisson": ("poisson", POSITIVE, 3, "softplus", {}, True),
    "Poisson_mws": (
        L.Poisson(reduction="mean_with_sample_weight"),
        POSITIVE,
        3,
        "softplus",
        {"sample_weight": SW},
        True,
    ),
    "cosine_similarity": ("cosine_similarity", REAL, 3, None, {}, True),
    "CosineSimilarity_sum": (L.CosineSimilarity(axis=-1, reduction="sum"), REAL, 3, None, {}, True),
    "hinge_0_1_labels": ("hinge", BINARY, 1, "tanh", {}, True),
    "Hinge_signs": (L.Hinge(), SIGNS, 1, "tanh", {"sample_weight": SW}, True),
    "Hinge_real_targets": (L.Hinge(), REAL[:, :1] * 0.5, 1, "tanh", {}, True),  # (not 0/1: kept as they are)
    "squared_hinge": ("squared_hinge", BINARY, 1, "tanh", {}, True),
    "SquaredHinge_signs": (L.SquaredHinge(), SIGNS, 1, "tanh", {}, True),
    "categorical_hinge": ("categorical_hinge", ONE_HOT, 3, "softmax", {}, False),
    "CategoricalHinge_weighted": (L.CategoricalHinge(), ONE_HOT, 3, "softmax", {"sample_weight": SW}, False),
    "kl_divergence": ("kl_divergence", DISTRIBUTION, 3, "softmax", {}, True),
    "KLDivergence_outside_0_1": (L.KLDivergence(), DISTRIBUTION * 1.5 - 0.1, 3, "softmax", {}, True),
    "binary_crossentropy": ("binary_crossentropy", BINARY, 1, "sigmoid", {}, True),
    "BinaryCrossentropy_logits": (L.BinaryCrossentropy(from_logits=True), BINARY, 1, None, {}, True),
    "BinaryCrossentropy_probabilities": (L.BinaryCrossentropy(), BINARY, 1, "hard_sigmoid", {}, True),
    "BinaryCrossentropy_probabilities_smoothed": (
        L.BinaryCrossentropy(label_smoothing=0.2),
        BINARY,
        1,
        "hard_sigmoid",
        {"sample_weight": SW},
        True,
    ),
    "binary_focal_crossentropy": ("binary_focal_crossentropy", BINARY, 1, "sigmoid", {}, True),
    "BinaryFocalCrossentropy_balanced": (
        L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3),
        BINARY,
        1,
        "sigmoid",
        {},
        True,
    ),
    "BinaryFocalCrossentropy_balanced_logits_smoothed": (
        L.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True, label_smoothing=0.1),
        BINARY,
        1,
        None,
        {"sample_weight": SW},
        True,
    ),
    "categorical_crossentropy": ("categorical_crossentropy", ONE_HOT, 3, "softmax", {}, True),
    "CategoricalCrossentropy_logits_sum": (
        L.CategoricalCrossentropy(from_logits=True, reduction="sum"),
        ONE_HOT,
        3,
        None,
        {},
        True,
    ),
    "CategoricalCrossentropy_probabilities": (L.CategoricalCrossentropy(), ONE_HOT, 3, "softplus", {}, True),
    "categorical_focal_crossentropy": ("categorical_focal_crossentropy", ONE_HOT, 3, "softmax", {}, True),
    "CategoricalFocalCrossentropy_logits": (
        L.CategoricalFocalCrossentropy(from_logits=True, alpha=0.5),
        ONE_HOT,
        3,
        None,
        {},
        True,
    ),
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", LABELS, 3, "softmax", {}, True),
    "SparseCategoricalCrossentropy_logits": (
        L.SparseCategoricalCrossentropy(from_logits=True),
        LABELS,
        3,
        None,
        {},
        True,
    ),
    "SparseCategoricalCrossentropy_probabilities": (
        L.SparseCategoricalCrossentropy(),
        LABELS,
        3,
        "softplus",
        {},
        True,
    ),
    "dice": ("dice", ONE_HOT, 3, "softmax", {}, True),
    "Dice_axis": (L.Dice(axis=-1), ONE_HOT, 3, "softmax", {}, True),
    "tversky": ("tversky", ONE_HOT, 3, "softmax", {}, True),
    "Tversky_alpha_beta": (L.Tversky(alpha=0.3, beta=0.7, axis=-1), ONE_HOT, 3, "softmax", {}, True),
}


def _fit(jit, name):
    loss, y, units, activation, fit_kwargs, _ = CASES[name]
    nn.utils.set_random_seed(1)
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss, jit_compile=jit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager warns under NN_DEBUG_CAPTURE (below)
        history = model.fit(X, y, batch_size=16, epochs=1, verbose=0, shuffle=False, **fit_kwargs).history
    return model, history


@pytest.fixture(autouse=True)
def _fallbacks_warn(monkeypatch):
    monkeypatch.setenv("NN_DEBUG_CAPTURE", "1")  # "auto" warns (an error here) when it falls back to eager


CASES["categorical_generalized_cross_entropy"] = (  # (nn/losses/overlap.py: its one-hot in a replayable)
    "categorical_generalized_cross_entropy",
    LABELS,
    3,
    "softmax",
    {},
    True,
)


@pytest.mark.parametrize("name", list(CASES))
def test_every_loss_is_captured_and_compiled(name):
    eager, h_eager = _fit(False, name)

    auto, h_auto = _fit("auto", name)
    step = auto.train_function.step
    assert isinstance(step, CapturedStep) and not step.eager  # captured, not fallen back to eager
    assert step.compiled.traces == 2 and step.compiled.stats()[0]["replays"] == 3  # (two checked traces)
    for a, b in zip(eager.get_weights(), auto.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert h_auto == h_eager

    jit, h_jit = _fit(True, name)
    for a, b in zip(eager.get_weights(), jit.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_jit["loss"], h_eager["loss"], rtol=1e-4, atol=1e-5)
    (stats,) = jit.train_function.step.compiled.stats()
    if CASES[name][-1]:
        assert stats["kernel"], stats["not_lowered"]
    else:  # (the numpy replay serves until clip and max have loop forms)
        assert stats["kernel"] or stats["not_lowered"] in NO_LOOP_FORM, stats["not_lowered"]


@pytest.mark.parametrize(
    "fn",
    [
        L.mean_absolute_percentage_error,
        L.mean_squared_logarithmic_error,
        L.cosine_similarity,
        L.hinge,
        L.squared_hinge,
        L.categorical_hinge,
        L.kl_divergence,
        L.binary_crossentropy,
        L.binary_focal_crossentropy,
        lambda y, p: L.binary_focal_crossentropy(y, p, apply_class_balancing=True, alpha=np.float64(0.3)),
    ],
    ids=["mape", "msle", "cosine", "hinge", "squared_hinge", "categorical_hinge", "kld", "bce", "bfce", "bfce_alpha64"],
)
def test_a_compiled_loss_function_recomputes_its_targets_per_call(fn):
    """am.compile of the function alone: each call's targets (0/1 labels, then others, which
    hinge keeps as they are) give the plain call's values bit for bit."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, size=(6, 3)).astype(np.float32)
    compiled = am.compile(lambda pred, y: fn(y, am.as_tensor(pred)))
    targets = [(rng.uniform(size=(6, 3)) > 0.5).astype(np.float32) for _ in range(3)]
    targets += [rng.uniform(-1.0, 2.0, size=(6, 3)).astype(np.float32) for _ in range(3)]
    for y in targets:
        got, expected = compiled(p, y), fn(y, am.as_tensor(p))
        assert got.dtype == expected.dtype == np.float32
        assert np.array_equal(got.data, expected.data)
    assert compiled.traces == 2  # two checked traces, then replays


def test_hinge_converts_0_1_labels_per_batch():
    """Keras converts labels to -1/1 when the batch's labels are all 0 or 1 (a per-batch test):
    the test is redone on every replay, not frozen as the first batch's answer."""
    pred = np.full((4, 1), 0.25, np.float32)
    compiled = am.compile(lambda p, y: L.hinge(y, am.as_tensor(p)))
    binary = np.array([[0.0], [1.0], [1.0], [0.0]], np.float32)
    other = np.array([[0.0], [1.0], [0.5], [0.0]], np.float32)
    for y in (binary, binary, binary, other, binary, other):
        expected = np.maximum(1.0 - pred[:, 0] * (2 * y[:, 0] - 1 if y is binary else y[:, 0]), 0.0)
        np.testing.assert_array_equal(compiled(pred, y).data, expected)
