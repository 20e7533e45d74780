"""A model's architecture as Keras 3's ``config.json`` (``{"module", "class_name", "config", ...}``) and back.

Writing: each layer's ``get_config()`` with nn's plain values turned into Keras' serialized
forms (initializers, regularizers). Reading: class names resolve only against nn's own layer
registry; Keras' extra arguments are dropped when they hold Keras' defaults and refused
otherwise; the weight sizes a config implies are checked against ``nn.saving.limits``
before any layer is built.
"""

from __future__ import annotations

import re

import numpy as np

from . import adapters, limits
from .errors import FileFormatError, file_error


def snake_case(name: str) -> str:
    """Keras' ``to_snake_case`` ("BatchNormalization" -> "batch_normalization", "LeakyReLU" -> "leaky_re_lu")."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# ---- writing -------------------------------------------------------------------------------------
def _keras_value(key: str, value, layer_name: str):
    from .. import activations

    if key.endswith("_regularizer") and isinstance(value, dict) and "class_name" not in value:
        return {"module": "keras.regularizers", "class_name": "L1L2", "config": value, "registered_name": None}
    if key.endswith("_initializer") and isinstance(value, str):
        return {"module": "keras.initializers", "class_name": _camel(value), "config": {}, "registered_name": None}
    if key == "activation" and isinstance(value, str):
        try:
            activations.get(value)
        except ValueError:
            raise ValueError(
                f"save: layer '{layer_name}' uses the activation {value!r}, a Python function nn cannot find "
                f"again by name; use one of nn's activation names, or save_weights"
            ) from None
    return value


def serialize_layer(layer) -> dict:
    """Keras' entry for one layer of ``config.json`` (a nested Sequential or Functional model:
    its whole model entry, as Keras 3 writes it)."""
    if is_nested_model(layer):
        return model_config(layer)
    config = adapters.layer_config(layer)
    config = {k: _keras_value(k, v, layer.name) for k, v in config.items()}
    entry = {
        "module": "keras.layers",
        "class_name": adapters.layer_class_name(layer),
        "config": adapters.jsonable(config),
        "registered_name": None,
    }
    build_config = layer.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    return entry


def is_sequential(model) -> bool:
    """True for nn's Sequential (resolved through the registry: saving never imports nn.models)."""
    from .object_registration import resolve_class

    sequential = resolve_class("Sequential", "keras")
    return sequential is not None and isinstance(model, sequential)


def is_nested_model(layer) -> bool:
    """True for nn's Sequential and Functional models (which save their layers, not weights of their own)."""
    from .object_registration import resolve_class

    functional = resolve_class("Functional", "keras")
    return is_sequential(layer) or (functional is not None and type(layer) is functional)


def model_config(model) -> dict:
    """The whole ``config.json`` object of ``model`` (without ``compile_config``)."""
    dtype = adapters.model_dtype(model)
    if not is_sequential(model):
        from .object_registration import resolve_class
        from .serialization_lib import serialize_keras_object

        if type(model) is resolve_class("Functional", "keras"):
            config = adapters.jsonable(model.get_config())
            return {  # as Keras 3.15 writes it (it resolves "keras.src.models.functional", not "keras")
                "module": "keras.src.models.functional",
                "class_name": "Functional",
                "config": config,
                "registered_name": "Functional",
            }
        entry = serialize_keras_object(model)  # a subclassed model: its own get_config, build_config
        entry.pop("compile_config", None)
        return entry
    input_shape = list(model.input_shape) if model.input_shape is not None else None
    layers = []
    if input_shape is not None:
        layers.append(
            {
                "module": "keras.layers",
                "class_name": "InputLayer",
                "config": {"batch_shape": input_shape, "dtype": dtype, "sparse": False, "name": "input_layer"},
                "registered_name": None,
            }
        )
    layers += [serialize_layer(layer) for layer in adapters.model_layers(model)]
    config = {"name": model.name, "trainable": bool(model.trainable), "dtype": dtype, "layers": layers}
    entry = {"module": "keras", "class_name": "Sequential", "config": config, "registered_name": None}
    if input_shape is not None:
        config["build_input_shape"] = input_shape
        entry["build_config"] = {"input_shape": input_shape}
    return entry


# ---- reading -------------------------------------------------------------------------------------
def _dtype_name(value, path, where) -> str:
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("name", "float32")
    try:
        dtype = np.dtype(value if value is not None else "float32")
    except TypeError:
        raise file_error(path, where, f"unknown dtype {value!r}") from None
    if dtype.kind != "f":
        raise file_error(path, where, f"nn layers compute in float16/32/64, got dtype {dtype}")
    return dtype.name


