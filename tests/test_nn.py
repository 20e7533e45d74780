"""nn against numpy references of the Keras definitions; fit/evaluate/predict semantics; save/load; bad input."""

import numpy as np
import pytest

import autograd_mini as am
import nn


@pytest.fixture(autouse=True)
def fresh_names():
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)


def small_model(units_out=3, activation="softmax"):
    return nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(units_out, activation=activation)])


# ---- summary and structure -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "layers, total",
    [
        (
            [
                nn.Input((784,)),
                nn.Dense(512, activation="relu"),
                nn.Dropout(0.2),
                nn.Dense(512, activation="relu"),
                nn.Dropout(0.2),
                nn.Dense(10, activation="softmax"),
            ],
            "669,706",
        ),
        (
            [nn.Flatten(input_shape=(28, 28)), nn.Dense(128, activation="relu"), nn.Dense(10, activation="softmax")],
            "101,770",
        ),
        ([nn.Input((4,)), nn.Dense(8), nn.Dense(4), nn.Dense(3)], "91"),
        (
            [nn.Input((784,))]
            + [nn.Dense(u, activation="tanh") for u in (2500, 2000, 1500, 1000, 500)]
            + [nn.Dense(10)],
            "11,972,510",
        ),
    ],
)
def test_summary_totals(layers, total, capsys):
    model = nn.Sequential(layers)
    model.summary()
    assert f"Total params: {total}" in capsys.readouterr().out
    assert all(not isinstance(layer, nn.InputLayer) for layer in model.layers)


def test_named_parameters_are_dotted_and_stable():
    model = small_model()
    assert [name for name, _ in model.named_parameters()] == [
        "dense.kernel",
        "dense.bias",
        "dense_1.kernel",
        "dense_1.bias",
    ]


def test_get_set_weights_keras_order_and_shape_check():
    model = small_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    with pytest.raises(ValueError, match=r"dense.kernel' has shape \(4, 8\), got an array of shape \(8, 4\)"):
        model.layers[0].set_weights([np.zeros((8, 4)), np.zeros(8)])


# ---- layers against numpy --------------------------------------------------------------------------
def test_dense_matches_numpy_and_stays_float32():
    layer = nn.Dense(3, activation="tanh")
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    y = layer(x)
    expected = np.tanh(x @ layer.kernel.data + layer.bias.data)
    np.testing.assert_allclose(y.data, expected, rtol=1e-6)
    assert y.dtype == np.float32
    y.sum().backward()
    assert layer.kernel.grad.dtype == np.float32


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid"])
def test_fused_dense_gradients(activation):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    assert am.gradcheck(lambda x, w, b: nn.dense(x, w, b, activation), (x, w, b))
    assert am.gradgradcheck(lambda x, w, b: nn.dense(x, w, b, activation), (x, w, b))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_fused_softmax_cross_entropy_gradients(shape):
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal(shape), rng.uniform(0.1, 1.0, shape)  # unnormalized soft targets
    assert am.gradcheck(nn.fused_cross_entropy.softmax_cross_entropy, (z, y))
    assert am.gradgradcheck(nn.fused_cross_entropy.softmax_cross_entropy, (z, y))
    zt = am.tensor(z, requires_grad=True)
    loss = nn.fused_cross_entropy.softmax_cross_entropy(zt, y)
    expected = -(y * (z - np.log(np.exp(z).sum(-1, keepdims=True)))).sum(-1).mean()
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    loss.backward()
    reference = am.tensor(z, requires_grad=True)
    (-(am.log_softmax(reference, -1) * y).sum(axis=-1).mean()).backward()
    np.testing.assert_allclose(zt.grad.data, reference.grad.data, rtol=1e-12, atol=1e-15)


def test_dropout_is_inverted_and_training_only():
    layer = nn.Dropout(0.5)
    x = am.tensor(np.ones((1000, 10), np.float32))
    out = layer(x, training=True).data
    assert set(np.unique(out)) <= {0.0, 2.0} and abs(out.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(layer(x, training=False).data, x.data)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.001, 0.37])  # 16-bit thresholds, and float uniforms
def test_dropout_drops_at_its_rate(rate):
    nn.utils.set_random_seed(0)
    layer = nn.Dropout(rate)
    out = layer(am.tensor(np.ones((1000, 1000), np.float32)), training=True).data
    dropped = float(np.mean(out == 0))
    assert abs(dropped - rate) < 5 * np.sqrt(rate * (1 - rate) / out.size)  # 5 sigma
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
    if layer._threshold16 is not None:
        assert 0 <= layer._threshold16 / 65536 - rate < 2**-16


