"""``Module`` and ``Parameter``: the PyTorch-style building blocks for custom loops."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import autograd_mini as am

from .symbolic import symbolic_call


class LossTerms:
    """Whether any loss term besides the compiled loss can exist in this process: a weight
    regularizer, an activity regularizer's or ``add_loss``'s term, or a class with its own
    ``losses``. Set (for good) where such a source appears; while it is False ``Model.losses``
    is ``[]`` without walking the layers on every training step."""

    possible = False


def note_loss_term() -> None:
    """Record that a loss term may exist (see ``LossTerms``)."""
    LossTerms.possible = True


def losses_rule(fget):
    """Mark nn's own ``losses`` properties (a class defining another one sets ``LossTerms``)."""
    fget._nn_losses_rule = True
    return fget


class Parameter(am.Tensor):
    """A leaf Tensor that a Module trains (``requires_grad=True``; ``trainable`` flag)."""

    __slots__ = ("trainable", "_regularizer", "constraint", "_path")

    def __init__(self, data, name: str | None = None, trainable: bool = True, regularizer=None, constraint=None):
        array = np.asarray(data)
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        super().__init__(np.array(array, copy=True), requires_grad=True, name=name)
        self.trainable = trainable
        self.regularizer = regularizer
        #: Keras' variable.constraint: a callable array -> array applied after each optimizer step
        self.constraint = constraint
        self._path = None

    @property
    def regularizer(self):
        """Keras' variable.regularizer: a callable weight -> scalar penalty (``Layer.losses``)."""
        return self._regularizer

    @regularizer.setter
    def regularizer(self, value) -> None:
        if value is not None:
            note_loss_term()
        self._regularizer = value

    @property
    def path(self) -> str:
        """Keras' variable path, '<layer>/<name>' ('dense_1/kernel'; ``name`` is 'kernel')."""
        return self._path or (self.name or "").replace(".", "/")

    @property
    def value(self):
        """Keras' ``variable.value``: the variable as a Tensor (itself)."""
        return self

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


class ParameterList(list):
    """``module.parameters()``: a list of Parameters that remembers its ``owner`` module and the
    sub-layers of it that are not built yet (``unbuilt``: (attribute path, layer) pairs)."""

    __slots__ = ("owner", "unbuilt")

    def __init__(self, params=(), owner=None, unbuilt=()):
        super().__init__(params)
        self.owner = owner
        self.unbuilt = list(unbuilt)


_CONCRETE = (am.Tensor, np.ndarray)  # never symbolic: no further check on every call


def _is_symbolic(x) -> bool:
    """A KerasTensor, or a list/tuple/dict holding one."""
    if getattr(type(x), "_is_keras_tensor", False):
        return True
    if isinstance(x, dict):
        x = list(x.values())
    return isinstance(x, (list, tuple)) and any(getattr(type(v), "_is_keras_tensor", False) for v in x)


class Module:
    """Base class: holds Parameters and sub-Modules as attributes; call it on Tensors."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("losses")
        if own is not None and not getattr(getattr(own, "fget", None), "_nn_losses_rule", False):
            note_loss_term()  # a class with its own losses: Model.losses walks the layers

    def __init__(self):
        self.training = True

    def forward(self, *inputs):
        """The computation on Tensors (subclasses write it)."""
        raise NotImplementedError

    def __call__(self, *inputs, **kwargs):
        """``forward(*inputs, **kwargs)``; on KerasTensors (the functional API) the call is
        recorded by ``nn.symbolic.symbolic_call`` instead."""
        if inputs and type(inputs[0]) not in _CONCRETE and _is_symbolic(inputs[0]):
            return symbolic_call(self, inputs, kwargs)
        return self.forward(*inputs, **kwargs)

    def _children(self):
        for key, value in vars(self).items():
            if isinstance(value, (Module, Parameter)):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Module, Parameter)):
                        yield f"{key}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs in a stable order, each parameter once."""
        return iter(self._walk_parameters(prefix)[0])

    def _walk_parameters(self, prefix: str = "") -> tuple[list, list]:
        """(the (name, Parameter) pairs, the (name, layer) pairs of sub-layers not built yet, whose
        weights do not exist yet)."""
        seen = set()
        stack = [(prefix, self)]
        out, unbuilt = [], []
        while stack:  # iterative: deep nestings do not recurse
            path, module = stack.pop()
            if getattr(module, "built", True) is False and module._awaits_build():
                unbuilt.append((path or type(module).__name__, module))
            children = list(module._children())
            for key, value in children:
                name = f"{path}.{key}" if path else key
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    out.append((name, value))
            for key, value in reversed(children):
                if isinstance(value, Module):
                    stack.append((f"{path}.{key}" if path else key, value))
        return out, unbuilt

    def _awaits_build(self) -> bool:
        """Whether this module creates weights when first called (a layer with its own ``build``)."""
        return False

    def parameters(self) -> ParameterList:
        """Every Parameter of this module and its sub-modules, each once, in a stable order. The list
        also names the sub-layers that are not built yet (``unbuilt``): an optimizer given it refuses
        to start without their weights, instead of silently never training them."""
        pairs, unbuilt = self._walk_parameters()
        return ParameterList([p for _, p in pairs], owner=self, unbuilt=unbuilt)

    def modules(self) -> list[Module]:
        """This module and all its sub-modules (depth first, iterative)."""
        found, stack = [], [self]
        while stack:
            m = stack.pop()
            found.append(m)
            stack.extend(v for _, v in reversed(list(m._children())) if isinstance(v, Module))
        return found

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (set to None, as PyTorch does by default)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every sub-module (PyTorch style)."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """``train(False)``."""
        return self.train(False)
