"""The fused Dense op for the hot path, built on ``autograd_mini.Function``.

``DenseFunction``: y = act(x @ W + b) in one node. Forward adds the bias into the matmul's
fresh result and applies the core's activation formula (``Elementwise.value``); backward skips the input gradient when x does
not need one (the first layer), which saves the largest matmul of a training step.
The gradient formulas use operators both ndarrays and Tensors support, so second-order
gradients through these nodes work too.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am
from autograd_mini.ops import dual
from autograd_mini.ops.activation import Elementwise
from autograd_mini.ops.formula import ARRAYS

# the activations Dense fuses: the core's elementwise ops whose gradient reads only their output
# (their formulas are the core's, ``autograd_mini.ops.activation``); "linear" is none
FUSED = {name: cls for name, cls in Elementwise.registry.items() if cls.saves == "y"}
FUSED["linear"] = None


class DenseFunction(am.Function):
    """y = act(x @ W + b);  with gz = g * act'(y):  dL/dx = gz @ W^T,  dL/dW = x^T gz,  dL/db = sum(gz)"""

    name = "dense"

    @staticmethod
    def forward(ctx, x, kernel, bias, activation="linear"):
        out = np.matmul(x, kernel)
        if bias is not None:
            out += bias
        if FUSED[activation] is not None:
            out = FUSED[activation].value(out, ARRAYS)
        ctx.activation = activation
        ctx.save_for_backward(x, kernel, out)
        return out

    @staticmethod
    def composite(x, kernel, bias=None, activation="linear"):
        """The same result from core ops (matmul, add, activation): what drawings with
        ``expand_fused=True`` show; ``activation`` is read from ``ctx.activation``."""
        z = am.matmul(x, kernel)
        if bias is not None:
            z = z + bias
        return z if activation == "linear" else getattr(am, activation)(z)

    @staticmethod
    def backward(ctx, g):
        x, kernel, out = ctx.saved_tensors
        need_x, need_kernel, need_bias = ctx.needs_input_grad
        act = FUSED[ctx.activation]
        gz = g if act is None else act.grad(g, None, out, dual)
        gx = gz @ kernel.T if need_x else None
        gkernel = None
        if need_kernel:
            if x.ndim == 2:
                gkernel = x.T @ gz
            else:
                gkernel = x.reshape(-1, x.shape[-1]).T @ gz.reshape(-1, gz.shape[-1])
        gbias = None
        if need_bias:
            gbias = gz.sum(axis=0) if gz.ndim == 2 else gz.reshape(-1, gz.shape[-1]).sum(axis=0)
        return gx, gkernel, gbias


def dense(x, kernel, bias=None, activation: str = "linear"):
    """act(x @ kernel + bias) as one graph node; activation in linear/relu/tanh/sigmoid."""
    if activation not in FUSED:
        raise ValueError(f"dense: fused activation must be one of {sorted(FUSED)}, got {activation!r}")
    return DenseFunction.apply(x, kernel, bias, activation=activation)
