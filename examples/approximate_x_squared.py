"""Approximating y = x^2: a single linear unit cannot; an 8-8-1 relu network (L2 0.001, Adam) on
10,000 points in [-50, 50] can; a 1-10-1 tanh network with SGD (lr 1e-3, 15,000 full-batch steps)
fits [-3, 3]. Both networks are then asked about points outside their training range.

--quick trains each network for a third of the steps (the figures are then rougher)."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot

RELU_QUERIES = np.array([4.0, -4.0, 11.0, 20.0, 8.0, -5.0])


def linear_unit(epochs=500):
    """Dense(1) on the integers -10..10: the best line through a parabola symmetric about 0 is flat."""
    nn.utils.set_random_seed(0)
    x = np.arange(-10, 11, dtype=np.float64)[:, None]
    model = nn.Sequential([nn.Input((1,)), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.5), loss="mse")
    model.fit(x, x**2, batch_size=len(x), epochs=epochs, verbose=0)
    return model, float(np.mean(x**2))  # least squares: slope 0, intercept mean(x^2)


def relu_network(epochs=60, seed=1):
    """8-8-1 relu with L2(0.001) kernels, Adam with a decaying rate, batch 32, on U(-50, 50).

    Training is seed-dependent (seed 3 of 1-3 leaves most relu units dead), so the seed is fixed."""
    nn.utils.set_random_seed(seed)
    x = np.random.default_rng(seed).uniform(-50, 50, size=(10_000, 1))
    l2 = nn.regularizers.l2(0.001)
    model = nn.Sequential(
        [
            nn.Input((1,)),
            nn.Dense(8, activation="relu", kernel_regularizer=l2),
            nn.Dense(8, activation="relu", kernel_regularizer=l2),
            nn.Dense(1),
        ]
    )
    schedule = nn.optimizers.schedules.ExponentialDecay(0.02, decay_steps=5000, decay_rate=0.5)
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=schedule), loss="mse")
    history = model.fit(x, x**2, batch_size=32, epochs=epochs, verbose=0)
    return model, history


def tanh_network(steps=15_000):
    """1-10-1 tanh, plain SGD lr 1e-3, full batch (200 points in [-3, 3]): one step per epoch."""
    nn.utils.set_random_seed(0)
    x = np.linspace(-3, 3, 200)[:, None]
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="tanh"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=1e-3), loss="mse")
    history = model.fit(x, x**2, batch_size=len(x), epochs=steps, verbose=0, shuffle=False)
    return model, history


def plot(relu, tanh, folder):
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, model, trained, shown, title in (
        (left, relu, 50, 80, "8-8-1 relu, trained on [-50, 50]"),
        (right, tanh, 3, 6, "1-10-1 tanh, trained on [-3, 3]"),
    ):
        grid = np.linspace(-shown, shown, 400)[:, None]  # new points, half of them outside the training range
        ax.plot(grid, grid**2, label="x^2")
        ax.plot(grid, model.predict(grid), "--", label="network")
        ax.axvspan(-trained, trained, color="0.9", label="training range")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    return save_plot(fig, folder / "x_squared.png")


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv, quick_help="a third of the training steps").parse_args(argv)
    scale = 3 if args.quick else 1
    linear, best_constant = linear_unit()
    guesses = linear.predict(np.array([[4.0], [11.0], [20.0]]))[:, 0]
    print(
        f"single linear unit on -10..10: predicts {', '.join(f'{g:.2f}' for g in guesses)} for 4, 11, 20 "
        f"(truth 16, 121, 400); the least-squares line is flat at mean(x^2) = {best_constant:.2f}"
    )
    relu, relu_history = relu_network(epochs=60 // scale)
    predictions = relu.predict(RELU_QUERIES[:, None])[:, 0]
    print(f"8-8-1 relu network (training MSE {relu_history.history['loss'][-1]:.1f} on targets up to 2500):")
    for x, p in zip(RELU_QUERIES, predictions):
        print(f"  x = {x:>5.0f}: predicted {p:8.2f}, x^2 = {x * x:6.0f}, error {p - x * x:+7.2f}")
    tanh, tanh_history = tanh_network(steps=15_000 // scale)
    print(
        f"1-10-1 tanh network after {len(tanh_history.history['loss'])} SGD steps: "
        f"MSE {tanh_history.history['loss'][-1]:.4f} on [-3, 3]"
    )
    outside = tanh.predict(np.array([[2.0], [4.0], [6.0]]))[:, 0]
    print(f"  x = 2, 4, 6 -> {', '.join(f'{v:.2f}' for v in outside)} (truth 4, 16, 36)")
    print(
        "Extrapolation: outside the training range a relu network continues its last linear piece and a tanh "
        "network saturates to a constant; neither knows the function is a parabola."
    )
    path = plot(relu, tanh, out_dir(args.out, "approximate_x_squared"))
    print(f"plots of both networks on new data written to {path}")
    return {
        "linear": guesses,
        "best_constant": best_constant,
        "relu": predictions,
        "tanh_mse": tanh_history.history["loss"][-1],
        "tanh_outside": outside,
    }


if __name__ == "__main__":
    main()
