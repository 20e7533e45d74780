"""Keras 3's NumPy-like ops (``keras.ops.numpy``) on autograd_mini Tensors.

Every differentiable op here is a composition of the core's differentiable ops (``am.exp``,
``am.matmul``, ``am.sum``, ``am.where``, indexing...), so its gradient exists at every order
and is the core's (no new derivative is written here). Ops whose result is an index, a
boolean or a rounded value (``argmax``, ``equal``, ``floor``...) carry no gradient, as in
Keras. Names, argument names and defaults follow ``keras/src/ops/numpy.py``.
"""

from __future__ import annotations

import builtins

import numpy as np

import autograd_mini as am

from ._convert import FLOATX, as_float, pair, plain, to_tensor

# -- arithmetic ------------------------------------------------------------------------------------


def add(x1, x2):
    """x1 + x2 (d/dx1 = d/dx2 = 1, summed over broadcast axes)."""
    a, b = pair(x1, x2)
    return a + b


def subtract(x1, x2):
    """x1 - x2."""
    a, b = pair(x1, x2)
    return a - b


def multiply(x1, x2):
    """x1 * x2 (d/dx1 = x2, d/dx2 = x1)."""
    a, b = pair(x1, x2)
    return a * b


def divide(x1, x2):
    """x1 / x2 (true division; integer inputs give float32, as Keras does)."""
    a, b = pair(x1, x2)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a, b = as_float(a), as_float(b)
    return a / b


true_divide = divide


def divide_no_nan(x1, x2):
    """x1 / x2, 0 where x2 == 0 (the division happens on a safe denominator)."""
    a, b = pair(x1, x2)
    a, b = as_float(a), as_float(b)
    zero = b.data == 0
    safe = am.where(zero, am.as_tensor(np.ones((), b.dtype)), b)
    return am.where(zero, am.as_tensor(np.zeros((), a.dtype)), a / safe)


def negative(x):
    """-x."""
    return -to_tensor(x)


def power(x1, x2):
    """x1 ** x2."""
    a, b = pair(x1, x2)
    return am.pow(a, b)


def square(x):
    """x * x (d/dx = 2x)."""
    t = to_tensor(x)
    return t * t


def sqrt(x):
    """x ** 0.5 (d/dx = 1 / (2 sqrt(x)))."""
    return am.sqrt(as_float(x))


def reciprocal(x):
    """1 / x."""
    t = as_float(x)
    return am.as_tensor(np.ones((), t.dtype)) / t


def exp(x):
    """e ** x."""
    return am.exp(as_float(x))


def exp2(x):
    """2 ** x = exp(x ln 2)."""
    t = as_float(x)
    return am.exp(t * np.log(2.0).astype(t.dtype))


def expm1(x):
    """exp(x) - 1."""
    return am.exp(as_float(x)) - 1.0


def log(x):
    """Natural logarithm."""
    return am.log(as_float(x))


def log1p(x):
    """log(1 + x)."""
    return am.log(as_float(x) + 1.0)


def log2(x):
    """log(x) / ln 2."""
    t = as_float(x)
    return am.log(t) / np.log(2.0).astype(t.dtype)


def log10(x):
    """log(x) / ln 10."""
    t = as_float(x)
    return am.log(t) / np.log(10.0).astype(t.dtype)


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)) = max + log(1 + exp(-|x1 - x2|)) (finite for any inputs)."""
    a, b = pair(x1, x2)
    a, b = as_float(a), as_float(b)
    return am.maximum(a, b) + am.log(am.exp(-am.abs(a - b)) + 1.0)


def abs(x):
    """|x| (d/dx = sign(x), 0 at 0)."""
    return am.abs(to_tensor(x))


absolute = abs


def sign(x):
    """-1, 0 or 1 (no gradient)."""
    return am.as_tensor(np.sign(plain(x)))


def sin(x):
    """sin(x)."""
    return am.sin(as_float(x))


def cos(x):
    """cos(x)."""
    return am.cos(as_float(x))


def tan(x):
    """sin(x) / cos(x)."""
    t = as_float(x)
    return am.sin(t) / am.cos(t)


def tanh(x):
    """tanh(x) (d/dx = 1 - tanh^2)."""
    return am.tanh(as_float(x))


def sinh(x):
    """(e^x - e^-x) / 2."""
    t = as_float(x)
    return (am.exp(t) - am.exp(-t)) * 0.5


def cosh(x):
    """(e^x + e^-x) / 2."""
    t = as_float(x)
    return (am.exp(t) + am.exp(-t)) * 0.5


def maximum(x1, x2):
    """Elementwise max (a tie shares the gradient equally)."""
    a, b = pair(x1, x2)
    return am.maximum(a, b)


def minimum(x1, x2):
    """Elementwise min (a tie shares the gradient equally)."""
    a, b = pair(x1, x2)
    return am.minimum(a, b)


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max] (gradient 1 inside, 0 outside)."""
    return am.clip(to_tensor(x), x_min, x_max)


