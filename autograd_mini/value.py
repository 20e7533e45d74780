"""``Value``: a scalar node with Python-float data, micrograd style, on the same engine.

Each op stores its local derivatives (d out / d input) next to the forward formula, so
backward is one uniform loop: ``input.grad += local * out.grad`` in topological order.
Values keep their graph after backward (for drawing it with data and gradients); leaves
accumulate across backward calls, intermediate gradients are recomputed each time.
"""

from __future__ import annotations

import math
import numbers
from operator import attrgetter

from .engine import topological_order

_prev_of = attrgetter("_prev")


def _power(a: float, b: float) -> float:
    """a ** b, with 0 ** (negative) = inf as in IEEE (and PyTorch) instead of ZeroDivisionError."""
    try:
        return a**b
    except ZeroDivisionError:
        return math.copysign(math.inf, a) if float(b).is_integer() and int(b) % 2 else math.inf


def _power_derivative(a: float, b: float) -> float:
    """d(a**b)/da = b a**(b-1), exactly 0 for b == 0 (also at a == 0, where it reads 0 * inf)."""
    return 0.0 if b == 0 else b * _power(a, b - 1)


class Value:
    """A scalar that remembers how it was computed. ``Value(3.0, label="x")``."""

    __slots__ = ("data", "grad", "_prev", "_local", "_op", "label", "__weakref__")

    def __init__(self, data, label: str = "", _prev: tuple = (), _local: tuple = (), _op: str = ""):
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value: expected a real number, got {type(data).__name__} ({data!r})")
        self.data = float(data)
        self.grad = 0.0
        self._prev = _prev
        self._local = _local
        self._op = _op
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- arithmetic: forward value, inputs, and d(out)/d(input) for each input ---------------
    def __add__(self, other):
        """z = a + b;  dz/da = 1, dz/db = 1"""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, "", (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        """z = a * b;  dz/da = b, dz/db = a"""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, "", (self, other), (other.data, self.data), "*")

    def __sub__(self, other):
        """z = a - b;  dz/da = 1, dz/db = -1"""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, "", (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        """z = a / b;  dz/da = 1/b, dz/db = -a/b^2"""
        other = other if isinstance(other, Value) else Value(other)
        b = other.data
        if b == 0.0:
            raise ZeroDivisionError(f"Value division by zero ({self.data!r} / 0.0)")
        return Value(self.data / b, "", (self, other), (1.0 / b, -self.data / (b * b)), "/")

    def __pow__(self, other):
        """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b log(a) (a Value exponent needs a > 0)"""
        a = self.data
        if isinstance(other, Value):
            b = other.data
            out = _power(a, b)
            dlog = out * math.log(a) if a > 0 else 0.0
            return Value(out, "", (self, other), (_power_derivative(a, b), dlog), "**")
        if not isinstance(other, numbers.Real):
            return NotImplemented
        return Value(_power(a, other), "", (self,), (_power_derivative(a, other),), f"**{other:g}")

    def __rpow__(self, other):
        return Value(other) ** self

    def __neg__(self):
        """z = -a;  dz/da = -1"""
        return Value(-self.data, "", (self,), (-1.0,), "neg")

    def __radd__(self, other):  # other + self, and sum() of Values starting at 0
        return Value(other) + self

    def __rmul__(self, other):
        return Value(other) * self

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) / self

    # ---- functions -------------------------------------------------------------------------------
    def exp(self):
        """z = e^a;  dz/da = e^a"""
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = math.inf
        return Value(out, "", (self,), (out,), "exp")

    def log(self):
        """z = ln(a);  dz/da = 1/a"""
        if self.data <= 0:
            raise ValueError(f"Value.log: expected a positive value, got {self.data!r}")
        return Value(math.log(self.data), "", (self,), (1.0 / self.data,), "log")

    def tanh(self):
        """z = tanh(a);  dz/da = 1 - z^2"""
        t = math.tanh(self.data)
        return Value(t, "", (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        """z = 1/(1+e^-a);  dz/da = z (1-z)"""
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Value(s, "", (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        """z = max(a, 0);  dz/da = 1 if a > 0 else 0  (relu'(0) = 0)"""
        x = self.data
        return Value(x if x > 0 else 0.0, "", (self,), (1.0 if x > 0 else 0.0,), "relu")

    # ---- backward ----------------------------------------------------------------------------------
    def backward(self) -> None:
        """Set ``.grad`` of every node to d(self)/d(node), walking the graph iteratively."""
        order = topological_order(self, _prev_of)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0
        for node in order:
            g = node.grad
            if g:
                for child, local in zip(node._prev, node._local):
                    child.grad += local * g
