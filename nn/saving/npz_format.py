"""nn's own archive: a ``.npz`` of arrays plus a JSON config (``__meta__``), without pickle.

Weights are keyed by position (``layers.0.0``: layer 0's first weight), so a model with the
same architecture loads them whatever its layers are named; the config is Keras' (as in
``.keras`` files) with the compile config and the optimizer's variables (``optimizer.N``).
A seeded layer's SeedGenerator state ``[seed, counter]`` is ``seed.<layer index>``.

Reading opens only the expected members and reads each ``.npy`` header first: its declared
shape and dtype are checked against the model, the member's size and ``nn.saving.limits``
before any array is allocated. ``allow_pickle=False`` throughout.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from . import adapters, h5_weights, keras_config, limits
from .atomic import atomic_write
from .errors import file_error

FORMAT = "autograd_mini.nn"
VERSION = 2
META = "__meta__"


def _weights(model) -> list[tuple[str, object]]:
    return [
        (f"layers.{i}.{j}", w)
        for i, layer in enumerate(model.layers)
        for j, w in enumerate(adapters.layer_weights(layer))
    ]


def _seed_states(model) -> dict:
    """``{"seed.<i>": [seed, counter]}`` for each seeded layer i (its SeedGenerator's state)."""
    generators = ((i, h5_weights.seed_generator(layer)) for i, layer in enumerate(model.layers))
    return {f"seed.{i}": g.get_state() for i, g in generators if g is not None}


def _read_seed_states(archive, model) -> list:
    """[(SeedState, checked state)] for each seeded layer whose state the file holds."""
    out = []
    for i, layer in enumerate(model.layers):
        generator, key = h5_weights.seed_generator(layer), f"seed.{i}"
        if generator is None or key not in archive.names:
            continue
        shape, dtype, _ = archive.header(key)
        if shape != (2,) or dtype.kind not in "fiu":
            raise file_error(
                archive.path, key, f"holds shape {shape} dtype {dtype}, expected 2 numbers [seed, counter]"
            )
        try:
            state = generator.checked_state(archive.read(key))
        except ValueError as error:
            raise file_error(archive.path, key, str(error)) from None
        out.append((h5_weights.SeedState(generator), state))
    return out


def _write(path, arrays: dict, meta: dict) -> None:
    arrays = dict(arrays)
    arrays[META] = np.array(json.dumps(meta))
    with atomic_write(path, "wb") as handle:  # a file object: numpy does not append '.npz'
        np.savez(handle, **arrays)


def save_weights(model, path) -> None:
    """Write the weights (by position) to a ``.npz``."""
    meta = {"format": FORMAT, "version": VERSION, "kind": "weights"}
    _write(path, {**{key: w.data for key, w in _weights(model)}, **_seed_states(model)}, meta)


def save_model(model, path) -> None:
    """Write the model (Keras config, weights, optimizer variables, random state) to a ``.npz``."""
    config = keras_config.model_config(model)
    compiled = adapters.compile_config(model)
    arrays = {**{key: w.data for key, w in _weights(model)}, **_seed_states(model)}
    if compiled is not None:
        config["compile_config"] = compiled
        variables = adapters.optimizer_variables(model.optimizer, adapters.model_trainable_weights(model))
        arrays.update({f"optimizer.{i}": v for i, v in enumerate(variables)})
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "model",
        "config": config,
        "nn_rng_state": adapters.get_rng_state(),
    }
    _write(path, arrays, meta)


