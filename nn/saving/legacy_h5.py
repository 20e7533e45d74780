"""Keras 2's HDF5 layout (``model.save("m.h5")``, ``model.save_weights("w.h5")``), as Keras 3's
``legacy_h5_format`` writes and reads it::

    attrs: keras_version, backend, model_config (JSON), training_config (JSON), nn_rng_state (JSON)
    model_weights/                 attrs layer_names = [layer names]
        <layer name>/              attrs weight_names = ["<model>/<layer>/kernel", ...]
            <model>/<layer>/kernel (datasets at the weight names)
            seed_generator_state   a seeded layer's SeedGenerator [seed, counter] (not a weight:
                                   not in weight_names, so Keras ignores it; matched by layer name)
    optimizer_weights/             attrs weight_names = ["<opt>/iteration", "<opt>/learning_rate", slots...]

A weights-only file is the ``model_weights`` part at the root. Weights are matched by order of
the layers that have weights (Keras' rule), every shape checked before anything is assigned.
"""

from __future__ import annotations

import json

import numpy as np

from . import adapters, h5_safety, h5_weights, keras_config, limits
from .atomic import atomic_write
from .errors import file_error

KERAS_VERSION = "3.0.0"
BACKEND = "numpy"
SEED_STATE = "seed_generator_state"


def _names_attr(names) -> np.ndarray:
    return np.array([n.encode("utf8") for n in names]) if names else np.asarray([])


def _read_names(group, name: str, path) -> list[str]:
    """A list-of-strings attribute (Keras splits long ones into name0, name1, ...)."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in group.attrs and i < limits.MAX_ENTRIES:
            chunks.append(group.attrs[f"{name}{i}"])
            i += 1
    out = []
    for chunk in chunks:
        values = np.atleast_1d(np.asarray(chunk))
        if values.size > limits.MAX_ENTRIES:
            raise file_error(path, f"{group.name} {name}", "lists too many names")
        if values.dtype.kind not in "SUO" and values.size:
            raise file_error(path, f"{group.name} {name}", f"expected strings, got {values.dtype}")
        out += [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values.tolist()]
    return out


def _weight_short_name(param, i: int) -> str:
    name = getattr(param, "name", None) or f"weight_{i}"
    return name.replace(":0", "").split(".")[-1].split("/")[-1]


def write_weights(group, model) -> None:
    """Keras 2's weights layout into ``group`` (the file root, or ``model_weights``)."""
    layers = list(model.layers)
    group.attrs["layer_names"] = _names_attr([layer.name for layer in layers])
    group.attrs["backend"] = BACKEND
    group.attrs["keras_version"] = KERAS_VERSION
    for layer in layers:
        sub = group.create_group(layer.name)
        weights = adapters.layer_weights(layer)
        names = [f"{model.name}/{layer.name}/{_weight_short_name(w, i)}" for i, w in enumerate(weights)]
        sub.attrs["weight_names"] = _names_attr(names)
        for name, w in zip(names, weights):
            sub.create_dataset(name, data=w.data)
        generator = h5_weights.seed_generator(layer)
        if generator is not None:
            sub.create_dataset(SEED_STATE, data=generator.get_state())
    top = group.create_group("top_level_model_weights")
    top.attrs["weight_names"] = _names_attr([])


def save_weights(model, filepath) -> None:
    """Write a Keras 2 layout weights file (atomically)."""
    with h5_safety.file_image() as (h5, image):
        write_weights(h5, model)
    with atomic_write(filepath, "wb") as handle:
        handle.write(image[0])


