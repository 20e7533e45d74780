"""``Function``: the one mechanism every differentiable op is built on (and users extend).

An op is a subclass with two static methods on plain arrays::

    class Cube(am.Function):
        '''y = x**3;  dy/dx = 3 x**2'''
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(t)

``apply`` unwraps Tensors to ndarrays, runs ``forward``, and records the op in the graph only
when grad mode is on and some input requires grad (``ctx.needs_input_grad[i]`` tells which).
``backward`` returns one gradient per input (``None`` where not needed); it may return a
gradient of the broadcast shape: the engine reduces it with ``unbroadcast``, centrally.

One gradient formula serves two paths. For first-order gradients ``backward`` receives
ndarrays. With ``create_graph=True`` it receives Tensors (the saved inputs and output become
the graph's own Tensors), so the formula itself is recorded and can be differentiated again.
Write backward with operators, methods both types share (``.sum``, ``.reshape``, ``@``, ...)
and the helpers in ``autograd_mini.ops.dual``.

Arrays saved for backward are made read-only until the graph is released, and the results of
recorded ops are read-only arrays, so modifying a saved array in place before backward raises
an error instead of silently giving a wrong gradient. Leaves' arrays become writable again
once no graph holds them (after backward, or when the graph is dropped).
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .grad_mode import state
from .tensor import Tensor

_result = Tensor._wrap
_new_tensor = Tensor.__new__
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# arrays this module made read-only (id -> array) and how many graphs hold each (id -> count);
# plain dicts of ints keep the per-op cost low (no new objects for the garbage collector)
_protected: dict[int, np.ndarray] = {}
_holders: dict[int, int] = {}


def _protect_one(a: np.ndarray) -> tuple:
    key = id(a)
    count = _holders.get(key)
    if count is not None:
        _holders[key] = count + 1
        return (a,)
    if not a.flags.writeable:
        return ()
    a.setflags(write=False)
    _protected[key] = a
    _holders[key] = 1
    return (a,)


def _protect(array: np.ndarray) -> tuple:
    """Make ``array`` (and the array it views) read-only while a graph holds it."""
    base = array.base
    if type(base) is np.ndarray:
        return _protect_one(array) + _protect_one(base)
    return _protect_one(array)


def _unprotect(held) -> None:
    for a in held:
        key = id(a)
        count = _holders.get(key)
        if count is None:
            continue
        if count > 1:
            _holders[key] = count - 1
            continue
        del _holders[key], _protected[key]
        with contextlib.suppress(ValueError):  # its base was made read-only by someone else meanwhile
            a.setflags(write=True)


class _Held:
    """The arrays one recorded op made read-only; they become writable again (when no other
    graph holds them) on ``release()`` or when the op is garbage-collected unreleased. Only ops
    that save leaves' arrays or views own one, so most ops pay nothing for this."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: tuple):
        self.arrays = arrays

    def release(self) -> None:
        arrays, self.arrays = self.arrays, ()
        _unprotect(arrays)

    def __del__(self):
        if self.arrays:
            _unprotect(self.arrays)


