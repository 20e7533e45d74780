"""MNIST from the four standard IDX ``.gz`` files, shaped as Keras returns it.

The files are looked for in ``path``, else ``$AUTOGRAD_MINI_DATA`` (or its ``mnist/``), else
``~/.cache/autograd_mini/mnist``. Missing files are downloaded into the cache from a public
mirror and checked against known MD5 sums; offline, the error says which files to put where.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

FILES = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}  # MD5 of the uncompressed contents
MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
CACHE = Path.home() / ".cache" / "autograd_mini" / "mnist"


def _candidates(path):
    if path is not None:
        return [Path(path)]
    found = []
    env = os.environ.get("AUTOGRAD_MINI_DATA")
    if env:
        found += [Path(env), Path(env) / "mnist"]
    return found + [CACHE]


def _read_idx(file: Path, expected_md5: str, magic: int) -> np.ndarray:
    try:
        with gzip.open(file, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"mnist: {file} is not a readable gzip file (truncated download?): {error}") from None
    digest = hashlib.md5(raw).hexdigest()
    if digest != expected_md5:
        raise ValueError(
            f"mnist: {file} has MD5 {digest} after decompression, expected {expected_md5}; delete it and fetch it again"
        )
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"mnist: {file} starts with magic {found:#010x}, expected {magic:#010x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def _download(folder: Path, missing: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in missing:
        try:
            import urllib.request  # (here: it costs ``import nn`` 15 ms)

            with urllib.request.urlopen(MIRROR + name, timeout=30) as response:
                data = response.read()
        except OSError as error:
            raise FileNotFoundError(
                f"mnist: {', '.join(missing)} not found and could not be downloaded from {MIRROR} ({error}). "
                f"Offline, put the four MNIST files ({', '.join(FILES)}) in a folder and pass "
                f"load_data(path=that_folder), or set AUTOGRAD_MINI_DATA, or copy them to {CACHE}"
            ) from None
        (folder / name).write_bytes(data)


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 28, 28) and uint8 labels (n,)."""
    folder = next((p for p in _candidates(path) if all((p / f).exists() for f in FILES)), None)
    if folder is None:
        if path is not None:
            missing = [f for f in FILES if not (Path(path) / f).exists()]
            raise FileNotFoundError(
                f"mnist: {', '.join(missing)} not found in {path}; it must hold the four MNIST files {', '.join(FILES)}"
            )
        folder = CACHE
        _download(folder, [f for f in FILES if not (folder / f).exists()])
    x_train = _read_idx(folder / "train-images-idx3-ubyte.gz", FILES["train-images-idx3-ubyte.gz"], 0x803)
    y_train = _read_idx(folder / "train-labels-idx1-ubyte.gz", FILES["train-labels-idx1-ubyte.gz"], 0x801)
    x_test = _read_idx(folder / "t10k-images-idx3-ubyte.gz", FILES["t10k-images-idx3-ubyte.gz"], 0x803)
    y_test = _read_idx(folder / "t10k-labels-idx1-ubyte.gz", FILES["t10k-labels-idx1-ubyte.gz"], 0x801)
    return (x_train, y_train), (x_test, y_test)
