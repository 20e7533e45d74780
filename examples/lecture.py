"""The lectures' iris training runs (used by the examples and the main job).

``iris_loop``: the low-level GradientTape-style loop (tensors, backward(), manual update) that
reproduces the lecture's printed tables; ``iris_sequential``: the Keras-style 4-8-4-3 model.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am
from nn import datasets, losses, optimizers, utils
from nn.layers import Dense, Input
from nn.models import Sequential

LINE = "i: %i, TrainAcc:%f, TrainLoss: %f ,TestAcc:%f, TestLoss: %f"


def load_centred():
    (x_train, y_train), (x_test, y_test) = datasets.iris.load_data()
    x_train = (x_train - x_train.mean(axis=0)).astype(np.float32)
    x_test = (x_test - x_test.mean(axis=0)).astype(np.float32)
    return x_train, y_train, x_test, y_test


def iris_loop(hidden: int | None = None, iterations: int = 50, learning_rate: float = 0.5, print_fn=print):
    """Run the loop; returns the history rows (i, train_acc, train_loss, test_acc, test_loss)."""
    x_train, y_train, x_test, y_test = load_centred()
    one_hot_train = np.eye(3, dtype=np.float32)[y_train]
    one_hot_test = np.eye(3, dtype=np.float32)[y_test]
    np.random.seed(612)
    if hidden is None:
        params = [
            am.tensor(np.random.randn(4, 3).astype(np.float32), requires_grad=True, name="W"),
            am.tensor(np.zeros(3, np.float32), requires_grad=True, name="B"),
        ]
    else:
        params = [
            am.tensor(np.random.randn(4, hidden).astype(np.float32), requires_grad=True, name="W1"),
            am.tensor(np.zeros(hidden, np.float32), requires_grad=True, name="B1"),
            am.tensor(np.random.randn(hidden, 3).astype(np.float32), requires_grad=True, name="W2"),
            am.tensor(np.zeros(3, np.float32), requires_grad=True, name="B2"),
        ]

    def predict(x):
        if hidden is None:
            return am.softmax(x @ params[0] + params[1])
        h = am.relu(x @ params[0] + params[1])
        return am.softmax(h @ params[2] + params[3])

    loss_fn = losses.CategoricalCrossentropy()
    rows = []
    for i in range(iterations + 1):
        pred_train = predict(am.tensor(x_train))
        loss_train = loss_fn(one_hot_train, pred_train)
        with am.no_grad():
            pred_test = predict(am.tensor(x_test))
            loss_test = loss_fn(one_hot_test, pred_test)
        acc_train = float(np.mean(pred_train.data.argmax(axis=1) == y_train))
        acc_test = float(np.mean(pred_test.data.argmax(axis=1) == y_test))
        for p in params:
            p.grad = None
        loss_train.backward()
        for p in params:
            p.data -= learning_rate * p.grad.data
        rows.append((i, acc_train, float(loss_train.item()), acc_test, float(loss_test.item())))
        if i % 10 == 0:
            print_fn(LINE % rows[-1])
    return rows


def iris_model():
    return Sequential(
        [
            Input((4,)),
            Dense(8, activation="relu"),
            Dense(4, activation="relu"),
            Dense(3, activation="softmax"),
        ]
    )


def iris_sequential(epochs=100, seed=612, verbose=0, print_fn=print):
    utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = datasets.iris.load_data()
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    model = iris_model()
    model.summary(print_fn=print_fn)
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=epochs, verbose=verbose, validation_data=(x_test, y_test)
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test[:5]).argmax(axis=1)
    print_fn(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    print_fn(f"first 5 test predictions {predicted.tolist()}, labels {y_test[:5].tolist()}")
    return model, history, accuracy


def plot_iris_curves(rows, path, title: str):
    """Loss and accuracy per iteration (train solid, test dashed) of an ``iris_loop`` run."""
    from pathlib import Path

    from _common import pyplot

    plt = pyplot()
    rows = np.array(rows)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(rows[:, 0], rows[:, 2], label="train loss")
    ax1.plot(rows[:, 0], rows[:, 4], "--", label="test loss")
    ax2.plot(rows[:, 0], rows[:, 1], label="train accuracy")
    ax2.plot(rows[:, 0], rows[:, 3], "--", label="test accuracy")
    for ax in (ax1, ax2):
        ax.set_xlabel("iteration")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
