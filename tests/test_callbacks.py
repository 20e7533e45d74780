"""Callbacks: Keras 3's semantics (driven side by side with installed Keras' callbacks on the same
logs where possible) and behaviour inside ``fit`` on small iris models."""

from __future__ import annotations

import io
import os
import types
import warnings

import numpy as np
import pytest

import nn

C = nn.callbacks


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras only in tests, on jax (never required)
    return pytest.importorskip("keras")


class FakeModel:
    """Just what callbacks touch: weights marked by epoch, stop_training, an optimizer, save calls."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.epoch = 0
        self.restored = []
        self.saved = []
        self.optimizer = types.SimpleNamespace(learning_rate=lr)

    def get_weights(self):
        return [np.array(float(self.epoch))]

    def set_weights(self, weights):
        self.restored.append(float(weights[0]))

    def save(self, filepath, overwrite=True):
        self.saved.append(filepath)

    save_weights = save


def drive(callback, values, key="val_loss", model=None):
    """Run ``callback`` over epochs whose logs hold ``values``; returns (model, stop epoch or None, logs)."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    stopped, all_logs = None, []
    for epoch, value in enumerate(values):
        model.epoch = epoch
        callback.on_epoch_begin(epoch, {})
        logs = {key: value, "loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        all_logs.append(logs)
        if model.stop_training:
            stopped = epoch
            break
    callback.on_train_end({})
    return model, stopped, all_logs


SEQUENCES = [
    [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9],
    [1.0, 0.99, 0.985, 0.984, 0.9839, 0.98, 0.97, 0.969, 0.968, 0.9],
    [0.5, 0.6, 0.7, 0.4, 0.41, 0.39, 0.45, 0.46, 0.47, 0.48],
]
EARLY_STOPPING = [
    {},
    {"patience": 2},
    {"patience": 2, "min_delta": 0.005},
    {"patience": 3, "restore_best_weights": True},
    {"patience": 1, "baseline": 0.95},
    {"patience": 2, "baseline": 0.5},  # improvements that miss the baseline do not reset the wait
    {"patience": 1, "start_from_epoch": 4, "restore_best_weights": True},
    {"patience": 2, "mode": "max", "restore_best_weights": True},
    {"patience": 20, "restore_best_weights": True},  # runs to the end: the best weights still come back
]


@pytest.mark.parametrize("kwargs", EARLY_STOPPING)
@pytest.mark.parametrize("values", SEQUENCES)
def test_early_stopping_matches_keras(keras, kwargs, values):
    ours = drive(C.EarlyStopping(**kwargs), values)
    theirs = drive(keras.callbacks.EarlyStopping(**kwargs), values)
    assert ours[1] == theirs[1]
    assert ours[0].restored == theirs[0].restored


REDUCE = [
    {"patience": 1},
    {"patience": 2, "factor": 0.5, "cooldown": 1},
    {"patience": 1, "factor": 0.5, "min_lr": 0.03, "min_delta": 0.05},
    {"patience": 1, "mode": "max", "factor": 0.2},
]


@pytest.mark.parametrize("kwargs", REDUCE)
@pytest.mark.parametrize("values", SEQUENCES)
def test_reduce_lr_on_plateau_matches_keras(keras, kwargs, values):
    _, _, ours = drive(C.ReduceLROnPlateau(**kwargs), values)
    _, _, theirs = drive(keras.callbacks.ReduceLROnPlateau(**kwargs), values)
    assert [logs["learning_rate"] for logs in ours] == pytest.approx([logs["learning_rate"] for logs in theirs])


CHECKPOINT = [
    {"filepath": "m-{epoch:02d}-{val_loss:.2f}.keras"},
    {"filepath": "best.keras", "save_best_only": True},
    {"filepath": "best.weights.h5", "save_best_only": True, "save_weights_only": True, "mode": "max"},
    {"filepath": "best.keras", "save_best_only": True, "initial_value_threshold": 0.92},
]


@pytest.mark.parametrize("kwargs", CHECKPOINT)
@pytest.mark.parametrize("values", SEQUENCES)
def test_model_checkpoint_saves_match_keras(keras, tmp_path, kwargs, values):
    kwargs = {**kwargs, "filepath": str(tmp_path / kwargs["filepath"])}
    ours = drive(C.ModelCheckpoint(**kwargs), values)[0].saved
    theirs = drive(keras.callbacks.ModelCheckpoint(**kwargs), values)[0].saved
    assert ours == theirs and ours


def test_model_checkpoint_batch_frequency(keras, tmp_path):
    def batches(cb):
        model = FakeModel()
        cb.set_model(model)
        cb.on_train_begin()
        for epoch in range(3):
            cb.on_epoch_begin(epoch)
            for batch in range(4):
                cb.on_train_batch_end(batch, {"loss": 1.0})
            cb.on_epoch_end(epoch, {"loss": 1.0})
        return model.saved

    path = str(tmp_path / "e{epoch}-b{batch}.keras")
    assert batches(C.ModelCheckpoint(path, save_freq=3)) == batches(keras.callbacks.ModelCheckpoint(path, save_freq=3))


def test_csv_logger_matches_keras(keras, tmp_path):
    rows = [{"loss": 0.5, "accuracy": 0.7}, {"loss": 0.25, "accuracy": 0.75}]
    for sep, logs_list in ((",", rows), (";", [dict(r, val_loss=r["loss"] + 1) for r in rows])):
        texts = []
        for module in (C, keras.callbacks):
            path = tmp_path / f"{module.__name__}.csv"
            for append in (False, True):  # a second run appends rows without a second header
                logger = module.CSVLogger(str(path), separator=sep, append=append)
                logger.set_model(FakeModel())
                logger.on_train_begin({})
                for epoch, logs in enumerate(logs_list):
                    logger.on_epoch_end(epoch, dict(logs))
                logger.on_train_end({})
            texts.append(path.read_bytes())
        assert texts[0] == texts[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.callbacks.csv", "nn.callbacks.csv"]  # no temp files


def test_terminate_on_nan():
    model = FakeModel()
    cb = C.TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3"):
        C.TerminateOnNaN(raise_error=True).on_train_batch_end(3, {"loss": float("inf")})


@pytest.mark.parametrize(
    "make",
    [
        lambda path: C.EarlyStopping(monitor="val_nope", mode="min"),
        lambda path: C.ReduceLROnPlateau(monitor="val_nope", mode="min"),
        lambda path: C.ModelCheckpoint(path / "x.keras", monitor="val_nope", mode="min", save_best_only=True),
    ],
)
def test_missing_monitor_warns_and_continues(make, tmp_path):
    cb = make(tmp_path)
    with pytest.warns(UserWarning, match="val_nope"):
        _, stopped, _ = drive(cb, [1.0, 1.0, 1.0], key="val_loss")
    assert stopped is None


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="must end in `.keras`"):
        C.ModelCheckpoint("model.txt")
    with pytest.raises(ValueError, match=".weights.h5"):
        C.ModelCheckpoint("model.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="save_freq"):
        C.ModelCheckpoint("m.keras", save_freq="batch")
    with pytest.raises(ValueError, match="factor >= 1.0"):
        C.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        C.BackupAndRestore("")
    with pytest.raises(ValueError, match="maximized or minimized"):
        drive(C.EarlyStopping(monitor="val_something"), [1.0], key="val_something")


# ---- inside fit (small iris models) --------------------------------------------------------------------
def iris():
    (x, y), (xt, yt) = nn.datasets.iris.load_data()
    mean, std = x.mean(0), x.std(0)
    return ((x - mean) / std).astype(np.float32), y, ((xt - mean) / std).astype(np.float32), yt


def small_model(optimizer=None, seed=0):
    nn.utils.set_random_seed(seed)
    model = nn.Sequential(
        [nn.Input((4,)), nn.layers.Dense(8, activation="relu"), nn.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=optimizer or nn.optimizers.SGD(0.1, momentum=0.5), loss="sparse_categorical_crossentropy")
    return model


def test_hooks_are_called_in_order():
    x, y, xt, yt = iris()
    seen = []
    recorder = C.LambdaCallback(
        on_train_begin=lambda logs: seen.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: seen.append(f"epoch_begin {epoch}"),
        on_train_batch_end=lambda batch, logs: seen.append(f"batch {batch}"),
        on_epoch_end=lambda epoch, logs: seen.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: seen.append("train_end"),
    )
    small_model().fit(x, y, epochs=2, batch_size=60, verbose=0, validation_data=(xt, yt), callbacks=[recorder])
    expected = []
    for epoch in range(2):
        expected += [f"epoch_begin {epoch}", "batch 0", "batch 1", f"epoch_end {epoch} ['loss', 'val_loss']"]
    assert seen == ["train_begin", *expected, "train_end"]


def test_early_stopping_restores_best_weights_in_fit():
    x, y, xt, yt = iris()
    model = small_model()
    snapshots = []
    keep = C.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append((logs["val_loss"], model.get_weights())))
    stopper = C.EarlyStopping(monitor="val_loss", mode="max", patience=100, restore_best_weights=True)
    model.fit(x, y, epochs=6, batch_size=32, verbose=0, validation_data=(xt, yt), callbacks=[keep, stopper])
    best = max(range(len(snapshots)), key=lambda i: snapshots[i][0])
    assert best != len(snapshots) - 1  # the worst (max) val_loss is early: restoring matters
    for w, v in zip(model.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(w, v)
    assert stopper.stopped_epoch == 0


def test_learning_rate_scheduler_both_signatures():
    x, y, _, _ = iris()
    for schedule, expected in (
        (lambda epoch: 0.1 / (epoch + 1), [0.1, 0.05, 0.1 / 3]),
        (lambda epoch, lr: lr * 0.5, [0.1, 0.05, 0.025]),
    ):
        model = small_model(nn.optimizers.SGD(0.2))
        history = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.LearningRateScheduler(schedule)])
        assert history.history["learning_rate"] == pytest.approx(expected)
        assert model.optimizer.learning_rate == pytest.approx(expected[-1])
    model = small_model()
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[C.LearningRateScheduler(lambda epoch: "fast")])


