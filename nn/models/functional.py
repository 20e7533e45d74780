"""The functional API: ``Model(inputs, outputs)`` over a DAG of layer calls.

Calling a layer on KerasTensors records a ``Node`` (``nn.symbolic``, below the layers).
``Functional`` collects the nodes between its inputs and outputs (an iterative walk) and replays
them, in creation order, on data.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from ..symbolic import Node, _flatten, _is_keras_tensor, _map, record_input, symbolic_call  # noqa: F401
from .model import Model


class Functional(Model):
    """``Model(inputs, outputs)``: inputs and outputs are KerasTensors (one, a list, or a dict of
    outputs); the model replays the recorded layer calls between them."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or _default_name("functional"), trainable=trainable)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._inputs = _flatten(inputs)
        self._outputs = _flatten(outputs)
        for what, tensors in (("inputs", self._inputs), ("outputs", self._outputs)):
            bad = [type(t).__name__ for t in tensors if not _is_keras_tensor(t)]
            if bad or not tensors:
                raise ValueError(
                    f"Model: {what} must be KerasTensors (from keras.Input and layer calls), got {bad or 'nothing'}"
                )
        self._nodes = _collect_nodes(self._inputs, self._outputs)
        seen, operations = set(), []
        for t in self._inputs:
            layer = t._keras_history[0]
            if id(layer) not in seen:
                seen.add(id(layer))
                operations.append(layer)
        for node in self._nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                operations.append(node.layer)
        self._operations = operations
        self._layers_list = operations
        self.built = True

    def _children(self):
        for layer in self._operations:
            yield layer.name, layer

    @property
    def layers(self) -> list:
        """Every layer of the graph, InputLayers first, then in call order (Keras' list)."""
        return list(self._operations)

    def _graph_edges(self) -> list:
        """(source layer, destination layer) for every tensor passed between two layers of the
        graph, in call order (what ``plot_model`` draws)."""
        edges, seen = [], set()
        for node in self._nodes:
            for t in node.inputs:
                source = t._keras_history[0]
                key = (id(source), id(node.layer))
                if key not in seen:
                    seen.add(key)
                    edges.append((source, node.layer))
        return edges

    @property
    def inputs(self):
        """The input KerasTensors."""
        return list(self._inputs)

    @property
    def outputs(self):
        """The output KerasTensors."""
        return list(self._outputs)

    @property
    def input_shape(self):
        """The input's batch shape (a list of them for several inputs)."""
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The output's batch shape (a list of them for several outputs)."""
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_dtypes(self) -> list:
        """One dtype per input, in order."""
        return [t.dtype for t in self._inputs]

    def input_specs(self) -> list:
        """(batch shape, dtype) per input: what fit/predict standardize data against."""
        return [(t.shape, t.dtype) for t in self._inputs]

    def call(self, inputs, training=None):
        """Replay the graph on ``inputs`` (one array/Tensor, a list in input order, or a dict by
        input name)."""
        flat = self._flatten_inputs(inputs)
        values = {}
        for t, value in zip(self._inputs, flat):
            if not isinstance(value, am.Tensor):
                value = am.as_tensor(np.asarray(value, dtype=t.dtype))
            values[id(t)] = value
        for node in self._nodes:
            args = _map(lambda v: values[id(v)] if _is_keras_tensor(v) else v, list(node.args))
            kwargs = _map(lambda v: values[id(v)] if _is_keras_tensor(v) else v, dict(node.kwargs))
            if training is not None:  # Keras 3: the outer call's training overrides the one recorded at the call site
                kwargs["training"] = training
            else:
                kwargs.setdefault("training", None)
            result = node.layer(*args, **kwargs)
            for t, value in zip(node.flat_outputs, _flatten(result)):
                values[id(t)] = value
        return _map(lambda t: values[id(t)], self._outputs_struct)

    def _flatten_inputs(self, inputs) -> list:
        if isinstance(inputs, dict):
            names = [t.name for t in self._inputs]
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}': the input dict misses {missing}; expected keys {names}")
            return [inputs[n] for n in names]
        if len(self._inputs) == 1:
            if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
                inputs = inputs[0]
            return [inputs]
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(self._inputs):
            got = len(inputs) if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(f"Model '{self.name}' expects a list of {len(self._inputs)} inputs, got {got}")
        return list(inputs)

    def get_config(self) -> dict:
        """Keras' functional config: layers (with their inbound nodes), input_layers, output_layers."""
        from .serialization import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the graph from ``get_config()``."""
        from .serialization import functional_from_config

        return functional_from_config(config, custom_objects)


_SUBCLASSES: dict = {}


def functional_subclass(cls):
    """A class with ``cls``'s methods on top of ``Functional``'s graph: what ``CustomModel(inputs,
    outputs)`` instantiates when ``CustomModel`` subclasses ``Model`` (Keras injects Functional
    the same way), so an overridden ``train_step`` runs on a functional graph."""
    if issubclass(cls, Functional):
        return cls
    if cls not in _SUBCLASSES:
        _SUBCLASSES[cls] = type(
            cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        )
    return _SUBCLASSES[cls]


def _default_name(base: str) -> str:
    from ..utils import unique_name

    return unique_name(base)


def _collect_nodes(inputs, outputs) -> list:
    """The nodes between inputs and outputs, in creation order (a valid topological order); a
    path from an output to an unlisted Input raises (Keras' "graph disconnected")."""
    input_ids = {id(t) for t in inputs}
    nodes, seen, stack = {}, set(), list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t) in input_ids:
            continue
        history = t._keras_history
        if history is None:
            raise ValueError(f"Model: {t} was not produced by a layer call")
        layer, node_index, _ = history
        node = layer._inbound_nodes[node_index]
        if not node.inputs:
            raise ValueError(
                f"Model: graph disconnected: output depends on input '{layer.name}', which is not in the model's inputs"
            )
        nodes[id(node)] = node
        stack.extend(node.inputs)
    return sorted(nodes.values(), key=lambda n: n.order)
