"""``am.compile``: capture a training step once, replay its array operations afterwards.

    step = am.compile(lambda x, y: train_step(x, y))
    loss = step(x_batch, y_batch)      # the first call per signature traces (runs eagerly)
    loss = step(x_batch, y_batch)      # later calls replay the recorded schedule

Like ``jax.jit``, the first call with a new *signature* (the shapes and dtypes of the array
arguments, the values of the other arguments) runs the function eagerly and records what it
did, as an ``autograd_mini.program.Program``: every op (``Function.forward`` on plain arrays),
every ``backward()`` (the engine's plan: its order, unbroadcasting, casting and accumulation),
and every call of a function marked ``@am.replayable`` (optimizer steps, random draws: Python
that must run again on each call). Later calls with the same signature replay that flat schedule on the new arrays: no
Tensor objects, no graph bookkeeping, no read-only protection and no topological sort, so a
replayed step produces the same numbers as the eager step, bit for bit, with less Python.

What is captured, and what is refused (``CaptureError``), as ``jax.jit`` documents it:
- Python code and numpy calls on values that are not traced run once, at trace time, and
  their results become constants (``np.random`` inside the function is a constant, as in jax):
  draw random numbers in a ``@am.replayable`` function, or with ops.
- Data-dependent Python on traced values (``if loss > 0``, ``float(t)``, ``t.item()``) is
  refused, and so is a traced value turned into a constant through raw numpy
  (``np.exp(t.data)`` fed back into an op): use the library's ops.
- Tensors that are not arguments (a model's parameters) are read by reference on every call,
  so optimizer updates between calls are seen. A Tensor computed *outside* the function and
  used inside must be passed as an argument. A Tensor made *inside* it from plain numpy
  (``am.tensor(np.asarray(y) * 2)``) is a constant of the recording: the second trace finds a
  new Tensor there and compares its values with the first's, as for an array constant. ``backward(create_graph=True)``,
  ``am.gradients(..., inputs=...)`` and ``retain_grad()`` inside are refused.
- A leaf whose ``.grad`` was None when the trace ran backward (the usual ``zero_grad();
  loss.backward()``) gets a fresh ``.grad`` on every replay; otherwise gradients accumulate.
- Parameters whose shape or dtype changed since the trace make the next call trace again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np

from .engine import backward_order
from .grad_mode import state
from .program import Backward, Const, Edge, Effect, Leaf, LeafGrad, LeafInfo, Ones, OpCall, OpGrad, Program, Seed, Slot
from .replay import Replay
from .tensor import Tensor

__all__ = ["CaptureError", "CompiledFunction", "compile", "replayable"]


class CaptureError(RuntimeError):
    """The function does something a captured step cannot replay; the message says what."""


class _Traced(np.ndarray):
    """The arrays of traced Tensors: turning one into a Python value while tracing raises, so
    data-dependent Python is refused instead of being baked into the schedule."""


def _refusing(name: str, what: str):
    def method(self, *args):
        if state.tracer is not None:
            raise CaptureError(
                f"am.compile: {what} of a traced value while tracing: data-dependent Python cannot be "
                f"captured (compute it with ops, or outside the compiled function)"
            )
        return getattr(self.view(np.ndarray), name)(*args)

    return method


_REFUSED = {"__bool__": "bool()", "__float__": "float()", "__int__": "int()", "__index__": "use as an index"}
for _name, _what in {**_REFUSED, "item": ".item()", "tolist": ".tolist()"}.items():
    setattr(_Traced, _name, _refusing(_name, _what))


def _plain(array):
    return array.view(np.ndarray) if isinstance(array, _Traced) else array


def replayable(fn: Callable) -> Callable:
    """Mark ``fn`` as Python that a captured step runs again on every replay (an optimizer
    step, a random draw). Outside ``am.compile`` it is a plain call. Its Tensor arguments and
    array results are tracked, so ops that use its results read the new ones on replay."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tracer = state.tracer
        if tracer is None:
            return fn(*args, **kwargs)
        return tracer.on_effect(fn, args, kwargs)

    wrapper.__am_replayable__ = True
    return wrapper


