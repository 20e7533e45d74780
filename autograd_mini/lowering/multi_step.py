"""N steps of a compiled step in one native call (Keras' ``steps_per_execution``).

``run_steps(step, batches)`` runs ``step`` (an ``am.compile(..., kernels=True)`` function) on
each batch in turn, like ``[step(*args) for args in batches]`` and with the same numbers, but
through one generated function that loops over the batches and calls the step's kernel on each:
one native call instead of N. It applies where the step compiled to a single kernel with no
Python between its parts (no random draw), once the signature is checked and compiled;
otherwise it returns None having done nothing, and the caller runs the batches one by one.

Values the kernel reads from Python before each call (an optimizer's learning rate and
scalars) are read once, before the N steps, and assumed to stay the same for all of them. That
is checked afterwards, step by step, in the order the single steps would read them: if a value
changed (a learning-rate schedule, Adam's bias corrections), the state is restored from the
step's ``state=(save, restore)`` snapshot and None is returned (the caller then runs the steps
one by one, as before, and later calls of that signature stop trying). A step with such values
and no ``state`` is not run this way.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

_REFUSED = "refused"


def run_steps(step, batches, invariant: bool = False, last_only: bool = False):
    """``step.run_steps(batches, invariant)``: per batch, what ``step(*args)`` returns, computed
    in one native call; None when that is not possible (nothing was done: run ``step(*args)``
    per batch instead). ``invariant=True``: the caller knows the values the kernel reads from
    Python stay the same over the N steps (a constant learning rate of plain SGD), so they are
    not read again after each step. ``last_only=True``: only the last batch's result (a list of
    one), as a loop that reports the logs after the last step needs."""
    return step.run_steps(batches, invariant, last_only)


def run_entry(entry, state, batches, invariant: bool, last_only: bool = False, single=None):
    """Run ``batches`` through the N-step function of one checked, compiled signature ``entry``
    (built once per entry); None when the entry cannot run that way. ``batches``: a list of
    argument tuples, or a ``Stacked`` (each argument's batches as one array). ``single(args)``:
    one ordinary call of the step; with ``last_only``, the N-step loop runs the first N - 1
    batches (returning only what Python must see after each step) and ``single`` the last."""
    runner = getattr(entry, "multi_step", None)  # (unset until the first call)
    if runner is None:
        try:
            runner = _Runner(entry, state)
        except _Refused:
            runner = _REFUSED
        entry.multi_step = runner
    if runner is _REFUSED:
        return None
    return runner(batches, invariant, last_only, single)


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


class _Runner:
    """The N-step function of one compiled signature, built once."""

    def __init__(self, entry, state):
        from ..numba_support import get_numba

        numba = get_numba()
        if numba is None:
            raise _Refused
        block, exported, fn, leaf_of = entry.kernel.plan
        if state is None and block.runtime:  # (a changed value is undone through the state)
            raise _Refused
        self.entry, self.state, self.block, self.exported, self.leaf_of = entry, state, block, exported, leaf_of
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
        results = [block.defined[s] for s in exported] + [v for _, v, _ in block.leaf_grads]
        results += [v for _, v in block.after]
        self.results = results
        # a fresh gradient (``.grad`` replaced each step) keeps only its last step's value
        first_grad = len(exported)
        self.last_only = {first_grad + j for j, (_, _, fresh) in enumerate(block.leaf_grads) if fresh}
        # "bare": the loop returns only the values of ``block.after`` (the last step runs singly and
        # sets the gradients and the results): fewer outputs, a cheaper compile. Not when a
        # gradient accumulates over the steps (every step's is needed).
        self.bare_ok = all(fresh for _, _, fresh in block.leaf_grads)
        self.k_after = first_grad + len(block.leaf_grads)
        self.fns: dict = {}  # bare (bool) -> compiled loop
        self.numba, self.block_fn = numba, fn

    def _compile(self, arrays, values, bare: bool):
        numba = self.numba
        wanted = range(self.k_after, len(self.results)) if bare else range(len(self.results))
        names = [f"p{k}" for k in range(len(self.inputs))]
        runtime = [f"r{k}" for k in range(len(values))]
        lines = [f"def multi_steps(n, {', '.join(names + runtime)}):"]
        # (element by element: numba compiles an array assignment into a slice far slower)
        for k in wanted:
            var = self.results[k]
            shape, dtype = tuple(var.shape), f"np.{np.dtype(var.dtype).name}"
            if k in self.last_only and shape:
                lines.append(f"    o{k} = np.empty({shape!r}, {dtype})")
            else:
                lines.append(f"    o{k} = np.empty({_per_step(shape)}, {dtype})")
        lines.append("    for s in range(n):")
        args = [f"{p}[s]" if kind[0] == "arg" else p for p, kind in zip(names, self.inputs)]
        lines.append(f"        out = step_kernel({', '.join(args + runtime)})")
        for k in wanted:
            var = self.results[k]
            if k in self.last_only and var.shape:
                lines.append(f"        o{k} = out[{k}]")  # (a new array each step: the last one is kept)
            elif var.shape == ():
                lines.append(f"        o{k}[s] = out[{k}].item()")
            else:
                lines.append(f"        v{k} = out[{k}]")
                index = [f"i{d}" for d in range(len(var.shape))]
                for d, size in enumerate(var.shape):
                    lines.append(" " * (8 + 4 * d) + f"for i{d} in range({int(size)}):")
                at = ", ".join(index)
                lines.append(" " * (8 + 4 * len(index)) + f"o{k}[s, {at}] = v{k}[{at}]")
        outs = ", ".join(f"o{k}" for k in wanted)
        lines.append(f"    return ({outs}{',' if len(wanted) == 1 else ''})")
        source = "\n".join(lines) + "\n"
        namespace = {"np": np, "step_kernel": self.block_fn}
        types = (numba.typeof(1),) + tuple(numba.typeof(a) for a in arrays) + tuple(numba.typeof(v) for v in values)
        from .disk_cache import compile_kernel

        self.fns[bare], self.compile_source = compile_kernel(numba, "multi_steps", source, namespace, types)
        self.source = source

    def __call__(self, batches, invariant=False, last_only=False, single=None):
        block, entry = self.block, self.entry
        total = len(batches)
        bare = last_only and single is not None and self.bare_ok and bool(block.after)
        n = total - 1 if bare else total  # (bare: the last batch is one ordinary call)
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
                stacked = [_array(args[kind[1]]) for args in batches[:n]]
                arrays.append(np.ascontiguousarray(np.stack(stacked)))
        values = []
        for _, getter in block.runtime:
            value = getter()
            if value is None:
                return None
            values.append(value)
        fn = self.fns.get(bare)
        if fn is None:
            try:
                self._compile(arrays, values, bare)
            except Exception:  # numba could not compile the loop: single steps serve (nothing was applied)
                entry.multi_step = _REFUSED
                return None
            fn = self.fns[bare]
        outs = fn(n, *arrays, *values)
        if bare:  # (only the afters' values came back)
            outs = (None,) * self.k_after + tuple(outs)
        k_grads = len(self.exported)
        k_after = self.k_after
        for s in range(n):
            for j, (after, _) in enumerate(block.after):
                after(outs[k_after + j][s])
            if s < total - 1 and not invariant:
                for (_, getter), value in zip(block.runtime, values):
                    if not _same(getter(), value):  # the next single step would read another value
                        self.state[1](snapshot)
                        entry.multi_step = _REFUSED
                        return None
        if bare:  # the last batch: an ordinary call (it sets the gradients, reads the values anew)
            return [single(batches.batch(n) if isinstance(batches, Stacked) else batches[n])]
        for j, (leaf, _, fresh) in enumerate(block.leaf_grads):
            grads = outs[k_grads + j]
            if fresh:  # (only the last step's was kept)
                leaf.grad = Tensor._wrap(grads if self.results[k_grads + j].shape else grads[-1])
            else:
                for s in range(n):
                    g = grads[s]
                    leaf.grad = Tensor._wrap(g) if leaf.grad is None else Tensor._wrap(leaf.grad.data + g)
        results = []
        template, output, exported = entry.template, entry.output, list(enumerate(self.exported))
        placed = [(k, slot) for k, slot in enumerate(entry.arg_slots) if slot is not None]
        for s in range(n - 1 if last_only else 0, n):
            args = batches.batch(s) if isinstance(batches, Stacked) else batches[s]
            slots = template.copy()
            for k, slot in placed:
                slots[slot] = _array(args[k])
            for k, slot in exported:
                slots[slot] = outs[k][s]
            results.append(output(slots))
        return results


def _per_step(shape: tuple) -> str:
    """The source of the shape ``(n, *shape)``."""
    return "(" + ", ".join(["n", *(str(int(size)) for size in shape)]) + ("," if not shape else "") + ")"


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
