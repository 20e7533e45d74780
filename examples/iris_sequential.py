"""Keras-style iris: Sequential 4-8-4-3 (91 params), SGD lr 0.1, sparse categorical cross-entropy,
fit / evaluate / predict. Features are standardized with the training set's mean and std."""

from __future__ import annotations

import sys

from lecture import iris_sequential

import nn

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
from _common import options, out_dir


def main(argv=None):
    parser = options(__doc__.splitlines()[0], argv)
    args = parser.parse_args(argv)
    model, history, _ = iris_sequential(epochs=100)  # 0.2 s: --quick changes nothing
    folder = out_dir(args.out, "iris_sequential")
    print(f"training curves written to {nn.plot_history(history, folder / 'history.png')}")
    return model, history


if __name__ == "__main__":
    main()
