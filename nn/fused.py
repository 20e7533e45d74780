"""The fused Dense op for the hot path, built on ``autograd_mini.Function``.

``DenseFunction``: y = act(x @ W + b) in one node. Forward writes bias and activation into
the matmul's fresh result (no temporaries); backward skips the input gradient when x does
not need one (the first layer), which saves the largest matmul of a training step.
The gradient formulas use operators both ndarrays and Tensors support, so second-order
gradients through these nodes work too.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

# activation -> derivative written in terms of the activation's output y
_DERIVATIVE_FROM_OUTPUT = {
    "linear": None,
    "relu": lambda y: (y.data if isinstance(y, am.Tensor) else y) > 0,
    "tanh": lambda y: 1 - y * y,
    "sigmoid": lambda y: y * (1 - y),
}


def _apply_activation_in_place(out: np.ndarray, activation: str) -> None:
    if activation == "relu":
        np.maximum(out, 0, out=out)
    elif activation == "tanh":
        np.tanh(out, out=out)
    elif activation == "sigmoid":
        # 1/(1+exp(-z)) computed from exp(-|z|), which never overflows
        negative = out < 0
        np.abs(out, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)  # e = exp(-|z|)
        ratio = out / (1 + out)  # e/(1+e): sigmoid(z) for z < 0
        np.add(out, 1, out=out)
        np.reciprocal(out, out=out)  # 1/(1+e): sigmoid(z) for z >= 0
        np.copyto(out, ratio, where=negative)


class DenseFunction(am.Function):
    """y = act(x @ W + b);  with gz = g * act'(y):  dL/dx = gz @ W^T,  dL/dW = x^T gz,  dL/db = sum(gz)"""

    name = "dense"

    @staticmethod
    def forward(ctx, x, kernel, bias, activation="linear"):
        out = np.matmul(x, kernel)
        if bias is not None:
            out += bias
        _apply_activation_in_place(out, activation)
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
        derivative = _DERIVATIVE_FROM_OUTPUT[ctx.activation]
        gz = g if derivative is None else g * derivative(out)
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
    if activation not in _DERIVATIVE_FROM_OUTPUT:
        raise ValueError(
            f"dense: fused activation must be one of {sorted(_DERIVATIVE_FROM_OUTPUT)}, got {activation!r}"
        )
    return DenseFunction.apply(x, kernel, bias, activation=activation)
