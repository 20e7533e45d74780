"""Configs of Sequential and functional models (Keras 3's shapes), and rebuilding from them.

Layer configs go through ``nn.layers.serialize`` / ``deserialize`` when the layers package has
them, else ``{"class_name", "config"}`` from ``get_config()`` and ``LAYER_TYPES`` (one seam each:
``serialize_layer``, ``deserialize_layer``).
"""

from __future__ import annotations


def serialize_layer(layer) -> dict:
    """{"class_name": ..., "config": ...} for one layer."""
    from .. import layers

    serialize = getattr(layers, "serialize", None)
    if serialize is not None and layers.LAYER_TYPES.get(type(layer).__name__) is type(layer):
        return serialize(layer)
    # a user's layer (Keras 3 serializes it too; rebuilding it needs custom_objects)
    name = type(layer).__name__
    return {"module": type(layer).__module__, "class_name": name, "config": layer.get_config(), "registered_name": name}


def deserialize_layer(entry: dict, custom_objects=None):
    """A layer from ``serialize_layer``'s dict (nn's classes, or ``custom_objects``)."""
    from .. import layers
    from ..layers.input_layer import InputLayer

    name = entry.get("class_name")
    if custom_objects and name in custom_objects:
        cls = custom_objects[name]
        from_config = getattr(cls, "from_config", None)
        config = dict(entry.get("config", {}))
        return from_config(config) if from_config is not None else cls(**config)
    if name == "InputLayer":
        return InputLayer(**entry.get("config", {}))
    deserialize = getattr(layers, "deserialize", None)
    if deserialize is not None:
        return deserialize(entry)
    from ..layers.core import LAYER_TYPES

    cls = LAYER_TYPES.get(name)
    if cls is None:
        raise ValueError(f"unknown layer class {name!r}; known: {sorted(LAYER_TYPES)}")
    return cls(**entry.get("config", {}))


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
    """Keras 3's functional config: every layer with its inbound nodes as
    [[layer name, node index, tensor index], ...], and the input/output layers."""
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

    entries = []
    for layer in model._operations:
        entry = dict(serialize_layer(layer))
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            [ref(t) for t in node.inputs] for node in getattr(layer, "_inbound_nodes", []) if id(node) in in_model
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


def functional_from_config(config, custom_objects=None):
    """Replay the layer calls of ``functional_config`` (iteratively: a layer is called once all the
    tensors its node needs exist)."""
    from .functional import Functional

    layers, pending = {}, []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        layers[entry["name"]] = layer
        for node_refs in entry.get("inbound_nodes", []):
            pending.append((layer, node_refs))
    tensors = {}  # (layer name, node index, tensor index) -> KerasTensor
    calls = {}
    for name, layer in layers.items():
        if type(layer).__name__ == "InputLayer":
            tensors[(name, 0, 0)] = layer.output
            calls[name] = 1
    while pending:
        progress = False
        for item in list(pending):
            layer, node_refs = item
            keys = [tuple(ref) for ref in node_refs]
            if all(k in tensors for k in keys):
                args = [tensors[k] for k in keys]
                out = layer(args[0] if len(args) == 1 else args)
                index = calls.get(layer.name, 0)
                calls[layer.name] = index + 1
                outs = out if isinstance(out, (list, tuple)) else [out]
                for j, t in enumerate(outs):
                    tensors[(layer.name, index, j)] = t
                pending.remove(item)
                progress = True
        if not progress:
            raise ValueError("from_config: the layer graph references tensors that no layer produces")
    inputs = [tensors[tuple(ref)] for ref in config["input_layers"]]
    outputs = [tensors[tuple(ref)] for ref in config["output_layers"]]
    return Functional(
        inputs[0] if len(inputs) == 1 else inputs,
        outputs[0] if len(outputs) == 1 else outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


def resume_saved_rng_state(model) -> None:
    """Continue fit's random stream where the saved model left it: a model from ``load_model``
    carries its file's (validated) random state, which its first ``fit`` restores (loading
    itself leaves the global stream alone, as Keras' ``load_model`` does)."""
    state = model.__dict__.pop("_saved_rng_state", None)
    if state is not None:
        from ..utils import set_rng_state

        set_rng_state(state)
