"""Keras 3's core ops (``keras.ops.core``): conversion, dtypes, shapes, control flow.

Control flow runs as Python (nn is eager): ``cond`` calls one branch, the loops iterate, and
the gradient flows through whatever the branches compute.
"""

from __future__ import annotations

import builtins

import numpy as np

import autograd_mini as am

from ._convert import plain, to_tensor


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A Tensor: Tensors pass through, arrays keep their dtype, Python floats become float32."""
    if sparse or ragged:
        raise ValueError("convert_to_tensor: nn has no sparse or ragged tensors")
    return to_tensor(x, dtype)


def convert_to_numpy(x):
    """A numpy array (a copy for Tensors, so writing into it never reaches a graph)."""
    if isinstance(x, am.Tensor):
        return np.array(x.data, copy=True)
    if hasattr(x, "value") and isinstance(x.value, am.Tensor):
        return np.array(x.value.data, copy=True)
    return np.asarray(x)


def is_tensor(x) -> bool:
    """True for an nn/autograd_mini Tensor (Keras: a backend-native tensor)."""
    return isinstance(x, am.Tensor)


def cast(x, dtype):
    """``x`` as ``dtype`` (float to float is differentiable; to integers carries no gradient)."""
    t = to_tensor(x)
    dtype = np.dtype(dtype)
    if t.dtype == dtype:
        return t
    if dtype.kind == "f" and t.dtype.kind == "f":
        return am.cast(t, dtype)
    return am.as_tensor(t.data.astype(dtype))


def saturate_cast(x, dtype):
    """``cast`` after clipping to the range of ``dtype``."""
    t = to_tensor(x)
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    return cast(am.as_tensor(np.clip(t.data, info.min, info.max)), dtype)


def dtype(x) -> str:
    """The dtype's name ('float32')."""
    return np.dtype(getattr(x, "dtype", None) or np.asarray(x).dtype).name


def shape(x) -> tuple:
    """The shape as a tuple of ints."""
    return tuple(getattr(x, "shape", np.shape(x)))


def stop_gradient(variable):
    """The same values, cut from the graph (gradient 0)."""
    return to_tensor(variable).detach()


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (only the chosen branch runs)."""
    return true_fn() if bool(plain(pred)) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clipped to the list (as Keras does)."""
    i = int(np.clip(int(plain(index)), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``body`` while ``cond`` holds (at most ``maximum_iterations`` times)."""
    single = not isinstance(loop_vars, (list, tuple))
    state = (loop_vars,) if single else tuple(loop_vars)
    count = 0
    while bool(plain(cond(*state))):
        if maximum_iterations is not None and count >= maximum_iterations:
            break
        state = body(*state)
        state = (state,) if single else tuple(state)
        count += 1
    return state[0] if single else state


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in [lower, upper)."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns (carry, stacked ys)."""
    n = length if xs is None else shape(xs)[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        carry, y = f(carry, None if xs is None else to_tensor(xs)[i])
        ys.append(y)
    if reverse:
        ys.reverse()
    stacked = None if not ys or ys[0] is None else am.stack([to_tensor(y) for y in ys], axis=0)
    return carry, stacked


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along the first axis, results stacked."""
    t = to_tensor(xs)
    return am.stack([to_tensor(f(t[i])) for i in range(t.shape[0])], axis=0)


def vectorized_map(function, elements):
    """``map`` (nn runs the slices one by one)."""
    return map(function, elements)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``."""
    t = to_tensor(x)
    prefix = (builtins.slice(None),) * (axis % t.ndim)
    return [am.getitem(t, prefix + (i,)) for i in range(t.shape[axis])]


def slice(inputs, start_indices, shape):
    """The block of ``shape`` starting at ``start_indices`` (the gradient scatters back)."""
    t = to_tensor(inputs)
    starts = [int(s) for s in plain(start_indices)]
    return am.getitem(t, tuple(builtins.slice(s, s + n) for s, n in zip(starts, shape)))


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (both get gradients)."""
    t = to_tensor(inputs)
    u = to_tensor(updates, t.dtype)
    starts = [int(s) for s in plain(start_indices)]
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))
    mask = np.zeros(t.shape, dtype=bool)
    mask[index] = True
    # place the update: a gather from the flattened update (plus one 0) by each cell's index
    spread = np.zeros(t.shape, dtype=np.intp)
    padded = am.concatenate([am.reshape(u, (-1,)), am.as_tensor(np.zeros(1, t.dtype))], axis=0)
    spread[...] = u.size
    spread[index] = np.arange(u.size).reshape(u.shape)
    placed = am.getitem(padded, spread)
    return am.where(mask, placed, t)


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (rows of coordinates)."""
    v = to_tensor(values)
    idx = tuple(np.asarray(plain(indices)).astype(np.intp).T)
    out = np.zeros(shape, v.dtype)
    np.add.at(out, idx, v.data)
    return am.as_tensor(out)


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with entries at ``indices`` replaced by ``updates`` (no gradient)."""
    t = to_tensor(inputs)
    out = np.array(t.data, copy=True)
    idx = tuple(np.asarray(plain(indices)).astype(np.intp).T)
    out[idx] = plain(updates)
    return am.as_tensor(out)


def custom_gradient(f):
    """Not supported: write an ``am.Function`` (forward/backward) instead."""
    raise NotImplementedError("nn.ops.custom_gradient: subclass autograd_mini.Function (forward, backward) instead")
