"""Saving and loading models and weights (``nn.saving``, as ``keras.saving``).

Formats, chosen by the file name (or ``save_format=``):

- ``.keras``: Keras 3's zip (config.json + metadata.json + model.weights.h5); Keras 3 reads
  nn's files and nn reads Keras' files for layers nn has. The main format.
- ``.weights.h5``: Keras 3's weights layout (``save_weights`` / ``load_weights``).
- ``.h5`` / ``.hdf5``: Keras 2's HDF5 layout (``model.save("m.h5")``, ``save_weights("w.h5")``).
- no extension, or ``save_format="tf"``: a single HDF5 file in Keras 3's weights layout (for
  ``save_weights``) or a ``.keras`` zip (for ``save``) at exactly that path. It round-trips
  within nn; TensorFlow cannot read it (it is not a TensorFlow checkpoint).
- ``.npz``: nn's own numpy archive (arrays + a JSON config), kept as an option.
- ``export(..., format="onnx")``: an ONNX graph for onnxruntime (``pip install autograd_mini[export]``).

Every write is atomic (``nn.saving.atomic``): a kill or a full disk leaves the old file whole.
Every refused file raises ``ValueError`` naming the file and the fault, before the model changes.
Loading reads data only (no pickle, nothing imported by name), within ``nn.saving.limits``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from . import limits, object_registration
from .errors import FileFormatError, file_error
from .object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = [
    "CustomObjectScope",
    "FileFormatError",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
    "export_model",
    "limits",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _kind(filepath, save_format, what: str) -> str:
    name = os.fspath(filepath)
    if not isinstance(name, str):
        raise TypeError(f"{what}: filepath must be a str or os.PathLike, got {type(filepath).__name__}")
    lower = name.lower()
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt in ("tf", "tensorflow"):
            return "tf"
        if fmt in ("h5", "hdf5"):
            return "weights.h5" if lower.endswith(".weights.h5") else "h5"
        if fmt in ("keras", "npz"):
            return fmt
        raise ValueError(f"{what}: unknown save_format {save_format!r}; expected 'keras', 'h5', 'tf' or 'npz'")
    if lower.endswith(".weights.h5"):
        return "weights.h5"
    suffix = Path(lower).suffix
    if suffix == ".keras":
        return "keras"
    if suffix in (".h5", ".hdf5"):
        return "h5"
    if suffix == ".npz":
        return "npz"
    if suffix == "":
        return "tf"
    raise ValueError(
        f"{what}: cannot tell the format of {name!r} from its extension; use .keras, .weights.h5, .h5, "
        f".npz, a path without extension (nn's checkpoint), or save_format="
    )


def _may_write(filepath, overwrite: bool) -> bool:
    """Keras' rule: overwrite=False asks on a terminal, and raises FileExistsError without one."""
    if overwrite or not os.path.exists(filepath):
        return True
    if sys.stdin is not None and sys.stdin.isatty() and sys.stdout is not None and sys.stdout.isatty():
        while True:
            answer = input(f"[WARNING] {os.fspath(filepath)} already exists - overwrite? [y/n]").strip().lower()
            if answer in ("y", "n"):
                break
        if answer == "n":
            return False
        print("[TIP] Next time specify overwrite=True!")
        return True
    raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False (no terminal to ask)")


@contextlib.contextmanager
def _only_file_errors(filepath, what: str):
    """Whatever a damaged file makes a reader raise leaves as the one documented error: a
    ``FileFormatError`` (a ``ValueError``) naming the file (the file's absence stays
    ``FileNotFoundError``)."""
    try:
        yield
    except (FileFormatError, FileNotFoundError, NameError, ImportError):  # (the last two: nn's bugs, not the file's)
        raise
    except (Exception, RecursionError, MemoryError) as error:
        raise file_error(
            filepath, what, f"could not be read (truncated or corrupt?): {type(error).__name__}: {error}"
        ) from None


def _require_built(model, what: str) -> None:
    if not getattr(model, "built", False):
        raise ValueError(f"{what}: the model is not built yet; give it an Input(shape) or call it on data first")


def save_model(
    model, filepath, overwrite: bool = True, zipped=None, save_format=None, include_optimizer=True, **kwargs
):
    """``model.save(filepath)``: the whole model (architecture, weights, compile config and
    optimizer state) in the format the file name picks (see the module docstring)."""
    if kwargs:
        raise TypeError(f"save: unexpected arguments {sorted(kwargs)}")
    kind = _kind(filepath, save_format, "save")
    _require_built(model, "save")
    if kind == "weights.h5":
        raise ValueError(f"save: {os.fspath(filepath)!r} names a weights file; use save_weights, or a .keras name")
    if not _may_write(filepath, overwrite):
        return
    if kind in ("keras", "tf"):
        from . import keras_format

        keras_format.save_model(model, filepath, include_optimizer)
    elif kind == "h5":
        from . import legacy_h5

        legacy_h5.save_model(model, filepath, include_optimizer)
    else:
        from . import npz_format

        npz_format.save_model(model, filepath)