def where(condition, x1=None, x2=None):
    """x1 where condition, else x2 (the gradient flows to the branch chosen). With one argument,
    the indices where ``condition`` holds (``np.nonzero``)."""
    cond = plain(condition).astype(bool)
    if x1 is None and x2 is None:
        return tuple(am.as_tensor(i.astype(np.int32)) for i in np.nonzero(cond))
    a, b = pair(x1, x2)
    return am.where(cond, a, b)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN and infinities replaced (gradient 1 where x was finite, 0 elsewhere)."""
    t = to_tensor(x)
    finite = np.isfinite(t.data)
    fill = np.nan_to_num(t.data, nan=nan, posinf=posinf, neginf=neginf)
    return am.where(finite, t, am.as_tensor(fill.astype(t.dtype)))


# -- rounding and tests (no gradient) -----------------------------------------------------------


def _nograd(fn):
    def op(x, *args, **kwargs):
        return am.as_tensor(np.asarray(fn(plain(x), *args, **kwargs)))

    op.__name__ = fn.__name__
    op.__doc__ = f"numpy's ``{fn.__name__}`` (no gradient)."
    return op


floor = _nograd(np.floor)
ceil = _nograd(np.ceil)
trunc = _nograd(np.trunc)
isnan = _nograd(np.isnan)
isinf = _nograd(np.isinf)
isfinite = _nograd(np.isfinite)
logical_not = _nograd(np.logical_not)


def round(x, decimals=0):
    """Round half to even (numpy's rule; no gradient)."""
    return am.as_tensor(np.round(plain(x), decimals))


def _compare(fn):
    def op(x1, x2):
        return am.as_tensor(fn(plain(x1), plain(x2)))

    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}`` (a boolean Tensor, no gradient)."
    return op