# ---- the trace ---------------------------------------------------------------------------------------
class _Tracer:
    """Records one eager run as a ``Program`` over numbered slots."""

    def __init__(self):
        self.slot_of: dict[int, int] = {}  # id(Tensor or ndarray) -> slot
        self.keep: list = []  # what the ids refer to stays alive during the trace
        self.leaves: list[LeafInfo] = []  # leaf Tensors read by reference
        self.leaf_slot: dict[int, int] = {}
        self.leaf_slots: set[int] = set()  # the slots that hold a leaf Tensor (read by reference)
        self.instructions: list = []
        self.nslots = 0
        self.meta: dict[int, tuple] = {}  # slot -> (shape, dtype) seen at trace time (for lowering)

    def program(self) -> Program:
        return Program(self.instructions, self.nslots, self.meta, self.leaves)

    def new_slot(self, obj) -> int:
        slot = self.nslots
        self.nslots += 1
        self.slot_of[id(obj)] = slot
        self.keep.append(obj)
        data = obj.data if isinstance(obj, Tensor) else obj
        if isinstance(data, np.ndarray):
            self.meta[slot] = (data.shape, data.dtype)
        if isinstance(obj, Tensor):  # its array, used raw (``t.data``), is the same slot
            self.slot_of[id(obj.data)] = slot
            self.keep.append(obj.data)
        return slot

    def ref(self, item, op_name: str, index: int):
        """How replay finds input ``index`` of an op: a ``Slot``, a ``Leaf`` or a ``Const``."""
        if isinstance(item, Tensor):
            slot = self.leaf_slot.get(id(item))
            if slot is not None:
                return Leaf(slot)
            slot = self.slot_of.get(id(item))
            if slot is not None:
                return Slot(slot)
            wraps = item._ctx is None and not item._requires_grad  # a leaf of its own keeps its own gradient slot
            slot = self.slot_of.get(id(item.data)) if wraps else None
            if slot is not None:  # a new constant Tensor around a value of the step (``am.as_tensor(y)``): that value
                self.slot_of[id(item)] = slot
                self.keep.append(item)
                return Leaf(slot) if slot in self.leaf_slots else Slot(slot)
            if isinstance(item.data, _Traced):
                raise CaptureError(
                    f"am.compile: op '{op_name}' input {index} was computed from traced values outside the op "
                    f"set (a comparison or raw numpy): it cannot be replayed; use ops such as am.where"
                )
            if item._ctx is not None:
                raise CaptureError(
                    f"am.compile: op '{op_name}' input {index} is a Tensor computed outside the compiled "
                    f"function (by '{item._ctx.name}'): pass it as an argument"
                )
            slot = self.new_slot(item)
            self.leaf_slot[id(item)] = slot
            self.leaf_slots.add(slot)
            self.leaves.append(LeafInfo(item, slot, item.data.shape, item.data.dtype))
            return Leaf(slot)
        if isinstance(item, np.ndarray):
            slot = self.slot_of.get(id(item))
            if slot is not None:  # a leaf's own array is read through the leaf (its slot holds the Tensor)
                return Leaf(slot) if slot in self.leaf_slots else Slot(slot)
            if isinstance(item, _Traced):
                raise CaptureError(
                    f"am.compile: op '{op_name}' input {index} is an array computed from traced values outside the "
                    f"op set (raw numpy or a comparison); the schedule cannot replay it. Use the library's ops "
                    f"(or @am.replayable)"
                )
        return Const(item)

    # -- hooks called by Function.apply and the engine ---------------------------------------------------
    def on_forward(self, cls, args, options, needs, result: Tensor) -> None:
        refs = tuple(self.ref(a, cls.name, i) for i, a in enumerate(args))
        if type(result.data) is np.ndarray:
            result.data = result.data.view(_Traced)
        self.instructions.append(OpCall(cls, refs, options, needs, self.new_slot(result)))

    def on_backward(self, roots, grad_roots, retain_graph, create_graph, inputs) -> None:
        """Record the engine's plan (``engine.backward_order``) of this backward pass."""
        if create_graph or inputs is not None:
            raise CaptureError("am.compile: backward(create_graph=True) and gradients with inputs= cannot be captured")
        seeds = []
        for root, g in zip(roots, grad_roots):
            if id(root) not in self.slot_of:
                raise CaptureError("am.compile: backward() of a Tensor computed outside the compiled function")
            is_ones = isinstance(g, np.ndarray) and g.shape == root.shape and bool(np.all(_plain(g) == 1))
            seeds.append(Seed(self.slot_of[id(root)], Ones(g.shape, g.dtype) if is_ones else self.ref(g, "seed", 0)))
        steps = []
        for node in backward_order(roots):
            ctx = node._ctx
            if ctx is None:
                if node._requires_grad:
                    steps.append(LeafGrad(self.ref(node, "backward", 0).index, node, node.grad is None))
                continue
            if node._retains_grad:
                raise CaptureError("am.compile: retain_grad() inside a compiled function cannot be captured")
            edges = tuple(
                Edge(self.ref(parent, ctx.name, i).index, parent.data.shape, parent.data.dtype) if need else None
                for i, (parent, need) in enumerate(zip(ctx.parents, ctx.needs_input_grad))
            )
            steps.append(OpGrad(self.slot_of[id(node)], edges))
        self.instructions.append(Backward(tuple(seeds), tuple(steps), retain_graph))

    def on_effect(self, fn, args, kwargs):
        name = getattr(fn, "__name__", "effect")
        arg_refs = tuple(self.ref(a, name, i) if _trackable(a) else Const(a) for i, a in enumerate(args))
        kw_refs = {k: self.ref(v, k, 0) if _trackable(v) else Const(v) for k, v in kwargs.items()}
        state.tracer = None  # the effect itself runs untraced, on plain values
        try:
            result = fn(*[_untraced(a) for a in args], **{k: _untraced(v) for k, v in kwargs.items()})
        finally:
            state.tracer = self
        if isinstance(result, (np.ndarray, Tensor)):
            out_slots = self.new_slot(result)
        elif isinstance(result, tuple):  # several results: each array gets a slot
            out_slots = tuple(self.new_slot(r) if isinstance(r, (np.ndarray, Tensor)) else None for r in result)
        else:
            out_slots = None
        self.instructions.append(Effect(fn, arg_refs, kw_refs, out_slots))
        for leaf in self.leaves:  # an effect may have rebound a parameter's array
            leaf.tensor.data = _plain(leaf.tensor.data)
        return result


