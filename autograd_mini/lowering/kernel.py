"""Compile a recorded step (``autograd_mini.program.Program``) into numba loop kernels and run them.

The program is cut into stretches: consecutive ops, backward passes and effects that have a
loop form become one generated function, compiled with numba; an effect without one (an
optimizer step, a random draw) runs as Python between two kernels, exactly as the numpy
replay runs it. Values cross between them through the replay's slot list, so a kernel only
exports the slots something later reads, and the leaf gradients it computed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from ..engine import accumulate_leaf
from ..ops.formula import Elementwise
from ..program import Backward, Const, Effect, Leaf, Ones, OpCall, Program, effect_runner, run_effect, walk_backward
from ..tensor import Tensor
from . import EFFECTS, RULES, blas
from .core_rules import register_elementwise
from .emitter import HELPER, Emitter, NotLowerable, Var, dtype_name, typed_literals


class _Block:
    """One generated function under construction."""

    def __init__(self, index: int, max_matmul_work: int):
        self.index = index
        self.L = Emitter(max_matmul_work, large_matmul=blas.matmul)
        self.params: list[tuple[int, str]] = []  # (slot, parameter name)
        self.vars: dict[int, Var] = {}  # slot -> Var inside this block
        self.defined: dict[int, Var] = {}  # slots computed here
        self.leaf_grads: list = []  # (leaf Tensor, Var, fresh)
        self.runtime: list = []  # (parameter name, callable giving its value before each call)
        self.after: list = []  # (callable, Var, many): called with the Var's value after each call
        self.written: set = set()  # leaf slots the block updates in place


class Kernel(NamedTuple):
    """The compiled step: ``run(slots)`` does what the numpy replay would do to ``slots`` and
    returns True, or returns False having done nothing (a runtime value asked for the replay).
    ``sources`` holds the generated code (each block's loops, then the Python driver) for reading."""

    run: Callable
    compile_seconds: float
    sources: list
    compile_source: str = "none"  # "compiled", "disk cache", ... (disk_cache.origin), for stats()
    plan: tuple | None = None  # (block, exported, N-step dispatcher, leaf_of) of a one-block step: multi_step.py


def compile_program(program: Program, returned: set, max_matmul_work: int = 1 << 16) -> Kernel:
    """The ``Kernel`` for ``program`` (``returned``: the slots the call returns); raises
    ``NotLowerable`` naming the first instruction without a loop form (the caller keeps the replay)."""
    from ..numba_support import get_numba

    numba = get_numba()
    if numba is None:
        raise NotLowerable("numba is not available")
    builder = plan_program(program, max_matmul_work)
    needed_later = builder.finish(returned)
    start = time.perf_counter()
    driver = _Driver()
    sources = []
    # one block and no Python effect: the block is compiled as the N-step loop (multi_step.py), a
    # single call runs it with n = 1 (one compile serves both)
    single = len(builder.steps) == 1 and isinstance(builder.steps[0], _Block)
    for item in builder.steps:
        if isinstance(item, _Block):
            sources.append(driver.block(numba, item, needed_later[id(item)], builder.leaf_of, looped=single))
        else:
            driver.effect(item)
    sources.append(driver.source)
    plan = (*driver.blocks[0], builder.leaf_of) if single else None  # N steps per call: multi_step.py
    return Kernel(driver.build(), time.perf_counter() - start, sources, _compile_source(driver.compiled_by), plan)


def _compile_source(hows: list) -> str:
    """How the blocks' machine code came (first in this process): "compiled" if any block compiled, else "disk cache"."""
    for how in ("compiled (no disk cache)", "compiled", "disk cache"):
        if how in hows:
            return how
    return "none"


def plan_program(program: Program, max_matmul_work: int = 1 << 16) -> _Builder:
    """Write the loop code of ``program`` without compiling it (NotLowerable where it cannot)."""
    builder = _Builder(program, max_matmul_work)
    for instruction in program.instructions:
        builder.add(instruction)
    builder.close()
    return builder


class _Builder:
    """Walks the program once, filling blocks and noting which slots each step reads."""

    def __init__(self, program: Program, max_matmul_work):
        self.max_matmul_work = max_matmul_work
        self.meta = program.meta  # slot -> (shape, dtype)
        self.leaf_of = {slot: leaf for leaf, slot, _, _ in program.leaves}
        self.slot_of_leaf = {id(leaf): slot for leaf, slot, _, _ in program.leaves}
        self.steps: list = []
        self.reads: list[set] = []  # per step: slots read from outside
        self.block: _Block | None = None
        self.forward_of: dict[int, tuple] = {}  # op slot -> (its OpCall, the leaves it read fresh)
        self.leaves_seen: set = set()
        self.after_effect: set = set()

    # -- values --------------------------------------------------------------------------------------
    def open(self) -> _Block:
        if self.block is None:
            self.block = _Block(len(self.steps), self.max_matmul_work)
            self.steps.append(self.block)
            self.reads.append(set())
        return self.block

    def close(self) -> None:
        self.block = None

    def var(self, slot: int, fresh: bool = False) -> Var:
        """The block's Var for ``slot``. A leaf read by an earlier block is the array that block read
        (what the eager graph saved); ``fresh``: the leaf's array now (a forward op after a Python
        effect, which may have updated it, reads the new one, as eager code would)."""
        block = self.open()
        key = ("fresh", slot) if fresh else slot
        var = block.vars.get(key)
        if var is not None:
            return var
        if slot in self.leaf_of and not fresh:
            self.leaves_seen.add(slot)
        if slot not in self.meta:
            raise NotLowerable("a value that is not an array")
        shape, dtype = self.meta[slot]
        dtype_name(dtype)  # (before the parameter is registered: NotLowerable leaves the block as it was)
        name = f"n{slot}" if fresh else f"a{slot}"
        block.params.append((slot, name))
        self.reads[block.index].add(slot)
        var = Var(f"y{slot}" if fresh else f"x{slot}", shape, dtype)
        # (flat already: the array itself; numba types and lowers a view_ call at every use)
        block.L.line(f"{var.name} = {name if len(shape) == 1 else block.L.view(name, (var.size,))}")
        block.vars[key] = var
        return var

    def value(self, ref, fresh_leaves=frozenset()):
        if type(ref) is Const:
            return ref.value.data if isinstance(ref.value, Tensor) else ref.value
        return self.var(ref.index, fresh=ref.index in fresh_leaves)

    def leaf_var(self, leaf: Tensor) -> Var:
        """The block's Var for a leaf Tensor's array (NotLowerable for a Tensor that is no leaf of the step)."""
        slot = self.slot_of_leaf.get(id(leaf))
        if slot is None:
            raise NotLowerable("a Tensor that is not a leaf of the step")
        return self.var(slot)

    def leaf_grad(self, leaf: Tensor) -> Var:
        """The gradient this block computed for ``leaf`` (fresh, not accumulated), else NotLowerable."""
        for known, var, fresh in self.open().leaf_grads:
            if known is leaf:
                if not fresh:
                    raise NotLowerable("a gradient accumulated over steps")
                return var
        raise NotLowerable("a leaf without a gradient from this block")

    def write(self, leaf: Tensor) -> Var:
        """The leaf's array, to be updated in place by the block (the caller makes it writable)."""
        var = self.leaf_var(leaf)
        self.open().written.add(self.slot_of_leaf[id(leaf)])
        return var

    def runtime(self, fn) -> str:
        """A block parameter whose value ``fn()`` gives before each call (None: run the numpy replay instead)."""
        block = self.open()
        name = f"r{len(block.runtime)}"
        block.runtime.append((name, fn))
        return name

    def after(self, fn, var: Var, many=None) -> None:
        """Call ``fn(array)`` with ``var``'s value after each call of the block. ``many(values)``,
        if given, does what ``fn`` does for each of N steps' values at once (``values[s]`` is
        step s's; N steps in one native call, when nothing is read between them: multi_step.py)."""
        self.open().after.append((fn, var, many))

    def define(self, slot: int, var: Var) -> None:
        shape, dtype = self.meta[slot]
        if var.shape != tuple(shape) or var.dtype != dtype:
            raise NotLowerable(f"a loop form gave {var.shape} {var.dtype}, the op gave {shape} {dtype}")
        self.block.vars[slot] = var
        self.block.defined[slot] = var

    # -- instructions ------------------------------------------------------------------------------------
    def add(self, instruction) -> None:
        kind = type(instruction)
        if kind is OpCall:
            if instruction.cls not in RULES and issubclass(instruction.cls, Elementwise):
                register_elementwise(instruction.cls)
            rule = RULES.get(instruction.cls)
            if rule is None:
                raise NotLowerable(f"op '{instruction.cls.name}' has no loop form")
            fresh = {r.index for r in instruction.inputs if type(r) is Leaf and r.index in self.after_effect}
            ins = [self.value(r, fresh) for r in instruction.inputs]
            self.define(instruction.out, rule.forward(self.open().L, ins, instruction.options))
            self.forward_of[instruction.out] = (instruction, fresh)
        elif kind is Backward:
            self.backward(instruction)
        else:
            self.effect(instruction)

    def effect(self, instruction: Effect) -> None:
        rule = EFFECTS.get(instruction.fn)
        if rule is not None:
            try:
                args = [self.value(r) for r in instruction.args]
                kwargs = {k: self.value(r) for k, r in instruction.kwargs.items()}
                result = rule(self.open().L, args, kwargs, self)
            except NotLowerable:
                rule = None
            else:
                out = instruction.out
                for slot, var in zip(out, result) if isinstance(out, tuple) else ((out, result),):
                    if slot is not None:
                        self.define(slot, var)
                return
        # a Python effect between kernels: it reads its inputs from the slot list
        self.close()
        self.steps.append(instruction)
        self.reads.append({r.index for r in (*instruction.args, *instruction.kwargs.values()) if type(r) is not Const})
        self.after_effect |= self.leaves_seen

    def backward(self, instruction: Backward) -> None:
        """The recorded backward pass as loops: the one walk (``program.walk_backward``) with loop math."""
        L = self.open().L

        def seed(grad):
            return L.alloc(grad.shape, grad.dtype, fill=1) if type(grad) is Ones else L.operand(self.value(grad))

        def op_grads(slot, g):
            call, fresh = self.forward_of[slot]
            rule = RULES[call.cls]
            if rule.backward is None:
                raise NotLowerable(f"op '{call.cls.name}' has no loop form for its gradient")
            ins = [self.value(r, fresh) for r in call.inputs]  # the arrays the forward read
            grads = rule.backward(L, g, ins, self.var(slot), call.options, call.needs)
            return [None if pg is None else L.operand(pg) for pg in grads]

        def to_leaf(leaf, g, fresh: bool):
            self.block.leaf_grads.append((leaf, g, fresh))

        walk_backward(instruction, seed, op_grads, to_leaf, loop_math(L))

    def finish(self, returned: set) -> dict:
        """For each block, the slots it must export: those read by a later step or returned."""
        needed = {}
        later: set = set(returned)
        for index in range(len(self.steps) - 1, -1, -1):
            step = self.steps[index]
            if isinstance(step, _Block):
                needed[id(step)] = [s for s in step.defined if s in later]
            later |= self.reads[index]
        return needed


def loop_math(L: Emitter) -> SimpleNamespace:
    """``engine.NUMPY`` as loops: the engine's unbroadcast, cast and accumulation rules
    (``engine.send``) run unchanged on the block's variables."""
    return SimpleNamespace(
        sum=lambda g, axes: L.reduce_sum(g, axes, keepdims=True),
        reshape=L.reshape,
        cast=L.cast,
        add=lambda a, b: L.map("{0} + {1}", a, b),
    )


_COMPILED: dict = {}  # generated source (and its constants and kernels) -> compiled function


def compile_kernel(source: str, name: str, namespace: dict, arg_types: tuple, opt_level: int | None = None):
    """The one place where generated loop source becomes machine code: ``source`` defines the
    function ``name`` over the globals in ``namespace``; numba compiles it for ``arg_types``, or
    its machine code is loaded from the persistent kernel cache (disk_cache.py); ``opt_level``: LLVM's
    level (``numba_build.level``). The same source, constants and types (another model of the same
    architecture) compile once per process.
    Returns ``(dispatcher, how)``, ``how`` as ``disk_cache.origin`` names it."""
    from ..numba_support import get_numba
    from . import disk_cache

    source, literals = typed_literals(source)
    namespace = {**namespace, **literals}
    key = (source, arg_types, opt_level)
    key += tuple(
        (k, v.dtype.str, v.tobytes()) if isinstance(v, (np.ndarray, np.generic)) else (k, id(v))
        for k, v in namespace.items()
    )
    fn = _COMPILED.get(key)
    if fn is None:
        fn, how = disk_cache.compile_kernel(get_numba(), name, source, namespace, arg_types, opt_level)
        _COMPILED[key] = fn
        return fn, how
    return fn, disk_cache.origin(fn)


class _Driver:
    """Writes the Python that runs the step: per block, gather its arrays, call it, store what
    it exports and the leaf gradients; per Python effect, run it on the slot list."""

    def __init__(self):
        self.lines = ["def run(slots):"]
        self.prologue: list[str] = []  # runs before any block: a refusal (False) leaves nothing half done
        self.namespace = {"np": np, "accumulate_leaf": accumulate_leaf, "run_effect": run_effect, "_wrap": Tensor._wrap}
        self.namespace["_contiguous"] = np.ascontiguousarray
        self.count = 0
        self.read: set = set()  # leaf slots whose array a local of ``run`` already holds
        self.compiled_by: list[str] = []  # per block, how its machine code came (disk_cache.origin)
        self.blocks: list = []  # per block (block, exported slots, dispatcher): multi_step.py reads them

    def name(self, value, prefix: str) -> str:
        self.count += 1
        key = f"{prefix}{self.count}"
        self.namespace[key] = value
        return key

    def block(self, numba, block: _Block, exported: list, leaf_of: dict, looped: bool = False) -> str:
        """Compile ``block`` and write its call. ``looped``: the block is compiled as the N-step
        function (``multi_step.steps_source``: the step's arguments stacked on a first axis, its
        results per step) and called here with n = 1."""
        L = block.L
        for slot in exported:
            if slot in leaf_of or any(block.defined[slot].name == f"x{w}" for w in block.written):
                raise NotLowerable("a step that returns a parameter's own array")
        name = f"captured_block_{block.index}"
        stacked = {param for slot, param in block.params if slot not in leaf_of} if looped else set()
        if looped:
            from .multi_step import steps_source

            source = steps_source(L, name, block, exported, stacked)
        else:
            results = [_returned(L, block.defined[s]) for s in exported]
            results += [_returned(L, var) for _, var, _ in block.leaf_grads]
            results += [_returned(L, var) for _, var, _ in block.after]
            params = [p for _, p in block.params] + [r for r, _ in block.runtime]
            source = L.source(name, params, results)
        namespace = {"np": np, "math": math, "f32": np.float32, "f64": np.float64, "i64": np.int64, "i32": np.int32}
        namespace["b1"], namespace["u1"] = np.bool_, np.uint8
        namespace.update(L.constants)
        namespace.update(L.globals)
        namespace.update(_helpers(numba, L.globals))
        w, first = self.lines.append, self.prologue.append

        def read(param, expr):  # a C-contiguous array for the kernel
            w(f"    {param} = {expr}")
            w(f"    if not {param}.flags.c_contiguous:")
            w(f"        {param} = _contiguous({param})")

        args = []
        for slot, param in block.params:
            if param.startswith("n"):  # the leaf's array now (after a Python effect)
                read(param, f"{self.name(leaf_of[slot], 'leaf')}.data")
            elif slot in leaf_of and slot in self.read and slot not in block.written:
                pass  # the array an earlier block read (as the eager graph saved it)
            elif slot in leaf_of:
                self.read.add(slot)
                leaf = self.name(leaf_of[slot], "leaf")
                if slot in block.written:
                    first(f"    {param} = {leaf}.mutable_data()")
                    first(f"    if not {param}.flags.c_contiguous:")
                    first("        return False")
                else:
                    read(param, f"{leaf}.data")
            else:
                read(param, f"slots[{slot}]")
            var = block.vars[("fresh", slot) if param.startswith("n") else slot]
            args.append(np.zeros((1, *var.shape) if param in stacked else var.shape, var.dtype))
        for slot in block.written:  # (before the runtime values: an optimizer asks for writable arrays)
            leaf_of[slot].mutable_data()
        samples = []
        for name_, getter in block.runtime:  # after the leaves are made writable (prologue order)
            key = self.name(getter, "runtime")
            name_ = f"{name_}_{block.index}"
            first(f"    {name_} = {key}()")
            first(f"    if {name_} is None:")
            first("        return False")
            sample = getter()
            if sample is None:
                raise NotLowerable("the optimizer gave no fused update for this step")
            samples.append(sample)
        types = tuple(numba.typeof(a) for a in args + samples)
        if looped:  # (n, keep)
            types = (numba.typeof(1), numba.typeof(1)) + types
        fn, how = compile_kernel(source, name, namespace, types, _level(L, args + samples))
        self.compiled_by.append(how)
        self.blocks.append((block, exported, fn))  # (multi_step.py reads them)
        call = self.name(fn, "block")
        call_args = [f"{p}[None]" if p in stacked else p for _, p in block.params]
        call_args += [f"{r}_{block.index}" for r, _ in block.runtime]
        if looped:
            call_args = ["1", "1", *call_args]
        w(f"    out = {call}({', '.join(call_args)})")
        # looped: each result has a first axis of steps (1 here), but a fresh gradient (the last step's)
        row = "[0]" if looped else ""
        k = 0
        for slot in exported:
            w(f"    slots[{slot}] = out[{k}]{row if block.defined[slot].shape else row and '[0, ...]'}")
            k += 1
        for leaf, var, fresh in block.leaf_grads:  # (fresh: accumulate_leaf's first case, inlined)
            key = self.name(leaf, "leaf")
            at = row if var.shape else row and "[0, ...]"
            w(f"    {key}.grad = _wrap(out[{k}])" if fresh else f"    accumulate_leaf({key}, out[{k}]{at})")
            k += 1
        for after, var, _ in block.after:
            key = self.name(after, "after")
            w(f"    {key}(out[{k}]{row if var.shape else row and '[0, ...]'})")
            k += 1
        return source

    def effect(self, instruction: Effect) -> None:
        self.lines.append(f"    {self.name(effect_runner(instruction), 'effect')}(slots)")  # (bound once)

    @property
    def source(self) -> str:
        return "\n".join(self.lines[:1] + self.prologue + self.lines[1:] + ["    return True", ""])

    def build(self):
        exec(compile(self.source, "<am.compile driver>", "exec"), self.namespace)  # our own generated Python
        return self.namespace["run"]


def _returned(L: Emitter, var: Var) -> str:
    """The block's return expression for ``var``: its buffer in its logical shape."""
    return L.view(L.buffer(var), var.shape)


_AHEAD = frozenset({"empty_", "view_", "copy_", "finite_"})  # helpers with no code compiled at the kernel's first use


def _level(L: Emitter, values) -> int | None:
    """LLVM's level for the kernel ``L`` wrote, called with ``values`` (numba_build.level): by its
    largest array or loop, if everything it calls is compiled ahead (``mm_`` compiles at its first
    use, inside the kernel's compile: it keeps numba's level)."""
    from . import numba_build

    sizes = [L.largest]
    for value in values:
        for item in value if isinstance(value, tuple) else (value,):
            sizes.append(np.size(item))
    ahead = all(
        (value is HELPER and name in _AHEAD) or hasattr(value, "am_callee") for name, value in L.globals.items()
    )
    return numba_build.level(max(sizes), ahead)


def _helpers(numba, names: dict) -> dict:
    """The compiled helpers (``helpers.py``) the generated code calls, by name."""
    from .helpers import finite_helper, intrinsics, matmul_helper

    compiled = {"mm_": matmul_helper, "finite_": finite_helper}
    bound = {}
    for name, value in names.items():
        if value is HELPER:
            bound[name] = compiled[name](numba) if name in compiled else intrinsics(numba)[name]
    return bound
