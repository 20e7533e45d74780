"""The lecture's Keras scripts (examples/keras_*.py) run with only their imports changed."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keras_iris(capsys):
    result = load("keras_iris").main(["--quick"])
    out = capsys.readouterr().out
    assert "Total params: 91 (364.00 B)" in out
    assert set(result["history"]) == {
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    }
    assert result["accuracy"] >= 0.7


def test_keras_x_squared(capsys):
    result = load("keras_x_squared").main(["--quick"])
    assert result["linear"].shape == (3, 1) and result["linear"].dtype == np.float32
    assert "predict([4, 11, 20])" in capsys.readouterr().out


def test_keras_mnist_mlp(mnist_dir, capsys):
    result = load("keras_mnist_mlp").main(["--quick", "--data", str(mnist_dir)])
    out = capsys.readouterr().out
    assert "Total params: 669,706 (2.55 MB)" in out
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result["score"][1] > 0.7


def test_keras_mnist_flatten(mnist_dir, tmp_path):
    result = load("keras_mnist_flatten").main(["--quick", "--data", str(mnist_dir), "--out", str(tmp_path)])
    assert result["scores"][1] > 0.8
    assert result["restored_scores"] == result["scores"]