def test_activation_layers():
    x = am.tensor(np.array([[-2.0, 3.0]], np.float32))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [[-0.2, 3.0]])
    np.testing.assert_allclose(nn.Softmax()(x).data.sum(), 1.0, rtol=1e-6)
    prelu = nn.PReLU()
    np.testing.assert_allclose(prelu(x).data, [[0.0, 3.0]])  # alpha starts at 0
    assert prelu.count_params() == 2
    rrelu = nn.RReLU(0.1, 0.3)
    np.testing.assert_allclose(rrelu(x, training=False).data, [[-0.4, 3.0]], rtol=1e-6)
    assert -0.6 <= rrelu(x, training=True).data[0, 0] <= -0.2


# ---- losses --------------------------------------------------------------------------------------------
def test_losses_match_keras_definitions():
    y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    expected_cce = -np.mean(np.sum(y_true * np.log(y_pred), axis=-1))
    assert float(nn.losses.CategoricalCrossentropy()(y_true, y_pred)) == pytest.approx(expected_cce)
    assert float(nn.losses.SparseCategoricalCrossentropy()(np.array([1, 0]), y_pred)) == pytest.approx(expected_cce)
    assert float(nn.losses.MeanSquaredError()(y_true, y_pred)) == pytest.approx(np.mean((y_true - y_pred) ** 2))
    assert float(nn.losses.MeanAbsoluteError()(y_true, y_pred)) == pytest.approx(np.mean(np.abs(y_true - y_pred)))
    p, y = np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]])
    expected_bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(nn.losses.BinaryCrossentropy()(y, p)) == pytest.approx(expected_bce)


@pytest.mark.parametrize("kind", ["softmax", "sigmoid"])
def test_fused_cross_entropy_is_finite_at_huge_logits(kind):
    logits = am.tensor(np.array([[1e4, -1e4, 0.0]]), requires_grad=True)
    probs = am.softmax(logits) if kind == "softmax" else am.sigmoid(logits)
    probs._keras_logits = logits  # as the Dense/Activation layer marks its output (Keras 3)
    if kind == "softmax":
        loss = nn.losses.CategoricalCrossentropy()(np.array([[0.0, 1.0, 0.0]]), probs)
        expected = 2e4  # -log_softmax at the true class
    else:
        loss = nn.losses.BinaryCrossentropy()(np.array([[0.0, 1.0, 1.0]]), probs)
        expected = (1e4 + 1e4 + np.log(2)) / 3
    loss.backward()
    assert float(loss) == pytest.approx(expected) and np.all(np.isfinite(logits.grad.data))


def test_fused_equals_unfused_where_finite():
    logits = np.array([[2.0, -1.0, 0.5]])
    y = np.array([[0.0, 0.0, 1.0]])
    marked = am.softmax(am.tensor(logits, requires_grad=True))
    marked._keras_logits = am.tensor(logits)
    fused = float(nn.losses.CategoricalCrossentropy()(y, marked))
    # unmarked: the probabilities path with Keras' clipping
    plain = float(nn.losses.CategoricalCrossentropy()(y, am.softmax(am.tensor(logits))))
    assert fused == pytest.approx(plain, rel=1e-12)


# ---- optimizers against hand-written update rules -------------------------------------------------------
def run_optimizer(opt_cls, steps=3, **kwargs):
    p = nn.Parameter(np.array([1.0, -2.0, 3.0]))
    opt = opt_cls([p], **kwargs)
    trajectory = []
    for _ in range(steps):
        p.grad = am.tensor(2 * p.data)  # gradient of sum(p^2)
        opt.step()
        trajectory.append(p.data.copy())
    return trajectory


def reference(rule, steps=3):
    p = np.array([1.0, -2.0, 3.0])
    state = {}
    out = []
    for t in range(1, steps + 1):
        p = rule(p, 2 * p, state, t)
        out.append(p.copy())
    return out


def sgd_momentum(p, g, s, t, lr=0.1, m=0.9, nesterov=False):
    v = s.get("v", np.zeros_like(p))
    v = m * v - lr * g
    s["v"] = v
    return p + (m * v - lr * g if nesterov else v)


def rmsprop(p, g, s, t, lr=0.01, rho=0.9, eps=1e-7):
    v = s.get("v", np.zeros_like(p))
    v = rho * v + (1 - rho) * g * g
    s["v"] = v
    return p - lr * g / np.sqrt(v + eps)


def adam(p, g, s, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    m, v = s.get("m", np.zeros_like(p)), s.get("v", np.zeros_like(p))
    m = m + (g - m) * (1 - b1)
    v = v + (g * g - v) * (1 - b2)
    s["m"], s["v"] = m, v
    return p - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)


