"""Keras 3's ``serialize_keras_object`` / ``deserialize_keras_object`` (the config dicts of
``.keras`` files), resolving classes only through ``object_registration``.

An object serializes as ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config`` for a built layer or model and ``compile_config`` for a compiled model), from
its own ``get_config``; functions by name (``"class_name": "function"``); tuples and arrays in
Keras' ``__tuple__`` / ``__numpy__`` forms. Deserializing calls the resolved class's
``from_config`` (inside a ``custom_object_scope`` of the caller's ``custom_objects``, so nested
objects resolve too), then ``build_from_config`` / ``compile_from_config``. A lambda, a
``module`` to import or any name no registry knows is refused: nothing in a config is code.
"""

from __future__ import annotations

import inspect

import numpy as np

from . import object_registration as registry

_PLAIN = (bool, int, float, str, type(None))


def serialize_keras_object(obj):
    """The JSON-able config of ``obj`` (Keras 3's form)."""
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, list):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, tuple):
        return {
            "class_name": "__tuple__",
            "config": {"value": [serialize_keras_object(x) for x in obj]},
        }
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, type) or not hasattr(obj, "get_config"):
        if callable(obj) and hasattr(obj, "__name__"):
            return _serialize_function(obj)
        raise TypeError(
            f"serialize_keras_object: cannot serialize {obj!r} ({type(obj).__name__}): it has no get_config()"
        )
    cls = type(obj)
    module = registry.builtin_module_of(obj)
    registered = registry.GLOBAL_CUSTOM_NAMES.get(cls)
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(
            f"serialize_keras_object: {cls.__name__}.get_config() returned {type(config).__name__}, not a dict"
        )
    entry = {
        "module": module or cls.__module__,
        "class_name": cls.__name__,
        "config": serialize_keras_object(config),
        "registered_name": None if module is not None and registered is None else (registered or cls.__name__),
    }
    get_build_config = getattr(cls, "get_build_config", None)
    if get_build_config is not None and getattr(obj, "built", False):
        build_config = obj.get_build_config()
        if build_config is not None:
            entry["build_config"] = serialize_keras_object(build_config)
    get_compile_config = getattr(cls, "get_compile_config", None)
    if get_compile_config is not None and getattr(obj, "compiled", False):
        compile_config = obj.get_compile_config()
        if compile_config is not None:
            entry["compile_config"] = serialize_keras_object(compile_config)
    return entry


def _serialize_function(fn):
    registered = registry.GLOBAL_CUSTOM_NAMES.get(fn)
    name = registered or fn.__name__
    if fn.__name__ == "<lambda>":
        raise ValueError(
            "serialize_keras_object: a lambda cannot be saved (nn never stores code); use a named function"
        )
    from .. import activations, losses, metrics

    for module, namespace in (("keras.losses", losses), ("keras.metrics", metrics), ("keras.activations", activations)):
        if getattr(namespace, fn.__name__, None) is fn:
            return {"module": module, "class_name": "function", "config": fn.__name__, "registered_name": fn.__name__}
    return {"module": fn.__module__, "class_name": "function", "config": name, "registered_name": name}


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object ``config`` describes; classes resolve through ``object_registration`` only."""
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {sorted(kwargs)}")
    custom_objects = dict(custom_objects or {})
    if isinstance(config, _PLAIN):
        return config
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"deserialize_keras_object: expected a dict, got {type(config).__name__}")
    class_name = config.get("class_name")
    if class_name is None or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode) for k, v in config.items()}
    inner = config["config"]
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects, safe_mode) for v in inner["value"])
    if class_name == "__numpy__":
        dtype = np.dtype(inner["dtype"])
        if dtype.hasobject:
            raise ValueError("deserialize_keras_object: an object array is never rebuilt")
        return np.array(inner["value"], dtype=dtype)
    if class_name in ("__lambda__", "__typespec__", "__bytes__") or config.get("module") == "builtins":
        raise ValueError(
            f"deserialize_keras_object: {class_name!r} would run or rebuild code from the file; nn refuses it "
            "(nn's safe mode is always on)"
        )
    if class_name == "function":
        return _deserialize_function(config, custom_objects)
    cls = registry.resolve_class(class_name, config.get("module"), config.get("registered_name"), custom_objects)
    if cls is None:
        raise ValueError(
            f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
            f"`@keras.saving.register_keras_serializable()` or passed in custom_objects. Full object config: "
            f"{str(config)[:300]}"
        )
    scoped = {**registry.scope_objects(), **custom_objects}
    with registry.custom_object_scope(scoped):
        obj = _from_config(cls, inner, custom_objects)
        build_config = config.get("build_config")
        if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", False):
            obj.build_from_config(deserialize_keras_object(build_config, custom_objects, safe_mode))
        compile_config = config.get("compile_config")
        if compile_config and hasattr(obj, "compile_from_config"):
            obj.compile_from_config(compile_config)
    return obj


def _from_config(cls, inner, custom_objects):
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        if not isinstance(inner, dict):
            raise ValueError(f"deserialize_keras_object: {cls.__name__} needs a dict config")
        return cls(**inner)
    try:
        params = inspect.signature(from_config).parameters
    except (TypeError, ValueError):
        params = {}
    if "custom_objects" in params:
        return from_config(inner, custom_objects=custom_objects)
    return from_config(inner)


def _deserialize_function(config, custom_objects):
    name = config.get("config")
    registered = config.get("registered_name")
    for key in (registered, name):
        if isinstance(key, str):
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    from .. import activations, losses, metrics

    module = config.get("module")
    namespaces = {"keras.losses": losses, "keras.metrics": metrics, "keras.activations": activations}
    for mod, namespace in namespaces.items():
        if module in (None, mod) and isinstance(name, str) and not name.startswith("_"):
            found = getattr(namespace, name, None)
            own = getattr(found, "__module__", "") or ""
            accessor = name == "get" or name.startswith(("serialize", "deserialize"))
            if callable(found) and not isinstance(found, type) and own.startswith("nn.") and not accessor:
                return found
    raise ValueError(f"Could not locate function '{name}'. Register it or pass it in custom_objects.")