def _trackable(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray))


def _untraced(value):
    if isinstance(value, Tensor) and isinstance(value.data, _Traced):
        return Tensor._wrap(value.data.view(np.ndarray), value._ctx)
    return _plain(value) if isinstance(value, np.ndarray) else value


# ---- the public wrapper ------------------------------------------------------------------------------------
def _signature(args, kwargs) -> tuple:
    """What a trace depends on: arrays' shapes and dtypes (and a Tensor's requires_grad), the
    other arguments' values (or identities, when unhashable)."""
    key = [
        (value.shape, value.dtype) if type(value) is np.ndarray else None if value is None else _key(value)
        for value in args
    ]
    if kwargs:
        key.extend((k, _key(v)) for k, v in sorted(kwargs.items()))
    return tuple(key)


def _key(value):
    if isinstance(value, Tensor):
        return ("T", value.data.shape, value.data.dtype, value._requires_grad)
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype)
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return ("v", type(value), value)


class _Entry:
    """One captured signature: its recording, and the loop kernel once it is compiled."""

    __slots__ = ("program", "arg_slots", "out_spec", "kernel", "replays", "replay_seconds", "not_lowered")
    __slots__ += ("template", "leaf_checks", "output", "earlier_compile_seconds", "multi_step", "replay")

    def __init__(self, program: Program, arg_slots, out_spec):
        self.program, self.arg_slots, self.out_spec = program, arg_slots, out_spec
        self.template = [None] * program.nslots  # the slot list with every leaf in place
        for leaf, slot, _, _ in program.leaves:
            self.template[slot] = leaf  # read by reference: ops see the leaf's current array
        self.leaf_checks = [(leaf, shape, dtype) for leaf, _, shape, dtype in program.leaves]
        self.output = _output_builder(out_spec)
        self.earlier_compile_seconds = 0.0  # a first recording's kernel compile, before the check
        self.kernel = None
        self.replays = 0
        self.replay_seconds = 0.0
        self.not_lowered = None  # why no kernel (None: not tried yet)
        self.replay = None  # the program compiled for the numpy replay (at its first replay)


