"""TF2-era and Keras 3 conveniences: lr=, backend.clear_session, local dataset loaders."""

import gzip

import numpy as np
import pytest

import nn


def test_lr_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="lr"):
        opt = nn.optimizers.SGD(lr=0.25)
    assert float(opt.learning_rate) == 0.25
    with pytest.warns(DeprecationWarning):
        assert float(nn.optimizers.Adam(lr=0.5).learning_rate) == 0.5
    with pytest.raises(ValueError, match="not both"):
        nn.optimizers.SGD(lr=0.1, learning_rate=0.2)


def test_clear_session_resets_names():
    nn.backend.clear_session()
    assert nn.layers.Dense(1).name == "dense"
    assert nn.layers.Dense(1).name == "dense_1"
    nn.backend.clear_session()
    assert nn.layers.Dense(1).name == "dense"
    assert nn.backend.floatx() == "float32" and nn.backend.epsilon() == 1e-7


def _idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_local_files_and_explains_when_absent(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        nn.datasets.fashion_mnist.load_data(path=tmp_path)
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    for name, array, magic in [
        ("train-images-idx3-ubyte.gz", images, 0x803),
        ("train-labels-idx1-ubyte.gz", np.array([1, 2, 3]), 0x801),
        ("t10k-images-idx3-ubyte.gz", images[:2], 0x803),
        ("t10k-labels-idx1-ubyte.gz", np.array([4, 5]), 0x801),
    ]:
        _idx(tmp_path / name, array, magic)
    (x, y), (xt, yt) = nn.datasets.fashion_mnist.load_data(path=tmp_path)
    assert x.shape == (3, 28, 28) and x.dtype == np.uint8 and list(yt) == [4, 5]
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x09"))
    with pytest.raises(ValueError, match="does not match"):
        nn.datasets.fashion_mnist.load_data(path=tmp_path)


def test_boston_housing_split_is_keras(tmp_path):
    x = np.arange(50 * 13, dtype=np.float64).reshape(50, 13)
    y = np.arange(50, dtype=np.float64)
    np.savez(tmp_path / "boston_housing.npz", x=x, y=y)
    (xtr, ytr), (xte, yte) = nn.datasets.boston_housing.load_data(path=str(tmp_path / "boston_housing.npz"))
    order = np.arange(50)
    np.random.RandomState(113).shuffle(order)  # Keras' split: shuffle with RandomState(seed), first 80% train
    np.testing.assert_array_equal(ytr, y[order[:40]])
    np.testing.assert_array_equal(xte, x[order[40:]])
    with pytest.raises(FileNotFoundError, match="never downloads"):
        nn.datasets.boston_housing.load_data(path=str(tmp_path / "missing.npz"))


def test_examples_accept_the_readme_flags(tmp_path):
    """README: every example takes [--quick] [--out DIR]; the argument parsers accept both."""
    import importlib.util
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples"
    for name in ("keras_iris", "keras_x_squared", "keras_mnist_mlp", "main"):
        source = (examples / f"{name}.py").read_text()
        assert '"--out"' in source and '"--quick"' in source, name
    spec = importlib.util.spec_from_file_location("keras_iris", examples / "keras_iris.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "keras_iris" / "history.json").exists()