def save_weights(model, filepath, overwrite: bool = True, save_format=None, max_shard_size=None, **kwargs):
    """``model.save_weights(filepath)``: the weights (and the optimizer's variables in the
    Keras 3 layout) in the format the file name picks."""
    if kwargs:
        raise TypeError(f"save_weights: unexpected arguments {sorted(kwargs)}")
    if max_shard_size is not None:
        raise ValueError("save_weights: nn writes one file; max_shard_size is not supported")
    kind = _kind(filepath, save_format, "save_weights")
    _require_built(model, "save_weights")
    if kind == "keras":
        raise ValueError(f"save_weights: {os.fspath(filepath)!r} names a model file; use save, or a .weights.h5 name")
    if not _may_write(filepath, overwrite):
        return
    if kind in ("weights.h5", "tf"):
        from . import h5_weights

        h5_weights.save_weights(model, filepath)
    elif kind == "h5":
        from . import legacy_h5

        legacy_h5.save_weights(model, filepath)
    else:
        from . import npz_format

        npz_format.save_weights(model, filepath)


def _sniff(filepath, what: str) -> str:
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no file at {path}")
    if os.path.isdir(path):
        raise FileFormatError(f"{path}: is a folder (a TensorFlow SavedModel?); nn reads .keras, .h5 and .npz files")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK"):
        return "zip"
    if head == _HDF5_MAGIC:
        return "hdf5"
    if head.startswith(b"\x93NUMPY"):
        raise FileFormatError(f"{path}: is a single .npy array, not a model or weights file")
    raise FileFormatError(f"{path}: is not a model or weights file nn reads (neither a zip nor HDF5)")


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs):
    """``model.load_weights(filepath)``: weights from any format ``save_weights`` writes; the
    model is left untouched when the file is refused."""
    kwargs.pop("by_name", None)
    if kwargs:
        raise TypeError(f"load_weights: unexpected arguments {sorted(kwargs)}")
    _require_built(model, "load_weights")
    with _only_file_errors(filepath, "load_weights"):
        _load_weights(model, filepath, skip_mismatch)


def _load_weights(model, filepath, skip_mismatch):
    kind = _sniff(filepath, "load_weights")
    if kind == "hdf5":
        from . import h5_weights, legacy_h5

        if legacy_h5.is_legacy(filepath):
            legacy_h5.load_weights(model, filepath)
        else:
            h5_weights.load_weights(model, filepath, skip_mismatch)
    elif Path(os.fspath(filepath)).suffix.lower() == ".keras":
        from . import keras_format

        keras_format.load_weights(model, filepath, skip_mismatch)
    else:
        from . import npz_format

        npz_format.load_weights(model, filepath)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """``nn.models.load_model(filepath)``: a model from ``.keras`` (nn's or Keras 3's), ``.h5``
    (Keras 2 layout), nn's checkpoint or ``.npz``. Class names resolve against nn's classes,
    registered classes (``register_keras_serializable``) and ``custom_objects`` (code the caller
    runs), never against anything the file names; ``safe_mode`` is always on (a lambda or any
    code in a file is refused whatever it says). Loading leaves the global random stream as it
    was; the model's first ``fit`` continues from the stream the file saved."""
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"load_model: custom_objects must be a dict of name -> object, got {type(custom_objects).__name__}"
        )
    from ..utils import random_state

    kept = random_state.get_rng_state()
    scoped = {**object_registration.scope_objects(), **(custom_objects or {})}
    try:  # building the model draws initial weights; the caller's stream is left as it was
        with _only_file_errors(filepath, "load_model"), custom_object_scope(scoped):
            return _load_model(filepath, compile)
    finally:
        random_state.set_rng_state(kept)


def _load_model(filepath, compile):
    kind = _sniff(filepath, "load_model")
    if kind == "hdf5":
        from . import legacy_h5

        return legacy_h5.load_model(filepath, compile)
    from . import keras_format

    with keras_format.open_archive(filepath) as archive:
        names = set(archive.namelist())
    if keras_format.CONFIG in names:
        return keras_format.load_model(filepath, compile)
    from . import npz_format

    return npz_format.load_model(filepath)


def export_model(model, filepath, format: str = "onnx", verbose=None, input_signature=None, **kwargs):
    """``model.export(filepath, format="onnx")``: an ONNX graph of the model's inference pass."""
    if format != "onnx":
        raise ValueError(f"export: nn exports format='onnx' only, got format={format!r}")
    from . import onnx_export

    return onnx_export.export_onnx(model, filepath, verbose=verbose, input_signature=input_signature, **kwargs)