class CompiledFunction:
    """A function captured per input signature; call it like the original (see the module doc).

    With ``validate=True`` (the default) a signature is traced on its first *two* calls and the
    two recordings must agree: an array constant, a Tensor made during the call (a different
    Tensor on each call, unlike a weight) or a returned constant that differs between them was
    computed from the inputs outside the op set (numpy on the data, a random draw outside
    ``@am.replayable``) and would be frozen by a replay, so it raises ``CaptureError`` naming the
    op and giving both values instead.

    ``kernels=False`` (the default) replays the recorded numpy operations: bit for bit the eager
    numbers. ``kernels=True`` compiles each signature, once it is checked, into numba loop
    kernels (``autograd_mini.lowering``): the whole forward, backward and plain optimizer
    step in one call, where sums and ``exp``/``log``/``tanh`` may round differently in the
    last bits; without numba, or where the step has no loop form (``stats()`` says why), the
    replay runs. ``state=(save, restore)`` makes the traces leave no trace: the state is saved
    before the first trace of a signature and restored after each, and the call then runs the
    kernel, so every step of a run, the first ones included, computes the same way (a run is
    repeatable bit for bit, also when resumed in a new process).
    """

    def __init__(self, fn: Callable, validate: bool = True, kernels: bool = False, state=None):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.validate = validate
        self.kernels = kernels
        self.state = state
        self.cache: dict[tuple, _Entry] = {}
        self.pending: dict[tuple, _Entry] = {}  # signature -> first recording, awaiting its check
        self.traces = 0  # how many times a signature was traced (validation traces count)

    def run_steps(self, batches, invariant: bool = False, last_only: bool = False):
        """Per batch, what ``self(*args)`` returns, computed in one native call (Keras'
        ``steps_per_execution``); None when that is not possible, having done nothing (then
        call per batch). ``batches``: positional argument tuples of one checked, compiled
        signature. ``invariant=True``: the values the kernel reads from Python (a constant
        learning rate) stay the same over the N steps. ``last_only=True``: a list of one item,
        the last batch's result (the others are not built). See ``lowering/multi_step.py``."""
        from .lowering.multi_step import Stacked, run_entry

        if isinstance(batches, Stacked):  # (one array per argument: one signature by construction)
            if len(batches) < 2 or state.tracer is not None or not self.kernels:
                return None
            signature = _signature(batches.batch(0), {})
        else:
            batches = [tuple(args) for args in batches]
            if len(batches) < 2 or state.tracer is not None or not self.kernels:
                return None
            signature = _signature(batches[0], {})
            if any(_signature(args, {}) != signature for args in batches[1:]):
                return None
        entry = self.cache.get(signature)
        if entry is None or entry.kernel is None or entry.kernel.plan is None:
            return None
        if any(leaf.data.shape != shape or leaf.data.dtype != dtype for leaf, shape, dtype in entry.leaf_checks):
            return None
        return run_entry(entry, self.state, batches, invariant, last_only)

    def steps_ready(self, args) -> bool:
        """Whether ``run_steps`` may take batches of the signature of ``args`` (positional
        arguments): it is checked and compiled to one kernel, its parameters are as traced, and
        its N-step function was not refused. False: call ``self(*args)`` (which compiles it)."""
        if not self.kernels or state.tracer is not None:
            return False
        entry = self.cache.get(_signature(tuple(args), {}))
        if entry is None or entry.kernel is None or entry.kernel.plan is None:
            return False
        if isinstance(getattr(entry, "multi_step", None), str):  # (multi_step's refusal mark)
            return False
        return all(leaf.data.shape == shape and leaf.data.dtype == dtype for leaf, shape, dtype in entry.leaf_checks)

    def __call__(self, *args, **kwargs):
        if state.tracer is not None:  # nested: the outer trace records the inner ops
            return self.fn(*args, **kwargs)
        signature = _signature(args, kwargs)
        entry = self.cache.get(signature)
        if entry is not None:
            for leaf, shape, dtype in entry.leaf_checks:
                data = leaf.data
                if data.shape != shape or data.dtype != dtype:
                    break  # a parameter changed shape or dtype: trace again
            else:
                return self._run(entry, args)
        if self.state is not None and self.kernels:
            return self._trace_and_restore(signature, args, kwargs)
        if self.state is not None:  # a refused trace leaves nothing applied (the caller may run it eagerly)
            save, restore = self.state
            snapshot = save()
            try:
                return self._trace(signature, args, kwargs)
            except CaptureError:
                restore(snapshot)
                raise
        return self._trace(signature, args, kwargs)

    def _trace_and_restore(self, signature, args, kwargs):
        """Trace with the state restored afterwards, then run the step through the kernel. The first
        call of a signature runs its own recording; the second, on another batch, records again
        and checks the two agree (so a constant computed from the data is caught, as without
        ``state``) before its kernel runs."""
        save, restore = self.state
        snapshot = save()
        try:
            self._trace(signature, args, kwargs)
        finally:
            restore(snapshot)  # (also when a trace is refused: nothing of it stays applied)
        entry = self.cache.get(signature) or self.pending[signature]
        self._lower(entry)
        return self._run(entry, args)

    def stats(self) -> list[dict]:
        """Per captured signature: replays, numpy replay time, whether a kernel runs (with its
        compile time) or why not, and whether its recording was checked by a second trace."""
        entries = [(signature, entry, True) for signature, entry in self.cache.items()]
        entries += [(signature, entry, False) for signature, entry in self.pending.items()]
        return [
            {
                "signature": signature,
                "checked": checked,
                "replays": entry.replays,
                "replay_seconds": entry.replay_seconds,
                "kernel": entry.kernel is not None,
                "compile_seconds": (
                    entry.kernel.compile_seconds + entry.earlier_compile_seconds if entry.kernel is not None else None
                ),
                "not_lowered": entry.not_lowered,
                "compile_source": getattr(entry.kernel, "compile_source", None),  # "disk cache": nothing compiled
            }
            for signature, entry, checked in entries
        ]

    def _trace(self, signature, args, kwargs):
        tracer = _Tracer()
        arg_slots, traced_args = [], []
        for value in args:
            if isinstance(value, (Tensor, np.ndarray)):
                data = value.data if isinstance(value, Tensor) else value
                t = Tensor._wrap(np.asarray(data).view(_Traced))
                if isinstance(value, Tensor) and value._requires_grad:
                    t._requires_grad = True
                arg_slots.append(tracer.new_slot(t))
                traced_args.append(t)
            else:
                arg_slots.append(None)
                traced_args.append(value)
        previous = state.tracer
        state.tracer = tracer
        try:
            result = self.fn(*traced_args, **kwargs)
        finally:
            state.tracer = previous
            for leaf, *_ in tracer.leaves:
                leaf.data = _plain(leaf.data)
                if leaf.grad is not None:
                    leaf.grad.data = _plain(leaf.grad.data)
        entry = _Entry(tracer.program(), arg_slots, _output_spec(result, tracer))
        self.traces += 1
        first = self.pending.pop(signature, None)
        if self.validate and first is None:
            self.pending[signature] = entry
        else:
            if first is not None:
                name = getattr(self.fn, "__name__", "function")
                _same_recording(first.program, entry.program, name)
                _same_output(first.out_spec, entry.out_spec, name)
                if first.kernel is not None:
                    entry.earlier_compile_seconds = first.kernel.compile_seconds
            self.cache[signature] = entry
        return _sanitize(result)

    def _run(self, entry: _Entry, args):
        slots = entry.template.copy()
        for value, slot in zip(args, entry.arg_slots):
            if slot is not None:
                slots[slot] = value.data if isinstance(value, Tensor) else value
        kernel = entry.kernel
        if kernel is None or not kernel.run(slots):
            start = time.perf_counter()
            (entry.replay or self._replay(entry))(slots)
            entry.replays += 1
            entry.replay_seconds += time.perf_counter() - start
            if entry.not_lowered is None and self.kernels:
                self._lower(entry)  # the next call runs the kernel
        return entry.output(slots)

    @staticmethod
    def _replay(entry: _Entry) -> Replay:
        entry.replay = Replay(entry.program)
        return entry.replay

    def _lower(self, entry: _Entry) -> None:
        """Compile the entry's loop kernel; anything that cannot be lowered keeps the replay."""
        if entry.not_lowered is not None:
            return
        from .lowering import NotLowerable
        from .lowering.kernel import compile_program

        try:
            entry.kernel = compile_program(entry.program, set(_spec_slots(entry.out_spec)))
            entry.not_lowered = ""
        except NotLowerable as reason:
            entry.not_lowered = str(reason)
        except Exception as error:  # a numba failure must never break a step: keep the replay
            entry.not_lowered = f"numba could not compile the step: {type(error).__name__}: {error}"


