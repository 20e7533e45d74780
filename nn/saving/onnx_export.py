"""``model.export("m.onnx", format="onnx")``: the inference pass of a Sequential or functional model as an ONNX graph.

Built with ``onnx.helper`` (opset 17), one small converter per layer type below; Dropout is
the identity, as in inference. The graph's input is named ``input`` (batch axis dynamic),
its output ``output``; weights are initializers in the model's dtype (float32 or float64).
onnxruntime reproduces ``model.predict`` (float32 within 1e-5). A layer without a
converter is a ``ValueError`` naming it. Needs the ``export`` extra (onnx).
"""

from __future__ import annotations

import numpy as np

from autograd_mini.ops.formula import Elementwise

from ..activations import ALL_OBJECTS_DICT as KERAS
from . import adapters
from .atomic import atomic_write

OPSET = 17


class _Graph:
    """Nodes and initializers under construction; ``x`` is the current tensor's name."""

    def __init__(self, helper, numpy_helper, dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, np.dtype(dtype)
        self.nodes, self.initializers = [], []
        self.x = "input"
        self.count = 0

    def const(self, name: str, array) -> str:
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(self.dtype)
        self.initializers.append(self.numpy_helper.from_array(array, name=name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=f"node_{self.count}", **attrs))
        self.x = out
        return out


def _activation(g: _Graph, name: str, where: str) -> None:
    # Keras activations that are one core elementwise op without options: ONNX names the op as the class
    simple = {
        n: c.__name__ for n, c in Elementwise.registry.items() if n in KERAS and c.value.__code__.co_argcount == 2
    }
    if name in (None, "linear"):
        return
    if name in simple:
        g.op(simple[name], [g.x])
    elif name == "softmax":
        g.op("Softmax", [g.x], axis=-1)
    elif name == "elu":
        g.op("Elu", [g.x], alpha=1.0)
    elif name == "leaky_relu":
        g.op("LeakyRelu", [g.x], alpha=0.2)
    else:
        raise ValueError(f"export: {where} uses the activation {name!r}, which has no ONNX converter")


def _weights(layer) -> dict:
    """The layer's weights by short name ('kernel', 'bias', 'gamma', ...)."""
    out = {}
    for i, w in enumerate(adapters.layer_weights(layer)):
        name = (getattr(w, "name", None) or str(i)).split(".")[-1].split("/")[-1].replace(":0", "")
        out[name] = np.asarray(w.data)
    return out


def _dense(g, layer, prefix):
    w = _weights(layer)
    g.op("MatMul", [g.x, g.const(f"{prefix}.kernel", w["kernel"])])
    if "bias" in w:
        g.op("Add", [g.x, g.const(f"{prefix}.bias", w["bias"])])
    _activation(g, layer.get_config().get("activation"), f"layer '{layer.name}'")


def _batch_norm(g, layer, prefix):
    config, w = layer.get_config(), _weights(layer)
    if config.get("axis", -1) not in (-1, len(layer.input_shape) - 1):
        raise ValueError(
            f"export: BatchNormalization '{layer.name}' normalizes axis {config['axis']}; only the last axis is exported"
        )
    eps = float(config.get("epsilon", 1e-3))
    scale = 1.0 / np.sqrt(w["moving_variance"].astype(np.float64) + eps)
    if "gamma" in w:
        scale = scale * w["gamma"]
    shift = -w["moving_mean"] * scale + w.get("beta", 0.0)
    g.op("Mul", [g.x, g.const(f"{prefix}.scale", scale)])
    g.op("Add", [g.x, g.const(f"{prefix}.shift", shift)])


def _layer_norm(g, layer, prefix):
    config, w = layer.get_config(), _weights(layer)
    features = layer.input_shape[-1]
    gamma = w.get("gamma", np.ones(features))
    beta = w.get("beta", np.zeros(features))
    g.op(
        "LayerNormalization",
        [g.x, g.const(f"{prefix}.gamma", gamma), g.const(f"{prefix}.beta", beta)],
        axis=-1,
        epsilon=float(config.get("epsilon", 1e-3)),
    )


def _normalization(g, layer, prefix):
    mean, variance = np.asarray(layer.mean.data), np.asarray(layer.variance.data)
    std = np.maximum(np.sqrt(variance.astype(np.float64)), 1e-7)
    g.op("Sub", [g.x, g.const(f"{prefix}.mean", mean)])
    g.op("Div", [g.x, g.const(f"{prefix}.std", std)])


def _relu_layer(g, layer, prefix):
    config = layer.get_config()
    if config.get("max_value") is not None or config.get("threshold", 0.0) or config.get("negative_slope", 0.0):
        raise ValueError(f"export: ReLU '{layer.name}' with max_value/threshold/negative_slope has no converter")
    g.op("Relu", [g.x])


def _reshape(g, layer, prefix):
    target = [int(d) for d in layer.get_config()["target_shape"]]
    g.op("Reshape", [g.x, g.const(f"{prefix}.shape", np.array([0, *target], dtype=np.int64))])


def _rescaling(g, layer, prefix):
    config = layer.get_config()
    g.op("Mul", [g.x, g.const(f"{prefix}.scale", np.asarray(config.get("scale", 1.0), dtype=np.float64))])
    g.op("Add", [g.x, g.const(f"{prefix}.offset", np.asarray(config.get("offset", 0.0), dtype=np.float64))])


def _leaky(g, layer, prefix):
    config = layer.get_config()
    slope = config.get("negative_slope", config.get("alpha", 0.3))
    g.op("LeakyRelu", [g.x], alpha=float(slope))


CONVERTERS = {
    "Dense": _dense,
    "Dropout": lambda g, layer, prefix: None,
    "Flatten": lambda g, layer, prefix: g.op("Flatten", [g.x], axis=1),
    "Activation": lambda g, layer, prefix: _activation(g, layer.get_config()["activation"], f"layer '{layer.name}'"),
    "LeakyReLU": _leaky,
    "PReLU": lambda g, layer, prefix: g.op("PRelu", [g.x, g.const(f"{prefix}.alpha", _weights(layer)["alpha"])]),
    "RReLU": lambda g, layer, prefix: g.op("LeakyRelu", [g.x], alpha=(layer.lower + layer.upper) / 2),
    "Softmax": lambda g, layer, prefix: g.op("Softmax", [g.x], axis=int(layer.get_config().get("axis", -1))),
    "ReLU": _relu_layer,
    "ELU": lambda g, layer, prefix: g.op("Elu", [g.x], alpha=float(layer.get_config().get("alpha", 1.0))),
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Normalization": _normalization,
    "Rescaling": _rescaling,
    "Reshape": _reshape,
}
"""Layer class name -> converter(graph, layer, prefix)."""

# merging layers of functional models: ONNX op over all inputs, pairwise where ONNX is binary
_MERGE_OPS = {"Add": "Sum", "Maximum": "Max", "Minimum": "Min", "Average": "Mean", "Multiply": "Mul", "Subtract": "Sub"}


def _merge(g: _Graph, layer, names: list[str]) -> None:
    kind = type(layer).__name__
    if kind == "Concatenate":
        g.op("Concat", names, axis=int(layer.get_config().get("axis", -1)))
        return
    op = _MERGE_OPS[kind]
    if op in ("Mul", "Sub"):  # binary in ONNX
        g.x = names[0]
        for name in names[1:]:
            g.op(op, [g.x, name])
    else:
        g.op(op, names)


def _functional_nodes(g: _Graph, model, elem, helper):
    """Emit a functional model's layer calls in order; returns the graph's input/output infos."""
    names = {}
    inputs = []
    for i, t in enumerate(model.inputs):
        name = "input" if len(model.inputs) == 1 else f"input_{i}"
        names[id(t)] = name
        inputs.append(helper.make_tensor_value_info(name, elem, ["batch"] + [int(d) for d in t.shape[1:]]))
    for i, node in enumerate(model._nodes):
        layer, kind = node.layer, type(node.layer).__name__
        sources = [names[id(t)] for t in node.inputs]
        if kind in _MERGE_OPS or kind == "Concatenate":
            _merge(g, layer, sources)
        else:
            if len(sources) != 1:
                raise ValueError(
                    f"export: layer '{layer.name}' ({kind}) takes {len(sources)} inputs; ONNX export expects 1"
                )
            g.x = sources[0]
            CONVERTERS[kind](g, layer, f"{i}.{layer.name}")
            if g.x == sources[0]:  # an identity (Dropout): keep a node so each output has its own name
                g.op("Identity", [g.x])
        for t in node.flat_outputs:
            names[id(t)] = g.x
    outputs = []
    for i, t in enumerate(model.outputs):
        name = "output" if len(model.outputs) == 1 else f"output_{i}"
        g.nodes.append(helper.make_node("Identity", [names[id(t)]], [name], name=f"out_{i}"))
        outputs.append(helper.make_tensor_value_info(name, elem, ["batch"] + [d for d in t.shape[1:]]))
    return inputs, outputs


def to_onnx(model, opset_version: int = OPSET):
    """The ``onnx.ModelProto`` of ``model``'s inference pass (a Sequential of layers with converters)."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError("export: format='onnx' needs the onnx package: pip install autograd_mini[export]") from None
    from .keras_config import is_sequential

    functional = not is_sequential(model) and hasattr(model, "_nodes")
    if not is_sequential(model) and not functional:
        raise ValueError(
            f"export: nn exports Sequential and functional models to ONNX; got {type(model).__name__} "
            f"(a subclassed model's call() is Python, not a graph)"
        )
    if not functional and (not getattr(model, "built", False) or model.input_shape is None):
        raise ValueError("export: the model is not built; give it an Input(shape) first")
    layers = [layer for layer in adapters.model_layers(model) if type(layer).__name__ != "InputLayer"]
    known = set(CONVERTERS) | set(_MERGE_OPS) | {"Concatenate"}
    unknown = [f"{layer.name} ({type(layer).__name__})" for layer in layers if type(layer).__name__ not in known]
    if unknown:
        raise ValueError(f"export: no ONNX converter for layer(s) {', '.join(unknown)}; nn converts {sorted(known)}")
    dtype = np.dtype(adapters.model_dtype(model))
    elem = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}.get(dtype)
    if elem is None:
        raise ValueError(f"export: ONNX export supports float32 and float64 models, got {dtype}")
    g = _Graph(helper, numpy_helper, dtype)
    if functional:
        inputs, outputs = _functional_nodes(g, model, elem, helper)
        graph = helper.make_graph(g.nodes, getattr(model, "name", "model"), inputs, outputs, initializer=g.initializers)
        return _finish(onnx, helper, graph, opset_version)
    for i, layer in enumerate(layers):
        CONVERTERS[type(layer).__name__](g, layer, f"{i}.{layer.name}")
    g.op("Identity", [g.x])
    g.nodes[-1].output[0] = "output"
    input_shape = ["batch"] + [int(d) for d in model.input_shape[1:]]
    output_shape = ["batch"] + [int(d) if d is not None else None for d in model.output_shape[1:]]
    graph = helper.make_graph(
        g.nodes,
        getattr(model, "name", "model"),
        [helper.make_tensor_value_info("input", elem, input_shape)],
        [helper.make_tensor_value_info("output", elem, output_shape)],
        initializer=g.initializers,
    )
    return _finish(onnx, helper, graph, opset_version)


def _finish(onnx, helper, graph, opset_version):
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)], producer_name="nn")
    proto.ir_version = min(proto.ir_version, 8)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version: int | None = None, **kwargs):
    """Write the ONNX graph of ``model`` to ``filepath`` (atomically); returns the path."""
    if kwargs:
        raise TypeError(f"export: unexpected arguments {sorted(kwargs)}")
    if input_signature is not None:
        raise ValueError("export: nn takes the input signature from the model's Input; input_signature must be None")
    proto = to_onnx(model, opset_version or OPSET)
    with atomic_write(filepath, "wb") as handle:
        handle.write(proto.SerializeToString())
    if verbose:
        print(f"Saved artifact at '{filepath}'.")
    return filepath
