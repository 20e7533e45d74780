"""The core's op table: every differentiable op of ``autograd_mini``, with a numpy reference and
its input domain (see ``op_harness.py`` for what a row is and how it is tested)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from op_harness import MAX_SIDE, Op, _elementwise, _reduction, _separated_pair, _unary

import autograd_mini as am
from autograd_mini.ops import numpy_ops
from autograd_mini.testing import arrays, broadcastable_shapes, index_arrays, shapes, well_conditioned_matrices


def _np_axis(kwargs):
    return kwargs["axis"] if kwargs.get("axis") is not None else None


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x, axis, keepdims):
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def _draw_matmul(data):
    kind = data.draw(st.sampled_from(["vv", "mm", "vm", "mv", "bmm", "bm", "broadcast"]))
    m, n, p, b = (data.draw(st.integers(1, MAX_SIDE)) for _ in range(4))
    shapes_by_kind = {
        "vv": ((n,), (n,)),
        "mm": ((m, n), (n, p)),
        "vm": ((n,), (n, p)),
        "mv": ((m, n), (n,)),
        "bmm": ((b, m, n), (b, n, p)),
        "bm": ((b, m, n), (n, p)),
        "broadcast": ((1, m, n), (b, n, p)),
    }
    sa, sb = shapes_by_kind[kind]
    return [data.draw(arrays(sa)), data.draw(arrays(sb))], {}


def _draw_reshape(data):
    shape = data.draw(shapes(max_side=MAX_SIDE))
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (1, size), (size, 1), shape[::-1] or (1,), (-1,)]))
    return [data.draw(arrays(shape))], {"shape": target}


def _draw_transpose(data):
    shape = data.draw(shapes(max_side=MAX_SIDE))
    axes = data.draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    return [data.draw(arrays(shape))], {"axes": axes}


def _draw_swapaxes(data):
    shape = data.draw(shapes(min_dims=2, max_side=MAX_SIDE))
    a, b = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    return [data.draw(arrays(shape))], {"axis1": a, "axis2": b}


def _draw_expand_dims(data):
    shape = data.draw(shapes(max_side=MAX_SIDE))
    return [data.draw(arrays(shape))], {"axis": data.draw(st.integers(-len(shape) - 1, len(shape)))}


def _draw_squeeze(data):
    shape = list(data.draw(shapes(max_side=MAX_SIDE, max_dims=2)))
    shape.insert(data.draw(st.integers(0, len(shape))), 1)
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = data.draw(st.one_of(st.none(), st.sampled_from(ones)))
    return [data.draw(arrays(tuple(shape)))], {"axis": axis}


def _draw_broadcast_to(data):
    shape = data.draw(shapes(max_side=MAX_SIDE, max_dims=2))
    stretched = tuple(data.draw(st.integers(1, MAX_SIDE)) if n == 1 else n for n in shape)
    target = (data.draw(st.integers(1, MAX_SIDE)),) + stretched
    return [data.draw(arrays(shape))], {"shape": target}


def _draw_join(stacked):
    def draw(data):
        shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
        count = data.draw(st.integers(1, 3))
        ndim = len(shape) + (1 if stacked else 0)
        axis = data.draw(st.integers(-ndim, ndim - 1))
        parts = []
        for _ in range(count):
            s = list(shape)
            if not stacked:
                s[axis % len(s)] = data.draw(st.integers(1, MAX_SIDE))
            parts.append(data.draw(arrays(tuple(s))))
        return parts, {"axis": axis}

    return draw


def _draw_getitem(data):
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    x = data.draw(arrays(shape))
    kind = data.draw(st.sampled_from(["slice", "int", "array", "mask", "mixed"]))
    n = shape[0]
    if kind == "slice":
        start = data.draw(st.integers(0, n - 1))
        index = (slice(start, None, data.draw(st.integers(1, 2))),)
    elif kind == "int":
        index = data.draw(st.integers(-n, n - 1))
    elif kind == "array":  # repeats must accumulate
        index = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        index = data.draw(arrays(shape)) > 0
    else:
        index = (Ellipsis, np.array(data.draw(st.lists(st.integers(0, shape[-1] - 1), min_size=1, max_size=4))))
    return [x], {"index": index}


def _draw_where(data):
    sc, sa, sb = data.draw(broadcastable_shapes(3, max_side=MAX_SIDE))
    condition = data.draw(arrays(sc)) > 0
    return [data.draw(arrays(sa)), data.draw(arrays(sb))], {"condition": condition}


def _draw_axis_or_none(data, shape):
    return data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))


def _draw_cumsum(data):
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    return [data.draw(arrays(shape))], {"axis": _draw_axis_or_none(data, shape)}


def _draw_sort(data):
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    return [data.draw(arrays(shape, distinct=True))], {"axis": _draw_axis_or_none(data, shape)}


def _draw_take_along_axis(data):
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = list(shape)
    index_shape[axis] = data.draw(st.integers(1, 2 * MAX_SIDE))
    index = data.draw(index_arrays(shape[axis], tuple(index_shape)))
    return [data.draw(arrays(shape))], {"indices": index, "axis": axis}


def _draw_solve(data):
    n = data.draw(st.integers(1, MAX_SIDE))
    if data.draw(st.booleans()):
        return [data.draw(well_conditioned_matrices(n)), data.draw(arrays((n,)))], {}
    batch = data.draw(shapes(max_dims=1, max_side=3))
    k = data.draw(st.integers(1, 3))
    return [data.draw(well_conditioned_matrices(n, batch)), data.draw(arrays((*batch, n, k)))], {}


# numpy functions a custom backward calls, as graph ops (autograd_mini/ops/numpy_ops.py)
NUMPY_OPS = [
    Op("log1p", numpy_ops.log1p, np.log1p, _unary(low=-0.5, high=3.0)),
    Op("expm1", numpy_ops.expm1, np.expm1, _unary()),
    Op("cumsum", numpy_ops.cumsum, lambda x, axis: np.cumsum(x, axis=axis), _draw_cumsum),
    Op("flip", numpy_ops.flip, lambda x, axis: np.flip(x, axis=axis), _draw_cumsum),
    Op("sort", numpy_ops.sort, lambda x, axis: np.sort(x, axis=axis), _draw_sort),
    Op(
        "take_along_axis",
        numpy_ops.take_along_axis,
        lambda x, indices, axis: np.take_along_axis(x, indices, axis=axis),
        _draw_take_along_axis,
        covers=("take_along_axis", "add_along_axis"),
    ),
    Op("solve", numpy_ops.solve, np.linalg.solve, _draw_solve),
]

OPS = [
    Op("add", lambda a, b: a + b, np.add, _elementwise(2)),
    Op("sub", lambda a, b: a - b, np.subtract, _elementwise(2)),
    Op("mul", lambda a, b: a * b, np.multiply, _elementwise(2)),
    Op("div", lambda a, b: a / b, np.divide, _elementwise(2, avoid=(0.0,), gap=0.5)),
    Op(
        "pow",
        lambda a, b: a**b,
        np.power,
        lambda d: (
            [d.draw(arrays(s, low=0.5, high=2.0)) for s in d.draw(broadcastable_shapes(2, max_side=MAX_SIDE))],
            {},
        ),
    ),
    Op("pow_constant", lambda a: a**3, lambda a: a**3, _unary(), covers=("pow",)),
    Op("neg", lambda a: -a, np.negative, _unary()),
    Op("exp", am.exp, np.exp, _unary()),
    Op("log", am.log, np.log, _unary(low=0.2, high=4.0)),
    Op("sqrt", am.sqrt, np.sqrt, _unary(low=0.2, high=4.0)),
    Op("abs", am.abs, np.abs, _unary(avoid=(0.0,))),
    Op("sin", am.sin, np.sin, _unary()),
    Op("cos", am.cos, np.cos, _unary()),
    Op("tanh", am.tanh, np.tanh, _unary()),
    Op("sigmoid", am.sigmoid, lambda a: 1 / (1 + np.exp(-a)), _unary()),
    Op("relu", am.relu, lambda a: np.maximum(a, 0), _unary(avoid=(0.0,))),
    Op("leaky_relu", lambda a: am.leaky_relu(a, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), _unary(avoid=(0.0,))),
    Op("softplus", am.softplus, lambda a: np.log1p(np.exp(a)), _unary()),
    Op("softsign", am.softsign, lambda a: a / (1 + np.abs(a)), _unary(avoid=(0.0,))),
    Op("elu", lambda a: am.elu(a, 0.7), lambda a: np.where(a > 0, a, 0.7 * np.expm1(a)), _unary(avoid=(0.0,))),
    Op("maximum", am.maximum, np.maximum, _separated_pair),
    Op("minimum", am.minimum, np.minimum, _separated_pair),
    Op("clip", lambda a: am.clip(a, -1.0, 1.5), lambda a: np.clip(a, -1.0, 1.5), _unary(avoid=(-1.0, 1.5))),
    Op(
        "where",
        lambda a, b, condition: am.where(condition, a, b),
        lambda a, b, condition: np.where(condition, a, b),
        _draw_where,
    ),
    Op("cast", lambda a: am.cast(a, np.float64), lambda a: a, _unary()),
    Op("sum", am.sum, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), _reduction()),
    Op("mean", am.mean, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), _reduction()),
    Op("max", am.max, lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), _reduction(distinct=True)),
    Op("min", am.min, lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), _reduction(distinct=True)),
    Op("logsumexp", am.logsumexp, _logsumexp, _reduction()),
    Op("softmax", am.softmax, _softmax, _reduction(single_axis=True)),
    Op("log_softmax", am.log_softmax, lambda x, axis: np.log(_softmax(x, axis)), _reduction(single_axis=True)),
    Op("matmul", lambda a, b: a @ b, np.matmul, _draw_matmul),
    Op("reshape", am.reshape, np.reshape, _draw_reshape),
    Op("transpose", am.transpose, np.transpose, _draw_transpose),
    Op("swapaxes", am.swapaxes, np.swapaxes, _draw_swapaxes),
    Op("expand_dims", am.expand_dims, np.expand_dims, _draw_expand_dims),
    Op("squeeze", am.squeeze, np.squeeze, _draw_squeeze),
    Op("broadcast_to", am.broadcast_to, np.broadcast_to, _draw_broadcast_to),
    Op(
        "concatenate",
        lambda *xs, axis: am.concatenate(xs, axis),
        lambda *xs, axis: np.concatenate(xs, axis),
        _draw_join(stacked=False),
    ),
    Op("stack", lambda *xs, axis: am.stack(xs, axis), lambda *xs, axis: np.stack(xs, axis), _draw_join(stacked=True)),
    Op("getitem", lambda x, index: x[index], lambda x, index: x[index], _draw_getitem),
]

OPS += NUMPY_OPS