def _same_recording(first: Program, second: Program, name: str) -> None:
    """Raise CaptureError where two traces of one signature recorded different work, or read a
    value computed from the inputs outside the op set: an array constant, or a leaf Tensor made
    during the call (a different Tensor on each call, ``am.tensor(np.asarray(y) * 2)``), whose
    values differ. A leaf that is the same Tensor on both calls (a weight, an optimizer slot)
    is read by reference on every replay, so its values may change between calls."""
    a_steps, b_steps = first.instructions, second.instructions
    if len(a_steps) != len(b_steps) or any(type(a) is not type(b) for a, b in zip(a_steps, b_steps)):
        raise CaptureError(
            f"am.compile: {name} did different work on two calls with the same input signature "
            f"({len(a_steps)} and {len(b_steps)} recorded steps{_first_difference(a_steps, b_steps)}): "
            f"Python control flow on the data cannot be captured"
        )
    a_leaves = {info.slot: info.tensor for info in first.leaves}
    b_leaves = {info.slot: info.tensor for info in second.leaves}
    for step, (a, b) in enumerate(zip(a_steps, b_steps)):
        if type(a) is OpCall:
            where = f"op '{a.cls.name}' (step {step})"
            same = a.cls is b.cls and a.needs == b.needs and _same_values(a.options, b.options)
            pairs = zip(a.inputs, b.inputs)
        elif type(a) is Effect:
            where = f"replayable call {getattr(a.fn, '__name__', a.fn)!r} (step {step})"
            same = a.fn == b.fn and a.kwargs.keys() == b.kwargs.keys()
            pairs = list(zip(a.args, b.args)) + [(a.kwargs[k], b.kwargs[k]) for k in a.kwargs]
        else:
            where, same = f"backward (step {step})", _same_values(a, b)
            pairs = [(sa.grad, sb.grad) for sa, sb in zip(a.seeds, b.seeds)] if same else ()
        if not same:
            what = (
                _backward_difference(a, b)
                if type(a) is Backward
                else f"{_describe_step(a)} on the first call, {_describe_step(b)} on the second"
            )
            raise CaptureError(f"am.compile: {where} differs between two calls with the same input signature ({what})")
        for index, (ra, rb) in enumerate(pairs):
            problem = _changed_input(ra, rb, a_leaves, b_leaves)
            if problem is not None:
                raise CaptureError(
                    f"am.compile: {where} input {index} changed between two calls with the same input "
                    f"signature: {problem}"
                )


