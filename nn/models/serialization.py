"""Configs of Sequential and functional models (Keras 3's shapes), and rebuilding from them.

Layer configs go through ``nn.layers.serialize`` / ``deserialize`` when the layers package has
them, else ``{"class_name", "config"}`` from ``get_config()`` and ``LAYER_TYPES`` (one seam each:
``serialize_layer``, ``deserialize_layer``).
"""

from __future__ import annotations

import json


def serialize_layer(layer) -> dict:
    """{"module", "class_name", "config", "registered_name"} for one layer (nn's own layers in
    Keras' form; a user's layer under its registered name, rebuilt with the registry or
    ``custom_objects``)."""
    from .. import layers
    from ..saving import keras_config

    if layers.LAYER_TYPES.get(type(layer).__name__) is type(layer):
        return layers.serialize(layer)
    if keras_config.is_nested_model(layer):  # a nested Sequential/Functional: Keras' model entry
        return keras_config.model_config(layer)
    from ..saving.object_registration import GLOBAL_CUSTOM_NAMES

    name = type(layer).__name__
    return {
        "module": type(layer).__module__,
        "class_name": name,
        "config": layer.get_config(),
        "registered_name": GLOBAL_CUSTOM_NAMES.get(type(layer), name),
    }


def deserialize_layer(entry: dict, custom_objects=None):
    """A layer from ``serialize_layer``'s dict: nn's classes, registered classes and
    ``custom_objects`` (``nn.saving.object_registration``); nothing is imported by name."""
    from .. import layers
    from ..layers.input_layer import InputLayer
    from ..saving.object_registration import resolve_class

    if not isinstance(entry, dict):
        raise ValueError(f"expected a layer entry {{'class_name', 'config'}}, got {type(entry).__name__}")
    name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    if name == "InputLayer":
        return InputLayer(**config)
    cls = resolve_class(name, entry.get("module"), entry.get("registered_name"), custom_objects)
    if cls is None:
        raise ValueError(
            f"Could not locate class {name!r}: not one of nn's layers ({len(layers.LAYER_TYPES)} known), not "
            "registered with nn.saving.register_keras_serializable and not in custom_objects"
        )
    if layers.LAYER_TYPES.get(name) is cls:
        return layers.deserialize(entry)
    return cls.from_config(config)


def sequential_config(model) -> dict:
    """{"name", "trainable", "layers": [InputLayer config, layer configs...]} (Keras 3's shape)."""
    entries = []
    if model._input_layer is not None:
        entries.append({"class_name": "InputLayer", "config": model._input_layer.get_config()})
    entries += [serialize_layer(layer) for layer in model._layers]
    return {"name": model.name, "trainable": model.trainable, "dtype": str(model.dtype), "layers": entries}


def sequential_from_config(cls, config, custom_objects=None):
    """A Sequential from ``sequential_config``."""
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in config["layers"]:
        model.add(deserialize_layer(entry, custom_objects), rebuild=False)
    model._maybe_build()
    return model


def functional_config(model) -> dict:
    """Keras 3's functional config: every layer with its inbound nodes as Keras 3 writes them
    (``{"args": [...], "kwargs": {...}}`` with each input a ``__keras_tensor__`` holding its
    shape, dtype and ``keras_history`` = [layer name, node index, tensor index]), and the
    input/output layers."""
    in_model = {id(n) for n in model._nodes}
    position = {}  # a node's index among its layer's calls inside this model
    for layer in model._operations:
        count = 0
        for node in getattr(layer, "_inbound_nodes", []):
            if id(node) in in_model or not node.inputs:
                position[id(node)] = count
                count += 1

    def ref(t):
        layer, node_index, tensor_index = t._keras_history
        return [layer.name, position[id(layer._inbound_nodes[node_index])], tensor_index]

    def encode(value):
        if getattr(type(value), "_is_keras_tensor", False):
            return {
                "class_name": "__keras_tensor__",
                "config": {"shape": list(value.shape), "dtype": value.dtype.name, "keras_history": ref(value)},
            }
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        return value

    entries = []
    for layer in model._operations:
        entry = dict(serialize_layer(layer))
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": encode(list(node.args)), "kwargs": encode(dict(node.kwargs))}
            for node in getattr(layer, "_inbound_nodes", [])
            if id(node) in in_model
        ]
        entries.append(entry)

    def refs(tensors):
        return [ref(t) for t in tensors]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": refs(model._inputs),
        "output_layers": refs(model._outputs),
    }


def _node_refs(node) -> list[tuple]:
    """Every (layer, node, tensor) reference in one inbound node (Keras 3's or Keras 2's form)."""
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":
                found.append(tuple(item["config"]["keras_history"][:3]))
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            if len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int) and isinstance(item[2], int):
                found.append(tuple(item[:3]))
            else:
                stack.extend(item)
    return found


def _decode(value, tensors):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return tensors[tuple(value["config"]["keras_history"][:3])]
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


def _node_call(node, tensors):
    """(args, kwargs) of one inbound node with its tensors filled in."""
    if isinstance(node, dict) and "args" in node:
        kwargs = {k: v for k, v in (node.get("kwargs") or {}).items() if v is not None}  # Keras writes mask=None
        return _decode(node["args"], tensors), _decode(kwargs, tensors)
    refs = [tuple(r[:3]) for r in node]  # Keras 2: [[name, node, tensor, kwargs], ...]
    args = [tensors[r] for r in refs]
    return [args[0] if len(args) == 1 else args], {}


