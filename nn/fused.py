"""Fused ops for the hot path, built on ``autograd_mini.Function``.

``DenseFunction``: y = act(x @ W + b) in one node. Forward writes bias and activation into
the matmul's fresh result (no temporaries); backward skips the input gradient when x does
not need one (the first layer), which saves the largest matmul of a training step.
``SoftmaxCrossEntropy``: the batch-mean cross-entropy of logits in one node (stable, with
gradient (softmax - y) / n), used by the categorical losses whenever logits are known.
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


class SoftmaxCrossEntropy(am.Function):
    """L = mean over samples of -sum_k y_k log softmax(z)_k  (z: logits, classes on the last axis).

    With n samples and p = softmax(z):  dL/dz = g (p sum_k y_k - y) / n,  dL/dy = -g log p / n.
    One node instead of log_softmax, mul, sum, neg and mean: the forward keeps p for the
    first-order backward; with ``create_graph`` p is recomputed from the logits Tensor, so
    second-order gradients are exact.
    """

    name = "softmax_cross_entropy"

    @staticmethod
    def forward(ctx, z, y):
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=-1, keepdims=True)
        log_p = shifted - np.log(total)
        e /= total
        ctx.probs, ctx.log_p, ctx.n = e, log_p, max(1, z.size // z.shape[-1]) if z.ndim else 1
        ctx.save_for_backward(z, y)
        return -(y * log_p).sum() / ctx.n

    @staticmethod
    def backward(ctx, g):
        z, y = ctx.saved_tensors
        need_z, need_y = ctx.needs_input_grad
        graph = isinstance(z, am.Tensor) or isinstance(y, am.Tensor)
        gz = gy = None
        if need_z:
            p = am.softmax(z, -1) if isinstance(z, am.Tensor) else ctx.probs
            mass = y.sum(axis=-1, keepdims=True)
            gz = (p * mass - y) * (g / ctx.n)
        if need_y:
            log_p = am.log_softmax(z, -1) if graph and isinstance(z, am.Tensor) else ctx.log_p
            gy = log_p * (-g / ctx.n)
        return gz, gy


def softmax_cross_entropy(logits, y_true):
    """The batch mean of -sum(y_true * log_softmax(logits)) over the last axis, as one graph node."""
    return SoftmaxCrossEntropy.apply(logits, y_true)