_FROZEN = (
    "it was computed from the inputs outside the op set (numpy on the data, or a random draw outside "
    "@am.replayable), so a replay would freeze the first call's value. Use ops, or compute it in an "
    "@am.replayable function"
)


def _changed_input(ra, rb, a_leaves: dict, b_leaves: dict) -> str | None:
    """Why operand ``ra`` of the first recording and ``rb`` of the second differ (None: the same)."""
    kind = type(ra)
    if kind is not type(rb) or (kind in (Slot, Leaf) and ra.index != rb.index):
        return f"{_describe_ref(ra)} on the first call, {_describe_ref(rb)} on the second"
    if kind is Leaf:
        ta, tb = a_leaves[ra.index], b_leaves[rb.index]
        if ta is tb or _same_values(ta.data, tb.data):
            return None  # the same Tensor (read by reference on each replay), or an equal one made on each call
        return f"it is a Tensor created inside the function (a new one on each call) {_expected(ta.data, tb.data)}"
    if kind is Const:
        if _same_values(ra.value, rb.value):
            return None
        return f"it is a constant of the recording {_expected(ra.value, rb.value)}"
    return None if _same_values(ra, rb) else f"{ra!r} on the first call, {rb!r} on the second"


def _expected(a, b) -> str:
    return (
        f"whose value differs: expected {_describe_value(a)} (the first call's), given {_describe_value(b)} "
        f"on the second call{_first_mismatch(a, b)}; {_FROZEN}"
    )


