"""The lecture's low-level iris loop with a hidden layer: 4-16(relu)-3 softmax, tensors and backward().

Same data and schedule as iris_softmax.py: np.random.seed(612), W1 = randn(4, 16),
W2 = randn(16, 3), zero biases, learning rate 0.5, 51 iterations, printing every 10th.
"""

from __future__ import annotations

import sys

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir
from lecture import iris_loop, plot_iris_curves


def main(argv=None):
    args = options(__doc__.splitlines()[0], argv).parse_args(argv)
    rows = iris_loop(hidden=16)
    path = plot_iris_curves(rows, out_dir(args.out, "iris_mlp") / "curves.png", "iris: 4-16-3 relu network")
    print(f"curves written to {path}")
    return rows


if __name__ == "__main__":
    main()
