"""The lectures' backprop walkthroughs, computed by the engine (used by the examples and the main job).

- ``chain_rule()``: f = (x + y) z with x=-2, y=5, z=-4.
- the sigmoid neuron f = sigmoid(w0 x0 + w1 x1 + w2), w = [2, -3, -3], x = [-1, -2]: with ``Value``,
  with ``Tensor`` and by the hand-derived chain rule.
- one backprop step of the 1-1-1 sigmoid network, exact and as the lecture rounds it.
"""

from __future__ import annotations

import math

from autograd_mini import Value, sigmoid, tensor


def chain_rule():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return x, y, z, q, f


W, X = [2.0, -3.0, -3.0], [-1.0, -2.0]


def sigmoid_neuron_values():
    w = [Value(v, label=f"w{i}") for i, v in enumerate(W)]
    x = [Value(v, label=f"x{i}") for i, v in enumerate(X)]
    f = 1 / (1 + (-(w[0] * x[0] + w[1] * x[1] + w[2])).exp())
    f.label = "f"
    f.backward()
    return [v.grad for v in x], [v.grad for v in w], f


def sigmoid_neuron_tensors():
    w = tensor(W, requires_grad=True, name="w")
    x = tensor(X, requires_grad=True, name="x")
    f = sigmoid((w[:2] * x).sum() + w[2])
    f.backward()
    return x.grad.data.tolist(), w.grad.data.tolist()


def sigmoid_neuron_by_hand():
    dot = W[0] * X[0] + W[1] * X[1] + W[2]
    f = 1.0 / (1 + math.exp(-dot))
    ddot = (1 - f) * f  # sigmoid' = (1 - f) f
    return [W[0] * ddot, W[1] * ddot], [X[0] * ddot, X[1] * ddot, 1.0 * ddot]


START = {"w_h": 0.2, "b_h": 0.1, "w_o": 0.3, "b_o": 0.2}
X_ONE, Y_ONE, ETA = 1.0, 0.8, 0.5  # input, target, learning rate
LECTURE = {"w_o": 0.314477715, "b_o": 0.2253995, "w_h": 0.201867625, "b_h": 0.101867625}


def one_neuron_step():
    p = {k: Value(v, label=k) for k, v in START.items()}
    h = (p["w_h"] * X_ONE + p["b_h"]).sigmoid()
    y_o = (p["w_o"] * h + p["b_o"]).sigmoid()
    loss = (Y_ONE - y_o) ** 2 / 2
    loss.backward()
    grads = {k: v.grad for k, v in p.items()}
    return h.data, y_o.data, loss.data, grads, {k: START[k] - ETA * g for k, g in grads.items()}


def one_neuron_step_lecture():
    """The slide's arithmetic: h and y_o rounded to 2 decimals before the chain rule."""
    h, y_o = 0.57, 0.59
    delta_o = (y_o - Y_ONE) * y_o * (1 - y_o)
    delta_h = delta_o * START["w_o"] * h * (1 - h)
    grads = {"w_o": delta_o * h, "b_o": delta_o, "w_h": delta_h * X_ONE, "b_h": delta_h}
    return grads, {k: START[k] - ETA * g for k, g in grads.items()}