class Function:
    """Base class of differentiable operations; an instance is the op's saved context."""

    __slots__ = ("parents", "edges", "needs_input_grad", "saved", "_held", "__dict__")
    #: where the op was created (recorded in anomaly mode only) and its name_scope (None: none)
    _trace = None
    scope = None
    #: the op's name in errors and graph drawings (default: the class name, lower case)
    name: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()

    # ---- what subclasses write -------------------------------------------------------------
    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    def save_for_backward(self, *items) -> None:
        """Keep arrays (or other values) for ``backward``; read them as ``ctx.saved_tensors``."""
        self.saved = items

    @property
    def saved_tensors(self) -> tuple:
        return self.saved

    # ---- the mechanism ---------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **options):
        """Run the op on ``args`` (Tensors or constants) and record it when a gradient is needed."""
        # unwrap the inputs; one- and two-input ops (nearly all calls) take a loop-free path.
        # edges: the inputs that need a gradient (None: work it out below)
        if len(args) == 1:
            a = args[0]
            if isinstance(a, Tensor):
                arrays, needs, edges = (a.data,), (a._requires_grad,), args
            else:
                arrays, needs, edges = args, (False,), ()
        elif len(args) == 2:
            a, b = args
            if isinstance(a, Tensor):
                if isinstance(b, Tensor):
                    arrays, needs, edges = (a.data, b.data), (a._requires_grad, b._requires_grad), None
                else:
                    arrays, needs, edges = (a.data, b), (a._requires_grad, False), (a,)
            elif isinstance(b, Tensor):
                arrays, needs, edges = (a, b.data), (False, b._requires_grad), (b,)
            else:
                arrays, needs, edges = args, (False, False), ()
        else:
            arrays = tuple([a.data if isinstance(a, Tensor) else a for a in args])
            needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
            edges = None
        ctx = cls.__new__(cls)
        ctx.needs_input_grad = needs
        ctx.saved = ()
        try:
            out = cls.forward(ctx, *arrays, **options)
        except (ValueError, IndexError, TypeError) as error:
            raise _explain(cls.name, arrays, error) from None
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results
            scalar, out = out, np.asarray(out)
            if ctx.saved:
                ctx.saved = tuple(out if item is scalar else item for item in ctx.saved)
        st = state
        anomaly = st.anomaly
        if anomaly:
            ctx.parents = args
            ctx._trace = _user_frame()
            ctx.check_finite(out, "forward")
        if True not in needs or not st.grad:
            if st.tracer is not None:
                return _traced(cls, args, options, needs, _result(out, None))
            return _result(out, None)
        # parents: the inputs, aligned with needs_input_grad; edges: those that need a gradient
        ctx.parents = args
        if edges is None:
            edges = args if False not in needs else tuple([a for a, need in zip(args, needs) if need])
        ctx.edges = edges
        scope = st.scope
        if scope is not None:
            ctx.scope = scope
        if out.base is None and out is not arrays[0]:
            # a recorded result may be saved by the ops that consume it: it stays read-only
            out.setflags(write=False)
        held = ()
        for item in ctx.saved:
            # results of recorded ops (this one's too) are read-only for good and need no
            # bookkeeping: only leaves' arrays and views are protected and counted
            if type(item) is np.ndarray and (item.flags.writeable or item.base is not None or id(item) in _holders):
                held += _protect(item)
        ctx._held = _Held(held) if held else None
        t = _new_tensor(Tensor)  # Tensor._wrap(out, ctx), inlined: this is the hottest line of the library
        t.data = out
        t.grad = None
        t._ctx = ctx
        t._requires_grad = out.dtype.kind == "f"
        t.name = None
        t._retains_grad = False
        if st.tracer is not None:
            return _traced(cls, args, options, needs, t)
        return t

    def run_backward(self, grad, create_graph: bool, output):
        """Call ``backward``; with ``create_graph`` the saved arrays are handed over as Tensors."""
        if create_graph:
            plain = self.saved
            self.saved = tuple(self._as_graph(item, output) for item in plain)
            try:
                grads = type(self).backward(self, grad)
            finally:
                self.saved = plain
        else:
            grads = type(self).backward(self, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.parents):
            raise RuntimeError(f"{self.name}.backward returned {len(grads)} gradients for {len(self.parents)} inputs")
        return grads

    def _as_graph(self, item, output):
        if type(item) is not np.ndarray:
            return item
        if output.data is item:
            return output
        for parent in self.edges:
            if parent.data is item:
                return parent
        return item  # an array computed inside forward: a constant of the gradient graph

    def release(self) -> None:
        """Drop saved arrays and the links to inputs (the graph is freed as backward goes)."""
        if self.edges is None:
            return
        if self._held is not None:
            self._held.release()
            self._held = None
        self.saved = ()
        self.edges = self.parents = None

    # ---- diagnostics -----------------------------------------------------------------------
    def where(self) -> str:
        """' (created at file:line)' when anomaly mode recorded it, else ''."""
        trace = self._trace
        return f" (created at {trace})" if trace else ""

    def check_finite(self, array, phase: str) -> None:
        data = array.data if isinstance(array, Tensor) else array
        if np.issubdtype(np.asarray(data).dtype, np.inexact) and not np.all(np.isfinite(data)):
            shapes = ", ".join(str(np.shape(p.data if isinstance(p, Tensor) else p)) for p in self.parents)
            what = "output" if phase == "forward" else "gradient"
            raise FloatingPointError(
                f"detect_anomaly: op '{self.name}' produced a non-finite {what} in {phase} "
                f"(input shapes {shapes}){self.where()}"
            )


def _traced(cls, args, options, needs, result):
    """Tell the am.compile trace being recorded about this op (autograd_mini.capture)."""
    state.tracer.on_forward(cls, args, options, needs, result)
    return result


def _user_frame() -> str:
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "unknown location"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _explain(name: str, arrays, error: Exception) -> Exception:
    message = str(error)
    if message.startswith(name + ":"):
        return error
    shapes = [np.shape(a) for a in arrays if isinstance(a, (np.ndarray, list, tuple))]
    if len(shapes) >= 2:
        described = f"shapes {shapes[0]} and {shapes[1]}" + "".join(f" and {s}" for s in shapes[2:])
    elif shapes:
        described = f"shape {shapes[0]}"
    else:
        described = "scalar inputs"
    return type(error)(f"{name}: {described}: {message}")
