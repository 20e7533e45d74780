"""Correct custom gradients users write, and realistic mutants of them (issue 23's corpus).

A case is an ``am.Function`` built from a numpy forward and a backward formula
``backward(g, y, *inputs, **options)`` written with operators and numpy calls that work on
ndarrays and, under ``create_graph=True``, on Tensors (so second order is checked where the
case says ``order=2``). A mutant replaces the backward by a realistic bug, tagged with its
class: sign, factor, formula, operand, axis, transpose, unbroadcast (a broadcast-shaped
gradient), region (wrong only on part of the domain), shape (wrong only for some shapes),
float16, inplace (a write into a saved array), second (only the second derivative is wrong).

Inputs are drawn with ``am.testing``'s strategies; ``draw(data)`` returns (arrays, options).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini.ops.dual import raw, scatter_add
from autograd_mini.testing import (
    arrays,
    index_arrays,
    probability_vectors,
    shapes,
    well_conditioned_matrices,
)

SIDE = 3


@dataclass
class Case:
    name: str
    forward: object  # (*arrays, **options) -> array
    backward: object  # (g, y, *inputs, **options) -> gradient(s)
    draw: object  # data -> (arrays, options)
    order: int = 2
    mutants: dict = field(default_factory=dict)  # name -> (bug class, backward)

    def op(self, backward=None):
        """The am.Function of this case (with ``backward`` instead of the right one)."""
        forward, backward = self.forward, backward or self.backward

        class Op(am.Function):
            @staticmethod
            def forward(ctx, *xs, **options):
                ctx.options = options
                y = np.asarray(forward(*xs, **options), dtype=np.result_type(*xs))
                ctx.save_for_backward(*xs, y)
                return y

            @staticmethod
            def backward(ctx, g):
                *xs, y = ctx.saved_tensors
                return backward(g, y, *xs, **ctx.options)

        Op.name = self.name
        Op.__name__ = Op.__qualname__ = self.name
        return Op


def unary(**domain):
    def draw(data):
        return [data.draw(arrays(data.draw(shapes(max_side=SIDE)), **domain))], {}

    return draw


def rows(min_dims=1, **domain):
    def draw(data):
        shape = data.draw(shapes(min_dims=min_dims, max_dims=2, max_side=SIDE))
        return [data.draw(arrays(shape, **domain))], {}

    return draw


def pair_rows(**domain):
    def draw(data):
        shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=SIDE))
        return [data.draw(arrays(shape, **domain)), data.draw(arrays(shape, **domain))], {}

    return draw


def bias_pair(data):
    m, n = data.draw(st.integers(2, SIDE)), data.draw(st.integers(1, SIDE))
    return [data.draw(arrays((m, n))), data.draw(arrays((n,)))], {}


def same_pair(**domain):
    def draw(data):
        shape = data.draw(shapes(max_side=SIDE))
        return [data.draw(arrays(shape)), data.draw(arrays(shape, **domain))], {}

    return draw


def square_pair(data):
    n = data.draw(st.integers(2, SIDE))
    return [data.draw(arrays((n, n))), data.draw(arrays((n, n)))], {}


def matmul_pair(data):
    m, k, n = (data.draw(st.integers(1, SIDE)) for _ in range(3))
    return [data.draw(arrays((m, k))), data.draw(arrays((k, n)))], {}


def vector_and_matrix(data):
    n = data.draw(st.integers(2, SIDE))
    return [data.draw(arrays((n,))), data.draw(arrays((n, n)))], {}


def solve_pair(data):
    n = data.draw(st.integers(1, SIDE))
    return [data.draw(well_conditioned_matrices(n)), data.draw(arrays((n,)))], {}


def with_axis(distinct=False, min_side=1, **domain):
    def draw(data):
        shape = data.draw(shapes(min_dims=1, max_dims=2, min_side=min_side, max_side=SIDE))
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        return [data.draw(arrays(shape, distinct=distinct, **domain))], {"axis": axis}

    return draw


def logits_and_targets(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=SIDE))
    return [data.draw(arrays(shape)), data.draw(arrays(shape, low=0.1, high=2.0))], {}


def gather_draw(data):
    n = data.draw(st.integers(1, SIDE))
    index = data.draw(index_arrays(n, (data.draw(st.integers(1, 2 * SIDE)),)))
    return [data.draw(arrays((n,)))], {"index": index}


def attention_draw(data):
    m, n, d = (data.draw(st.integers(1, SIDE)) for _ in range(3))
    return [data.draw(arrays((m, d))), data.draw(arrays((n, d)))], {}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - raw(np.max(raw(x), axis=axis, keepdims=True)))
    return e / np.sum(e, axis=axis, keepdims=True)


def _norm(x, axis=-1):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=True))


def _layer_stats(x, axis):
    mu = np.mean(x, axis=axis, keepdims=True)
    sigma = np.sqrt(np.mean((x - mu) ** 2, axis=axis, keepdims=True) + 0.1)
    return mu, sigma


def _layer_norm(x, axis=-1):
    mu, sigma = _layer_stats(x, axis)
    return (x - mu) / sigma


def _layer_norm_grad(g, y, x, axis=-1, drop_mean=False, drop_proj=False):
    mu, sigma = _layer_stats(x, axis)
    xhat = (x - mu) / sigma
    out = g
    if not drop_mean:
        out = out - np.mean(g, axis=axis, keepdims=True)
    if not drop_proj:
        out = out - xhat * np.mean(g * xhat, axis=axis, keepdims=True)
    return out / sigma


def _inplace_square(g, y, x):
    x *= 1.0  # "normalise" a saved input in place
    return g * 2 * x


def _half(value):
    return value.astype(np.float16) if isinstance(value, np.ndarray) else value


def _softmax_grad(g, y, x, axis=-1):
    return y * (g - np.sum(g * y, axis=axis, keepdims=True))


def _max_grad(g, y, x, axis=-1):
    mask = raw(x) == np.max(raw(x), axis=axis, keepdims=True)
    return np.expand_dims(g, axis) * mask


def _huber(x):
    return np.where(np.abs(x) <= 1, 0.5 * x * x, np.abs(x) - 0.5)


def _huber_grad(g, y, x):
    return g * np.where(np.abs(raw(x)) <= 1, x, np.sign(x))


def _cos(a, b):
    return np.sum(a * b, -1) / (_norm(a)[..., 0] * _norm(b)[..., 0])


def _cos_grad(g, y, a, b, drop=False):
    na, nb = _norm(a), _norm(b)
    ye, ge = np.expand_dims(y, -1), np.expand_dims(g, -1)
    ga = ge * (b / (na * nb) - (0 if drop else ye * a / (na * na)))
    gb = ge * (a / (na * nb) - (0 if drop else ye * b / (nb * nb)))
    return ga, gb


def _gather_grad_dedup(g, y, x, index):
    first = np.unique(index, return_index=True)[1]  # forgets repeated indices
    return scatter_add(g[first], index[first], x.shape)


def _sort_forward(x, axis=-1):
    return np.sort(x, axis=axis)


def _sort_grad(g, y, x, axis=-1):
    order = np.argsort(raw(x), axis=axis, kind="stable")
    return np.take_along_axis(g, np.argsort(order, axis=axis), axis)


def _cumsum_grad(g, y, x, axis=0):
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


CASES = [
    Case(
        "square",
        lambda x: x * x,
        lambda g, y, x: g * 2 * x,
        unary(),
        mutants={
            "factor": ("factor", lambda g, y, x: g * x),
            "sign": ("sign", lambda g, y, x: -g * 2 * x),
            "inplace": ("inplace", _inplace_square),
        },
    ),
    Case(
        "cube",
        lambda x: x**3,
        lambda g, y, x: g * 3 * x**2,
        unary(),
        mutants={
            "second": ("second", lambda g, y, x: g * 3 * raw(x) ** 2),
            "formula": ("formula", lambda g, y, x: g * 3 * x),
        },
    ),
    Case(
        "exp",
        np.exp,
        lambda g, y, x: g * y,
        unary(),
        mutants={
            "operand": ("operand", lambda g, y, x: g * x),
            "second": ("second", lambda g, y, x: g * raw(y)),
        },
    ),
    Case(
        "log",
        np.log,
        lambda g, y, x: g / x,
        unary(low=0.2, high=4.0),
        mutants={
            "formula": ("formula", lambda g, y, x: g / x**2),
            "sign": ("sign", lambda g, y, x: -g / x),
        },
    ),
    Case(
        "sqrt",
        np.sqrt,
        lambda g, y, x: g / (2 * y),
        unary(low=0.2, high=4.0),
        mutants={
            "factor": ("factor", lambda g, y, x: g / y),
        },
    ),
    Case(
        "sigmoid",
        sigmoid,
        lambda g, y, x: g * y * (1 - y),
        unary(),
        mutants={
            "formula": ("formula", lambda g, y, x: g * y * (1 + y)),
            "second": ("second", lambda g, y, x: g * raw(y) * (1 - y)),
        },
    ),
    Case(
        "tanh",
        np.tanh,
        lambda g, y, x: g * (1 - y * y),
        unary(),
        mutants={
            "formula": ("formula", lambda g, y, x: g * (1 - y)),
            "float16": ("float16", lambda g, y, x: _half(g * (1 - y * y))),
        },
    ),
    Case(
        "softplus",
        lambda x: np.log1p(np.exp(x)),
        lambda g, y, x: g * sigmoid(x),
        unary(),
        mutants={
            "formula": ("formula", lambda g, y, x: g * sigmoid(x) * (1 - sigmoid(x))),
            "second": ("second", lambda g, y, x: g * sigmoid(raw(x))),
        },
    ),
    Case(
        "sin",
        np.sin,
        lambda g, y, x: g * np.cos(x),
        unary(),
        mutants={
            "operand": ("operand", lambda g, y, x: g * np.sin(x)),
            "float16": ("float16", lambda g, y, x: _half(g * np.cos(x))),
            "float16_cast": (
                "float16",
                lambda g, y, x: _half(raw(g * np.cos(x))).astype(np.float64) + 0 * x,
            ),
        },
    ),
    Case(
        "abs_cube",
        lambda x: np.abs(x) ** 3,
        lambda g, y, x: g * 3 * x * np.abs(x),
        unary(),
        mutants={"region": ("region", lambda g, y, x: g * 3 * x * x)},
    ),
    Case(
        "huber",
        _huber,
        _huber_grad,
        unary(avoid=(-1.0, 1.0)),
        mutants={
            "region": ("region", lambda g, y, x: g * np.where(np.abs(raw(x)) <= 1, x, 1.0)),
            "region_inner": ("region", lambda g, y, x: g * np.where(np.abs(raw(x)) <= 1, 2 * x, np.sign(x))),
        },
    ),
    Case(
        "leaky_relu",
        lambda x: np.where(x > 0, x, 0.1 * x),
        lambda g, y, x: g * np.where(raw(x) > 0, 1.0, 0.1),
        unary(avoid=(0.0,)),
        mutants={"region": ("region", lambda g, y, x: g * np.where(raw(x) > 0, 1.0, 0.0))},
    ),
    Case(
        "elu",
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        lambda g, y, x: g * np.where(raw(x) > 0, 1.0, y + 1),
        unary(avoid=(0.0,)),
        mutants={"region": ("region", lambda g, y, x: g * np.where(raw(x) > 0, 1.0, y))},
    ),
    Case(
        "swish",
        lambda x: x * sigmoid(x),
        lambda g, y, x: g * (sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x))),
        unary(),
        mutants={"formula": ("formula", lambda g, y, x: g * (sigmoid(x) + x * sigmoid(x)))},
    ),
    Case(
        "reciprocal",
        lambda x: 1 / x,
        lambda g, y, x: -g * y * y,
        unary(avoid=(0.0,), gap=0.3),
        mutants={
            "sign": ("sign", lambda g, y, x: g * y * y),
            "formula": ("formula", lambda g, y, x: -g * y),
        },
    ),
    Case(
        "bias_add",
        lambda x, b: x + b,
        lambda g, y, x, b: (g, np.sum(g, axis=0)),
        bias_pair,
        mutants={
            "unbroadcast": ("unbroadcast", lambda g, y, x, b: (g, g)),
            "axis": ("axis", lambda g, y, x, b: (g, np.mean(g, axis=0))),
        },
    ),
    Case(
        "scale",
        lambda x, w: x * w,
        lambda g, y, x, w: (g * w, np.sum(g * x, axis=0)),
        bias_pair,
        mutants={
            "operand": ("operand", lambda g, y, x, w: (g * x, np.sum(g * x, axis=0))),
            "unbroadcast": ("unbroadcast", lambda g, y, x, w: (g * w, g * x)),
            "second": ("second", lambda g, y, x, w: (g * raw(w), np.sum(g * x, axis=0))),
        },
    ),
    Case(
        "divide",
        lambda x, y: x / y,
        lambda g, out, x, y: (g / y, -g * x / (y * y)),
        same_pair(low=0.5, high=2.0),
        mutants={
            "sign": ("sign", lambda g, out, x, y: (g / y, g * x / (y * y))),
            "formula": ("formula", lambda g, out, x, y: (g / y, -g * x / y)),
        },
    ),
    Case(
        "hypot",
        lambda x, y: np.sqrt(x * x + y * y),
        lambda g, r, x, y: (g * x / r, g * y / r),
        same_pair(avoid=(0.0,), gap=0.2),
        mutants={"operand": ("operand", lambda g, r, x, y: (g * y / r, g * x / r))},
    ),
    Case(
        "power_2_5",
        lambda x: x**2.5,
        lambda g, y, x: g * 2.5 * x**1.5,
        unary(low=0.5, high=2.0),
        mutants={"factor": ("factor", lambda g, y, x: g * x**1.5)},
    ),
    Case(
        "matmul",
        lambda a, b: a @ b,
        lambda g, y, a, b: (g @ b.T, a.T @ g),
        square_pair,
        mutants={
            "transpose_a": ("transpose", lambda g, y, a, b: (g @ b, a.T @ g)),
            "transpose_b": ("transpose", lambda g, y, a, b: (g @ b.T, a @ g)),
            "operand": ("operand", lambda g, y, a, b: (g @ a.T, a.T @ g)),
        },
    ),
    Case(
        "matmul_rect",
        lambda a, b: a @ b,
        lambda g, y, a, b: (g @ b.T, a.T @ g),
        matmul_pair,
        mutants={"factor": ("factor", lambda g, y, a, b: (2 * g @ b.T, a.T @ g))},
    ),
    Case(
        "quadratic_form",
        lambda x, a: x @ a @ x,
        lambda g, y, x, a: (g * ((a + a.T) @ x), g * np.outer(x, x)),
        vector_and_matrix,
        mutants={
            "formula": ("formula", lambda g, y, x, a: (g * 2 * (a @ x), g * np.outer(x, x))),
            "second": ("second", lambda g, y, x, a: (g * ((a + a.T) @ raw(x)), g * np.outer(x, x))),
        },
    ),
    Case(
        "solve",
        np.linalg.solve,
        lambda g, x, a, b: (-np.outer(np.linalg.solve(a.T, g), x), np.linalg.solve(a.T, g)),
        solve_pair,
        mutants={
            "transpose": ("transpose", lambda g, x, a, b: (-np.outer(np.linalg.solve(a, g), x), np.linalg.solve(a, g))),
            "sign": ("sign", lambda g, x, a, b: (np.outer(np.linalg.solve(a.T, g), x), np.linalg.solve(a.T, g))),
        },
    ),
    Case(
        "frobenius_norm",
        lambda x: np.sqrt(np.sum(x * x)),
        lambda g, y, x: g * x / y,
        rows(avoid=(0.0,), gap=0.3),
        mutants={"formula": ("formula", lambda g, y, x: g * x / (y * y))},
    ),
    Case(
        "trace_of_product",
        lambda a, b: np.sum(a * b.T),
        lambda g, y, a, b: (g * b.T, g * a.T),
        square_pair,
        mutants={"transpose": ("transpose", lambda g, y, a, b: (g * b, g * a.T))},
    ),
    Case(
        "softmax",
        softmax,
        _softmax_grad,
        with_axis(),
        mutants={
            "axis": ("axis", lambda g, y, x, axis=-1: _softmax_grad(g, y, x, axis=0)),
            "formula": ("formula", lambda g, y, x, axis=-1: y * g),
            "float16": (
                "float16",
                lambda g, y, x, axis=-1: _half(raw(_softmax_grad(g, y, x, axis))).astype(np.float64) + 0 * g,
            ),
        },
    ),
    Case(
        "log_softmax",
        lambda x, axis=-1: np.log(softmax(x, axis)),
        lambda g, y, x, axis=-1: g - np.exp(y) * np.sum(g, axis=axis, keepdims=True),
        with_axis(),
        mutants={
            "formula": ("formula", lambda g, y, x, axis=-1: g - np.exp(y) * g),
            "axis": ("shape", lambda g, y, x, axis=-1: g - np.exp(y) * np.sum(g, axis=-1, keepdims=True)),
        },
    ),
    Case(
        "logsumexp",
        lambda x: np.log(np.sum(np.exp(x), axis=-1)),
        lambda g, y, x: np.expand_dims(g, -1) * np.exp(x - np.expand_dims(y, -1)),
        rows(),
        mutants={"formula": ("formula", lambda g, y, x: np.expand_dims(g, -1) * np.exp(x))},
    ),
    Case(
        "layer_norm",
        _layer_norm,
        _layer_norm_grad,
        with_axis(min_side=2),
        mutants={
            "formula_mean": ("formula", lambda g, y, x, axis=-1: _layer_norm_grad(g, y, x, axis, drop_mean=True)),
            "formula_proj": ("formula", lambda g, y, x, axis=-1: _layer_norm_grad(g, y, x, axis, drop_proj=True)),
            "axis": ("shape", lambda g, y, x, axis=-1: _layer_norm_grad(g, y, x, -1)),
        },
    ),
    Case(
        "row_normalize",
        lambda x: x / _norm(x),
        lambda g, y, x: (g - y * np.sum(g * y, axis=-1, keepdims=True)) / _norm(x),
        rows(avoid=(0.0,), gap=0.3),
        mutants={"formula": ("formula", lambda g, y, x: g / _norm(x))},
    ),
    Case(
        "cosine_similarity",
        _cos,
        _cos_grad,
        pair_rows(avoid=(0.0,), gap=0.3),
        mutants={"formula": ("formula", lambda g, y, a, b: _cos_grad(g, y, a, b, drop=True))},
    ),
    Case(
        "mse",
        lambda p, t: np.mean((p - t) ** 2),
        lambda g, y, p, t: (g * 2 * (p - t) / p.size, -g * 2 * (p - t) / p.size),
        same_pair(),
        mutants={
            "factor": ("factor", lambda g, y, p, t: (g * 2 * (p - t), -g * 2 * (p - t))),
            "sign": ("sign", lambda g, y, p, t: (g * 2 * (p - t) / p.size, g * 2 * (p - t) / p.size)),
        },
    ),
    Case(
        "cross_entropy",
        lambda z, t: -np.sum(t * np.log(softmax(z)), axis=-1),
        lambda g, y, z, t: (
            np.expand_dims(g, -1) * (softmax(z) * np.sum(t, axis=-1, keepdims=True) - t),
            -np.expand_dims(g, -1) * np.log(softmax(z)),
        ),
        logits_and_targets,
        mutants={
            "formula": (
                "formula",
                lambda g, y, z, t: (
                    np.expand_dims(g, -1) * (softmax(z) - t),
                    -np.expand_dims(g, -1) * np.log(softmax(z)),
                ),
            ),
            "sign": (
                "sign",
                lambda g, y, z, t: (
                    np.expand_dims(g, -1) * (softmax(z) * np.sum(t, axis=-1, keepdims=True) - t),
                    np.expand_dims(g, -1) * np.log(softmax(z)),
                ),
            ),
        },
    ),
    Case(
        "kl_divergence",
        lambda p, q: np.sum(p * (np.log(p) - np.log(q))),
        lambda g, y, p, q: (g * (np.log(p) - np.log(q) + 1), -g * p / q),
        lambda data: ([data.draw(probability_vectors((3,))), data.draw(probability_vectors((3,)))], {}),
        mutants={"formula": ("formula", lambda g, y, p, q: (g * (np.log(p) - np.log(q)), -g * p / q))},
    ),
    Case(
        "variance",
        lambda x, axis=-1: np.mean((x - np.mean(x, axis=axis, keepdims=True)) ** 2, axis=axis),
        lambda g, y, x, axis=-1: (
            np.expand_dims(g, axis) * 2 * (x - np.mean(x, axis=axis, keepdims=True)) / x.shape[axis]
        ),
        with_axis(min_side=2),
        mutants={
            "factor": (
                "factor",
                lambda g, y, x, axis=-1: (
                    np.expand_dims(g, axis) * 2 * (x - np.mean(x, axis=axis, keepdims=True)) / (x.shape[axis] - 1)
                ),
            ),
        },
    ),
    Case(
        "max",
        lambda x, axis=-1: np.max(x, axis=axis),
        _max_grad,
        with_axis(distinct=True),
        order=1,
        mutants={"formula": ("formula", lambda g, y, x, axis=-1: np.expand_dims(g, axis) * np.ones(x.shape))},
    ),
    Case(
        "cumsum",
        lambda x, axis=0: np.cumsum(x, axis=axis),
        _cumsum_grad,
        with_axis(),
        mutants={
            "formula": ("formula", lambda g, y, x, axis=0: np.cumsum(g, axis)),
            "axis": ("shape", lambda g, y, x, axis=0: np.flip(np.cumsum(np.flip(g, -1), -1), -1)),
        },
    ),
    Case(
        "sort",
        _sort_forward,
        _sort_grad,
        with_axis(distinct=True),
        mutants={
            "formula": ("formula", lambda g, y, x, axis=-1: g),
            "permutation": (
                "formula",
                lambda g, y, x, axis=-1: np.take_along_axis(g, np.argsort(raw(x), axis=axis), axis),
            ),
        },
    ),
    Case(
        "gather",
        lambda x, index: x[index],
        lambda g, y, x, index: scatter_add(g, index, x.shape),
        gather_draw,
        mutants={"region": ("region", _gather_grad_dedup)},
    ),
    Case(
        "clip",
        lambda x: np.clip(x, -1.0, 1.0),
        lambda g, y, x: g * ((x > -1) & (x < 1)),
        unary(avoid=(-1.0, 1.0)),
        mutants={
            "region": ("region", lambda g, y, x: g * (x < 1)),
            "inplace": ("inplace", lambda g, y, x: g * np.clip(x, -1, 1, out=x) * 0 + g * ((x > -1) & (x < 1))),
        },
    ),
    Case(
        "attention_scores",
        lambda q, k: q @ k.T / np.sqrt(q.shape[-1]),
        lambda g, s, q, k: (g @ k / np.sqrt(q.shape[-1]), g.T @ q / np.sqrt(q.shape[-1])),
        attention_draw,
        mutants={
            "factor": ("factor", lambda g, s, q, k: (g @ k, g.T @ q / np.sqrt(q.shape[-1]))),
            "factor_d": ("shape", lambda g, s, q, k: (g @ k / q.shape[-1], g.T @ q / q.shape[-1])),
        },
    ),
    Case(
        "outer",
        np.outer,
        lambda g, y, a, b: (g @ b, g.T @ a),
        lambda data: (
            [
                data.draw(arrays((data.draw(st.integers(1, SIDE)),))),
                data.draw(arrays((data.draw(st.integers(1, SIDE)),))),
            ],
            {},
        ),
        mutants={"sign": ("sign", lambda g, y, a, b: (g @ b, -(g.T @ a)))},
    ),
    Case(
        "select",
        lambda x, y, mask: np.where(mask, x, y),
        lambda g, out, x, y, mask: (g * mask, g * ~mask),
        lambda data: (lambda s: ([data.draw(arrays(s)), data.draw(arrays(s))], {"mask": data.draw(arrays(s)) > 0}))(
            data.draw(shapes(max_side=SIDE))
        ),
        mutants={"operand": ("operand", lambda g, out, x, y, mask: (g * ~mask, g * mask))},
    ),
    Case(
        "batch_norm",
        lambda x: _layer_norm(x, 0),
        lambda g, y, x: _layer_norm_grad(g, y, x, 0),
        lambda data: ([data.draw(arrays((data.draw(st.integers(2, SIDE)), data.draw(st.integers(1, SIDE)))))], {}),
        mutants={
            "axis": ("axis", lambda g, y, x: _layer_norm_grad(g, y, x, -1)),
            "second": ("second", lambda g, y, x: _layer_norm_grad(g, y, raw(x), 0)),
        },
    ),
]


def mutants():
    """[(case, mutant name, bug class, backward)] over the corpus."""
    return [(case, name, kind, backward) for case in CASES for name, (kind, backward) in case.mutants.items()]
