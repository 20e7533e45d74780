"""N steps of a compiled step in one native call (Keras' ``steps_per_execution``).

``run_steps(step, batches)`` runs ``step`` (an ``am.compile(..., kernels=True)`` function) on
each batch in turn, like ``[step(*args) for args in batches]`` and with the same numbers, but
in one native call instead of N. A step that compiles to a single kernel with no Python
between its parts (no random draw) is compiled once, as the loop over the steps
(``steps_source``: the step's body inside ``for s in range(n)``); a single call runs it with
``n = 1``, so one compile serves both. Where that is not so, or before the signature is checked
and compiled, ``run_steps`` returns None having done nothing, and the caller runs the batches
one by one.

Values the kernel reads from Python before each call (an optimizer's learning rate and
scalars) are read once, before the N steps, and assumed to stay the same for all of them. That
is checked afterwards, step by step, in the order the single steps would read them: if a value
changed (a learning-rate schedule, Adam's bias corrections), the state is restored from the
step's ``state=(save, restore)`` snapshot and None is returned (the caller then runs the steps
one by one, as before, and later calls of that signature stop trying). A step with such values
and no ``state`` is not run this way.
"""

from __future__ import annotations

import re

import numpy as np

from ..tensor import Tensor
from .emitter import dtype_name

_REFUSED = "refused"


def run_steps(step, batches, invariant: bool = False, last_only: bool = False):
    """``step.run_steps(batches, invariant)``: per batch, what ``step(*args)`` returns, computed
    in one native call; None when that is not possible (nothing was done: run ``step(*args)``
    per batch instead). ``invariant=True``: the caller knows the values the kernel reads from
    Python stay the same over the N steps (a constant learning rate of plain SGD), so they are
    not read again after each step. ``last_only=True``: only the last batch's result (a list of
    one), as a loop that reports the logs after the last step needs."""
    return step.run_steps(batches, invariant, last_only)


def run_entry(entry, state, batches, invariant: bool, last_only: bool = False):
    """Run ``batches`` through the N-step function of one checked, compiled signature ``entry``;
    None when the entry cannot run that way. ``batches``: a list of argument tuples, or a
    ``Stacked`` (each argument's batches as one array). ``last_only``: the kernel keeps the
    exported values of the last step only, and only its result is built."""
    runner = getattr(entry, "multi_step", None)  # (unset until the first call)
    if runner is None:
        try:
            runner = _Runner(entry, state)
        except _Refused:
            runner = _REFUSED
        entry.multi_step = runner
    if runner is _REFUSED:
        return None
    return runner(batches, invariant, last_only)


class _Refused(Exception):
    pass


class Stacked:
    """N batches given as one array per argument, the N values stacked on a first axis
    (``arrays[k][s]`` is argument ``k`` of batch ``s``; None for an argument that is None): what
    a loop over stacked data hands over without a Python object per batch."""

    __slots__ = ("arrays", "n")

    def __init__(self, arrays):
        self.arrays = tuple(arrays)
        self.n = len(next(a for a in self.arrays if a is not None))

    def __len__(self):
        return self.n

    def batch(self, s: int) -> tuple:
        """The argument tuple of batch ``s``."""
        return tuple(None if a is None else a[s] for a in self.arrays)


