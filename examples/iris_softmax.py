"""The lecture's low-level iris loop: softmax regression with tensors, backward() and a manual update.

Features centred by their own set's mean, float32, np.random.seed(612), W = randn(4, 3), zero
bias, learning rate 0.5, 51 iterations, printing every 10th, as the GradientTape original.
"""
from __future__ import annotations

import sys

import numpy as np

from nn.lecture import iris_loop

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot  # noqa: E402

def plot_curves(rows, path, title):
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
    return save_plot(fig, path)


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    rows = iris_loop()
    path = plot_curves(rows, out_dir(args.out, "iris_softmax") / "curves.png", "iris: softmax regression")
    print(f"curves written to {path}")
    return rows


if __name__ == "__main__":
    main()
