"""Matrix products."""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class MatMul(Function):
    """z = a @ b (numpy matmul: 1-d operands and batch broadcasting);
    dL/da = g @ b^T, dL/db = a^T @ g (1-d operands are promoted to matrices and back)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)
        a_shape, b_shape = a.shape, b.shape
        if not a_shape or not b_shape:
            raise ValueError(f"matmul: shapes {a_shape} and {b_shape}: scalar operands are not allowed, use *")
        inner_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
        if a_shape[-1] != inner_b:
            raise ValueError(
                f"matmul: shapes {a_shape} and {b_shape} are not aligned: "
                f"{a_shape[-1]} (last dim of the first) != {inner_b} (dim {max(len(b_shape) - 2, 0)} of the second)"
            )
        ctx.a_was_vector, ctx.b_was_vector = len(a_shape) == 1, len(b_shape) == 1
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if need_a else None), (g * a if need_b else None)
        if a.ndim == 1:
            g = dual.expand_dims(g, -2)
            a = a.reshape(1, -1)
        if b.ndim == 1:
            g = dual.expand_dims(g, -1)
            b = b.reshape(-1, 1)
        ga = gb = None
        if need_a:
            ga = g @ b.swapaxes(-1, -2)
            if ctx.a_was_vector:
                ga = ga[..., 0, :]
        if need_b:
            gb = a.swapaxes(-1, -2) @ g
            if ctx.b_was_vector:
                gb = gb[..., 0]
        return ga, gb


def matmul(a, b):
    """a @ b with numpy's rules (1-d operands, batched matrices broadcast)."""
    # nested lists become arrays here, so that forward saves the very arrays it was given
    return MatMul.apply(
        np.asarray(a) if isinstance(a, (list, tuple)) else a, np.asarray(b) if isinstance(b, (list, tuple)) else b
    )


__all__ = ["matmul"]
