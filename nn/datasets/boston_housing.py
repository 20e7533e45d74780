"""The Boston housing regression data from Keras' ``boston_housing.npz`` (arrays ``x``, ``y``).

nn never downloads it: ``path`` (Keras' default name ``boston_housing.npz``) is looked for as
given, then in ``$AUTOGRAD_MINI_DATA`` and ``~/.cache/autograd_mini``. The split is Keras':
shuffled with ``np.random.RandomState(seed)``, the first ``1 - test_split`` for training.
The file is read without pickle.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"


def _find(path) -> Path | None:
    candidates = [Path(path)]
    env = os.environ.get("AUTOGRAD_MINI_DATA")
    if env:
        candidates.append(Path(env) / Path(path).name)
    candidates.append(Path.home() / ".cache" / "autograd_mini" / Path(path).name)
    return next((p for p in candidates if p.is_file()), None)


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """((x_train, y_train), (x_test, y_test)): float64 features (n, 13) and prices (n,), Keras' split."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1.")
    file = _find(path)
    if file is None:
        raise FileNotFoundError(
            f"boston_housing: {path} not found (nn never downloads); get it from {ORIGIN} and pass "
            "load_data(path=that_file), or put it in $AUTOGRAD_MINI_DATA or ~/.cache/autograd_mini"
        )
    try:
        with np.load(file, allow_pickle=False) as f:
            x, y = np.asarray(f["x"]), np.asarray(f["y"])
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"boston_housing: {file} is not an npz with arrays x and y: {error}") from None
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"boston_housing: {file} holds x {x.shape} and y {y.shape}; expected (n, features) and (n,)")
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut].copy(), y[:cut].copy()), (x[cut:].copy(), y[cut:].copy())
