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


def effect_runner(effect: Effect) -> Callable[[list], None]:
    """``effect`` bound once, as ``run(slots)``: the one rule of a recorded ``@am.replayable`` call.
    It calls the function on the current slot values (a ``Slot`` as a new Tensor around its array,
    a ``Leaf`` as the leaf Tensor itself, a ``Const`` as recorded) and stores its array results
    (a Tensor's array) in the ``out`` slots. Executors that run an effect every step bind it once."""
    call, out = _bound_call(effect.fn, effect.args, effect.kwargs), effect.out
    if out is None:
        return call
    if type(out) is tuple:

        def run(slots):
            for slot, item in zip(out, call(slots)):
                if slot is not None:
                    slots[slot] = item.data if isinstance(item, Tensor) else item

        return run

    def run_one(slots):
        result = call(slots)
        slots[out] = result.data if isinstance(result, Tensor) else result

    return run_one


def run_effect(effect: Effect, slots: list) -> None:
    """Run a recorded ``@am.replayable`` call once on the current slot values (``effect_runner``)."""
    effect_runner(effect)(slots)


def _bound_call(fn: Callable, args: tuple, kwargs: dict) -> Callable[[list], Any]:
    """``slots -> fn(*arguments)``, the arguments read from ``slots`` as ``effect_runner`` says."""
    if kwargs:
        return lambda slots: fn(
            *[_argument(r, slots) for r in args], **{k: _argument(r, slots) for k, r in kwargs.items()}
        )
    values = [r.value if type(r) is Const else None for r in args]  # the constants in place
    traced = tuple((i, r.index) for i, r in enumerate(args) if type(r) is Slot)
    leaves = tuple((i, r.index) for i, r in enumerate(args) if type(r) is Leaf)
    wrap = Tensor._wrap

    def call(slots):
        arguments = values.copy()
        for i, slot in traced:
            arguments[i] = wrap(slots[slot])
        for i, slot in leaves:
            arguments[i] = slots[slot]
        return fn(*arguments)

    return call


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
