"""Every differentiable op of the core against central finite differences (float64, 1st and 2nd order)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_harness import gradient_tests
from op_table import OPS

import autograd_mini as am

test_gradients_match_finite_differences = gradient_tests(OPS)


def test_every_public_op_is_in_the_table():
    covered = {name for op in OPS for name in (op.covers or (op.name,))}
    assert set(am.ops.__all__) - covered == set()


@pytest.mark.parametrize(
    "op", [op for op in OPS if op.name in ("mul", "tanh", "matmul", "sum", "softmax")], ids=lambda op: op.name
)
@settings(max_examples=5)
@given(data=st.data())
def test_float32_in_float32_out(op, data):
    args, kwargs = op.draw(data)
    tensors = [am.tensor(np.asarray(a, dtype=np.float32), requires_grad=True) for a in args]
    out = op.fn(*tensors, **kwargs)
    assert out.dtype == np.float32
    (out * 2.0).sum().backward()
    for t in tensors:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape
