"""``serialize`` / ``deserialize`` of layers in Keras 3's form, resolving only nn's own classes."""

from __future__ import annotations

from . import activation_layers, core, merging, normalization, pooling, regularization, reshaping
from .layer import Layer

LAYER_TYPES: dict[str, type] = {
    cls.__name__: cls
    for module in (core, activation_layers, regularization, reshaping, normalization, merging, pooling)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Layer) and not cls.__name__.startswith("_") and cls is not Layer
}
LAYER_TYPES["Layer"] = Layer
# nn's own layer classes (not subclasses of them, which may hold sublayers) have no sublayers
for _cls in LAYER_TYPES.values():
    if _cls is not Layer:
        _cls._LEAF = True
del _cls

# Keras config keys nn accepts and ignores when they hold their "off" value
_IGNORED_WHEN_OFF = ("quantization_config", "lora_rank", "lora_alpha", "renorm", "renorm_clipping", "build_config")


def serialize(layer) -> dict:
    """{"module": "keras.layers", "class_name": ..., "config": layer.get_config(), "registered_name": None}."""
    cls = type(layer)
    if LAYER_TYPES.get(cls.__name__) is not cls:
        raise ValueError(
            f"layers.serialize: {cls.__name__} is not one of nn's layers ({sorted(LAYER_TYPES)}); "
            "nn serializes only its own classes"
        )
    return {"module": "keras.layers", "class_name": cls.__name__, "config": layer.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects=None):
    """The layer described by ``serialize``'s dict; only nn's classes (``LAYER_TYPES``) and those
    passed in ``custom_objects`` (name -> class) are resolved: nothing is imported by name."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or LAYER_TYPES.get(name)
    if cls is None:
        raise ValueError(f"layers.deserialize: unknown layer class {name!r}; known: {sorted(LAYER_TYPES)}")
    inner = dict(config.get("config") or {})
    if not inner.get("renorm", False):
        inner.pop("renorm_momentum", None)  # only read by Keras' batch renormalization
    for key in _IGNORED_WHEN_OFF:
        if key in inner and not inner[key]:
            del inner[key]
    return cls.from_config(inner)
