"""The symbolic graph of the functional API (Keras' ``KerasTensor`` and ``ops/node.py``), below the
layers and the models: ``KerasTensor`` placeholders, the ``Node`` recording one layer call, and
``symbolic_call``, which a layer (or any module) runs when called on KerasTensors.

Calling a layer on KerasTensors runs it once on a zero batch of one sample (which builds its
weights and gives the output shapes, whatever the layer) and records a ``Node``; a functional
model (``nn.models.functional``) collects the nodes between its inputs and outputs and replays
them on data.
"""

from __future__ import annotations

import itertools

import numpy as np

import autograd_mini as am


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch axis first, None when unknown), ``dtype``, ``name``, and
    ``_keras_history`` = (layer, node_index, tensor_index) of the call that produced it."""

    _is_keras_tensor = True

    def __init__(self, shape, dtype="float32", name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        self._keras_history = None

    @property
    def ndim(self) -> int:
        """The rank, batch axis included."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


_node_ids = itertools.count()


class Node:
    """One call of ``layer``: ``args``/``kwargs`` as given (KerasTensors inside), the flat input
    KerasTensors, and the output KerasTensors (``outputs`` keeps the call's structure)."""

    __slots__ = ("layer", "args", "kwargs", "inputs", "outputs", "flat_outputs", "order")

    def __init__(self, layer, args, kwargs, outputs):
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.inputs = [t for t in _flatten((args, kwargs)) if _is_keras_tensor(t)]
        self.outputs = outputs
        self.flat_outputs = [t for t in _flatten(outputs) if _is_keras_tensor(t)]
        self.order = next(_node_ids)
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        for i, t in enumerate(self.flat_outputs):
            t._keras_history = (layer, len(nodes), i)
        nodes.append(self)


def _is_keras_tensor(x) -> bool:
    return getattr(type(x), "_is_keras_tensor", False)


def _flatten(structure) -> list:
    """Leaves of nested lists/tuples/dicts, in order (iterative)."""
    out, stack = [], [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        else:
            out.append(item)
    return out


def _map(fn, structure):
    """``structure`` with every leaf replaced by ``fn(leaf)`` (lists, tuples, dicts). Call
    arguments nest a level or two, so plain recursion is fine here (graphs are walked iteratively)."""
    if isinstance(structure, list):
        return [_map(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(_map(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: _map(fn, item) for key, item in structure.items()}
    return fn(structure)


def record_input(layer, tensor):
    """Record an InputLayer's placeholder: a node without inputs."""
    Node(layer, (), {}, tensor)
    return tensor


def symbolic_call(layer, args, kwargs):
    """``layer(*args, **kwargs)`` on KerasTensors: runs the layer once on zeros of one sample (in
    inference mode, recording no graph) for the output shapes and dtypes, records a Node, and
    returns KerasTensor(s) in the structure the layer returns."""

    def concrete(t):
        if not _is_keras_tensor(t):
            return t
        shape = tuple(1 if d is None else d for d in t.shape)
        return am.as_tensor(np.zeros(shape, dtype=t.dtype))

    kwargs = dict(kwargs)
    run_kwargs = dict(kwargs)
    run_kwargs.setdefault("training", False)
    with am.no_grad():
        result = layer(*_map(concrete, list(args)), **_map(concrete, run_kwargs))

    def symbolic(value):
        if isinstance(value, am.Tensor):
            return KerasTensor((None,) + tuple(value.shape[1:]), value.dtype)
        return value

    outputs = _map(symbolic, result)
    Node(layer, tuple(args), kwargs, outputs)
    return outputs