def adagrad(p, g, s, t, lr=0.01, eps=1e-7):
    a = s.get("a", np.full_like(p, 0.1)) + g * g
    s["a"] = a
    return p - lr * g / np.sqrt(a + eps)


def adadelta(p, g, s, t, lr=1.0, rho=0.95, eps=1e-7):
    a, d = s.get("a", np.zeros_like(p)), s.get("d", np.zeros_like(p))
    a = rho * a + (1 - rho) * g * g
    delta = -np.sqrt(d + eps) * g / np.sqrt(a + eps)
    d = rho * d + (1 - rho) * delta * delta
    s["a"], s["d"] = a, d
    return p + lr * delta


@pytest.mark.parametrize(
    "opt, kwargs, rule",
    [
        (nn.optimizers.SGD, {"learning_rate": 0.1}, lambda p, g, s, t: p - 0.1 * g),
        (nn.optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9}, sgd_momentum),
        (
            nn.optimizers.SGD,
            {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
            lambda p, g, s, t: sgd_momentum(p, g, s, t, nesterov=True),
        ),
        (nn.optimizers.RMSprop, {"learning_rate": 0.01}, rmsprop),
        (nn.optimizers.Adam, {"learning_rate": 0.01}, adam),
        (nn.optimizers.Adagrad, {"learning_rate": 0.01}, adagrad),
        (nn.optimizers.Adadelta, {"learning_rate": 1.0}, adadelta),
        (
            nn.optimizers.AdamW,
            {"learning_rate": 0.01, "weight_decay": 0.1},
            lambda p, g, s, t: adam(p - p * 0.1 * 0.01, g, s, t),
        ),
    ],
)
def test_optimizer_steps_match_update_rules(opt, kwargs, rule):
    for ours, theirs in zip(run_optimizer(opt, **kwargs), reference(rule)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_keras_defaults_and_names():
    assert nn.optimizers.get("sgd").learning_rate == 0.01
    rms = nn.optimizers.get("rmsprop")
    assert (rms.learning_rate, rms.rho, rms.epsilon) == (0.001, 0.9, 1e-7)
    adam = nn.optimizers.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)


def test_clipnorm_and_schedules():
    p = nn.Parameter(np.array([3.0, 4.0]))
    opt = nn.optimizers.SGD([p], learning_rate=1.0, clipnorm=1.0)
    p.grad = am.tensor([3.0, 4.0])
    opt.step()
    np.testing.assert_allclose(p.data, [2.4, 3.2])
    schedule = nn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert schedule(10) == pytest.approx(0.05)
    assert nn.optimizers.schedules.PiecewiseConstantDecay([5], [1.0, 0.5])(6) == 0.5
    assert nn.optimizers.schedules.CosineDecay(1.0, 10)(10) == pytest.approx(0.0)
    assert nn.optimizers.schedules.InverseTimeDecay(1.0, 1, 1.0)(1) == 0.5


# ---- fit / evaluate / predict ------------------------------------------------------------------------------
def iris_scaled():
    (x, y), (xt, yt) = nn.datasets.iris.load_data()
    mean, std = x.mean(0), x.std(0)
    return (x - mean) / std, y, (xt - mean) / std, yt


def test_fit_history_validation_split_and_continuation():
    x, y, _, _ = iris_scaled()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 3
    again = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)  # Keras: a fresh History per fit
    assert len(again.history["loss"]) == 2 and again.epoch == [3, 4] and model.history is again
    assert len(history.history["loss"]) == 3


def test_validation_split_takes_the_last_samples():
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.zeros(10, dtype=np.int64)
    seen = []
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    original = model.test_step
    model.test_step = lambda data: (seen.append(data[0].copy()), original(data))[1]
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    np.testing.assert_array_equal(seen[0], x[8:])


