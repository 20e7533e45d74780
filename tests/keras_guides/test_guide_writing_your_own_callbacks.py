"""keras-io guides/writing_your_own_callbacks.py, imports changed; MNIST replaced by small
random data of its shapes, weights set from a fixed RandomState."""

import numpy as np
import pytest
from guide_harness import run_and_compare, run_on_nn, set_weights_from

PROGRAMS = []


def program(fn):
    PROGRAMS.append(fn)
    return fn


def get_model(keras):
    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    model.add(keras.layers.Dense(1))
    set_weights_from(model, scale=0.01)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _data():
    rng = np.random.RandomState(0)
    return rng.random_sample((128, 784)).astype("float32"), rng.random_sample(128).astype("float32")


@program
def hook_order(keras, ops):
    events = []

    class CustomCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", sorted((logs or {}).keys())))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs.keys())))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("train_batch_end", batch, sorted(logs.keys())))

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test_batch_end", batch, sorted(logs.keys())))

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("predict_batch_end", batch))

    x_train, y_train = _data()
    model = get_model(keras)
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, validation_split=0.5, callbacks=[CustomCallback()])
    model.evaluate(x_train, y_train, batch_size=64, verbose=0, callbacks=[CustomCallback()])
    model.predict(x_train, batch_size=64, callbacks=[CustomCallback()], verbose=0)
    return {"events": [str(e) for e in events]}


@program
def loss_and_error_printing(keras, ops):
    lines = []

    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            lines.append(round(float(logs["loss"]), 4))

        def on_test_batch_end(self, batch, logs=None):
            lines.append(round(float(logs["loss"]), 4))

        def on_epoch_end(self, epoch, logs=None):
            lines.append(round(float(logs["mean_absolute_error"]), 4))

    x_train, y_train = _data()
    model = get_model(keras)
    model.fit(
        x_train, y_train, batch_size=128, epochs=2, verbose=0, shuffle=False, callbacks=[LossAndErrorPrintingCallback()]
    )
    model.evaluate(x_train, y_train, batch_size=128, verbose=0, callbacks=[LossAndErrorPrintingCallback()])
    return {"lines": lines}


@program
def early_stopping_at_min_loss(keras, ops):
    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            self.best_weights = None

        def on_train_begin(self, logs=None):
            self.wait = 0
            self.stopped_epoch = 0
            self.best = np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best = current
                self.wait = 0
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    self.model.set_weights(self.best_weights)

    x_train, y_train = _data()
    model = get_model(keras)
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=8, verbose=0, shuffle=False, callbacks=[EarlyStoppingAtMinLoss()]
    )
    return {"loss": history.history["loss"], "epochs": len(history.history["loss"])}


@program
def custom_learning_rate_scheduler(keras, ops):
    class CustomLearningRateScheduler(keras.callbacks.Callback):
        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            lr = self.model.optimizer.learning_rate
            scheduled_lr = self.schedule(epoch, lr)
            self.model.optimizer.learning_rate = scheduled_lr

    lr_schedule_table = [(1, 0.05), (2, 0.01)]

    def lr_schedule(epoch, lr):
        if epoch < lr_schedule_table[0][0] or epoch > lr_schedule_table[-1][0]:
            return lr
        for i in range(len(lr_schedule_table)):
            if epoch == lr_schedule_table[i][0]:
                return lr_schedule_table[i][1]
        return lr

    x_train, y_train = _data()
    model = get_model(keras)
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=4,
        verbose=0,
        shuffle=False,
        callbacks=[CustomLearningRateScheduler(lr_schedule)],
    )
    return {"loss": history.history["loss"], "lr": float(ops.convert_to_numpy(model.optimizer.learning_rate))}


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_runs_on_nn(prog):
    run_on_nn(prog)


@pytest.mark.slow
@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_figures_equal_keras(prog):
    run_and_compare(prog, rtol=1e-4, atol=1e-5)
