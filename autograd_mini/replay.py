"""The numpy replay of a recorded program (``autograd_mini.program``): each op's own forward
and backward on the current arrays, in the recorded order, with the engine's rules for edges
and leaves. No Tensors, no graph, no topological sort: the same numbers as the eager step,
bit for bit, with less Python.

A program is compiled once (``Replay``) into Python that runs it: one line per op, with its
operands read straight from the slot list (``s[4]``, ``s[2].data`` for a leaf, a constant by
name), the one backward walk (``program.walk_backward``) per backward pass and each effect
bound once (``program.effect_runner``). Later calls run that code, so a step pays no
per-instruction dispatch; what every line calls is the code the eager step runs
(``function.run_forward``, the op's ``backward``, ``engine.accumulate_leaf``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy import ndarray

from .engine import accumulate_leaf
from .function import gradient_tuple, run_forward
from .program import Backward, Leaf, Ones, OpCall, OpGrad, Program, Slot, effect_runner, read, walk_backward

#: instructions per generated function (a long recording is run as several, in order)
PART_SIZE = 1000


class Replay:
    """``program`` compiled once; ``replay(slots)`` runs it on ``slots`` (arguments and leaves in
    place; results are written into it), as ``replay(program, slots)`` would."""

    __slots__ = ("parts", "sources")

    def __init__(self, program: Program):
        instructions = program.instructions
        # the ops whose context a backward pass reads (the others' contexts are dropped at once)
        kept = {step.slot for b in instructions if type(b) is Backward for step in b.steps if type(step) is OpGrad}
        self.parts, self.sources = [], []
        for start in range(0, len(instructions), PART_SIZE):
            part, source = _compile_part(instructions[start : start + PART_SIZE], start, kept)
            self.parts.append(part)
            self.sources.append(source)

    def __call__(self, slots: list) -> None:
        ctxs = {}  # slot -> the context of the op that computed it, for its backward
        for part in self.parts:
            part(slots, ctxs)


def replay(program: Program, slots: list) -> None:
    """Run ``program`` on ``slots`` once (``Replay(program)(slots)``; keep the ``Replay`` to run it again)."""
    Replay(program)(slots)


def _compile_part(instructions: list, start: int, kept: set):
    """``run(s, x)`` for ``instructions`` (``s``: the slot list, ``x``: the contexts by slot), and its source."""
    namespace = {"forward": run_forward, "walk": walk_backward, "partial": partial}
    namespace.update(op_grads=_op_grads, to_leaf=_to_leaf, ones=_ones, seed=_seed)
    lines = ["def run(s, x):"]
    for k, instruction in enumerate(instructions, start):
        kind = type(instruction)
        if kind is OpCall:
            cls, inputs, options, needs, out = instruction
            namespace[f"C{k}"], namespace[f"N{k}"], namespace[f"O{k}"] = cls, needs, options
            operands = []
            for j, ref in enumerate(inputs):
                if type(ref) is Slot:
                    operands.append(f"s[{ref.index}]")
                elif type(ref) is Leaf:
                    operands.append(f"s[{ref.index}].data")  # read by reference: the leaf's array now
                else:
                    namespace[f"K{k}_{j}"] = ref.value
                    operands.append(f"K{k}_{j}")
            target = f"x[{out}]" if out in kept else "_"
            lines.append(f"    {target}, s[{out}] = forward(C{k}, ({', '.join(operands)},), N{k}, O{k})")
        elif kind is Backward:
            namespace[f"B{k}"] = instruction
            seeds = "ones" if all(type(s.grad) is Ones for s in instruction.seeds) else "partial(seed, s)"
            lines.append(f"    walk(B{k}, {seeds}, partial(op_grads, x), to_leaf)")
        else:
            namespace[f"E{k}"] = effect_runner(instruction)
            lines.append(f"    E{k}(s)")
    if len(lines) == 1:
        lines.append("    pass")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<am.compile replay {start}>", "exec"), namespace)  # our own generated Python
    return namespace["run"], source


def _ones(grad: Ones) -> ndarray:
    return np.ones(grad.shape, grad.dtype)


def _seed(slots: list, grad) -> ndarray:
    return np.ones(grad.shape, grad.dtype) if type(grad) is Ones else read(grad, slots)


def _op_grads(ctxs: dict, slot: int, g: ndarray) -> tuple:
    """The gradients of the inputs of the op that computed ``slot`` (its own ``backward``)."""
    ctx = ctxs[slot]
    grads = ctx.backward(ctx, g)
    if type(grads) is tuple:
        return grads
    # one array for a one-input op needs no count check (gradient_tuple's common case)
    return (grads,) if type(grads) is ndarray and len(ctx.needs_input_grad) == 1 else gradient_tuple(ctx, grads)


_to_leaf = partial(accumulate_leaf, copy=None)  # copied when read-only or a view