class _Archive:
    """The zip of a ``.npz``, read member by member with every header checked first."""

    def __init__(self, path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path, "r")
        except Exception as error:  # zipfile raises BadZipFile, NotImplementedError, OSError, ...
            raise file_error(path, None, f"is not a readable .npz (truncated or corrupt?): {error}") from None
        if len(self.zip.infolist()) > limits.MAX_ENTRIES:
            raise file_error(path, None, f"holds more than {limits.MAX_ENTRIES} entries")
        self.names = {name[:-4] for name in self.zip.namelist() if name.endswith(".npy")}

    def close(self):
        self.zip.close()

    def header(self, key: str):
        """(shape, dtype, member) of ``key.npy`` from its header alone."""
        try:
            info = self.zip.getinfo(f"{key}.npy")
        except KeyError:
            raise file_error(self.path, key, "is missing") from None
        try:
            with self.zip.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version in ((2, 0), (3, 0)):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(f"unknown .npy version {version}")
                offset = member.tell()
        except Exception as error:  # a damaged header: ValueError, SyntaxError, NotImplementedError, ...
            raise file_error(self.path, key, f"has no valid .npy header: {error}") from None
        if dtype.hasobject:
            raise file_error(self.path, key, f"holds Python objects (dtype {dtype}); nn never unpickles")
        size = limits.check_array(self.path, key, shape, dtype)
        if offset + size != info.file_size:
            raise file_error(
                self.path,
                key,
                f"declares {size:,} bytes of data ({shape}, {dtype}) but holds {info.file_size - offset:,}",
            )
        return tuple(shape), dtype, info

    def read(self, key: str) -> np.ndarray:
        """The array ``key`` (header checked first)."""
        self.header(key)
        try:
            with self.zip.open(f"{key}.npy") as member:
                return np.lib.format.read_array(io.BufferedReader(member), allow_pickle=False)
        except Exception as error:
            raise file_error(self.path, key, f"could not be read (truncated or corrupt?): {error}") from None

    def meta(self) -> dict:
        if META not in self.names:
            raise file_error(self.path, None, f"has no {FORMAT} metadata; was it written by nn's save/save_weights?")
        shape, dtype, info = self.header(META)
        limits.check_text_size(self.path, META, info.file_size)
        if dtype.kind != "U" or shape != ():
            raise file_error(self.path, META, f"expected a JSON string, got {dtype} of shape {shape}")
        try:
            meta = json.loads(str(self.read(META)))
        except (json.JSONDecodeError, RecursionError) as error:
            raise file_error(self.path, META, f"is not valid JSON: {error}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise file_error(self.path, META, f"is not a {FORMAT} file")
        if meta.get("version") != VERSION:
            raise file_error(self.path, META, f"has version {meta.get('version')!r}; this nn reads version {VERSION}")
        return meta


def _read_weights(archive: _Archive, model) -> list:
    expected = _weights(model)
    extra = sorted(n for n in archive.names if n.startswith("layers.") and n not in dict(expected))
    if extra:
        raise file_error(archive.path, None, f"holds weights {extra} that the model does not have")
    for key, param in expected:
        shape, dtype, _ = archive.header(key)
        if shape != tuple(param.shape) or dtype.kind not in ("fiu" if np.dtype(param.dtype).kind == "f" else "iu"):
            raise file_error(
                archive.path,
                key,
                f"weight {getattr(param, 'path', param.name)} has shape {tuple(param.shape)} in the model, the file holds shape {shape} "
                f"dtype {dtype}",
            )
    pairs = [(param, limits.convert(archive.path, key, archive.read(key), param.dtype)) for key, param in expected]
    return pairs + _read_seed_states(archive, model)


def load_weights(model, path) -> None:
    """Weights from a ``.npz`` written by ``save_weights`` or ``save`` (all checked, then assigned)."""
    archive = _Archive(path)
    try:
        archive.meta()
        pairs = _read_weights(archive, model)
    finally:
        archive.close()
    h5_weights.assign_all(model, pairs)


def load_model(path):
    """A model rebuilt from a ``.npz`` written by ``model.save`` (nn's layers only)."""
    archive = _Archive(path)
    try:
        meta = archive.meta()
        if meta.get("kind") != "model":
            raise file_error(path, None, "holds only weights; build the model and call load_weights")
        config = meta.get("config")
        model = keras_config.model_from_config(config, path)
        compiled = config.get("compile_config")
        optimizer_arrays = None
        if compiled:
            adapters.compile_from_config(model, compiled, path)
            trainable = adapters.model_trainable_weights(model)
            shapes = adapters.expected_optimizer_shapes(model.optimizer, trainable)
            keys = [f"optimizer.{i}" for i in range(len(shapes))]
            if all(k in archive.names for k in keys) and [archive.header(k)[0] for k in keys] == [
                tuple(s) for s in shapes
            ]:
                optimizer_arrays = adapters.checked_optimizer_arrays(
                    model.optimizer, trainable, [archive.read(k) for k in keys], path, "optimizer"
                )
        pairs = _read_weights(archive, model)
        rng_state = adapters.checked_rng_state(meta.get("nn_rng_state"), path, META)
    finally:
        archive.close()
    h5_weights.assign_all(model, pairs, optimizer_arrays)
    adapters.attach_rng_state(model, rng_state)
    return model