def _nn_value(key, value, path, where):
    from .. import initializers

    if key == "dtype":
        return _dtype_name(value, path, where)
    if isinstance(value, dict) and "class_name" in value:
        inner = dict(value.get("config") or {})
        if key.endswith(("_regularizer", "_constraint")):
            from .. import constraints, regularizers

            module = regularizers if key.endswith("_regularizer") else constraints
            try:  # resolves only nn's own classes; nothing else is looked up by name
                return getattr(module, "deserialize", module.get)(value)
            except (ValueError, TypeError, KeyError) as error:
                raise file_error(path, where, f"{key}: {error}") from None
        if key.endswith("_initializer"):
            cls = vars(initializers).get(value["class_name"])
            if not (isinstance(cls, type) and issubclass(cls, initializers.Initializer)):
                raise file_error(path, where, f"unknown initializer {value['class_name']!r}")
            return adapters.construct(cls, inner, path, f"{where}.{key}")
        if key == "activation":
            raise file_error(path, where, f"the activation {value!r} is not one of nn's activation names")
        raise file_error(path, where, f"{key} holds a serialized object ({value['class_name']}) nn cannot rebuild")
    return value


def _check_ints(config, path, where):
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k != "shared_object_id")
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > limits.MAX_CONFIG_INT:
            raise file_error(path, where, f"holds the integer {item}, beyond nn.saving.limits.MAX_CONFIG_INT")