equal = _compare(np.equal)
not_equal = _compare(np.not_equal)
less = _compare(np.less)
less_equal = _compare(np.less_equal)
greater = _compare(np.greater)
greater_equal = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """numpy's ``isclose`` (no gradient)."""
    return am.as_tensor(np.isclose(plain(x1), plain(x2), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """numpy's ``allclose`` (a boolean Tensor)."""
    return am.as_tensor(np.asarray(np.allclose(plain(x1), plain(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)))


# -- reductions ---------------------------------------------------------------------------------


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all)."""
    return am.sum(to_tensor(x), axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (integers give float32, as Keras does)."""
    return am.mean(as_float(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis`` (ties share the gradient)."""
    out = am.max(to_tensor(x), axis=_axis(axis), keepdims=keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis`` (ties share the gradient)."""
    out = am.min(to_tensor(x), axis=_axis(axis), keepdims=keepdims)
    return out if initial is None else minimum(out, initial)


amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis``: a running product by slices (differentiable also through zeros)."""
    t = to_tensor(x, dtype)
    if axis is None:
        t, axis = reshape(t, (-1,)), 0
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = sorted(a % t.ndim for a in axes)
    for a in reversed(axes):
        out = None
        for i in range(t.shape[a]):
            piece = am.getitem(t, (builtins.slice(None),) * a + (i,))
            out = piece if out is None else out * piece
        if out is None:
            out = am.as_tensor(np.ones(t.shape[:a] + t.shape[a + 1 :], t.dtype))
        t = out
    if keepdims:
        for a in axes:
            t = am.expand_dims(t, a)
    return t


def var(x, axis=None, keepdims=False):
    """Population variance: mean((x - mean(x))^2)."""
    t = as_float(x)
    centred = t - am.mean(t, axis=_axis(axis), keepdims=True)
    return am.mean(centred * centred, axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """sqrt(var(x))."""
    return am.sqrt(var(x, axis, keepdims))


def average(x, axis=None, weights=None):
    """sum(x w) / sum(w) over ``axis`` (a 1-d ``weights`` along ``axis``)."""
    t = as_float(x)
    if weights is None:
        return am.mean(t, axis=axis)
    w = to_tensor(weights, t.dtype)
    if axis is not None and w.ndim == 1 and t.ndim > 1:
        shape = [1] * t.ndim
        shape[axis] = w.shape[0]
        w = am.reshape(w, tuple(shape))
    w = am.broadcast_to(w, t.shape)
    return am.sum(t * w, axis=axis) / am.sum(w, axis=axis)


def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (None: flattened): a matrix product with a triangle of ones,
    so the gradient is the reversed running sum of the upstream gradient."""
    t = to_tensor(x, dtype)
    if axis is None:
        t, axis = ravel(t), 0
    if t.dtype.kind != "f":
        return am.as_tensor(np.cumsum(t.data, axis=axis).astype(t.dtype))
    moved = moveaxis(t, axis, -1)
    n = moved.shape[-1]
    out = am.matmul(moved, am.as_tensor(np.triu(np.ones((n, n), dtype=t.dtype))))
    return moveaxis(out, -1, axis)


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (int32, no gradient)."""
    return am.as_tensor(np.argmax(plain(x), axis=axis, keepdims=keepdims).astype(np.int32))


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (int32, no gradient)."""
    return am.as_tensor(np.argmin(plain(x), axis=axis, keepdims=keepdims).astype(np.int32))


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (int32, no gradient)."""
    return am.as_tensor(np.argsort(plain(x), axis=axis, kind="stable").astype(np.int32))


def sort(x, axis=-1):
    """``x`` sorted along ``axis``: gathered by ``argsort`` (the gradient goes back to each place)."""
    t = to_tensor(x)
    return take_along_axis(t, argsort(t, axis), axis)


def all(x, axis=None, keepdims=False):
    """True where every element is (no gradient)."""
    return am.as_tensor(np.all(plain(x), axis=_axis(axis), keepdims=keepdims))


def any(x, axis=None, keepdims=False):
    """True where some element is (no gradient)."""
    return am.as_tensor(np.any(plain(x), axis=_axis(axis), keepdims=keepdims))


def count_nonzero(x, axis=None):
    """How many elements are not 0 (int32)."""
    return am.as_tensor(np.asarray(np.count_nonzero(plain(x), axis=_axis(axis)), dtype=np.int32))


# -- products -----------------------------------------------------------------------------------


def matmul(x1, x2):
    """Matrix product with numpy's broadcasting (d/dA = G B^T, d/dB = A^T G)."""
    a, b = pair(x1, x2)
    return am.matmul(a, b)


def dot(x1, x2):
    """numpy's ``dot``: a product for scalars, ``matmul`` for vectors and matrices."""
    a, b = pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim > 2:
        raise ValueError(f"dot: nn supports a second operand of up to 2 dims, got shape {b.shape}")
    return am.matmul(a, b)


def vdot(x1, x2):
    """Sum of the flattened products."""
    a, b = pair(x1, x2)
    return am.sum(reshape(a, (-1,)) * reshape(b, (-1,)))


inner = vdot


def outer(x1, x2):
    """x1 (flattened) as a column times x2 (flattened) as a row."""
    a, b = pair(x1, x2)
    return am.reshape(a, (-1, 1)) * am.reshape(b, (1, -1))


def tensordot(x1, x2, axes=2):
    """numpy's ``tensordot``: the contracted axes moved together and multiplied with ``matmul``."""
    a, b = pair(x1, x2)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, int) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, int) else list(axes_b)
    axes_a = [i % a.ndim for i in axes_a]
    axes_b = [i % b.ndim for i in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a]))
    a2 = am.reshape(am.transpose(a, free_a + axes_a), (-1, k))
    b2 = am.reshape(am.transpose(b, axes_b + free_b), (k, -1))
    shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return am.reshape(am.matmul(a2, b2), shape)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the diagonal: ``diagonal`` then ``sum``."""
    return am.sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal (moved to the last axis), gathered by index."""
    t = to_tensor(x)
    a1, a2 = axis1 % t.ndim, axis2 % t.ndim
    moved = am.transpose(t, [i for i in range(t.ndim) if i not in (a1, a2)] + [a1, a2])
    n, m = moved.shape[-2], moved.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    return am.getitem(moved, (Ellipsis, rows, rows + offset))


# -- shapes -------------------------------------------------------------------------------------


def reshape(x, newshape):
    """The same elements in ``newshape`` (one entry may be -1)."""
    return am.reshape(to_tensor(x), tuple(newshape) if isinstance(newshape, (list, tuple)) else (newshape,))


def ravel(x):
    """``reshape(x, (-1,))``."""
    return am.reshape(to_tensor(x), (-1,))


def transpose(x, axes=None):
    """Axes permuted (reversed by default)."""
    return am.transpose(to_tensor(x), None if axes is None else list(axes))


def swapaxes(x, axis1, axis2):
    """Two axes exchanged."""
    return am.swapaxes(to_tensor(x), axis1, axis2)


