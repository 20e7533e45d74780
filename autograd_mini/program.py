"""The recorded program: what ``am.compile`` captures, the numpy replay runs and the loop kernels
(``autograd_mini.lowering``) compile. One program, three readers, like jax's jaxpr.

A program is a list of three instructions over numbered *slots* (the values of one step):

- ``OpCall``: run an op's forward on its inputs, giving slot ``out``;
- ``Backward``: the engine's backward pass as the engine planned it (``engine.backward_order``):
  ``Seed`` gradients, then in order one ``OpGrad`` (run the op's backward and send each
  gradient along its ``Edge``: reduced to the input's shape and dtype, accumulated, as
  ``engine.send``) or ``LeafGrad`` (store into a leaf's ``.grad``, as ``engine.accumulate_leaf``);
- ``Effect``: call a ``@am.replayable`` function (an optimizer step, a random draw) again.

An operand is a typed reference: ``Slot`` (a value of the step), ``Leaf`` (a leaf Tensor read
by reference: its slot holds the Tensor, so updates between calls are seen) or ``Const``.
``walk_backward`` is the one walk over a ``Backward``: the replay runs it on ndarrays, the kernel
builder on loop variables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .engine import NUMPY, conform, send
from .tensor import Tensor


class Slot(NamedTuple):  # a value computed by the step (or an argument of it)
    index: int


class Leaf(NamedTuple):  # a leaf Tensor read by reference: its slot holds the Tensor itself
    index: int


class Const(NamedTuple):  # a constant of the recording
    value: Any


class Ones(NamedTuple):  # a gradient seed of ones (``loss.backward()``)
    shape: tuple
    dtype: Any


class OpCall(NamedTuple):  # slots[out] = cls.forward(*inputs, **options); needs: its needs_input_grad
    cls: type
    inputs: tuple
    options: dict
    needs: tuple
    out: int


class Seed(NamedTuple):  # the gradient ``grad`` (a reference or Ones) of the root in ``slot``
    slot: int
    grad: Any


class Edge(NamedTuple):  # a gradient goes to ``slot``, reduced to ``shape``, cast to ``dtype``
    slot: int
    shape: tuple
    dtype: Any


class OpGrad(NamedTuple):  # the backward of the op that computed ``slot``; edges[i] None: no gradient
    slot: int
    edges: tuple


class LeafGrad(NamedTuple):  # slot's gradient into ``leaf.grad`` (``fresh``: replacing it)
    slot: int
    leaf: Tensor
    fresh: bool


class Backward(NamedTuple):  # a backward pass: its seeds, then its steps in the engine's order
    seeds: tuple
    steps: tuple
    retain_graph: bool


class Effect(NamedTuple):  # out = fn(*args, **kwargs); out: a slot, a tuple of slots (None: no array) or None
    fn: Callable
    args: tuple
    kwargs: dict
    out: Any


class LeafInfo(NamedTuple):  # a leaf read by the step, its slot, its shape and dtype at trace time
    tensor: Tensor
    slot: int
    shape: tuple
    dtype: Any


class Program(NamedTuple):  # a recording: instructions, slot count, (shape, dtype) per array slot, leaves
    instructions: list
    nslots: int
    meta: dict
    leaves: list


def read(ref, slots: list):
    """The array an operand stands for now."""
    kind = type(ref)
    if kind is Slot:
        return slots[ref.index]
    if kind is Leaf:
        return slots[ref.index].data
    return ref.value


def run_effect(effect: Effect, slots: list) -> None:
    """Run a recorded ``@am.replayable`` call on the current slot values (Tensors where it got Tensors)."""
    wrap = Tensor._wrap  # _argument, inlined for the positional arguments (once per argument)
    args = [
        r.value if type(r) is Const else wrap(slots[r.index]) if type(r) is Slot else slots[r.index]
        for r in effect.args
    ]
    kwargs = effect.kwargs
    result = effect.fn(*args, **{k: _argument(r, slots) for k, r in kwargs.items()}) if kwargs else effect.fn(*args)
    out = effect.out
    if type(out) is tuple:
        for slot, item in zip(out, result):
            if slot is not None:
                slots[slot] = item.data if isinstance(item, Tensor) else item
    elif out is not None:
        slots[out] = result.data if isinstance(result, Tensor) else result


def _argument(ref, slots):
    kind = type(ref)
    if kind is Const:
        return ref.value
    value = slots[ref.index]
    return Tensor._wrap(value) if kind is Slot else value  # a leaf slot holds the leaf Tensor itself


def walk_backward(backward: Backward, seed: Callable, op_grads: Callable, to_leaf: Callable, math=NUMPY) -> None:
    """Execute ``backward`` (the one walk over a recorded backward pass): ``seed(grad)`` gives a seed's
    value, ``op_grads(slot, g)`` the op's gradients of its inputs, ``to_leaf(leaf, g, fresh)`` stores a leaf's;
    each edge's gradient goes through ``engine.send`` with ``math`` (ndarrays, or loop variables)."""
    grads: dict = {}
    for s in backward.seeds:
        send(grads, s.slot, seed(s.grad), None, None, math)
    add = math.add
    pop = grads.pop
    for step in backward.steps:
        g = pop(step.slot, None)
        if g is None:
            continue
        if type(step) is LeafGrad:
            to_leaf(step.leaf, g, step.fresh)
            continue
        for edge, pg in zip(step.edges, op_grads(step.slot, g)):
            if edge is None or pg is None:
                continue
            # send(grads, slot, pg, shape, dtype, math), inlined (once per edge): conform, accumulate
            slot, shape, dtype = edge
            if pg.shape != shape or pg.dtype != dtype:
                pg = conform(pg, shape, dtype, math)
            grads[slot] = add(grads[slot], pg) if slot in grads else pg