def deserialize_layer(entry, path, where):
    """An nn layer (not built) from Keras' entry for it."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise file_error(path, where, f"expected {{'class_name': ..., 'config': {{...}}}}, got {entry!r:.200}")
    kind = entry["class_name"]
    if kind in _MODEL_KINDS and entry.get("registered_name") in (None, kind, "Functional"):
        return _model_from_config(entry, path, where)
    registry = adapters.layer_registry()
    cls = registry.get(entry["class_name"])
    if cls is None or entry.get("registered_name") not in (None, entry["class_name"]):
        return _custom_layer(entry, path, where, registry)
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise file_error(path, where, f"config must be a dict, got {type(config).__name__}")
    _check_ints(config, path, where)
    config = {k: _nn_value(k, v, path, where) for k, v in config.items()}
    return adapters.construct(cls, config, path, where)


def _custom_layer(entry, path, where, registry):
    """A registered or ``custom_objects`` layer: its own ``from_config`` (Keras' rule)."""
    from .object_registration import resolve_class

    cls = resolve_class(entry["class_name"], entry.get("module"), entry.get("registered_name"))
    if cls is None:
        raise file_error(
            path,
            where,
            f"unknown layer type {entry['class_name']!r}; nn has {sorted(registry)}, plus classes registered with "
            "nn.saving.register_keras_serializable or passed in custom_objects",
        )
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise file_error(path, where, f"config must be a dict, got {type(config).__name__}")
    _check_ints(config, path, where)
    try:
        return cls.from_config(dict(config))
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise file_error(path, where, f"{entry['class_name']}.from_config refused the config: {error}") from None


def _batch_shape(value, path, where):
    if not isinstance(value, list) or not value or any(d is not None and not isinstance(d, int) for d in value):
        raise file_error(path, where, f"expected a batch shape like [null, 4], got {value!r:.200}")
    if any(d is not None and not 0 <= d <= limits.MAX_CONFIG_INT for d in value[1:]) or None in value[1:]:
        raise file_error(path, where, f"the input shape {value} must be known non-negative sizes after the batch axis")
    return (None,) + tuple(value[1:])


def _check_shapes_fit(layers, input_shape, dtype, path, where="config.json"):
    """Refuse a config whose layers do not fit their inputs, before building anything (the
    weights each layer allocates are bounded by ``limits.allocation_budget`` as it builds)."""
    limits.check_array(path, f"{where}: input shape", input_shape[1:], dtype)
    shape = input_shape
    for i, layer in enumerate(layers):
        try:
            if is_nested_model(layer):  # built already: its own input must match
                if tuple(layer.input_shape)[1:] != tuple(shape)[1:]:
                    raise ValueError(f"it takes inputs of shape {layer.input_shape}, given {shape}")
                shape = tuple(layer.output_shape)
                continue
            shape = tuple(layer.compute_output_shape(shape))
        except (TypeError, ValueError, AttributeError) as error:
            raise file_error(path, f"{where}: layer {i} ({layer.name})", f"does not fit its input: {error}") from None


_MODEL_KINDS = ("Sequential", "Functional", "Model")


def check_nesting(config, path) -> None:
    """Refuse a config whose models nest more than ``limits.MAX_NESTING`` deep (a crafted file
    must not drive the rebuild into unbounded recursion). Walks the config with a stack."""
    stack = [(config, 0, "config.json")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") in _MODEL_KINDS:
                depth += 1
                if depth > limits.MAX_NESTING:
                    raise file_error(
                        path,
                        where,
                        f"nests models {depth} deep, beyond nn.saving.limits.MAX_NESTING = {limits.MAX_NESTING}",
                    )
            name = item.get("config", {}).get("name") if isinstance(item.get("config"), dict) else None
            inner_where = (
                f"{where} > {name}" if isinstance(name, str) and item.get("class_name") in _MODEL_KINDS else where
            )
            stack.extend((v, depth, inner_where) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth, where) for v in item)


def model_from_config(config, path):
    """A built nn model from ``config.json``'s object (Sequential, or Functional through
    ``nn.models.Model.from_config`` when nn has it). Every weight a layer is about to allocate
    while the model is built is checked against ``nn.saving.limits`` first."""
    check_nesting(config, path)
    with limits.allocation_budget(path, "config.json"):
        return _model_from_config(config, path)


def _model_from_config(config, path, where="config.json"):
    """The model of one model entry (the whole file's, or a nested model's at ``where``)."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise file_error(path, where, "expected an object with 'class_name' and 'config'")
    inner = config.get("config")
    if not isinstance(inner, dict):
        raise file_error(path, where, "'config' must be an object")
    kind = config["class_name"]
    if kind in ("Functional", "Model") and config.get("registered_name") in (None, kind, "Functional"):
        from .object_registration import resolve_class

        model_cls = resolve_class("Functional", "keras")
        if model_cls is None:
            raise file_error(path, where, "a functional model, which this nn cannot rebuild")
        _check_ints(inner, path, where)
        try:
            return model_cls.from_config(inner)
        except FileFormatError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise file_error(path, where, f"the functional model could not be rebuilt: {error}") from None
    if kind != "Sequential":
        return _custom_model(config, path)
    entries = inner.get("layers")
    if not isinstance(entries, list):
        raise file_error(path, where, "'layers' must be a list")
    if len(entries) > limits.MAX_ENTRIES:
        raise file_error(path, where, f"has {len(entries)} layers, beyond nn.saving.limits.MAX_ENTRIES")
    dtype = _dtype_name(inner.get("dtype"), path, f"{where}: dtype")
    input_shape = None
    if inner.get("build_input_shape") is not None:
        input_shape = _batch_shape(inner["build_input_shape"], path, f"{where}: build_input_shape")
    layers = []
    for i, entry in enumerate(entries):
        at = f"{where}: layer {i}"
        if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
            cfg = entry.get("config") or {}
            shape = cfg.get("batch_shape", cfg.get("batch_input_shape"))
            input_shape = _batch_shape(shape, path, at)
            dtype = _dtype_name(cfg.get("dtype", dtype), path, at)
            continue
        cfg = entry.get("config") if isinstance(entry, dict) else None
        if isinstance(cfg, dict) and ("batch_input_shape" in cfg or "batch_shape" in cfg):  # Keras 2's first layer
            cfg = dict(cfg)
            shape = cfg.pop("batch_input_shape", None) or cfg.pop("batch_shape", None)
            if input_shape is None and not layers:
                input_shape = _batch_shape(shape, path, at)
            entry = {**entry, "config": cfg}
        layers.append(deserialize_layer(entry, path, at))
    if not layers:
        raise file_error(path, where, "the model has no layers")
    if input_shape is None:
        raise file_error(path, where, "no input shape (no InputLayer and no build_input_shape)")
    _check_shapes_fit(layers, input_shape, dtype, path, where)
    try:
        model = adapters.new_sequential(inner.get("name"), input_shape, dtype, layers)
    except FileFormatError:
        raise
    except (TypeError, ValueError) as error:
        raise file_error(path, where, f"the model could not be built: {error}") from None
    if inner.get("trainable") is False:  # a frozen base model stays frozen (Keras' from_config)
        model.trainable = False
    return model


def _custom_model(config, path):
    """A subclassed model the registry or the caller's ``custom_objects`` knows: its
    ``from_config``, then ``build_from_config`` (Keras' order)."""
    from .object_registration import resolve_class
    from .serialization_lib import deserialize_keras_object

    kind = config["class_name"]
    if resolve_class(kind, config.get("module"), config.get("registered_name")) is None:
        raise file_error(
            path,
            "config.json",
            f"unknown model type {kind!r}: nn loads Sequential, Functional, and model classes registered with "
            "nn.saving.register_keras_serializable or passed in custom_objects",
        )
    _check_ints(config.get("config"), path, "config.json")
    entry = {k: v for k, v in config.items() if k != "compile_config"}
    try:
        return deserialize_keras_object(entry)
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, NotImplementedError) as error:
        raise file_error(path, "config.json", f"the model {kind} could not be rebuilt: {error}") from None