def test_model_checkpoint_in_fit_creates_folders_and_formats(tmp_path):
    x, y, xt, yt = iris()
    pattern = tmp_path / "a" / "b" / "w-{epoch:02d}-{val_loss:.2f}.weights.npz"
    model = small_model()
    folder_ready = []
    check = C.LambdaCallback(on_train_begin=lambda logs: folder_ready.append((tmp_path / "a" / "b").is_dir()))
    cb = C.ModelCheckpoint(pattern, save_weights_only=True)
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(xt, yt), callbacks=[cb, check])
    assert folder_ready == [True]
    names = sorted(p.name for p in pattern.parent.iterdir())
    assert names == [f"w-{e + 1:02d}-{v:.2f}.weights.npz" for e, v in enumerate(history.history["val_loss"])]
    model.load_weights(str(pattern.parent / names[-1]))


def test_csv_logger_in_fit_each_epoch_complete(tmp_path):
    x, y, xt, yt = iris()
    path = tmp_path / "log.csv"
    lines_after = []
    cb = C.CSVLogger(path)
    peek = C.LambdaCallback(on_epoch_end=lambda epoch, logs: lines_after.append(path.read_text().splitlines()))
    small_model().fit(x, y, epochs=3, verbose=0, validation_data=(xt, yt), callbacks=[cb, peek])
    assert [len(lines) for lines in lines_after] == [2, 3, 4]
    assert lines_after[-1][0] == "epoch,loss,val_loss"
    assert [line.split(",")[0] for line in lines_after[-1][1:]] == ["0", "1", "2"]


