"""The fused softmax cross-entropy op, built on ``autograd_mini.Function``.

``SoftmaxCrossEntropy``: the batch-mean cross-entropy of logits in one node (stable, with
gradient (softmax - y) / n), used by the categorical losses whenever logits are known (a
softmax output carries its logits, as in Keras). The gradient formulas use operators both
ndarrays and Tensors support, so second-order gradients through this node work too.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am
from autograd_mini.ops.activation import softmax_parts


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
        shifted, e, total = softmax_parts(z, -1)
        log_p = shifted - np.log(total)
        e /= total
        ctx.probs, ctx.log_p, ctx.n = e, log_p, max(1, z.size // z.shape[-1]) if z.ndim else 1
        ctx.save_for_backward(z, y)
        return -(y * log_p).sum() / ctx.n

    @staticmethod
    def composite(z, y):
        """The same loss from core ops (log_softmax, mul, sum, neg, div): what drawings with
        ``expand_fused=True`` show."""
        n = max(1, z.size // z.shape[-1]) if z.ndim else 1
        return -(y * am.log_softmax(z, -1)).sum() / n

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
