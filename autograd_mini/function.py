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
ndarrays. With ``create_graph=True`` it receives Tensors, so the formula itself is recorded
and can be differentiated again. Write backward with operators, methods both types share
(``.sum``, ``.reshape``, ``@``, ...) and the helpers in ``autograd_mini.ops.dual``.

**Saved arrays have roles** (PyTorch's rule). What ``save_for_backward`` receives must be the
op's inputs (the very arrays ``forward`` got) or its output; with ``create_graph=True`` each is
handed to ``backward`` as the graph Tensor of that role: input i's Tensor, or the output
Tensor. Roles go by position, never by matching arrays to Tensors (``x.detach()`` shares
``x``'s array, so ``x * x.detach()`` would be ambiguous: ``apply`` gives ``forward`` a distinct
view when two different Tensors share one array). Anything else a backward needs goes on
``ctx`` as an attribute (a constant of the gradient graph: masks, axes, shapes). An array
computed inside forward and passed to ``save_for_backward`` is an intermediate: first-order
backward is fine, but ``create_graph=True`` raises, unless the Function is declared first
order only with ``@once_differentiable`` (then differentiating its gradient raises).

Arrays saved for backward are made read-only until the graph is released (``readonly.py``),
and the results of recorded ops are read-only arrays, so modifying a saved array in place
before backward raises an error instead of silently giving a wrong gradient. Updates go
through ``Tensor.mutable_data()`` (copy-on-write) and never hit that error.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .grad_mode import no_grad, state
from .readonly import Held, holders, protect
from .tensor import Tensor

_result = Tensor._wrap
_new_tensor = Tensor.__new__
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def once_differentiable(fn):
    """Declare a Function first-order only, like PyTorch's ``@once_differentiable``.

    Decorate the ``backward`` (``@staticmethod`` then ``@once_differentiable``) or the class.
    Its backward may then save intermediates; with ``create_graph=True`` it runs on plain
    arrays and the gradients it returns raise a clear error when differentiated again.
    """
    if isinstance(fn, type) and issubclass(fn, Function):
        fn.once_differentiable = True
        return fn
    getattr(fn, "__func__", fn)._once_differentiable = True
    return fn


class Function:
    """Base class of differentiable operations; an instance is the op's saved context."""

    __slots__ = ("parents", "edges", "needs_input_grad", "saved", "inputs", "_held", "__dict__")
    #: where the op was created (recorded in anomaly mode only) and its name_scope (None: none)
    _trace = None
    scope = None
    #: the op's name in errors and graph drawings (default: the class name, lower case)
    name: str = ""
    #: True: backward is first-order only (see ``once_differentiable``)
    once_differentiable: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        backward = cls.__dict__.get("backward")
        if getattr(getattr(backward, "__func__", backward), "_once_differentiable", False):
            cls.once_differentiable = True

    # ---- what subclasses write -------------------------------------------------------------
    @staticmethod
    def forward(ctx, *arrays, **options):
        """The op's value on ndarrays; save what backward needs with ``ctx.save_for_backward``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        """One gradient per input (None where ``ctx.needs_input_grad[i]`` is False)."""
        raise NotImplementedError

    def save_for_backward(self, *items) -> None:
        """Keep the op's inputs and/or output for ``backward``; read them as ``ctx.saved_tensors``.

        Non-array items (numbers, None) pass through unchanged; other arrays are intermediates
        (see the module docstring: fine for first order only).
        """
        self.saved = items

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` received (graph Tensors, by role, under create_graph)."""
        return self.saved

    # ---- the mechanism ---------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **options):
        """Run the op on ``args`` (Tensors or constants) and record it when a gradient is needed."""
        # unwrap the inputs; one- and two-input ops (nearly all calls) take a loop-free path.
        # edges: the inputs that need a gradient (None: work it out below)
        sources = None  # the inputs' own arrays when forward gets a distinct view of one
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
                    if arrays[0] is arrays[1] and a is not b:  # x * x.detach(): one array, two roles
                        sources, arrays = arrays, (arrays[0], arrays[1].view())
                else:
                    arrays, needs, edges = (a.data, b), (a._requires_grad, False), (a,)
                    if b is arrays[0]:  # x * x.data
                        sources, arrays = arrays, (b, b.view())
            elif isinstance(b, Tensor):
                arrays, needs, edges = (a, b.data), (False, b._requires_grad), (b,)
                if a is arrays[1]:
                    sources, arrays = arrays, (a.view(), a)
            else:
                arrays, needs, edges = args, (False, False), ()
        else:
            arrays = [a.data if isinstance(a, Tensor) else a for a in args]
            needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
            edges = None
            sources = _distinct_arrays(args, arrays)
            arrays = tuple(arrays)
        ctx, out = run_forward(cls, arrays, needs, options)  # (the replay's forward too: one home)
        st = state
        anomaly = st.anomaly
        if anomaly:
            ctx.parents = args
            ctx._trace = _user_frame()
            ctx.check_finite(out, "forward")
        if True not in needs or not st.grad:
            t = _result(out, None)
            if st.tracer is not None:  # am.compile is recording (autograd_mini.capture)
                st.tracer.on_forward(cls, args, options, needs, t)
            return t
        kind = out.dtype.kind
        if kind != "f" and kind in "cO":
            raise _no_gradient_dtype(cls.name, arrays, out)
        # parents: the inputs, aligned with needs_input_grad; edges: those that need a gradient
        ctx.parents = args
        ctx.inputs = arrays
        if sources is not None:
            ctx.sources = sources
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
            if type(item) is np.ndarray and (item.flags.writeable or item.base is not None or id(item) in holders):
                held += protect(item)
        ctx._held = Held(held) if held else None
        # Tensor._wrap(out, ctx), inlined (the hottest lines of the library);
        # tests/test_core_refactor.py asserts both initialise the same fields
        t = _new_tensor(Tensor)
        t.data = out
        t.grad = None
        t._ctx = ctx
        t._requires_grad = kind == "f"
        t.name = None
        t._retains_grad = False
        if st.tracer is not None:
            st.tracer.on_forward(cls, args, options, needs, t)
        return t

    def run_backward(self, grad, create_graph: bool, output):
        """Call ``backward`` and return one gradient per input (a tuple).

        With ``create_graph`` the saved items are handed over as graph Tensors by role (see
        the module docstring); a once-differentiable op runs on arrays instead and its
        gradients raise when differentiated again.
        """
        backward = type(self).backward
        if not create_graph:
            return gradient_tuple(self, backward(self, grad))
        if self.once_differentiable:
            with no_grad():
                grads = gradient_tuple(self, backward(self, grad.data if isinstance(grad, Tensor) else grad))
            sources = (*self.edges, grad) if isinstance(grad, Tensor) else self.edges
            return tuple(
                None if g is None else _OnceDifferentiableGradient.apply(g, *sources, op=self.name) for g in grads
            )
        plain = self.saved
        self.saved = self._saved_by_role(output)
        try:
            grads = backward(self, grad)
        finally:
            self.saved = plain
        return gradient_tuple(self, grads)

    def _saved_by_role(self, output) -> tuple:
        """The saved items as graph Tensors: input i -> its Tensor, the output -> ``output``."""
        inputs, parents = self.inputs, self.parents
        sources = self.__dict__.get("sources", inputs)
        graph = []
        for k, item in enumerate(self.saved):
            if type(item) is not np.ndarray:
                graph.append(item)
                continue
            for i, array in enumerate(inputs):
                if item is array:
                    parent = parents[i]
                    if not isinstance(parent, Tensor):
                        graph.append(item)  # a constant input
                    elif parent.data is sources[i]:
                        graph.append(parent)
                    else:
                        raise _modified_error(self, f"input {i}")
                    break
            else:
                if item is output.data:
                    graph.append(output)
                else:
                    raise RuntimeError(
                        f"{self.name}: backward with create_graph=True: saved item {k} (an array of shape "
                        f"{item.shape}, dtype {item.dtype}) is neither an input nor the output of the op (or the "
                        f"output was updated in place since), so its "
                        f"dependence on the inputs would be lost. Save only inputs and the output with "
                        f"save_for_backward (constants go on ctx attributes; recompute intermediates from the "
                        f"inputs in backward), or mark the op @am.once_differentiable{self.where()}"
                    )
        return tuple(graph)

    # ---- diagnostics -----------------------------------------------------------------------
    def where(self) -> str:
        """' (created at file:line)' when anomaly mode recorded it, else ''."""
        trace = self._trace
        return f" (created at {trace})" if trace else ""

    def check_finite(self, array, phase: str) -> None:
        """Raise FloatingPointError naming this op when ``array`` holds NaN or Inf (anomaly mode)."""
        data = array.data if isinstance(array, Tensor) else array
        if np.issubdtype(np.asarray(data).dtype, np.inexact) and not np.all(np.isfinite(data)):
            shapes = ", ".join(str(np.shape(p.data if isinstance(p, Tensor) else p)) for p in self.parents)
            what = "output" if phase == "forward" else "gradient"
            raise FloatingPointError(
                f"detect_anomaly: op '{self.name}' produced a non-finite {what} in {phase} "
                f"(input shapes {shapes}){self.where()}"
            )


def run_forward(cls, arrays, needs: tuple, options: dict):
    """``forward`` on ``arrays`` with a new context: (ctx, result as an ndarray). What
    ``apply`` and the replay of a recorded step (``autograd_mini.replay``) both run."""
    ctx = cls.__new__(cls)
    ctx.needs_input_grad = needs
    ctx.saved = ()
    try:
        out = cls.forward(ctx, *arrays, **options)
    except (ValueError, IndexError, TypeError) as error:
        raise _explain(cls.name, arrays, error) from None
    if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results
        out = _scalar_result(ctx, out)
    return ctx, out


def _scalar_result(ctx, scalar) -> np.ndarray:
    """A forward's non-ndarray result (numpy's scalar for a 0-d result) as a 0-d array; the
    saved items that were that scalar become the array."""
    out = np.asarray(scalar)
    if ctx.saved:
        ctx.saved = tuple(out if item is scalar else item for item in ctx.saved)
    return out


class _OnceDifferentiableGradient(Function):
    """z = g, a gradient returned by a once-differentiable op;  differentiating it raises."""

    name = "once_differentiable"

    @staticmethod
    def forward(ctx, grad, *sources, op=""):
        ctx.op = op
        return grad

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"{ctx.op}: trying to differentiate twice an op marked once_differentiable "
            f"(its backward is first-order only; it cannot be part of a create_graph=True gradient)"
        )