def test_backup_and_restore_resumes(tmp_path):
    x, y, _, _ = iris()
    backup = tmp_path / "backup"

    class Crash(C.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    reference = small_model(nn.optimizers.Adam(0.01))
    reference.fit(x, y, epochs=4, verbose=0, shuffle=False)

    model = small_model(nn.optimizers.Adam(0.01))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, verbose=0, shuffle=False, callbacks=[C.BackupAndRestore(backup), Crash()])
    assert os.listdir(backup) == ["latest.backup.npz"]

    fresh = small_model(nn.optimizers.Adam(0.01), seed=1)  # other weights: all must come from the backup
    epochs = []
    fresh.fit(
        x,
        y,
        epochs=4,
        verbose=0,
        shuffle=False,
        callbacks=[C.BackupAndRestore(backup), C.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))],
    )
    assert not backup.exists()  # deleted at the end of a finished run
    assert epochs == [2, 3]
    assert fresh.optimizer.iterations == reference.optimizer.iterations
    for a, b in zip(fresh.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_restores_weights_and_optimizer_state(tmp_path):
    x, y, _, _ = iris()
    model = small_model(nn.optimizers.Adam(0.01))
    cb = C.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    other = small_model(nn.optimizers.Adam(0.01), seed=3)
    other.optimizer.build([p for p in other.parameters() if p.trainable])
    restore = C.BackupAndRestore(tmp_path)
    restore.set_model(other)
    restore.on_train_begin()
    assert other._initial_epoch == 2
    assert other.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(other.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_history_callback_list_and_progbar():
    model = FakeModel()
    history = C.History()
    stream = io.StringIO()
    progbar = C.ProgbarLogger(stream=stream)
    callbacks = C.CallbackList([progbar], add_history=True, add_progbar=True, model=model, verbose=2, epochs=2, steps=3)
    assert len(callbacks) == 2 and isinstance(model.history, C.History)
    callbacks.on_train_begin()
    for epoch in range(2):
        callbacks.on_epoch_begin(epoch)
        for batch in range(3):
            callbacks.on_train_batch_begin(batch)
            callbacks.on_train_batch_end(batch, {"loss": 0.5})
        callbacks.on_epoch_end(epoch, {"loss": 0.5 - epoch / 10})
    callbacks.on_train_end()
    assert model.history.history == {"loss": [0.5, 0.4]} and model.history.epoch == [0, 1]
    out = stream.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "3/3" in out
    history.set_model(model)
    history.on_train_begin()
    assert history.epoch == []


def test_swap_ema_weights():
    p = nn.Parameter(np.zeros(2))
    opt = nn.optimizers.SGD([p], learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(2):
        opt.apply([np.ones(2)], [p])
    raw, avg = p.data.copy(), opt.variables[2].copy()
    model = FakeModel()
    model.optimizer = opt
    cb = C.SwapEMAWeights()
    cb.set_model(model)
    cb.on_test_begin()
    np.testing.assert_array_equal(p.data, avg)
    cb.on_test_end()
    np.testing.assert_array_equal(p.data, raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb.on_train_end()
    np.testing.assert_array_equal(p.data, raw)
