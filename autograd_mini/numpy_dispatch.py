"""numpy's dispatch protocols on ``Tensor``: ``np.exp(t)`` and ``np.sum(t)`` record differentiable ops.

This is what lets a custom ``Function.backward`` written with numpy (``g * np.exp(x)``) work
at second order too: under ``create_graph=True`` its saved arrays arrive as Tensors, and the
numpy calls on them become graph ops.

- **ufuncs** (``__array_ufunc__``): the ufuncs that have a differentiable op (add, subtract,
  multiply, divide, negative, positive, power, square, reciprocal, exp, log, sqrt, absolute,
  sin, cos, tanh, maximum, minimum, matmul, log1p, expm1) give a Tensor recorded in the graph;
  comparisons and other piecewise-constant ufuncs (less, equal, isnan, sign, floor, the bitwise
  ``& | ^ ~`` on masks, ...) give a Tensor without gradient; any other ufunc, and ``ufunc.at``
  (``np.add.at``: an in-place update cannot be recorded), raises a ``TypeError`` naming it, the
  op whose backward called it, and what to use instead. ``ndarray (op) Tensor`` therefore gives
  a Tensor, as before.
- **array functions** (``__array_function__``): sum, mean, max/amax, min/amin, reshape, ravel,
  transpose, swapaxes, expand_dims, squeeze, broadcast_to, concatenate, stack, where, clip,
  dot, outer, cumsum, flip, sort, take_along_axis, linalg.solve (the last five:
  ``ops/numpy_ops.py``) give a graph op *when a Tensor argument requires grad* (and recording
  is on); otherwise, and for every other function, numpy runs on the arrays as it always did
  (an ndarray result). An unsupported function applied to an intermediate result of a graph
  warns that no gradient flows through it; inside a custom op's ``backward`` run with
  ``create_graph=True`` (second order, forward mode) it raises a ``TypeError`` naming the
  function and the op, instead of a constant that would surface as a derivative of 0.

Tensor operators (``a + b``) never pass through here: their per-op cost is unchanged.
Installed on ``Tensor`` by ``import autograd_mini``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from . import ops
from .grad_mode import state
from .ops import numpy_ops
from .ops.formula import Elementwise
from .tensor import Tensor, compare

_UFUNC_OPS = {  # the arithmetic ones straight to their op's apply: ndarray (op) Tensor is a hot path
    np.add: ops.elementwise.Add.apply,
    np.subtract: ops.elementwise.Sub.apply,
    np.multiply: ops.elementwise.Mul.apply,
    np.divide: ops.elementwise.Div.apply,
    np.negative: ops.neg,
    np.positive: lambda a: a if isinstance(a, Tensor) else Tensor._wrap(np.positive(a)),
    np.power: ops.pow,
    np.square: lambda a: ops.mul(a, a),
    np.reciprocal: lambda a: ops.div(1.0, a),
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.matmul: ops.matmul,
    np.log1p: numpy_ops.log1p,
    np.expm1: numpy_ops.expm1,
}
# an elementwise op named as a numpy ufunc (exp, log, sqrt, abs, sin, cos, tanh) stands for that ufunc
_UFUNC_OPS.update(
    {getattr(np, n): getattr(ops, n) for n in Elementwise.registry if isinstance(getattr(np, n, None), np.ufunc)}
)

# derivative zero wherever it exists: the result is a Tensor that carries no gradient
_CONSTANT_UFUNCS = {
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.signbit,
    np.sign,
    np.floor,
    np.ceil,
    np.trunc,
    np.rint,
    np.logical_not,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.bitwise_and,  # & | ^ ~ on masks (bool Tensors)
    np.bitwise_or,
    np.bitwise_xor,
    np.invert,
}

# array functions whose result carries no gradient by nature: never warned about
_CONSTANT_FUNCTIONS = {
    np.shape,
    np.ndim,
    np.size,
    np.argmax,
    np.argmin,
    np.argsort,
    np.argwhere,
    np.nonzero,
    np.count_nonzero,
    np.any,
    np.all,
    np.allclose,
    np.isclose,
    np.array_equal,
    np.array_equiv,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.full_like,
    np.round,
    np.around,
    np.result_type,
    np.can_cast,
    np.copyto,
    np.unique,
    np.searchsorted,
    np.digitize,
    np.bincount,
    np.isin,
    np.histogram,
    np.array2string,
    np.array_repr,
    np.array_str,
}


def _data(x):
    """Tensors (also inside lists and tuples) replaced by their arrays."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_data(item) for item in x)
    return x


