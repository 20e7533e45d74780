"""Function approximation: learn f(x) = |x - 1/2|^2 on [-4, 4] with one hidden layer of 10 sigmoid
units, SGD with batch size 1 (the lecture's setup), and plot the fit and the error curves.

N = 1000 points from U(-4, 4) (np.random.seed(123)); hidden Dense(10, sigmoid) with a random_normal
kernel and zero bias; output Dense(1, use_bias=False); SGD learning rate 0.008; validation_split 0.2;
EPOCHS = int(M / (N * (1 - 0.2) / Nbatch)) with M = 40000 weight updates, i.e. 50 epochs.
--quick uses M = 8000 (10 epochs)."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot

N, K, NBATCH, SPLIT, LEARNING_RATE = 1000, 10, 1, 0.2, 0.008


def target(x):
    return np.abs(x - 0.5) ** 2


def data():
    np.random.seed(123)
    x = np.random.uniform(-4, 4, size=(N, 1))
    return x, target(x)


def build():
    return nn.Sequential(
        [
            nn.Input((1,)),
            nn.Dense(K, activation="sigmoid", kernel_initializer="random_normal", bias_initializer="zeros"),
            nn.Dense(1, use_bias=False, kernel_initializer="random_normal"),
        ]
    )


def run(updates=40000, seed=123, verbose=0):
    epochs = int(updates / (N * (1 - SPLIT) / NBATCH))
    x, y = data()
    nn.utils.set_random_seed(seed)
    model = build()
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=LEARNING_RATE), loss="mse")
    history = model.fit(x, y, batch_size=NBATCH, epochs=epochs, validation_split=SPLIT, verbose=verbose)
    return model, history, epochs


def plot(model, history, folder):
    plt = pyplot()
    grid = np.linspace(-4, 4, 300)[:, None]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(grid, target(grid), label="f(x) = |x - 1/2|^2")
    left.plot(grid, model.predict(grid), "--", label="network")
    left.set_xlabel("x")
    left.legend()
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    right.semilogy(epochs, history.history["loss"], label="training MSE")
    right.semilogy(epochs, history.history["val_loss"], label="validation MSE")
    right.set_xlabel("epoch")
    right.legend()
    return save_plot(fig, folder / "fit_and_error.png")


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv, quick_help="M = 8000 updates (10 epochs)").parse_args(argv)
    model, history, epochs = run(8000 if args.quick else 40000)
    model.summary()
    val = history.history["val_loss"]
    print(
        f"{epochs} epochs of {int(N * (1 - SPLIT))} batch-1 SGD steps: "
        f"training MSE {history.history['loss'][-1]:.4f}, validation MSE {val[-1]:.4f} (first epoch {val[0]:.4f})"
    )
    print(f"fit and error curves written to {plot(model, history, out_dir(args.out, 'approximate_square_distance'))}")
    return history


if __name__ == "__main__":
    main()