def test_training_is_reproducible_under_a_seed():
    x, y, _, _ = iris_scaled()
    runs = []
    for _ in range(2):
        nn.utils.set_random_seed(42)
        model = nn.Sequential(
            [nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dropout(0.3), nn.Dense(3, activation="softmax")]
        )
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_evaluate_and_predict():
    x, y, xt, yt = iris_scaled()
    model = small_model()
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=30, verbose=0)
    loss, accuracy = model.evaluate(xt, yt, verbose=0)
    assert accuracy >= 0.9 and loss < 0.5
    probs = model.predict(xt)
    assert probs.shape == (30, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_regularization_is_in_the_reported_loss():
    x, y, _, _ = iris_scaled()
    model = nn.Sequential(
        [nn.Input((4,)), nn.Dense(3, activation="softmax", kernel_regularizer=nn.regularizers.l2(1.0))]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    plain = float(nn.losses.SparseCategoricalCrossentropy()(y, model.predict(x)))
    penalty = float(np.sum(model.layers[0].kernel.data.astype(np.float64) ** 2))
    assert model.evaluate(x, y, verbose=0, batch_size=200) == pytest.approx(plain + penalty, rel=1e-5)


def test_callbacks_early_stopping_and_lambda():
    x, y, _, _ = iris_scaled()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    epochs_seen = []
    stopper = nn.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # nothing improves by 10
    model.fit(
        x,
        y,
        epochs=20,
        verbose=0,
        callbacks=[stopper, nn.LambdaCallback(on_epoch_end=lambda e, logs: epochs_seen.append(e))],
    )
    assert len(epochs_seen) == 2


def test_custom_loop_with_module_parameters():
    x, y, _, _ = iris_scaled()
    model = small_model()
    opt = nn.optimizers.Adam(model.parameters(), learning_rate=0.05)
    loss_fn = nn.losses.SparseCategoricalCrossentropy()
    first = None
    for _ in range(50):
        loss = loss_fn(y, model(x.astype(np.float32)))
        model.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss)
    assert float(loss) < first / 3


# ---- save / load -------------------------------------------------------------------------------------------------
def test_save_load_round_trip_is_bit_exact(tmp_path):
    x, y, xt, _ = iris_scaled()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    model.save_weights(tmp_path / "w.npz")
    other = small_model()
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(xt), model.predict(xt))
    model.save(tmp_path / "model.npz")
    loaded = nn.load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(xt), model.predict(xt))
    assert loaded.evaluate(xt, y[:30], verbose=0) == model.evaluate(xt, y[:30], verbose=0)


def test_load_errors(tmp_path):
    model = small_model()
    model.save_weights(tmp_path / "w.npz")
    wrong = nn.Sequential([nn.Input((4,)), nn.Dense(9), nn.Dense(3)])
    with pytest.raises(ValueError, match=r"dense_2.kernel .*\(4, 9\).*\(4, 8\)"):
        wrong.load_weights(tmp_path / "w.npz")
    data = (tmp_path / "w.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        model.load_weights(tmp_path / "cut.npz")


# ---- bad input is refused before any training step ---------------------------------------------------------------
@pytest.mark.parametrize(
    "x, y, loss, units, match",
    [
        (np.ones((10, 4)), np.zeros(9), "sparse_categorical_crossentropy", 3, "10 samples, y has 9"),
        (np.ones((10, 5)), np.zeros(10), "sparse_categorical_crossentropy", 3, r"\(batch, 4\).*\(10, 5\)"),
        (np.ones((10, 4)), np.full(10, 3), "sparse_categorical_crossentropy", 3, r"\[0, 3\)"),
        (np.full((10, 4), np.nan), np.zeros(10), "sparse_categorical_crossentropy", 3, "NaN"),
        (np.ones((10, 4)), np.zeros((10, 1)), "categorical_crossentropy", 1, "1 unit"),
    ],
)
def test_bad_input_errors(x, y, loss, units, match):
    model = small_model(units_out=units, activation="softmax" if units > 1 else "sigmoid")
    model.compile(optimizer="sgd", loss=loss)
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mnist_loader_shapes(mnist_dir):
    (x, y), (xt, yt) = nn.datasets.mnist.load_data(mnist_dir)
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and yt.shape == (10000,)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_mnist_missing_files_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        nn.datasets.mnist.load_data(tmp_path)


def test_iris_embedded():
    (x, y), (xt, yt) = nn.datasets.iris.load_data()
    assert x.shape == (120, 4) and xt.shape == (30, 4) and set(y) == {0, 1, 2}


def test_torch_cross_check_of_one_training_step():
    torch = pytest.importorskip("torch")
    x, y, _, _ = iris_scaled()
    model = small_model()
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    w = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in model.get_weights()]
    model.fit(x[:32], y[:32], epochs=1, batch_size=32, shuffle=False, verbose=0)
    xt = torch.tensor(x[:32].astype(np.float32).astype(np.float64))
    logits = torch.relu(xt @ w[0] + w[1]) @ w[2] + w[3]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y[:32]))
    loss.backward()
    for ours, theirs in zip(model.get_weights(), w):
        np.testing.assert_allclose(ours, (theirs - 0.1 * theirs.grad).detach().numpy(), rtol=1e-4, atol=1e-6)