def gradient_tuple(ctx, grads) -> tuple:
    """``backward``'s result as a tuple of one gradient per input (the one count check)."""
    if type(grads) is not tuple:
        grads = grads if isinstance(grads, list) else (grads,)
        grads = tuple(grads)
    count = len(ctx.needs_input_grad)
    if len(grads) != count:
        raise RuntimeError(f"{ctx.name}.backward returned {len(grads)} gradients for {count} inputs")
    return grads


def _modified_error(ctx, what: str) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of op '{ctx.name}' was updated after the op saved it (create_graph=True needs the values "
        f"the op saw){ctx.where()}"
    )


def _distinct_arrays(args, arrays: list):
    """Give ``forward`` a distinct view wherever two different Tensors (or a Tensor and a
    constant) share one array, so that saved arrays have one role each. Returns the inputs'
    own arrays when a view was made, else None."""
    first = {}
    sources = None
    for i, array in enumerate(arrays):
        if type(array) is not np.ndarray:
            continue
        j = first.setdefault(id(array), i)
        if j != i and args[j] is not args[i]:
            if sources is None:
                sources = tuple(arrays)
            arrays[i] = array.view()
    return sources


def _user_frame() -> str:
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "unknown location"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _shape_text(a):
    """``a``'s shape as text for an error (arrays and nested lists), a description of any
    other non-number operand, None for numbers."""
    if isinstance(a, (np.ndarray, list, tuple)):
        try:
            return str(np.shape(a))
        except ValueError:
            return f"a ragged nested {type(a).__name__} (not a rectangular array)"
    if isinstance(a, (int, float, np.generic)):
        return None
    return f"a {type(a).__name__} ({a!r:.40})"


def _describe_operands(arrays) -> str:
    parts = [text for text in map(_shape_text, arrays) if text is not None]
    if not parts:
        return "scalar inputs"
    word = "shapes" if len(parts) > 1 and all(p.startswith("(") for p in parts) else "shape"
    if not all(p.startswith("(") for p in parts):
        word = "operands"
    return f"{word} {' and '.join(parts)}"


def _explain(name: str, arrays, error: Exception) -> Exception:
    """``error`` with the op's name and a description of its operands, of the same type where
    that type can be built from a message (numpy's internal errors cannot: their builtin base)."""
    message = str(error)
    if message.startswith(name + ":"):
        return error
    text = f"{name}: {_describe_operands(arrays)}: {message}"
    for kind in (type(error), IndexError, TypeError, ValueError):
        if isinstance(error, kind):
            try:
                return kind(text)
            except Exception:  # numpy's error classes take other arguments
                continue
    return RuntimeError(text)


def _no_gradient_dtype(name: str, arrays, out) -> TypeError:
    return TypeError(
        f"{name}: the result has dtype {out.dtype}, which carries no gradient (input dtypes: "
        f"{', '.join(str(np.result_type(a)) for a in arrays)}); use real floating-point constants"
    )