def save_model(model, filepath, include_optimizer: bool = True) -> None:
    """Write a Keras 2 layout model file: config, weights, training config and optimizer state."""
    config = keras_config.model_config(model)
    model_config = {k: v for k, v in config.items() if k in ("class_name", "config", "registered_name", "build_config")}
    if model_config.get("registered_name") is None:
        model_config.pop("registered_name", None)
    compiled = adapters.compile_config(model) if include_optimizer else None
    with h5_safety.file_image() as (h5, image):
        h5.attrs["keras_version"] = KERAS_VERSION
        h5.attrs["backend"] = BACKEND
        h5.attrs["model_config"] = json.dumps(model_config)
        h5.attrs["nn_rng_state"] = json.dumps(adapters.get_rng_state())
        write_weights(h5.create_group("model_weights"), model)
        if compiled is not None:
            training = {k: _legacy_form(v) for k, v in compiled.items() if k not in ("optimizer", "auto_scale_loss")}
            training["optimizer_config"] = {
                "class_name": compiled["optimizer"]["class_name"],
                "config": compiled["optimizer"]["config"],
            }
            h5.attrs["training_config"] = json.dumps(training)
            optimizer = model.optimizer
            arrays = adapters.optimizer_variables(optimizer, adapters.model_trainable_weights(model))
            opt_name = optimizer.name
            names = [f"{opt_name}/iteration"] + [f"{opt_name}/variable_{i}" for i in range(1, len(arrays))]
            group = h5.create_group("optimizer_weights")
            group.attrs["weight_names"] = _names_attr(names)
            for name, array in zip(names, arrays):
                group.create_dataset(name, data=array)
    with atomic_write(filepath, "wb") as handle:
        handle.write(image[0])


def _legacy_form(value):
    """Keras 2's serialized objects in ``training_config``: {"class_name", "config"} only (Keras 3's
    legacy reader takes a ``module`` key as the new format and then fails on metric names)."""
    if isinstance(value, list):
        return [_legacy_form(v) for v in value]
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            return {"class_name": value["class_name"], "config": value["config"]}
        return {k: _legacy_form(v) for k, v in value.items()}
    return value


def is_legacy(filepath) -> bool:
    """True for a Keras 2 layout file (weights or model), False for Keras 3's weights layout."""
    with h5_weights.open_h5(filepath, filepath, "weights") as h5:
        return "layer_names" in h5.attrs or "layer_names0" in h5.attrs or "model_weights" in h5


def _dataset(group, name, path):
    import h5py

    item = group.get(name)
    if not isinstance(item, h5py.Dataset):
        raise file_error(path, f"{group.name}", f"lists the weight {name!r} but holds no such dataset")
    if item.dtype.kind not in "fiub":
        raise file_error(path, f"{group.name}/{name}", f"holds dtype {item.dtype}, expected numbers")
    limits.check_array(path, f"{group.name}/{name}", item.shape, item.dtype)
    return item


def read_weights(group, model, path) -> list:
    """[(parameter, array)] from Keras 2's layout, matched by the order of layers with weights."""
    import h5py

    layer_names = _read_names(group, "layer_names", path)
    file_layers = []
    for name in layer_names:
        sub = group.get(name)
        if not isinstance(sub, h5py.Group):
            raise file_error(path, group.name, f"lists the layer {name!r} but holds no such group")
        weight_names = _read_names(sub, "weight_names", path)
        if weight_names:
            file_layers.append((name, sub, weight_names))
    model_layers = [layer for layer in model.layers if adapters.layer_weights(layer)]
    if len(file_layers) != len(model_layers):
        raise file_error(
            path,
            group.name,
            f"holds weights for {len(file_layers)} layers ({[n for n, _, _ in file_layers]}), "
            f"the model has {len(model_layers)} layers with weights ({[layer.name for layer in model_layers]})",
        )
    pairs, total = [], 0
    for (_name, sub, weight_names), layer in zip(file_layers, model_layers):
        weights = adapters.layer_weights(layer)
        if len(weight_names) != len(weights):
            raise file_error(
                path, sub.name, f"holds {len(weight_names)} weights, layer '{layer.name}' has {len(weights)}"
            )
        for weight_name, param in zip(weight_names, weights):
            dataset = _dataset(sub, weight_name, path)
            if tuple(dataset.shape) != tuple(param.shape):
                raise file_error(
                    path,
                    f"{sub.name}/{weight_name}",
                    f"has shape {dataset.shape}, weight {param.name} of layer '{layer.name}' has {tuple(param.shape)}",
                )
            total += dataset.size * dataset.dtype.itemsize
            pairs.append((param, dataset))
    limits.check_total(path, total)
    out = [(param, h5_weights.read_dataset(dataset, param.dtype, path, "weights")) for param, dataset in pairs]
    return out + _read_seed_states(group, model, path)


