"""The numpy replay of a recorded program (``autograd_mini.program``): each op's own forward
and backward on the current arrays, in the recorded order, with the engine's rules for edges
and leaves. No Tensors, no graph, no topological sort: the same numbers as the eager step,
bit for bit, with less Python."""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy import ndarray

from .engine import accumulate_leaf
from .function import gradient_tuple, run_forward
from .program import Backward, Leaf, Ones, OpCall, Program, Slot, read, run_effect, walk_backward


def replay(program: Program, slots: list) -> None:
    """Run ``program`` on ``slots`` (arguments and leaves in place; results are written into it)."""
    ctxs = {}  # slot -> the context of the op that computed it, for its backward

    def seed(grad):
        return np.ones(grad.shape, grad.dtype) if type(grad) is Ones else read(grad, slots)

    def op_grads(slot, g):
        ctx = ctxs[slot]
        grads = ctx.backward(ctx, g)
        if type(grads) is tuple:
            return grads
        # one array for a one-input op needs no count check (gradient_tuple's common case)
        return (grads,) if type(grads) is ndarray and len(ctx.needs_input_grad) == 1 else gradient_tuple(ctx, grads)

    to_leaf = partial(accumulate_leaf, copy=None)  # copied when read-only or a view

    for instruction in program.instructions:
        kind = type(instruction)
        if kind is OpCall:
            cls, inputs, options, needs, out = instruction
            # program.read, inlined (once per operand)
            arrays = [slots[r[0]] if type(r) is Slot else slots[r[0]].data if type(r) is Leaf else r[0] for r in inputs]
            ctx, slots[out] = run_forward(cls, arrays, needs, options)
            ctxs[out] = ctx
        elif kind is Backward:
            walk_backward(instruction, seed, op_grads, to_leaf)
        else:
            run_effect(instruction, slots)
