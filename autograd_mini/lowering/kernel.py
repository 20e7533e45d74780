"""Compile a recorded step (``capture._Tracer``) into numba loop kernels and run them.

The program is cut into stretches: consecutive ops, backward passes and effects that have a
loop form become one generated function, compiled with numba; an effect without one (an
optimizer step, a random draw) runs as Python between two kernels, exactly as the numpy
replay runs it. Values cross between them through the replay's slot list, so a kernel only
exports the slots something later reads, and the leaf gradients it computed.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..tensor import Tensor
from . import EFFECTS, RULES, _load_core_rules
from .emitter import Emitter, NotLowerable, Var, dtype_name


class _Block:
    """One generated function under construction."""

    def __init__(self, index: int, max_matmul_work: int):
        self.index = index
        self.L = Emitter(max_matmul_work)
        self.params: list[tuple[int, str]] = []  # (slot, parameter name)
        self.vars: dict[int, Var] = {}  # slot -> Var inside this block
        self.defined: dict[int, Var] = {}  # slots computed here
        self.leaf_grads: list = []  # (leaf Tensor, Var, fresh)
        self.runtime: list = []  # (parameter name, callable giving its value before each call)
        self.after: list = []  # (callable, Var): called with the Var's value after each call
        self.written: set = set()  # leaf slots the block updates in place


class Kernel:
    """The compiled step: ``run(slots)`` does what the numpy replay would do to ``slots`` and
    returns True, or returns False having done nothing (a runtime value asked for the replay).
    ``sources`` holds the generated code (each block's loops, then the Python driver) for reading."""

    def __init__(self, run, compile_seconds: float, sources: list[str]):
        self.run = run
        self.compile_seconds = compile_seconds
        self.sources = sources


def compile_program(tracer, out_spec, max_matmul_work: int = 1 << 16) -> Kernel:
    """The ``Kernel`` for ``tracer``'s program; raises ``NotLowerable`` naming the first
    instruction without a loop form (the caller keeps the numpy replay)."""
    from ..numba_support import get_numba

    numba = get_numba()
    if numba is None:
        raise NotLowerable("numba is not available")
    builder = plan_program(tracer, max_matmul_work)
    needed_later = builder.finish(out_spec)
    start = time.perf_counter()
    driver = _Driver()
    sources = []
    for item in builder.steps:
        if isinstance(item, _Block):
            sources.append(driver.block(numba, item, needed_later[id(item)], builder.leaf_of))
        else:
            driver.effect(item[1])
    sources.append(driver.source)
    kernel = Kernel(driver.build(), time.perf_counter() - start, sources)
    kernel.compile_source = _compile_source(getattr(driver, "compiled_by", []))
    single = len(builder.steps) == 1 and isinstance(builder.steps[0], _Block)  # one block, no Python effect
    kernel.plan = (*driver.blocks[0], builder.leaf_of) if single else None  # N steps per call: multi_step.py
    return kernel


def _compile_source(hows: list) -> str:
    """How the blocks' machine code came (first in this process): "compiled" if any block compiled, else "disk cache"."""
    for how in ("compiled (no disk cache)", "compiled", "disk cache"):
        if how in hows:
            return how
    return "none"


def plan_program(tracer, max_matmul_work: int = 1 << 16) -> _Builder:
    """Write the loop code of ``tracer``'s program without compiling it (NotLowerable where it cannot)."""
    _load_core_rules()
    builder = _Builder(tracer, max_matmul_work)
    for instruction in tracer.program:
        builder.add(instruction)
    builder.close()
    return builder


class _Builder:
    """Walks the program once, filling blocks and noting which slots each step reads."""

    def __init__(self, tracer, max_matmul_work):
        self.tracer = tracer
        self.max_matmul_work = max_matmul_work
        self.meta = tracer.meta  # slot -> (shape, dtype)
        self.leaf_of = {slot: leaf for leaf, slot, _, _ in tracer.leaves}
        self.slot_of_leaf = {id(leaf): slot for leaf, slot, _, _ in tracer.leaves}
        self.steps: list = []
        self.reads: list[set] = []  # per step: slots read from outside
        self.block: _Block | None = None
        self.forward_of: dict[int, tuple] = {}  # op slot -> (cls, refs, options, needs)
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
        name = f"n{slot}" if fresh else f"a{slot}"
        block.params.append((slot, name))
        self.reads[block.index].add(slot)
        var = Var(f"y{slot}" if fresh else f"x{slot}", shape, dtype)
        dtype_name(dtype)
        block.L.line(f"{var.name} = {name}.reshape({max(var.size, 1)})")
        block.vars[key] = var
        return var

    def value(self, ref, fresh_leaves=frozenset()):
        kind, item = ref
        if kind == "c":
            if isinstance(item, Tensor):
                item = item.data
            return item
        return self.var(item, fresh=item in fresh_leaves)

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

    def after(self, fn, var: Var) -> None:
        """Call ``fn(array)`` with ``var``'s value after each call of the block."""
        self.open().after.append((fn, var))

    def define(self, slot: int, var: Var) -> None:
        shape, dtype = self.meta[slot]
        if var.shape != tuple(shape) or var.dtype != dtype:
            raise NotLowerable(f"a loop form gave {var.shape} {var.dtype}, the op gave {shape} {dtype}")
        self.block.vars[slot] = var
        self.block.defined[slot] = var

    # -- instructions ------------------------------------------------------------------------------------
    def add(self, instruction) -> None:
        kind = instruction[0]
        if kind == "f":
            _, cls, refs, options, needs, slot = instruction[:6]
            rule = RULES.get(cls)
            if rule is None:
                raise NotLowerable(f"op '{cls.name}' has no loop form")
            fresh = {r[1] for r in refs if r[0] == "l" and r[1] in self.after_effect}
            ins = [self.value(r, fresh) for r in refs]
            self.define(slot, rule.forward(self.open().L, ins, options))
            self.forward_of[slot] = (cls, refs, options, needs, fresh)
        elif kind == "b":
            self.backward(instruction)
        else:
            self.effect(instruction)

    def effect(self, instruction) -> None:
        _, fn, arg_refs, kw_refs, out_slots = instruction
        rule = EFFECTS.get(fn)
        if rule is not None:
            try:
                args = [self.value(r) for r in arg_refs]
                kwargs = {k: self.value(r) for k, r in kw_refs.items()}
                result = rule(self.open().L, args, kwargs, self)
            except NotLowerable:
                rule = None
            else:
                if isinstance(out_slots, tuple):
                    for slot, var in zip(out_slots, result):
                        if slot is not None:
                            self.define(slot, var)
                elif out_slots is not None:
                    self.define(out_slots, result)
                return
        # a Python effect between kernels: it reads its inputs from the slot list
        self.close()
        self.steps.append(("e", instruction))
        self.reads.append({r[1] for r in list(arg_refs) + list(kw_refs.values()) if r[0] == "s"})
        self.after_effect |= self.leaves_seen

    def backward(self, instruction) -> None:
        _, seeds, schedule, _retain = instruction
        L = self.open().L
        grads: dict[int, Var] = {}
        for slot, seed in seeds:
            if seed[0] == "ones":
                g = L.alloc(seed[1], seed[2], fill=1)
            else:
                g = L.operand(self.value(seed))
            grads[slot] = L.map("{0} + {1}", grads[slot], g) if slot in grads else g
        for entry in schedule:
            if entry[0] == "leaf":
                _, slot, leaf, fresh = entry
                g = grads.pop(slot, None)
                if g is not None:
                    self.block.leaf_grads.append((leaf, g, fresh))
                continue
            _, slot, parents = entry
            g = grads.pop(slot, None)
            if g is None:
                continue
            cls, refs, options, needs, fresh = self.forward_of[slot]
            rule = RULES[cls]
            if rule.backward is None:
                raise NotLowerable(f"op '{cls.name}' has no loop form for its gradient")
            ins = [self.value(r, fresh) for r in refs]  # the arrays the forward read
            parent_grads = rule.backward(L, g, ins, self.var(slot), options, needs)
            for parent, pg in zip(parents, parent_grads):
                if parent is None or pg is None:
                    continue
                pslot, shape, dtype = parent
                pg = L.operand(pg)
                if pg.shape != tuple(shape):
                    pg = _unbroadcast(L, pg, tuple(shape))
                if pg.dtype != dtype:
                    pg = L.cast(pg, dtype)
                grads[pslot] = L.map("{0} + {1}", grads[pslot], pg) if pslot in grads else pg

    def finish(self, out_spec) -> dict:
        """For each block, the slots it must export: those read by a later step or returned."""
        returned = set(_spec_slots(out_spec))
        needed = {}
        later: set = set(returned)
        for index in range(len(self.steps) - 1, -1, -1):
            step = self.steps[index]
            if isinstance(step, _Block):
                needed[id(step)] = [s for s in step.defined if s in later]
            later |= self.reads[index]
        return needed


def _unbroadcast(L: Emitter, g: Var, shape: tuple) -> Var:
    """The engine's unbroadcast as loops: sum the axes broadcasting added or stretched."""
    extra = len(g.shape) - len(shape)
    if extra < 0:
        raise NotLowerable(f"a gradient of shape {g.shape} for an input of shape {shape}")
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if axes:
        g = L.reduce_sum(g, axes, keepdims=True)
    return L.reshape(g, shape)


def _spec_slots(spec):
    stack = [spec]
    while stack:
        item = stack.pop()
        kind = item[0]
        if kind == "T":
            yield item[1]
        elif kind is dict:
            stack.extend(item[1].values())
        elif kind != "c":
            stack.extend(item[1])


_COMPILED: dict = {}  # generated source (and its constants and kernels) -> compiled function


class _Driver:
    """Writes the Python that runs the step: per block, gather its arrays, call it, store what
    it exports and the leaf gradients; per Python effect, run it on the slot list."""

    def __init__(self):
        self.lines = ["def run(slots):"]
        self.prologue: list[str] = []  # runs before any block: a refusal (False) leaves nothing half done
        self.namespace = {"np": np, "Tensor": Tensor, "_wrap": Tensor._wrap, "_contiguous": np.ascontiguousarray}
        self.count = 0
        self.read: set = set()  # leaf slots whose array a local of ``run`` already holds

    def name(self, value, prefix: str) -> str:
        self.count += 1
        key = f"{prefix}{self.count}"
        self.namespace[key] = value
        return key

    def block(self, numba, block: _Block, exported: list, leaf_of: dict) -> str:
        L = block.L
        for slot in exported:
            if slot in leaf_of or any(block.defined[slot].name == f"x{w}" for w in block.written):
                raise NotLowerable("a step that returns a parameter's own array")
        results = [_returned(L, block.defined[s]) for s in exported]
        results += [_returned(L, var) for _, var, _ in block.leaf_grads]
        results += [_returned(L, var) for _, var in block.after]
        name = f"captured_block_{block.index}"
        params = [p for _, p in block.params] + [r for r, _ in block.runtime]
        source = L.source(name, params, results)
        namespace = {"np": np, "math": math, "f32": np.float32, "f64": np.float64, "i64": np.int64, "i32": np.int32}
        namespace["b1"] = np.bool_
        namespace.update(L.constants)
        namespace.update(L.globals)
        if "mm_" in L.globals:
            from .helpers import matmul_helper

            namespace["mm_"] = matmul_helper(numba)
        cache_key = (source, tuple((k, v.dtype.str, v.tobytes()) for k, v in L.constants.items()))
        cache_key += tuple((k, id(v)) for k, v in L.globals.items())
        fn = _COMPILED.get(cache_key)  # the same loops (another model of the same architecture): once per process
        w, first = self.lines.append, self.prologue.append
        args = []
        for slot, param in block.params:
            if param.startswith("n"):  # the leaf's array now (after a Python effect)
                w(f"    {param} = {self.name(leaf_of[slot], 'leaf')}.data")
                w(f"    if not {param}.flags.c_contiguous:")
                w(f"        {param} = _contiguous({param})")
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
                    w(f"    {param} = {leaf}.data")
                    w(f"    if not {param}.flags.c_contiguous:")
                    w(f"        {param} = _contiguous({param})")
            else:
                w(f"    {param} = slots[{slot}]")
                w(f"    if not {param}.flags.c_contiguous:")
                w(f"        {param} = _contiguous({param})")
            var = block.vars[("fresh", slot) if param.startswith("n") else slot]
            args.append(np.zeros(var.shape, var.dtype))
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
        call = self.name(fn, "block")  # (bound below, once compiled)
        call_args = [p for _, p in block.params] + [f"{r}_{block.index}" for r, _ in block.runtime]
        w(f"    out = {call}({', '.join(call_args)})")
        k = 0
        for slot in exported:
            w(f"    slots[{slot}] = out[{k}]")
            k += 1
        for leaf, _, fresh in block.leaf_grads:
            key = self.name(leaf, "leaf")
            if fresh:
                w(f"    {key}.grad = _wrap(out[{k}])")
            else:
                w(f"    {key}.grad = _wrap(out[{k}]) if {key}.grad is None else _wrap({key}.grad.data + out[{k}])")
            k += 1
        for after, _ in block.after:
            key = self.name(after, "after")
            w(f"    {key}(out[{k}])")
            k += 1
        if fn is None:  # compiled, or its machine code loaded from the disk cache (disk_cache.py)
            from .disk_cache import compile_kernel

            types = tuple(numba.typeof(a) for a in args + samples)
            fn, how = compile_kernel(numba, name, source, namespace, types)
            self.namespace[call] = _COMPILED[cache_key] = fn
        else:
            from .disk_cache import origin

            how = origin(fn)
        self.compiled_by = getattr(self, "compiled_by", []) + [how]
        self.blocks = getattr(self, "blocks", []) + [(block, exported, fn)]  # (multi_step.py reads them)
        return source

    def effect(self, instruction) -> None:
        from ..capture import _run_effect

        self.namespace["_run_effect"] = _run_effect
        key = self.name(instruction, "effect")
        self.lines.append(f"    _run_effect({key}, slots)")

    @property
    def source(self) -> str:
        return "\n".join(self.lines[:1] + self.prologue + self.lines[1:] + ["    return True", ""])

    def build(self):
        exec(compile(self.source, "<am.compile driver>", "exec"), self.namespace)  # our own generated Python
        return self.namespace["run"]


def _returned(L: Emitter, var: Var) -> str:
    """The block's return expression for ``var``: its buffer in its logical shape."""
    return f"{L.buffer(var)}.reshape({var.shape!r})"
