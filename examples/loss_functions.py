"""The lecture's loss functions: MSE, cross-entropy, the binary cross-entropy table, and CE curves."""

from __future__ import annotations

import sys

import numpy as np

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir, pyplot, save_plot


def x_entropy(y, p, epsilon=1e-6):
    """Binary cross-entropy of one prediction, with the lecture's clipping epsilon."""
    p = min(max(p, epsilon), 1 - epsilon)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)))


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    mse = float(nn.losses.MeanSquaredError()(np.array([2.0, 3.0, 4.0]), np.array([1.9, 2.8, 3.7])).item())
    print(f"MSE([1.9, 2.8, 3.7], [2, 3, 4]) = {mse!r}")
    print(f"x_entropy(1, 0.99) = {x_entropy(1, 0.99)!r}")
    print(f"{'y':>3} {'p':>8} {'cross-entropy':>14}")
    table = []
    for y in (0, 1):
        for p in (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0):
            table.append((y, p, x_entropy(y, p)))
            print(f"{y:>3} {p:>8} {table[-1][2]:>14.6f}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ps = np.linspace(0.001, 0.999, 300)
    for y in (0, 1):
        ax.plot(ps, [x_entropy(y, p) for p in ps], label=f"y = {y}")
    ax.set_xlabel("predicted p")
    ax.set_ylabel("cross-entropy")
    ax.legend()
    ax.grid(alpha=0.3)
    path = save_plot(fig, out_dir(args.out, "loss_functions") / "cross_entropy.png")
    print(f"curves written to {path}")
    return {"mse": mse, "x_entropy": x_entropy(1, 0.99), "table": table}


if __name__ == "__main__":
    main()
