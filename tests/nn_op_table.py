"""nn's op table: the fused ops and activations ``nn`` defines on the core's ``Function``
mechanism, held to the same finite-difference standard (``op_harness.py``)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from loss_op_rows import LOSS_OPS
from op_harness import MAX_SIDE, Op

import nn
from autograd_mini.testing import arrays, shapes


def _draw_dense(data):
    """x (n, k) or (b, n, k), kernel (k, m), bias (m,), an activation; relu pre-activations kept off 0."""
    batch = data.draw(st.lists(st.integers(1, MAX_SIDE), min_size=1, max_size=2))
    k, m = data.draw(st.integers(1, MAX_SIDE)), data.draw(st.integers(1, MAX_SIDE))
    x, kernel, bias = data.draw(arrays((*batch, k))), data.draw(arrays((k, m))), data.draw(arrays((m,)))
    activation = data.draw(st.sampled_from(["linear", "relu", "tanh", "sigmoid"]))
    if activation == "relu":
        assume(np.all(np.abs(x @ kernel + bias) > 1e-3))
    return [x, kernel, bias], {"activation": activation}


def _dense_ref(x, kernel, bias, activation):
    z = x @ kernel + bias
    return {"linear": z, "relu": np.maximum(z, 0), "tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z))}[activation]


def _draw_cross_entropy(data):
    """logits and (unnormalized, positive) targets of one shape, classes on the last axis."""
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    return [data.draw(arrays(shape)), data.draw(arrays(shape, low=0.1, high=1.0))], {}


def _cross_entropy_ref(z, y):
    log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return np.asarray(-np.sum(y * log_p) / max(1, z.size // z.shape[-1]))


NN_OPS = [
    # nn's fused ops are built on the same Function mechanism and held to the same standard
    Op("nn.dense", nn.dense, _dense_ref, _draw_dense, covers=()),
    Op(
        "nn.softmax_cross_entropy",
        nn.fused_cross_entropy.softmax_cross_entropy,
        _cross_entropy_ref,
        _draw_cross_entropy,
        covers=(),
    ),
    # losses (rows in loss_op_rows.py)
    *LOSS_OPS,
]