def moveaxis(x, source, destination):
    """Axes moved to new places (numpy's ``moveaxis``), as one ``transpose``."""
    t = to_tensor(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [s % t.ndim for s in src]
    dst = [d % t.ndim for d in dst]
    order = [i for i in range(t.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return am.transpose(t, order)


def expand_dims(x, axis):
    """A new axis of length 1 at ``axis`` (or several)."""
    t = to_tensor(x)
    for a in sorted([axis] if isinstance(axis, int) else list(axis)):
        t = am.expand_dims(t, a)
    return t


def squeeze(x, axis=None):
    """Axes of length 1 removed (all, or ``axis``)."""
    return am.squeeze(to_tensor(x), axis)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (the gradient sums back)."""
    return am.broadcast_to(to_tensor(x), tuple(shape))


def concatenate(xs, axis=0):
    """Tensors joined along an existing axis."""
    return am.concatenate([to_tensor(x) for x in xs], axis=axis)


def append(x1, x2, axis=None):
    """numpy's ``append``: ``concatenate`` (flattened when ``axis`` is None)."""
    a, b = pair(x1, x2)
    if axis is None:
        return am.concatenate([ravel(a), ravel(b)], axis=0)
    return am.concatenate([a, b], axis=axis)


def stack(x, axis=0):
    """Tensors joined along a new axis."""
    return am.stack([to_tensor(t) for t in x], axis=axis)


def vstack(xs):
    """Rows stacked (1-d inputs become rows)."""
    ts = [to_tensor(t) for t in xs]
    return am.concatenate([am.reshape(t, (1, -1)) if t.ndim == 1 else t for t in ts], axis=0)


def hstack(xs):
    """Columns stacked (1-d inputs are joined end to end)."""
    ts = [to_tensor(t) for t in xs]
    return am.concatenate(ts, axis=0 if ts[0].ndim == 1 else 1)


def split(x, indices_or_sections, axis=0):
    """Pieces along ``axis`` (equal sections, or cut at the given indices), by slicing."""
    t = to_tensor(x)
    n = t.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of length {n} does not split into {indices_or_sections} equal parts")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = list(indices_or_sections)
    bounds = [0] + cuts + [n]
    prefix = (builtins.slice(None),) * (axis % t.ndim)
    return [am.getitem(t, prefix + (builtins.slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def tile(x, repeats):
    """``x`` repeated along each axis, by concatenation."""
    t = to_tensor(x)
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    while t.ndim < len(reps):
        t = am.expand_dims(t, 0)
    reps = (1,) * (t.ndim - len(reps)) + reps
    for axis, r in enumerate(reps):
        if r != 1:
            t = am.concatenate([t] * r, axis=axis)
    return t


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (None: flattened), by gathering."""
    t = to_tensor(x)
    if axis is None:
        t, axis = ravel(t), 0
    index = np.repeat(np.arange(t.shape[axis]), repeats)
    return take(t, index, axis=axis)


def flip(x, axis=None):
    """Elements reversed along ``axis`` (all axes by default)."""
    t = to_tensor(x)
    axes = range(t.ndim) if axis is None else ([axis] if isinstance(axis, int) else axis)
    index = [builtins.slice(None)] * t.ndim
    for a in axes:
        index[a] = builtins.slice(None, None, -1)
    return am.getitem(t, tuple(index))


def take(x, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (None: of the flattened array); the gradient
    scatters back, adding where an index repeats."""
    t = to_tensor(x)
    index = plain(indices).astype(np.intp)
    if axis is None:
        return am.getitem(ravel(t), index)
    return am.getitem(t, (builtins.slice(None),) * (axis % t.ndim) + (index,))


def take_along_axis(x, indices, axis=None):
    """numpy's ``take_along_axis`` (a gather whose gradient scatters back)."""
    t = to_tensor(x)
    index = plain(indices).astype(np.intp)
    if axis is None:
        return am.getitem(ravel(t), index.reshape(-1))
    axis %= t.ndim
    grids = np.ix_(*[np.arange(n) for n in index.shape])
    full = tuple(index if i == axis else np.broadcast_to(grids[i], index.shape) for i in range(t.ndim))
    return am.getitem(t, full)


def tril(x, k=0):
    """Entries above diagonal ``k`` set to 0."""
    t = to_tensor(x)
    mask = np.tril(np.ones(t.shape[-2:], dtype=bool), k)
    return am.where(mask, t, am.as_tensor(np.zeros((), t.dtype)))


def triu(x, k=0):
    """Entries below diagonal ``k`` set to 0."""
    t = to_tensor(x)
    mask = np.triu(np.ones(t.shape[-2:], dtype=bool), k)
    return am.where(mask, t, am.as_tensor(np.zeros((), t.dtype)))


def pad(x, pad_width, mode="constant", constant_values=None):
    """Constant padding, by concatenating blocks of the fill value."""
    if mode != "constant":
        raise ValueError(f"pad: nn supports mode='constant', got {mode!r}")
    t = to_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int).reshape(-1, 2), (t.ndim, 2))
    fill = 0 if constant_values is None else constant_values
    for axis, (before, after) in enumerate(widths):
        parts = []
        for n in (before, after):
            shape = list(t.shape)
            shape[axis] = int(n)
            parts.append(am.as_tensor(np.full(shape, fill, dtype=t.dtype)))
        t = am.concatenate([parts[0], t, parts[1]], axis=axis)
    return t


def size(x):
    """The number of elements (an int)."""
    return int(np.size(plain(x)))


def ndim(x):
    """The number of axes (an int)."""
    return int(np.ndim(plain(x)))


def get_item(x, key):
    """``x[key]`` (the gradient scatters back)."""
    return am.getitem(to_tensor(x), key)


# -- creation (no gradient) ---------------------------------------------------------------------


def _dtype(dtype, default=FLOATX):
    return default if dtype is None else np.dtype(dtype)


def zeros(shape, dtype=None):
    """A float32 (or ``dtype``) Tensor of zeros."""
    return am.as_tensor(np.zeros(shape, _dtype(dtype)))


def ones(shape, dtype=None):
    """A float32 (or ``dtype``) Tensor of ones."""
    return am.as_tensor(np.ones(shape, _dtype(dtype)))


def full(shape, fill_value, dtype=None):
    """A Tensor of ``fill_value`` (float32 for a Python float)."""
    value = plain(fill_value)
    if dtype is None:
        dtype = FLOATX if isinstance(fill_value, float) else np.asarray(value).dtype
    return am.as_tensor(np.full(shape, value, np.dtype(dtype)))


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape and dtype."""
    return am.as_tensor(np.zeros_like(plain(x), dtype=dtype))


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape and dtype."""
    return am.as_tensor(np.ones_like(plain(x), dtype=dtype))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` in ``x``'s shape and dtype."""
    return am.as_tensor(np.full_like(plain(x), plain(fill_value), dtype=dtype))


def eye(N, M=None, k=0, dtype=None):
    """The identity (ones on diagonal ``k``)."""
    return am.as_tensor(np.eye(N, M, k, dtype=_dtype(dtype)))


def identity(n, dtype=None):
    """The n x n identity."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below diagonal ``k``."""
    return am.as_tensor(np.tri(N, M, k, dtype=_dtype(dtype)))


def arange(start, stop=None, step=1, dtype=None):
    """numpy's ``arange`` (int32 for ints, float32 for floats, as Keras)."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None:
        dtype = np.int32 if values.dtype.kind in "iu" else FLOATX
    return am.as_tensor(values.astype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values (float32)."""
    values, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, axis=axis)
    out = am.as_tensor(values.astype(_dtype(dtype)))
    return (out, step) if retstep else out


def meshgrid(*x, indexing="xy"):
    """numpy's ``meshgrid`` (no gradient)."""
    return [am.as_tensor(g) for g in np.meshgrid(*[plain(t) for t in x], indexing=indexing)]


def bincount(x, weights=None, minlength=0, sparse=False):
    """numpy's ``bincount`` (no gradient)."""
    w = None if weights is None else plain(weights)
    return am.as_tensor(
        np.bincount(plain(x).astype(np.intp), weights=w, minlength=minlength).astype(np.int32 if w is None else w.dtype)
    )


def array(x, dtype=None):
    """``convert_to_tensor``."""
    return to_tensor(x, dtype)


def norm(x, ord=None, axis=None, keepdims=False):
    """The 2-norm (Frobenius for matrices) or the 1-norm: sqrt(sum(x^2)) / sum(|x|)."""
    t = as_float(x)
    if ord in (None, 2, "fro", "euclidean"):
        return am.sqrt(am.sum(t * t, axis=_axis(axis), keepdims=keepdims))
    if ord == 1:
        return am.sum(am.abs(t), axis=_axis(axis), keepdims=keepdims)
    if ord == np.inf:
        return am.max(am.abs(t), axis=_axis(axis), keepdims=keepdims)
    raise ValueError(f"norm: nn supports ord in (None, 1, 2, 'fro', inf), got {ord!r}")
