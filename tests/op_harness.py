"""The shared harness of the op tables: one row per differentiable op, one Hypothesis test.

A row draws the op's inputs (shapes that broadcast, elements in the op's domain, kept away
from kinks, options such as axis) and names the function under test and a plain numpy
reference of its forward value. ``gradient_tests(table)`` makes the tests that check every
row against central finite differences in float64, first and second order, with a random
upstream gradient. The core's table is ``op_table.py``; ``nn`` registers its own ops
(fused Dense, softmax cross-entropy, activations) in ``nn_op_table.py`` with the same harness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd_mini as am
from autograd_mini.testing import arrays, assert_grads_match, broadcastable_shapes, shapes

MAX_SIDE = 4  # 3-d shapes up to 4x4x4 still broadcast in every way


@dataclass
class Op:
    name: str
    fn: Callable  # on Tensors (and options)
    ref: Callable  # the same on ndarrays
    draw: Callable  # data -> (args, kwargs)
    covers: tuple = field(default=())  # public ops this row exercises (default: its name)


def _elementwise(n, **domain):
    def draw(data):
        shape_list = data.draw(broadcastable_shapes(n, max_side=MAX_SIDE))
        return [data.draw(arrays(s, **domain)) for s in shape_list], {}

    return draw


def _unary(**domain):
    def draw(data):
        return [data.draw(arrays(data.draw(shapes(max_side=MAX_SIDE)), **domain))], {}

    return draw


def _separated_pair(data):
    """Two broadcastable arrays with no near-ties (ties are kinks of maximum/minimum)."""
    sa, sb = data.draw(broadcastable_shapes(2, max_side=MAX_SIDE))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    assume(np.all(np.abs(a - b) > 1e-3))
    return [a, b], {}


def _reduction(distinct=False, single_axis=False, keepdims=True):
    def draw(data):
        shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
        x = data.draw(arrays(shape, distinct=distinct))
        if single_axis:
            axis = data.draw(st.integers(-len(shape), len(shape) - 1))
            return [x], {"axis": axis}
        axis = data.draw(
            st.one_of(
                st.none(),
                st.integers(-len(shape), len(shape) - 1),
                st.lists(st.integers(0, len(shape) - 1), unique=True).map(tuple),
            )
        )
        return [x], {"axis": axis, "keepdims": data.draw(st.booleans()) if keepdims else False}

    return draw


def gradient_tests(table: list) -> tuple:
    """(test of values and 1st/2nd-order gradients, float32 test) parametrized over ``table``."""

    @pytest.mark.parametrize("op", table, ids=lambda op: op.name)
    @settings(max_examples=40)
    @given(data=st.data())
    def test_gradients_match_finite_differences(op, data):
        args, kwargs = op.draw(data)
        tensors = [am.tensor(a, requires_grad=True) for a in args]
        expected = op.ref(*args, **kwargs)
        out = op.fn(*tensors, **kwargs)
        assert out.shape == np.shape(expected)
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
        # gradcheck also asserts grad.shape == input.shape; assert_grads_match that no input changed
        assert_grads_match(lambda *ts: op.fn(*ts, **kwargs), *tensors, order=2)

    return test_gradients_match_finite_differences
