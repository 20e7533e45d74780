"""Saving and loading without pickle: a ``.npz`` of arrays plus a JSON config string.

Weights are keyed by position (``layers.0.kernel``), so a freshly built model with the same
architecture loads them whatever its layers are named. Files are read with
``allow_pickle=False``; a config only names known layer types, which are rebuilt from their
arguments: nothing in a file is imported or executed.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "autograd_mini.nn"
VERSION = 1


def _weight_items(model):
    for i, layer in enumerate(model.layers):
        for name, param in layer.named_parameters():
            yield f"layers.{i}.{name}", param


def _write(path, arrays: dict, meta: dict) -> None:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"save: folder {path.parent} does not exist")
    arrays = dict(arrays)
    arrays["__meta__"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:  # a file object: numpy does not append '.npz' to the name
        np.savez(f, **arrays)


def _read(path, what: str):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what}: no file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        raise ValueError(f"{what}: {path} is not a readable {FORMAT} file (truncated or corrupt?): {error}") from None
    if "__meta__" not in arrays:
        raise ValueError(f"{what}: {path} has no {FORMAT} metadata; was it written by save_weights/save?")
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
    except json.JSONDecodeError as error:
        raise ValueError(f"{what}: the metadata in {path} is not valid JSON: {error}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{what}: {path} is not a {FORMAT} file (format {meta.get('format')!r})")
    return arrays, meta


def save_weights(model, path) -> None:
    items = list(_weight_items(model))
    meta = {"format": FORMAT, "version": VERSION, "kind": "weights", "names": {key: p.name for key, p in items}}
    _write(path, {key: p.data for key, p in items}, meta)


def _assign(model, arrays: dict, path, what: str) -> None:
    items = list(_weight_items(model))
    expected = {key for key, _ in items}
    missing = sorted(expected - set(arrays))
    extra = sorted(set(arrays) - expected)
    if missing or extra:
        raise ValueError(
            f"{what}: {path} does not match the model's architecture: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}"
        )
    for key, param in items:
        array = arrays[key]
        if array.shape != param.shape:
            raise ValueError(
                f"{what}: parameter {param.name} ({key}) has shape {param.shape} in the model but "
                f"{array.shape} in {path}"
            )
    for key, param in items:
        param.data = arrays[key].astype(param.dtype, copy=True)


def load_weights(model, path) -> None:
    arrays, _ = _read(path, "load_weights")
    if not model.built:
        raise ValueError("load_weights: build the model first (give Input(shape) or call it on data)")
    _assign(model, arrays, path, "load_weights")


def save_model(model, path) -> None:
    if not model.built:
        raise ValueError("save: the model is not built yet")
    items = list(_weight_items(model))
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "model",
        "config": model.get_config(),
        "dtype": str(model.dtype),
        "names": {key: p.name for key, p in items},
    }
    if model.loss is not None and model.optimizer is not None:
        meta["compile"] = {
            "loss": model.loss.name,
            "from_logits": getattr(model.loss, "from_logits", False),
            "optimizer": model.optimizer.name,
            "learning_rate": model.optimizer.current_learning_rate,
            "metrics": [m for m in getattr(model, "_metric_names", []) if isinstance(m, str)],
        }
    _write(path, {key: p.data for key, p in items}, meta)


def load_model(path):
    """Rebuild a model written by ``model.save(path)`` (known layer types only) with its weights."""
    from .. import layers as layers_module
    from ..losses import _BY_NAME as LOSSES
    from ..models import Sequential
    from ..optimizers.optimizer import _BY_NAME as OPTIMIZERS

    arrays, meta = _read(path, "load_model")
    if meta.get("kind") != "model":
        raise ValueError(f"load_model: {path} holds only weights; build the model and call load_weights")
    config = meta["config"]
    model = Sequential(name=config.get("name"))
    input_shape = config.get("input_shape")
    if input_shape is not None:
        model.add(layers_module.Input(tuple(input_shape), dtype=meta.get("dtype", "float32")))
    for entry in config["layers"]:
        cls = layers_module.core.LAYER_TYPES.get(entry.get("class_name"))
        if cls is None:
            raise ValueError(
                f"load_model: unknown layer type {entry.get('class_name')!r} in {path}; "
                f"known: {sorted(layers_module.core.LAYER_TYPES)}"
            )
        model.add(cls(**dict(entry.get("config", {}))))
    if not model.built:
        raise ValueError(f"load_model: {path} has no input shape; cannot build the model")
    _assign(model, arrays, path, "load_model")
    compiled = meta.get("compile")
    if compiled and compiled["loss"] in LOSSES and compiled["optimizer"] in OPTIMIZERS:
        loss = LOSSES[compiled["loss"]]
        loss = loss(from_logits=compiled["from_logits"]) if "crossentropy" in compiled["loss"] else loss()
        model.compile(
            OPTIMIZERS[compiled["optimizer"]](learning_rate=compiled["learning_rate"]), loss, compiled.get("metrics")
        )
    return model