def _tensors_in(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors_in(v)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: a numpy ufunc applied to Tensors (see the module docstring)."""
    if method == "__call__" and not kwargs:
        op = _UFUNC_OPS.get(ufunc)
        if op is not None:  # the common case first: ndarray (op) Tensor, np.exp(t)
            return op(*inputs)
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        op = _backward_op()
        if method == "at":
            where = f" in the backward of op '{op}'" if op else ""
            raise TypeError(
                f"{name}.at{where}: an in-place update of an ndarray cannot record a gradient graph (its "
                f"Tensor argument would become a constant, so second order and forward mode would be wrong). "
                f"Use a graph op that builds the result: am.ops.dual.scatter_add(g, index, shape) for "
                f"np.add.at(zeros, index, g), or np.take_along_axis's transpose (see the custom-op guide)"
            )
        raise TypeError(
            f"{name}.{method} on a Tensor: only plain calls are differentiable; use the am reductions "
            f"(am.sum, am.max, ...) or apply it to t.data (no gradient)"
        )
    if kwargs.get("out") is not None:
        raise TypeError(f"{name}(..., out=...) on a Tensor: writing in place cannot be recorded in a graph")
    extra = sorted(k for k, v in kwargs.items() if k != "out" and v is not None)
    if extra:
        raise TypeError(f"{name} on a Tensor: unsupported keyword argument(s) {extra}")
    op = _UFUNC_OPS.get(ufunc)
    if op is not None:
        return op(*inputs)
    if ufunc in _CONSTANT_UFUNCS:
        if ufunc in _BITWISE and any(np.result_type(_data(a)).kind == "f" for a in inputs):
            raise TypeError(f"{name} on a float Tensor: bitwise operators take masks (bool arrays), not floats")
        if len(inputs) == 2:
            return compare(ufunc, *inputs)
        return Tensor._wrap(np.asarray(ufunc(*_data(inputs))))
    op = _backward_op()
    where = f" (called in the backward of op '{op}')" if op else ""
    raise TypeError(
        f"{name}{where} has no differentiable op in autograd_mini: build it from am ops (am.exp, am.log, am.where, ...), "
        f"write an am.Function with its derivative, or apply it to t.data (a constant: no gradient)"
    )


_BITWISE = {np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert}


def _backward_op() -> str | None:
    """The name of the Function whose ``backward`` is running on the call stack, if any."""
    frame = sys._getframe(2)
    for _ in range(40):
        if frame is None:
            return None
        if frame.f_code.co_name == "backward":
            ctx = frame.f_locals.get("ctx")
            name = getattr(type(ctx), "name", None)
            if name is not None and hasattr(type(ctx), "apply"):
                return name
        frame = frame.f_back
    return None


def _no(name: str, **options) -> None:
    given = sorted(k for k, v in options.items() if v is not None and v is not np._NoValue)
    if given:
        raise TypeError(f"np.{name} on a Tensor that requires grad: unsupported argument(s) {given}")


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _no("sum", dtype=dtype, out=out, **kw)
    return ops.sum(a, axis, bool(keepdims))


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _no("mean", dtype=dtype, out=out, **kw)
    return ops.mean(a, axis, bool(keepdims))


def _max(a, axis=None, out=None, keepdims=False, **kw):
    _no("max", out=out, **kw)
    return ops.max(a, axis, bool(keepdims))


def _min(a, axis=None, out=None, keepdims=False, **kw):
    _no("min", out=out, **kw)
    return ops.min(a, axis, bool(keepdims))


def _reshape(a, shape=None, order="C", **kw):
    shape = kw.pop("newshape", None) if shape is None else shape
    _no("reshape", order=None if order == "C" else order, **kw)
    return ops.reshape(a, shape)


def _ravel(a, order="C"):
    _no("ravel", order=None if order == "C" else order)
    return ops.reshape(a, (-1,))


def _transpose(a, axes=None):
    return ops.transpose(a, axes)


def _swapaxes(a, axis1, axis2):
    return ops.swapaxes(a, axis1, axis2)


def _expand_dims(a, axis):
    if isinstance(axis, (tuple, list)):
        ndim = np.ndim(_data(a)) + len(axis)
        for ax in sorted(x % ndim for x in axis):
            a = ops.expand_dims(a, ax)
        return a
    return ops.expand_dims(a, axis)


def _squeeze(a, axis=None):
    return ops.squeeze(a, axis)


def _broadcast_to(array, shape, subok=False):
    return ops.broadcast_to(array, (shape,) if isinstance(shape, int) else shape)


def _concatenate(arrays, axis=0, out=None, **kw):
    _no("concatenate", out=out, **kw)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [ops.reshape(a, (-1,)) for a in arrays], 0
    return ops.concatenate(arrays, axis)


def _stack(arrays, axis=0, out=None, **kw):
    _no("stack", out=out, **kw)
    return ops.stack(list(arrays), axis)


def _where(condition, x=None, y=None):
    if x is None or y is None:
        return np.where(_data(condition))
    return ops.where(_data(condition), x, y)


def _clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, **kw):
    low = kw.pop("min", np._NoValue) if a_min is np._NoValue else a_min
    high = kw.pop("max", np._NoValue) if a_max is np._NoValue else a_max
    _no("clip", out=out, **kw)
    low = None if low is np._NoValue else _data(low)
    high = None if high is np._NoValue else _data(high)
    return ops.clip(a, low, high)


def _dot(a, b, out=None):
    _no("dot", out=out)
    if np.ndim(_data(a)) == 0 or np.ndim(_data(b)) == 0:
        return ops.mul(a, b)
    if np.ndim(_data(a)) > 2 or np.ndim(_data(b)) > 2:
        raise TypeError("np.dot on a Tensor: only 1-d and 2-d operands are differentiable; use am.matmul")
    return ops.matmul(a, b)


def _outer(a, b, out=None):
    _no("outer", out=out)
    return ops.mul(ops.reshape(a, (-1, 1)), ops.reshape(b, (1, -1)))


def _cumsum(a, axis=None, dtype=None, out=None):
    _no("cumsum", dtype=dtype, out=out)
    return numpy_ops.cumsum(a, axis)


def _flip(m, axis=None):
    return numpy_ops.flip(m, axis)


def _sort(a, axis=-1, kind=None, order=None, **kw):
    _no("sort", order=order, **kw)
    return numpy_ops.sort(a, axis)


def _take_along_axis(arr, indices, axis=-1):
    return numpy_ops.take_along_axis(arr, indices, axis)


def _solve(a, b):
    return numpy_ops.solve(a, b)


_FUNCTIONS = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.expand_dims: _expand_dims,
    np.squeeze: _squeeze,
    np.broadcast_to: _broadcast_to,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.clip: _clip,
    np.dot: _dot,
    np.outer: _outer,
    np.cumsum: _cumsum,
    np.flip: _flip,
    np.sort: _sort,
    np.take_along_axis: _take_along_axis,
    np.linalg.solve: _solve,
}


def _array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: a numpy function applied to Tensors (see the module docstring)."""
    tensors = list(_tensors_in(args)) + list(_tensors_in(kwargs.values()))
    recording = state.grad and any(t._requires_grad for t in tensors)
    handler = _FUNCTIONS.get(func)
    if handler is not None and recording:
        return handler(*args, **kwargs)
    if recording and func not in _CONSTANT_FUNCTIONS and (op := _backward_op()) is not None:
        raise TypeError(
            f"np.{func.__name__} in the backward of op '{op}' (run with create_graph=True: second order, "
            f"forward mode) has no differentiable op in autograd_mini: its result would be a constant and the "
            f"derivative of this gradient silently 0. Write the gradient with ops numpy dispatches (see "
            f"numpy_dispatch), or mark the op @am.once_differentiable (first order only)"
        )
    if recording and func not in _CONSTANT_FUNCTIONS and any(t._ctx is not None for t in tensors):
        warnings.warn(
            f"np.{func.__name__} on a Tensor of a graph has no differentiable op in autograd_mini: it runs on "
            f"the arrays and no gradient flows through its result (use am ops, or an am.Function)",
            RuntimeWarning,
            stacklevel=2,
        )
    return func(*_data(args), **{k: _data(v) for k, v in kwargs.items()})


def install() -> None:
    """Attach the two protocols to ``Tensor`` (done once, by ``import autograd_mini``)."""
    Tensor.__array_ufunc__ = _array_ufunc
    Tensor.__array_function__ = _array_function
    # & | ^ ~ on masks (comparisons give bool Tensors): the constant bitwise ufuncs above
    for name, ufunc in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)):
        if f"__{name}__" not in Tensor.__dict__:
            setattr(Tensor, f"__{name}__", lambda a, b, u=ufunc: _array_ufunc(a, u, "__call__", a, b))
            setattr(Tensor, f"__r{name}__", lambda a, b, u=ufunc: _array_ufunc(a, u, "__call__", b, a))
    if "__invert__" not in Tensor.__dict__:
        Tensor.__invert__ = lambda a: _array_ufunc(a, np.invert, "__call__", a)


install()
