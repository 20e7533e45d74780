"""The numpy replay of a recorded program (``autograd_mini.program``): each op's own forward
and backward on the current arrays, in the recorded order, with the engine's rules for edges
and leaves. No Tensors, no graph, no topological sort: the same numbers as the eager step,
bit for bit, with less Python.

A program is compiled once (``Replay``) into Python that runs it: one line per op, with its
operands read straight from the slot list (``s[4]``, ``s[2].data`` for a leaf, a constant by
name), each backward pass as the lines of what the one walk (``program.walk_backward``) does
to the gradients (written after the first call, see ``Replay``), and each effect bound once
(``program.effect_runner``). Later calls run that code, so a step pays no per-instruction
dispatch; what every line calls is the code the eager step runs (``function.run_forward``,
the op's ``backward``, ``engine.conform``'s reductions, ``engine.accumulate_leaf``).
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np
from numpy import ndarray

from .engine import NUMPY, accumulate_leaf
from .function import gradient_tuple, run_forward
from .program import Backward, Leaf, Ones, OpCall, OpGrad, Program, Slot, effect_runner, read, walk_backward

#: instructions per generated function (a long recording is run as several, in order)
PART_SIZE = 1000
#: backward passes up to this many steps are unrolled into straight-line code (longer ones: the walk per call)
MAX_UNROLLED_STEPS = 5000


class Replay:
    """``program`` compiled once; ``replay(slots)`` runs it on ``slots`` (arguments and leaves in
    place; results are written into it), as ``replay(program, slots)`` would.

    The first call runs each backward pass through ``program.walk_backward`` and notes what each
    op's backward returned (which gradients, their shapes and dtypes: fixed by the recording's
    signature). Then the walk runs once more, at compile time, on those notes instead of arrays
    (``_Unrolled``): what it does to the gradients (an op's backward, ``engine.conform``'s
    reductions and casts, ``math.add``, a leaf's ``accumulate_leaf``) becomes straight-line
    code, so later calls run the walk's decisions without walking."""

    __slots__ = ("program", "parts", "sources", "notes")

    def __init__(self, program: Program):
        self.program = program
        self.notes: dict | None = {}  # instruction index -> {slot: per input, (shape, dtype) or None}
        self._build(note=self.notes, unroll={})

    def _build(self, note: dict | None, unroll: dict) -> None:
        instructions = self.program.instructions
        # the ops whose context a backward pass reads (the others' contexts are dropped at once)
        kept = {step.slot for b in instructions if type(b) is Backward for step in b.steps if type(step) is OpGrad}
        parts, sources = [], []
        for start in range(0, len(instructions), PART_SIZE):
            part, source = _compile_part(instructions[start : start + PART_SIZE], start, kept, note, unroll)
            parts.append(part)
            sources.append(source)
        self.parts, self.sources = parts, sources

    def __call__(self, slots: list) -> None:
        ctxs = {}  # slot -> the context of the op that computed it, for its backward
        for part in self.parts:
            part(slots, ctxs)
        if self.notes is not None:  # after the first call: the backward passes become straight-line code
            notes, self.notes = self.notes, None
            recording = self.program.instructions
            unroll = {  # (a pass that is too long, or seeded with a given gradient, keeps the walk)
                k: noted
                for k, noted in notes.items()
                if len(recording[k].steps) <= MAX_UNROLLED_STEPS
                and all(type(s.grad) is Ones for s in recording[k].seeds)
            }
            try:
                self._build(note=None, unroll=unroll)
            except Exception:  # (never expected) a pass that cannot be unrolled keeps the walk
                self._build(note=None, unroll={})


def replay(program: Program, slots: list) -> None:
    """Run ``program`` on ``slots`` once (``Replay(program)(slots)``; keep the ``Replay`` to run it again)."""
    Replay(program)(slots)


def _compile_part(instructions: list, start: int, kept: set, note: dict | None, unroll: dict):
    """``run(s, x)`` for ``instructions`` (``s``: the slot list, ``x``: the contexts by slot), and its
    source. ``note``: a dict to note what each op's backward returns in (the first call);
    ``unroll``: the notes of the backward passes to write as straight-line code."""
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
            grads = "partial(op_grads, x)"
            if k in unroll:  # the one walk, run here on the notes: its work as lines
                unrolled = _Unrolled(k, unroll[k], namespace, lines)
                walk_backward(instruction, *unrolled.callbacks())
                unrolled.release()
                continue
            if note is not None:  # the first call: note what each op's backward returns
                namespace[f"R{k}"] = partial(_noting_op_grads, note.setdefault(k, {}))
                grads = f"partial(R{k}, x)"
            lines.append(f"    walk(B{k}, {seeds}, {grads}, to_leaf)")
        else:
            namespace[f"E{k}"] = effect_runner(instruction)
            lines.append(f"    E{k}(s)")
    if len(lines) == 1:
        lines.append("    pass")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<am.compile replay {start}>", "exec"), namespace)  # our own generated Python
    return namespace["run"], source


class _Value(NamedTuple):  # a gradient of the unrolled code: its variable, shape and dtype (as noted)
    name: str
    shape: tuple
    dtype: Any


class _Unrolled:
    """The walk's callbacks and ``math`` on ``_Value``s: each thing done to a gradient appends a
    line (the same functions the walk calls on arrays: ``op_grads``, ``NUMPY``'s, ``to_leaf``).
    A gradient is used once: its variable is deleted after that line (or, never used, after
    the line that made it), so gradients are freed as the walk frees them."""

    def __init__(self, index: int, notes: dict, namespace: dict, lines: list):
        self.index, self.notes, self.namespace, self.lines = index, notes, namespace, lines
        self.count = 0
        self.made: dict[str, int] = {}  # variable -> the line that made it (until it is used)
        namespace.update(SUM=NUMPY.sum, RESHAPE=NUMPY.reshape, CAST=NUMPY.cast, ADD=NUMPY.add)

    def line(self, text: str, used: tuple = (), made: tuple = ()) -> None:
        for name in used:
            del self.made[name]
        self.lines.append(f"    {text}" + (f"; del {', '.join(used)}" if used else ""))
        for name in made:
            self.made[name] = len(self.lines) - 1

    def release(self) -> None:
        """Delete the gradients nothing used (an op's gradient of an input that needs none)."""
        for name, at in self.made.items():
            self.lines[at] += f"; del {name}"

    def callbacks(self) -> tuple:
        math = SimpleNamespace(sum=self.sum, reshape=self.reshape, cast=self.cast, add=self.add)
        return self.seed, self.op_grads, self.to_leaf, math

    def name(self, value=None) -> str:
        """A new local variable (``g``), or a name for ``value`` in the generated code's globals (``V``)."""
        self.count += 1
        if value is None:
            return f"g{self.index}_{self.count}"
        name = f"V{self.index}_{self.count}"
        self.namespace[name] = value
        return name

    def value(self, expression: str, shape: tuple, dtype, used: tuple = ()) -> _Value:
        name = self.name()
        self.line(f"{name} = {expression}", used, (name,))
        return _Value(name, shape, dtype)

    def seed(self, grad: Ones) -> _Value:
        return self.value(f"ones({self.name(grad)})", grad.shape, grad.dtype)

    def op_grads(self, slot: int, g: _Value) -> list:
        noted = self.notes[slot]
        names = [self.name() for _ in noted]
        made = tuple(name for name, item in zip(names, noted) if item is not None)
        self.line(f"{', '.join(names)}, = op_grads(x, {slot}, {g.name})", (g.name,), made)
        return [None if item is None else _Value(name, *item) for name, item in zip(names, noted)]

    def to_leaf(self, leaf, g: _Value, fresh: bool) -> None:
        self.line(f"to_leaf({self.name(leaf)}, {g.name}, {fresh})", (g.name,))

    def sum(self, g: _Value, axes: tuple) -> _Value:
        shape = tuple(1 if i in axes else n for i, n in enumerate(g.shape))
        return self.value(f"SUM({g.name}, {axes!r})", shape, g.dtype, (g.name,))

    def reshape(self, g: _Value, shape: tuple) -> _Value:
        return self.value(f"RESHAPE({g.name}, {shape!r})", shape, g.dtype, (g.name,))

    def cast(self, g: _Value, dtype) -> _Value:
        return self.value(f"CAST({g.name}, {self.name(dtype)})", g.shape, dtype, (g.name,))

    def add(self, a: _Value, b: _Value) -> _Value:
        return self.value(f"ADD({a.name}, {b.name})", a.shape, np.result_type(a.dtype, b.dtype), (a.name, b.name))


def _noting_op_grads(notes: dict, ctxs: dict, slot: int, g: ndarray) -> tuple:
    """``_op_grads``, noting the shape and dtype of each gradient it returns (None: no gradient)."""
    grads = _op_grads(ctxs, slot, g)
    notes[slot] = tuple(None if pg is None else (pg.shape, pg.dtype) for pg in grads)
    return grads


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
