"""Fisher's iris data in the TensorFlow tutorial split (120 training, 30 test rows), embedded."""

from __future__ import annotations

from importlib import resources

import numpy as np

CLASS_NAMES = ("setosa", "versicolor", "virginica")
FEATURE_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def _read(name: str):
    text = resources.files(__package__).joinpath("data", name).read_text()
    rows = [line.split(",") for line in text.strip().splitlines()[1:]]  # first line: N,4,class names
    table = np.array(rows, dtype=np.float64)
    return table[:, :4], table[:, 4].astype(np.int64)


def load_data():
    """((x_train, y_train), (x_test, y_test)): float64 features (n, 4), int64 labels 0/1/2."""
    return _read("iris_training.csv"), _read("iris_test.csv")
