"""Strict checks of a custom ``Function``'s backward, before the engine tidies its result up.

The engine forgives two things a backward may get wrong: a gradient of the broadcast shape
(it sums it down with ``unbroadcast``) and a gradient of another dtype (it is accumulated into
the input's dtype). Both hide a bug until the op is reused where the shapes or dtypes differ
(a float16 gradient also loses three decimal digits). ``check_graph`` calls every custom
op's ``backward`` itself, on the graph of a checked function, and reports:

- a gradient whose shape or dtype differs from its input's, or ``None`` for an input that
  needs a gradient;
- a write into a saved array (made read-only by ``save_for_backward``): numpy's bare
  "read-only" error becomes one naming the op, the saved item (input i or the output) and the
  line that wrote it.

Ops defined in ``autograd_mini`` and ``nn`` are trusted (they rely on the engine's
``unbroadcast`` by design); set ``strict_backward = True`` on a Function class to check it
anyway.
"""

from __future__ import annotations

import inspect
import linecache
import os
import traceback

import numpy as np

from .function import gradient_tuple
from .tensor import Tensor

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_LIBRARY = (_PACKAGE, os.path.dirname(np.__file__))


class StrictError(AssertionError):
    """A custom op's backward broke the contract (shape, dtype, in-place write)."""


def _custom(cls) -> bool:
    flag = getattr(cls, "strict_backward", None)
    if flag is not None:
        return bool(flag)
    module = cls.__module__ or ""
    return not (module == "autograd_mini" or module.startswith(("autograd_mini.", "nn.")) or module == "nn")


def custom_ops(outputs) -> list:
    """(op context, its output Tensor) for every custom op in the graph of ``outputs`` (no recursion)."""
    seen, found = set(), []
    stack = [o for o in outputs if isinstance(o, Tensor)]
    while stack:
        t = stack.pop()
        ctx = t._ctx
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        if _custom(type(ctx)):
            found.append((ctx, t))
        stack.extend(p for p in getattr(ctx, "parents", ()) if isinstance(p, Tensor))
    return found


def input_names(cls) -> list:
    """The names of ``forward``'s array arguments (after ctx), for messages."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _role(ctx, item, k, output, names) -> str:
    for i, array in enumerate(getattr(ctx, "inputs", ())):
        if item is array:
            name = f" ({names[i]})" if i < len(names) else ""
            return f"input {i}{name}"
    if output is not None and item is output.data:
        return "the output"
    return f"saved item {k} (an array computed in forward)"


def user_frame(tb) -> str:
    """'file:line: source' of the deepest traceback frame outside autograd_mini and numpy."""
    where = "an unknown line"
    for frame in traceback.extract_tb(tb):
        if not os.path.abspath(frame.filename).startswith(_LIBRARY):
            text = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
            where = f"{frame.filename}:{frame.lineno} (in {frame.name}): {text}"
    return where


def is_readonly_error(error) -> bool:
    return isinstance(error, ValueError) and "read-only" in str(error)


def check_graph(outputs, seed: int = 0) -> None:
    """Call each custom op's backward on arrays and raise ``StrictError`` on a broken contract."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    for ctx, out in custom_ops(outputs):
        cls = type(ctx)
        names = input_names(cls)
        g = rng.standard_normal(out.shape).astype(out.dtype)
        try:
            grads = gradient_tuple(ctx, cls.backward(ctx, g))
        except ValueError as error:
            if not is_readonly_error(error):
                raise
            raise StrictError(_inplace_message(ctx, out, g, names, error)) from None
        for i, (parent, grad) in enumerate(zip(ctx.parents, grads)):
            if not (isinstance(parent, Tensor) and ctx.needs_input_grad[i]):
                continue
            name = f" ({names[i]})" if i < len(names) else ""
            if grad is None:
                raise StrictError(
                    f"op '{cls.name}': backward returned None for input {i}{name}, which needs a gradient "
                    f"(shape {parent.shape}); return zeros if its gradient is zero"
                )
            array = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
            if array.shape != parent.shape:
                raise StrictError(
                    f"op '{cls.name}': backward returned a gradient of shape {array.shape} for input {i}{name} "
                    f"of shape {parent.shape}. The engine sums a broadcast gradient down, so this passes where "
                    f"the op is used as here and breaks where it is not: reduce it in backward "
                    f"(am.unbroadcast(grad, shape)), or check with strict=False"
                )
            if parent.dtype.kind == "f" and array.dtype != parent.dtype:
                raise StrictError(
                    f"op '{cls.name}': backward returned a gradient of dtype {array.dtype} for input {i}{name} "
                    f"of dtype {parent.dtype} (shape {parent.shape}); a gradient has its input's dtype "
                    f"({'it lost precision: ' if array.dtype.itemsize < parent.dtype.itemsize else ''}cast with "
                    f".astype(x.dtype) only where the input's dtype is meant), or check with strict=False"
                )


def _inplace_message(ctx, out, g, names, error) -> str:
    cls = type(ctx)
    where = user_frame(error.__traceback__)
    saved = ctx.saved
    changed = []
    for k, item in enumerate(saved):
        if not isinstance(item, np.ndarray):
            continue
        # every saved array writable (a copy) but item k: the write that fails is into item k
        trial = tuple(
            item if j == k else (np.array(s) if isinstance(s, np.ndarray) else s) for j, s in enumerate(saved)
        )
        ctx.saved = trial
        try:
            cls.backward(ctx, np.array(g))
        except ValueError as again:
            if is_readonly_error(again):
                changed.append(_role(ctx, item, k, out, names))
        except Exception:
            pass
        finally:
            ctx.saved = saved
    what = ", ".join(changed) if changed else "an array it saved or received"
    return (
        f"op '{cls.name}': backward writes in place into {what}, which save_for_backward made read-only, "
        f"at {where}. A saved array is the value the op saw: other ops and later backward calls read it. "
        f"Write into a copy (x = x.copy()) or compute a new array (x = x * 2, not x *= 2)"
    )


def forward_inplace_message(error) -> str | None:
    """The message for a write into a read-only input inside some op's forward (None: not that)."""
    if not is_readonly_error(error):
        return None
    while is_readonly_error(error.__context__):  # Function.apply re-raises it with the op's name
        error = error.__context__
    op, args = None, []
    for frame, _ in traceback.walk_tb(error.__traceback__):
        ctx = frame.f_locals.get("ctx")
        if frame.f_code.co_name == "forward" and ctx is not None and hasattr(type(ctx), "apply"):
            op = type(ctx).name
            args = input_names(type(ctx))
    where = user_frame(error.__traceback__)
    if op is None:
        return f"the checked function writes in place into one of its inputs at {where}; compute a new array instead"
    return (
        f"op '{op}': forward writes in place into one of its inputs ({', '.join(args)}) at {where}. "
        f"The caller's array would change: compute a new array instead (x = x * 2, not x *= 2)"
    )