def _ref_list(refs) -> list:
    """Keras writes one input or output as a bare [name, node, tensor], several as a list of them."""
    return [refs] if refs and isinstance(refs[0], str) else list(refs)


def functional_from_config(config, custom_objects=None, prebuilt=None):
    """Replay the layer calls of ``functional_config`` (iteratively: a layer is called once all the
    tensors its node needs exist). ``prebuilt``: layers by name to use instead of new ones."""
    from .functional import Functional

    layers, pending = {}, []
    for entry in config["layers"]:
        layer = (prebuilt or {}).get(entry["name"]) or deserialize_layer(entry, custom_objects)
        layers[entry["name"]] = layer
        for node in entry.get("inbound_nodes", []):
            pending.append((layer, node, _node_refs(node)))
    tensors = {}  # (layer name, node index, tensor index) -> KerasTensor
    calls = {}
    for name, layer in layers.items():
        if type(layer).__name__ == "InputLayer":
            tensors[(name, 0, 0)] = layer.output
            calls[name] = 1
    while pending:
        progress = False
        for item in list(pending):
            layer, node, keys = item
            if all(k in tensors for k in keys):
                args, kwargs = _node_call(node, tensors)
                out = layer(*args, **kwargs)
                index = calls.get(layer.name, 0)
                calls[layer.name] = index + 1
                outs = out if isinstance(out, (list, tuple)) else [out]
                for j, t in enumerate(outs):
                    tensors[(layer.name, index, j)] = t
                pending.remove(item)
                progress = True
        if not progress:
            raise ValueError("from_config: the layer graph references tensors that no layer produces")
    inputs = [tensors[tuple(ref)] for ref in _ref_list(config["input_layers"])]
    outputs = [tensors[tuple(ref)] for ref in _ref_list(config["output_layers"])]
    return Functional(
        inputs[0] if len(inputs) == 1 else inputs,
        outputs[0] if len(outputs) == 1 else outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


# ---- the model side of saving (Keras 3's Model API), mixed into nn.models.Model -------------------
class ModelSerialization:
    """``get_compile_config`` / ``compile_from_config``, ``get_build_config`` /
    ``build_from_config`` and ``to_json``: what ``nn.saving`` asks a model for."""

    def get_compile_config(self):
        """Every ``compile`` argument in Keras' serialized form (None before ``compile``)."""
        config = getattr(self, "_compile_config", None)
        if not getattr(self, "compiled", False) or not config:
            return None
        from ..saving import adapters

        return adapters.serialize_compile_arguments(dict(config), self.optimizer)

    def compile_from_config(self, config) -> None:
        """``compile(**config)`` from ``get_compile_config()`` (or a Keras file's compile_config)."""
        from ..saving import adapters

        adapters.compile_from_config(self, config, None)

    def get_build_config(self):
        """``{"input_shape": ...}`` of a built model with known inputs, else None."""
        if not getattr(self, "built", False):
            return None
        shape = getattr(self, "input_shape", None)
        if shape is None:  # a subclassed model: the shape its first layer was built for
            shape = next((layer.input_shape for layer in self.layers if getattr(layer, "input_shape", None)), None)
            if shape is None or isinstance(shape, list):
                return None
            shape = (None, *tuple(shape)[1:])
        if isinstance(shape, list):
            return {"input_shape": [list(s) for s in shape]}
        return {"input_shape": list(shape)}

    def build_from_config(self, config) -> None:
        """Build for ``config["input_shape"]`` (``get_build_config``'s form): ``build`` where the
        model has one, else one inference call on zeros of that shape (batch 1) as Keras does."""
        if not config or "input_shape" not in config or getattr(self, "built", False):
            return
        shape = config["input_shape"]
        shapes = [tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape)
        build = getattr(type(self), "build", None)
        if build is not None:
            self.build(shapes)
            return
        import numpy as np

        def zeros(s):
            return np.zeros((1, *s[1:]), dtype=self.dtype)

        self._build_from_data([zeros(s) for s in shapes] if isinstance(shapes, list) else zeros(shapes))

    def to_json(self, **kwargs) -> str:
        """The model's config as JSON text (Keras' ``to_json``; ``model_from_json`` reads it)."""
        from ..saving.serialization_lib import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from ``to_json``'s text; classes resolve through the registry."""
    from ..saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model of the same architecture with fresh weights (Keras' ``clone_model``):
    Sequential and functional models from their config, each layer through ``clone_function``
    (default: ``layer.__class__.from_config(layer.get_config())``)."""
    if kwargs:
        raise TypeError(f"clone_model: unexpected arguments {sorted(kwargs)}")
    if input_tensors is not None or call_function is not None:
        raise ValueError("clone_model: nn does not support input_tensors= or call_function=")
    from .functional import Functional
    from .sequential import Sequential

    clone = clone_function or (lambda layer: type(layer).from_config(layer.get_config()))
    if isinstance(model, Sequential):
        layers = [clone(layer) for layer in model._layers]
        new = Sequential(name=model.name, trainable=model.trainable)
        if model._input_layer is not None:
            from ..layers import Input

            new.add(Input(batch_shape=tuple(model._input_layer.get_config()["batch_shape"])))
        for layer in layers:
            new.add(layer)
        return new
    if isinstance(model, Functional):
        config = model.get_config()
        by_name = {layer.name: layer for layer in model._operations}
        clones = {}
        for entry in config["layers"]:
            layer = by_name[entry["name"]]
            if type(layer).__name__ != "InputLayer":
                clones[entry["name"]] = clone(layer)
        return functional_from_config(config, prebuilt=clones)
    from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object

    return deserialize_keras_object(serialize_keras_object(model))