def _same_output(a, b, name: str, path: str = "") -> None:
    """Raise CaptureError where the two traces returned a different structure, or a constant (a
    value not computed by the step's ops, which a replay returns as recorded) that differs."""
    if a[0] != b[0] or (a[0] == "T" and a[1] != b[1]) or (a[0] == "G" and a[1] is not b[1]):
        kinds = {"T": "a value computed by the step", "c": "a constant", "G": "a leaf's gradient"}
        raise CaptureError(
            f"am.compile: {name} returned {kinds.get(a[0], a[0])} on the first call and "
            f"{kinds.get(b[0], b[0])} on the second (result{path or ' itself'}) with the same input signature"
        )
    if a[0] == "c":
        va, vb = a[1], b[1]
        if isinstance(va, Tensor) and isinstance(vb, Tensor) and va is not vb:
            va, vb = va.data, vb.data  # a Tensor made on each call: its values must not change
        if not _same_values(va, vb):
            raise CaptureError(
                f"am.compile: {name} returned a constant (result{path or ' itself'}, not computed by the "
                f"step's ops) that changed between two calls with the same input signature: expected "
                f"{_describe_value(va)} (the first call's), given {_describe_value(vb)} on the second call"
                f"{_first_mismatch(va, vb)}; {_FROZEN}"
            )
    elif a[0] is dict:
        if a[1].keys() != b[1].keys():
            raise CaptureError(
                f"am.compile: {name} returned dicts with different keys on two calls with the same input "
                f"signature (result{path or ' itself'}): {list(a[1])} then {list(b[1])}"
            )
        for key in a[1]:
            _same_output(a[1][key], b[1][key], name, f"{path}[{key!r}]")
    elif a[0] not in ("T", "G"):
        if len(a[1]) != len(b[1]):
            raise CaptureError(
                f"am.compile: {name} returned {len(a[1])} and {len(b[1])} items on two calls with the same "
                f"input signature (result{path or ' itself'})"
            )
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            _same_output(x, y, name, f"{path}[{i}]")


def _first_difference(a_steps: list, b_steps: list) -> str:
    """Where two recordings of different work part: their first different instruction."""
    for step, (a, b) in enumerate(zip(a_steps, b_steps)):
        if type(a) is not type(b) or _describe_step(a) != _describe_step(b):
            return f"; step {step} is {_describe_step(a)} on the first call, {_describe_step(b)} on the second"
    if len(a_steps) != len(b_steps):
        step, longer = min(len(a_steps), len(b_steps)), a_steps if len(a_steps) > len(b_steps) else b_steps
        which = "first" if longer is a_steps else "second"
        return f"; only the {which} call goes on, with {_describe_step(longer[step])} at step {step}"
    return ""


def _describe_step(instruction) -> str:
    kind = type(instruction)
    if kind is OpCall:
        options = f" with {instruction.options}" if instruction.options else ""
        return f"op '{instruction.cls.name}'{options}"
    if kind is Effect:
        return f"replayable call {getattr(instruction.fn, '__name__', instruction.fn)!r}"
    if kind is Backward:
        return f"a backward pass of {len(instruction.steps)} steps"
    return type(instruction).__name__


def _backward_difference(a: Backward, b: Backward) -> str:
    """What differs between two recorded backward passes, first call and second."""
    if len(a.seeds) != len(b.seeds) or a.retain_graph != b.retain_graph:
        return f"{len(a.seeds)} and {len(b.seeds)} roots, retain_graph {a.retain_graph} and {b.retain_graph}"
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} steps on the first call, {len(b.steps)} on the second"
    for i, (sa, sb) in enumerate(zip(a.steps, b.steps)):
        if _same_values(sa, sb):
            continue
        if type(sa) is LeafGrad and type(sb) is LeafGrad and sa.slot == sb.slot and sa.leaf is not sb.leaf:
            return (
                f"its step {i} stores a gradient in a different leaf Tensor on each call: a Tensor with "
                f"requires_grad=True created inside the function cannot be captured (pass it as an argument)"
            )
        return f"its step {i}: {sa} on the first call, {sb} on the second"
    return "its gradient seeds differ"


def _describe_ref(ref) -> str:
    kind = type(ref)
    if kind is Const:
        return f"the constant {_describe_value(ref.value)}"
    if kind is Leaf:
        return "a leaf Tensor"
    if kind is Slot:
        return "a value computed by the step"
    return repr(ref)