def steps_source(L, name: str, block, exported: list, stacked: set) -> str:
    """The source of ``name(n, keep, *params, *runtime)``: the block's step run ``n`` times in one
    native call. A parameter in ``stacked`` (an argument of the step) comes with the ``n`` steps'
    values on a first axis; the others (the leaves) are the same arrays for every step. Returned,
    in the block's order: each exported value per step (all ``n`` if ``keep``, else the last one
    only: a first axis of 1), each fresh leaf gradient as the last step left it, each accumulated
    gradient and each ``after`` value per step. One compile serves a single call (``n = 1``) and
    the N-step loop; copies are element loops (numba compiles a slice assignment far slower)."""
    empty, view = L.helper("empty_"), L.helper("view_")
    head = ["m = 1 + (n - 1) * keep"]
    loop = ["j = s * keep"]  # (the row an exported value goes to; no branch: LLVM would unswitch the loop)
    returned = []
    # the body's buffers are allocated once per call, before the loop: every step writes them
    # whole before it reads them (a sum's zero fill stays in the body), so the steps share them
    allocation = re.compile(rf"^(\w+) = {empty}\(\d+, \w+\)$")
    body, hoisted = [], set()
    for text in L.lines:
        found = allocation.match(text)
        if found:
            head.append(text)
            hoisted.add(found.group(1))
        else:
            body.append(text)

    def per_step(var, rows: str, row: str) -> None:
        out = f"o{len(returned)}"
        head.append(f"{out} = {empty}({rows} * {var.size}, {dtype_name(var.dtype)})")
        if var.scalar:
            loop.append(f"{out}[{row}] = {var.name}")
        else:
            index = L.fresh("i")
            loop.append(f"for {index} in range({var.size}):")
            loop.append(f"    {out}[{row} * {var.size} + {index}] = {var.name}[{index}]")
        returned.append(out if not var.shape else f"{view}({out}, {_per_step(tuple(var.shape), rows)})")

    for slot in exported:
        per_step(block.defined[slot], "m", "j")
    for _, var, fresh in block.leaf_grads:
        if not fresh:
            per_step(var, "n", "s")
            continue
        if var.name in hoisted:  # the last step's gradient: the buffer every step wrote
            returned.append(_flat(L, var.name, var.shape))
            continue
        out = f"o{len(returned)}"  # (a scalar, or a value the body binds: kept from the last step)
        head.append(f"{out} = {empty}({1 if var.scalar else 0}, {dtype_name(var.dtype)})")
        loop.append(f"{out}[0] = {var.name}" if var.scalar else f"{out} = {var.name}")
        returned.append(_flat(L, out, var.shape))
    for _, var, _ in block.after:
        per_step(var, "n", "s")
    params = [f"{p}_steps" if p in stacked else p for _, p in block.params] + [r for r, _ in block.runtime]
    lines = [f"def {name}(n, keep, {', '.join(params)}):"]
    lines += ["    " + text for text in head]
    lines.append("    for s in range(n):")
    for slot, p in block.params:  # (a 0-d argument's step is a 1-element slice: an array, as view_ takes)
        if p in stacked:
            lines.append(
                f"        {p} = {p}_steps[s]" if block.vars[slot].shape else f"        {p} = {p}_steps[s : s + 1]"
            )
    lines += ["        " + text for text in body]
    lines += ["        " + text for text in loop]
    lines.append(f"    return ({', '.join(returned)}{',' if len(returned) == 1 else ''})")
    return "\n".join(lines) + "\n"