def _read_seed_states(group, model, path) -> list:
    """[(SeedState, checked state)] for each seeded layer whose group holds ``seed_generator_state``."""
    import h5py

    out = []
    for layer in model.layers:
        generator = h5_weights.seed_generator(layer)
        sub = group.get(layer.name) if generator is not None and layer.name in group else None
        dataset = sub.get(SEED_STATE) if isinstance(sub, h5py.Group) else None
        if not isinstance(dataset, h5py.Dataset):
            continue
        where = f"{sub.name}/{SEED_STATE}"
        if tuple(dataset.shape) != (2,) or dataset.dtype.kind not in "fiu":
            raise file_error(path, where, f"holds shape {dataset.shape} dtype {dataset.dtype}, expected 2 numbers")
        try:
            state = generator.checked_state(h5_weights.read_dataset(dataset, np.float64, path, "weights"))
        except ValueError as error:
            raise file_error(path, where, str(error)) from None
        out.append((h5_weights.SeedState(generator), state))
    return out


def _read_optimizer(h5, model, path):
    import warnings

    group = h5.get("optimizer_weights")
    optimizer = model.optimizer
    if group is None or optimizer is None:
        return None
    names = _read_names(group, "weight_names", path)
    trainable = adapters.model_trainable_weights(model)
    shapes = adapters.expected_optimizer_shapes(optimizer, trainable)
    datasets = [_dataset(group, name, path) for name in names]
    if [tuple(d.shape) for d in datasets] != [tuple(s) for s in shapes]:
        warnings.warn(
            f"{path}: the optimizer's weights do not fit the model's optimizer; it starts fresh", stacklevel=3
        )
        return None
    arrays = [h5_weights.read_dataset(d, d.dtype, path, "optimizer_weights") for d in datasets]
    return adapters.checked_optimizer_arrays(optimizer, trainable, arrays, path, "optimizer_weights")


def load_weights(model, filepath) -> None:
    """Weights from a Keras 2 layout file (weights-only or a whole model file)."""
    with h5_weights.open_h5(filepath, filepath, "weights") as h5:
        group = h5.get("model_weights", h5)
        try:
            pairs = read_weights(group, model, filepath)
        except (OSError, KeyError) as error:
            raise file_error(filepath, "weights", f"could not be read (truncated or corrupt?): {error}") from None
    h5_weights.assign_all(model, pairs)


def _json_attr(h5, name, path):
    value = h5.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf8", errors="replace")
    if not isinstance(value, str):
        raise file_error(path, name, f"expected a JSON string, got {type(value).__name__}")
    limits.check_text_size(path, name, len(value))
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError) as error:
        raise file_error(path, name, f"is not valid JSON: {error}") from None


def load_model(filepath, compile: bool = True):
    """A model from a Keras 2 layout ``.h5`` file (nn's or Keras')."""
    with h5_weights.open_h5(filepath, filepath, "load_model") as h5:
        try:
            config = _json_attr(h5, "model_config", filepath)
            if config is None:
                raise file_error(
                    filepath, None, "holds no model_config: a weights file? Build the model and load_weights"
                )
            training = _json_attr(h5, "training_config", filepath)
            rng_state = adapters.checked_rng_state(_json_attr(h5, "nn_rng_state", filepath), filepath, "nn_rng_state")
            model = keras_config.model_from_config(config, filepath)
            if compile and isinstance(training, dict):
                compiled = dict(training)
                compiled["optimizer"] = compiled.pop("optimizer_config", "rmsprop")
                adapters.compile_from_config(model, compiled, filepath)
            if "model_weights" not in h5:
                raise file_error(filepath, None, "holds no model_weights")
            pairs = read_weights(h5["model_weights"], model, filepath)
            optimizer_arrays = _read_optimizer(h5, model, filepath) if compile else None
        except (OSError, KeyError) as error:
            raise file_error(filepath, "load_model", f"could not be read (truncated or corrupt?): {error}") from None
    h5_weights.assign_all(model, pairs, optimizer_arrays)
    adapters.attach_rng_state(model, rng_state)
    return model
