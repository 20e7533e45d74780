"""compile(jit_compile=...): the captured training step ("auto": the numpy replay) gives the eager
step's numbers bit for bit; jit_compile=True (loop kernels) is tested in test_lowering.py."""

import warnings

import numpy as np
import pytest

import nn


def iris_like(n=150, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x, y


def train(jit, loss="sparse_categorical_crossentropy", optimizer="rmsprop", epochs=3, batch_size=16):
    x, y = iris_like()
    if loss in ("categorical_crossentropy", "mse"):
        y = nn.utils.to_categorical(y, 3)
    nn.utils.set_random_seed(7)
    model = nn.Sequential(
        [
            nn.Input((4,)),
            nn.layers.Dense(16, activation="relu"),
            nn.layers.Dropout(0.2),
            nn.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would warn
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, validation_split=0.2)
    return model, history


@pytest.mark.parametrize(
    "loss, optimizer",
    [("sparse_categorical_crossentropy", "rmsprop"), ("categorical_crossentropy", "adam"), ("mse", "sgd")],
)
def test_captured_fit_equals_eager_fit_bit_for_bit(loss, optimizer):
    eager, h_eager = train(False, loss, optimizer)
    captured, h_captured = train("auto", loss, optimizer)
    step = captured._captured_train_step
    assert step.compiled.traces >= 2 and not step.eager  # captured (120 samples: a full and a partial batch)
    for a, b in zip(eager.get_weights(), captured.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert h_eager.history == h_captured.history


def test_auto_captures_the_default_train_step():
    model, _ = train("auto")
    assert not model._captured_train_step.eager


def test_run_eagerly_and_a_custom_train_step_are_not_captured():
    x, y = iris_like()

    class Custom(nn.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    model = Custom([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, epochs=1, verbose=0)
    assert getattr(model, "_captured_train_step", None) is None


def test_auto_leaves_a_user_loss_eager_and_true_captures_it():
    x, y = iris_like()
    calls = []

    def counting_mse(y_true, y_pred):  # Python with a side effect: a replay would not run it
        calls.append(1)
        return nn.losses.mean_squared_error(y_true, y_pred)

    for jit, expected_calls in (("auto", 10), (True, 2)):  # True: traced twice, then replayed
        calls.clear()
        model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
        model.compile(optimizer="sgd", loss=counting_mse, jit_compile=jit)
        model.fit(x[:100], nn.utils.to_categorical(y[:100], 3), batch_size=10, epochs=1, verbose=0)
        assert len(calls) == expected_calls


@pytest.mark.parametrize("noise", ["GaussianNoise", "GaussianDropout", "AlphaDropout"])
def test_batchnorm_statistics_and_noise_layers_replay_bit_for_bit(noise):
    """The moving statistics move and the noise is drawn again on every replayed step (they are
    @am.replayable), so "auto" still equals eager; kernels (True) stay within float32 rounding."""
    x, y = iris_like(96)
    runs = {}
    for jit in (False, "auto", True):
        nn.utils.set_random_seed(3)
        model = nn.Sequential(
            [
                nn.Input((4,)),
                nn.layers.Dense(8, kernel_regularizer=nn.regularizers.L2(0.01)),
                nn.layers.BatchNormalization(),
                nn.layers.Activation("relu"),
                getattr(nn.layers, noise)(0.2),
                nn.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback to eager would warn
            model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        runs[jit] = model
    for a, b, c in zip(*(runs[j].get_weights() for j in (False, "auto", True))):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(c, a, rtol=1e-4, atol=1e-5)
    assert any(s["kernel"] for s in runs[True]._captured_train_step.compiled.stats())


def test_sample_and_class_weights_are_captured_bit_for_bit():
    """The weighted targets and Keras' divisor are recomputed per batch (@am.replayable)."""
    x, y = iris_like(96)
    sample_weight = np.linspace(0.5, 2.0, 96)
    runs = {}
    for jit in (False, "auto"):
        nn.utils.set_random_seed(5)
        model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback to eager would warn
            model.fit(x, y, sample_weight=sample_weight, epochs=2, batch_size=16, verbose=0)
            model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, epochs=1, batch_size=16, verbose=0)
        runs[jit] = model
    assert runs["auto"]._captured_train_step.compiled.stats()
    for a, b in zip(runs[False].get_weights(), runs["auto"].get_weights()):
        assert np.array_equal(a, b)


def test_a_loss_converting_its_targets_sees_every_batch_s_targets():
    """Dice converts y_true with ``to_array`` then ``am.as_tensor``: the captured step reads each
    batch's targets (they were frozen at the first batch's when the wrapper became a leaf)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (rng.random((64, 3)) > 0.5).astype(np.float32)

    def fit(jit):
        nn.utils.set_random_seed(0)
        model = nn.Sequential([nn.Input((4,)), nn.Dense(3, activation="sigmoid")])
        model.compile(optimizer=nn.optimizers.SGD(0.1), loss=nn.losses.Dice(), jit_compile=jit)
        return model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"]

    assert fit("auto") == fit(False)