class _Runner:
    """Runs N steps through the N-step function of one compiled signature (``steps_source``)."""

    def __init__(self, entry, state):
        block, exported, fn, leaf_of = entry.kernel.plan
        if state is None and block.runtime:  # (a changed value is undone through the state)
            raise _Refused
        self.entry, self.state, self.block, self.exported, self.fn = entry, state, block, exported, fn
        position = {slot: k for k, slot in enumerate(entry.arg_slots) if slot is not None}
        self.inputs = []  # per block parameter: ("arg", position) or ("leaf", leaf, written)
        for slot, name in block.params:
            if name.startswith("n"):
                raise _Refused
            if slot in leaf_of:
                self.inputs.append(("leaf", leaf_of[slot], slot in block.written))
            elif slot in position:
                self.inputs.append(("arg", position[slot]))
            else:
                raise _Refused
        self.scalar = [not block.defined[s].shape for s in exported]
        self.k_after = len(exported) + len(block.leaf_grads)

    def __call__(self, batches, invariant=False, last_only=False):
        block, entry = self.block, self.entry
        n = len(batches)
        snapshot = self.state[0]() if block.runtime and not invariant else None  # (only a changed value restores)
        arrays = []
        for kind in self.inputs:
            if kind[0] == "leaf":
                leaf, written = kind[1], kind[2]
                array = leaf.mutable_data() if written else leaf.data
                if not array.flags.c_contiguous:
                    if written:
                        return None
                    array = np.ascontiguousarray(array)
                arrays.append(array)
            elif isinstance(batches, Stacked):
                arrays.append(np.ascontiguousarray(batches.arrays[kind[1]][:n]))
            else:
                stacked = [_array(args[kind[1]]) for args in batches]
                arrays.append(np.ascontiguousarray(np.stack(stacked)))
        values_read = []
        for _, getter in block.runtime:
            value = getter()
            if value is None:
                return None
            values_read.append(value)
        outs = self.fn(n, 0 if last_only else 1, *arrays, *values_read)
        k_grads, k_after = len(self.exported), self.k_after
        afters = [(after, many, outs[k_after + j]) for j, (after, _, many) in enumerate(block.after)]
        at_once = invariant and all(many is not None for _, many, _ in afters)
        if at_once:  # (nothing read between the steps: each hook takes its n values at once)
            for _, many, values in afters:
                many(values)
        for s in range(0 if at_once else n):  # (else step by step, as the single steps run them)
            for after, _, values in afters:
                after(values[s])
            if s < n - 1 and not invariant:
                for (_, getter), value in zip(block.runtime, values_read):
                    if not _same(getter(), value):  # the next single step would read another value
                        self.state[1](snapshot)
                        entry.multi_step = _REFUSED
                        return None
        for j, (leaf, _, fresh) in enumerate(block.leaf_grads):
            grads = outs[k_grads + j]
            if fresh:  # (the last step's)
                leaf.grad = Tensor._wrap(grads)
            else:
                for s in range(n):
                    g = grads[s, ...]  # (a 0-d array for a scalar leaf, as a single call gives)
                    leaf.grad = Tensor._wrap(g) if leaf.grad is None else Tensor._wrap(leaf.grad.data + g)
        results = []
        template, output, exported = entry.template, entry.output, list(enumerate(self.exported))
        placed = [(k, slot) for k, slot in enumerate(entry.arg_slots) if slot is not None]
        scalar = self.scalar
        for s in range(n - 1 if last_only else 0, n):
            args = batches.batch(s) if isinstance(batches, Stacked) else batches[s]
            slots = template.copy()
            for k, slot in placed:
                slots[slot] = _array(args[k])
            row = 0 if last_only else s
            for k, slot in exported:
                slots[slot] = outs[k][row, ...] if scalar[k] else outs[k][row]
            results.append(output(slots))
        return results


def _flat(L, buffer: str, shape: tuple) -> str:
    """The new flat buffer ``buffer`` returned in ``shape``: itself when that is 1-d (numba types
    and lowers a ``view_`` call at every use)."""
    return buffer if len(shape) == 1 else L.view(buffer, shape)


def _per_step(shape: tuple, rows: str = "n") -> str:
    """The source of the shape ``(rows, *shape)``."""
    return "(" + ", ".join([rows, *(str(int(size)) for size in shape)]) + ("," if not shape else "") + ")"


def _array(value):
    return value.data if isinstance(value, Tensor) else value


def _same(a, b) -> bool:
    """The same runtime value: the same arrays (memory, shape, dtype) and equal scalars of one type
    (a NaN never equals: the caller then runs single steps, which is always right)."""
    if a is b:
        return True
    if isinstance(a, (tuple, list)):
        if not isinstance(b, (tuple, list)) or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if x is y:
                continue
            if type(x) is not type(y):
                return False
            if isinstance(x, np.ndarray):
                if not _same_array(x, y):
                    return False
            elif isinstance(x, (np.generic, float, int, bool)):
                if x != y:
                    return False
            elif not _same(x, y):
                return False
        return True
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and _same_array(a, b)
    if isinstance(a, (np.generic, float, int, bool)):
        return type(a) is type(b) and bool(a == b)
    return False


def _same_array(x, y) -> bool:
    return (
        x.shape == y.shape
        and x.dtype == y.dtype
        and x.strides == y.strides
        and x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
    )
