"""Fashion-MNIST from its four IDX ``.gz`` files (the same names and layout as MNIST's).

nn never downloads it: the files are read from ``path``, else ``$AUTOGRAD_MINI_DATA/fashion_mnist``,
else ``~/.cache/autograd_mini/fashion_mnist``; when they are absent the error names the files
and where they go (Keras fetches them from storage.googleapis.com/tensorflow/tf-keras-datasets/).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CACHE = Path.home() / ".cache" / "autograd_mini" / "fashion_mnist"
_MAX_BYTES = 200 * 2**20  # the images are 47 MB uncompressed


def _candidates(path) -> list[Path]:
    if path is not None:
        return [Path(path)]
    env = os.environ.get("AUTOGRAD_MINI_DATA")
    return ([Path(env) / "fashion_mnist", Path(env)] if env else []) + [CACHE]


def read_idx(file: Path, magic: int) -> np.ndarray:
    """A uint8 IDX array; a damaged file gives a ValueError naming it (sizes checked before use)."""
    try:
        with gzip.open(file, "rb") as f:
            raw = f.read(_MAX_BYTES + 1)
    except (OSError, EOFError) as error:
        raise ValueError(f"{file} is not a readable gzip file: {error}") from None
    if len(raw) > _MAX_BYTES or len(raw) < 8 or int.from_bytes(raw[:4], "big") != magic:
        raise ValueError(f"{file} is not an IDX file with magic {magic:#010x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if 4 + 4 * ndim + int(np.prod(dims)) != len(raw):
        raise ValueError(f"{file}: the header says {dims}, which does not match its {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 28, 28), uint8 labels (n,), as Keras."""
    folder = next((p for p in _candidates(path) if all((p / f).exists() for f in FILES)), None)
    if folder is None:
        places = ", ".join(str(p) for p in _candidates(path))
        raise FileNotFoundError(
            f"fashion_mnist: nn reads the four Fashion-MNIST files ({', '.join(FILES)}) from a local folder and "
            f"never downloads them; none of {places} holds all four. Get them from "
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/ and pass load_data(path=folder) "
            "or set AUTOGRAD_MINI_DATA"
        )
    x_train = read_idx(folder / FILES[0], 0x803)
    y_train = read_idx(folder / FILES[1], 0x801)
    x_test = read_idx(folder / FILES[2], 0x803)
    y_test = read_idx(folder / FILES[3], 0x801)
    return (x_train, y_train), (x_test, y_test)
