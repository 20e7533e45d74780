"""Hypothesis strategies and assertions for property tests of gradients (yours and ours).

    from hypothesis import given
    import autograd_mini as am
    from autograd_mini.testing import arrays, broadcastable_shapes, assert_grads_match

    @given(broadcastable_shapes(2).flatmap(lambda s: st.tuples(arrays(s[0]), arrays(s[1]))))
    def test_my_op(xy):
        assert_grads_match(my_op, *xy, order=2)

Elements are drawn in an op's domain (``low``/``high``) and kept at least ``gap`` away from
the points in ``avoid`` (kinks such as 0 for relu), far more than the finite-difference step,
so that a central difference never straddles a kink. ``distinct=True`` also keeps elements
``gap`` apart from each other (for max/min, where ties are kinks).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = ["arrays", "assert_grads_match", "broadcastable_shapes", "shapes", "tensors"]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, up to ``max_dims`` dimensions of at most ``max_side`` elements."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
):
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda b: b.input_shapes)


def _push_away(values: np.ndarray, avoid, gap: float) -> np.ndarray:
    for kink in avoid:
        near = np.abs(values - kink) < gap
        values = np.where(near, kink + np.where(values >= kink, gap, -gap), values)
    return values


@st.composite
def arrays(
    draw,
    shape,
    dtype=np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid=(),
    gap: float = 1e-3,
    distinct: bool = False,
):
    """Float arrays of ``shape`` with elements in [low, high], ``gap`` away from ``avoid``."""
    shape = tuple(shape)
    size = int(np.prod(shape)) if shape else 1
    if distinct:
        # a random permutation of evenly spaced slots, jittered inside each slot
        order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
        jitter = draw(hnp.arrays(np.float64, size, elements=st.floats(0.0, 0.5)))
        step = (high - low) / size
        values = low + (order + 0.25 + jitter) * step
    else:
        values = draw(
            hnp.arrays(np.float64, size, elements=st.floats(low, high, allow_nan=False, allow_infinity=False))
        )
    values = _push_away(values, avoid, gap)
    return values.reshape(shape).astype(dtype)


@st.composite
def tensors(draw, shape=None, dtype=np.float64, requires_grad: bool = True, **elements):
    """Tensors of ``shape`` (or a drawn shape) whose elements follow ``arrays``' options."""
    if shape is None:
        shape = draw(shapes())
    return Tensor(draw(arrays(shape, dtype=dtype, **elements)), requires_grad=requires_grad)


def assert_grads_match(
    f, *inputs, order: int = 1, eps: float = 1e-6, atol: float = 1e-7, rtol: float = 1e-5, seed: int = 0
) -> None:
    """Assert that ``f``'s gradients (and, for ``order=2``, second derivatives) match finite
    differences in float64, and that ``f`` does not modify its inputs."""
    before = [np.array(getattr(x, "data", x), copy=True) for x in inputs]
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    if order >= 2:
        gradgradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    for k, (x, b) in enumerate(zip(inputs, before)):
        after = np.asarray(getattr(x, "data", x))
        if not np.array_equal(after, b, equal_nan=True):
            raise AssertionError(f"assert_grads_match: input {k} was modified by the function")