def _describe_value(value) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value.view(np.ndarray), threshold=6, edgeitems=2, precision=6, separator=", ")
        return f"{' '.join(text.split())} (shape {value.shape}, {value.dtype})"  # (on one line)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_mismatch(a, b) -> str:
    """Where two arrays of one shape first differ, and how many elements do."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape or a.ndim == 0:
        return ""
    a, b = a.view(np.ndarray), b.view(np.ndarray)
    differ = ~((a == b) | ((a != a) & (b != b)))  # (NaN equals NaN, as _same_values counts)
    where = np.argwhere(differ)
    if not len(where):
        return ""
    at = tuple(int(i) for i in where[0])
    first, second = a[at].item(), b[at].item()
    return f"; {len(where)} of {a.size} elements differ, the first at index {at}: {first!r} then {second!r}"


def _same_values(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a.view(np.ndarray), b.view(np.ndarray), equal_nan=True))
        )
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_values(a[k], b[k]) for k in a)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _output_spec(result, tracer):
    if isinstance(result, Tensor):
        slot = tracer.slot_of.get(id(result))
        if slot is None or id(result) in tracer.leaf_slot:
            for leaf in tracer.leaves:
                if leaf.tensor.grad is result:  # a leaf's gradient (a new Tensor on each replay): read it then
                    return ("G", leaf.tensor)
            return ("c", result)
        return ("T", slot)
    if isinstance(result, (tuple, list)):
        return (type(result), [_output_spec(r, tracer) for r in result])
    if isinstance(result, dict):
        return (dict, {k: _output_spec(v, tracer) for k, v in result.items()})
    if isinstance(result, _Traced):
        raise CaptureError("am.compile: the function returns an array computed with raw numpy from traced values")
    return ("c", result)


def _spec_slots(spec):
    """The slots a call returns (the loop kernel must export them)."""
    stack = [spec]
    while stack:
        item = stack.pop()
        kind = item[0]
        if kind == "T":
            yield item[1]
        elif kind is dict:
            stack.extend(item[1].values())
        elif kind not in ("c", "G"):
            stack.extend(item[1])


def _output_builder(spec):
    """A function slots -> the call's result, shaped like the traced result (fast for a Tensor or
    a flat tuple/list of Tensors and constants, the usual step results)."""
    wrap = Tensor._wrap
    if spec[0] == "T":
        slot = spec[1]
        return lambda slots: wrap(slots[slot])
    if spec[0] in (tuple, list) and all(item[0] == "T" for item in spec[1]):
        kind, indices = spec[0], [item[1] for item in spec[1]]
        return lambda slots: kind([wrap(slots[i]) for i in indices])
    if spec[0] is dict and all(item[0] == "T" for item in spec[1].values()):  # a step's logs
        items = [(key, item[1]) for key, item in spec[1].items()]
        return lambda slots: {key: wrap(slots[i]) for key, i in items}
    return functools.partial(_from_spec, spec)


def _from_spec(spec, slots):
    kind = spec[0]
    if kind == "T":
        return Tensor._wrap(slots[spec[1]])
    if kind == "c":
        return spec[1]
    if kind == "G":
        return spec[1].grad
    if kind is dict:
        return {k: _from_spec(v, slots) for k, v in spec[1].items()}
    return kind(_from_spec(s, slots) for s in spec[1])


def _sanitize(result):
    """The trace's eager result with plain arrays (no traced subclass leaks to the caller)."""
    if isinstance(result, Tensor):
        return Tensor._wrap(_plain(result.data))
    if isinstance(result, (tuple, list)):
        return type(result)(_sanitize(r) for r in result)
    if isinstance(result, dict):
        return {k: _sanitize(v) for k, v in result.items()}
    return result


def compile(fn: Callable | None = None, *, validate: bool = True, kernels: bool = False, state=None):
    """Capture ``fn`` per input signature and replay it (see the module docstring); usable as
    ``am.compile(fn)``, ``@am.compile`` or ``@am.compile(validate=False)`` (trust one trace per
    signature instead of checking two). ``kernels=True`` compiles checked signatures into numba
    loop kernels; ``state=(save, restore)`` restores what the traces changed (see
    ``CompiledFunction``). The name is jax's and torch's."""
    if fn is None:
        return functools.partial(compile, validate=validate, kernels=kernels, state=state)
    return CompiledFunction(fn, validate=validate, kernels=kernels, state=state)
