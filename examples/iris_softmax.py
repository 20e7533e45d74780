"""The lecture's low-level iris loop: softmax regression with tensors, backward() and a manual update.

Features centred by their own set's mean, float32, np.random.seed(612), W = randn(4, 3), zero
bias, learning rate 0.5, 51 iterations, printing every 10th, as the GradientTape original.
"""

from __future__ import annotations

import sys

from lecture import iris_loop, plot_iris_curves

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    rows = iris_loop()
    path = plot_iris_curves(rows, out_dir(args.out, "iris_softmax") / "curves.png", "iris: softmax regression")
    print(f"curves written to {path}")
    return rows


if __name__ == "__main__":
    main()
