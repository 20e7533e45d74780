"""Elementwise formulas written once and read three ways.

An elementwise op (``Elementwise``, below) writes its value and its gradient as Python
expressions over a namespace ``m`` of a few primitives (``exp``, ``log1p``, ``tanh``, ``expm1``,
``where``, ``maximum``, ``minimum``, ``step``, ``sigmoid``, ``log``, ``sqrt``, ``sin``, ``cos``,
``sign``, ``abs``, ``negative``) and the operators. The same formula runs

- on ndarrays with ``m = ARRAYS`` (numpy: the eager forward),
- on ndarrays or Tensors with ``m = dual`` (the backward, so it serves every order),
- on ``Expr`` with ``m = LOOP``: the result is the scalar expression a loop kernel evaluates per
  element (``autograd_mini.lowering`` reads it), so no op writes a template by hand.
"""

from __future__ import annotations

import inspect
import math
from types import SimpleNamespace

import numpy as np

from ..function import Function
from . import dual


def _text(value) -> str:
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return repr(value)
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return f"{{f}}({'math.nan' if math.isnan(value) else ('math.inf' if value > 0 else '-math.inf')})"
    return f"{{f}}({value!r})"


class Expr(str):
    """A scalar expression of generated loop code (``{0}``, ``{1}``, ... are the operands, ``{f}``
    the scalar type); operators on it build larger expressions."""

    def __neg__(self):
        return Expr(f"(-{self})")

    def __abs__(self):
        return Expr(f"abs({self})")


def _operator(op: str, reverse: bool = False):
    def method(self, other):
        a, b = (_text(other), str(self)) if reverse else (str(self), _text(other))
        return Expr(f"({a} {op} {b})")

    return method


for _name, _op in {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "ge": ">=", "gt": ">"}.items():
    setattr(Expr, f"__{_name}__", _operator(_op))
    setattr(Expr, f"__r{_name}__", _operator(_op, reverse=True))  # (unused for comparisons)


def _sigmoid(m, x):  # m.sigmoid(x): the Sigmoid op's own formula, read with the namespace m
    from .activation import Sigmoid

    return Sigmoid.value(x, m)


def _call(function: str):
    return lambda x: Expr(f"{function}({_text(x)})")


_MATH = ("exp", "log", "sqrt", "sin", "cos", "log1p", "tanh", "expm1")  # (the same names in numpy and math)
# the primitives as scalar loop code (``math`` is the generated code's module); NaN propagates
# through maximum and minimum as in numpy: the comparison is False for a NaN ``a``
LOOP = SimpleNamespace(
    **{name: _call(f"math.{name}") for name in _MATH},
    abs=_call("abs"),
    negative=_call("-"),
    maximum=lambda a, b: Expr(f"({_text(a)} if not {_text(a)} < {_text(b)} else {_text(b)})"),
    minimum=lambda a, b: Expr(f"({_text(a)} if not {_text(a)} > {_text(b)} else {_text(b)})"),
    where=lambda c, a, b: Expr(f"({_text(a)} if {_text(c)} else {_text(b)})"),
    step=lambda x: Expr(f"({{f}}(1.0) if {_text(x)} > {{f}}(0.0) else {{f}}(0.0))"),
    sign=lambda x: Expr(f"({{f}}(1.0) if {_text(x)} > 0 else ({{f}}(-1.0) if {_text(x)} < 0 else {{f}}(0.0)))"),
    sigmoid=lambda x: _sigmoid(LOOP, x),
)
# the primitives on ndarrays: numpy's (a namespace of plain attributes: the eager hot path reads it)
ARRAYS = SimpleNamespace(
    **{name: getattr(np, name) for name in (*_MATH, "abs", "sign", "negative", "maximum", "minimum", "where")},
    step=lambda x: x > 0,
    sigmoid=lambda x: _sigmoid(ARRAYS, x),
)


class Elementwise(Function):
    """An elementwise op defined by two formulas, each written once over the primitives of
    ``ops.formula`` (numpy's, the Tensors' and the loop kernels' alike):

    - ``value(x, m, **options)``: the output y;
    - ``grad(g, x, y, m, **options)``: the gradient of x from the upstream gradient g, the input x
      and the output y; ``saves`` says which of x and y it reads ("x", "y", "xy" or "").

    ``forward`` runs ``value`` on arrays, ``backward`` runs ``grad`` with ``dual`` (so it serves
    every order), the loop kernels run both on scalar expressions, and nn's fused Dense reuses
    them. A subclass is its public function too (``Elementwise.registry``; options go by keyword).
    """

    saves = "y"
    errstate = None  # numpy floating-point warnings the forward silences, e.g. {"over": "ignore"}
    options: dict = {}
    registry: dict = {}  # name -> class, in definition order

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Elementwise.registry.setdefault(cls.name, cls)  # (a later class of the same name is no public op)

    @staticmethod
    def value(x, m, **options):
        """The output y of input x, written with the primitives of ``m``."""
        raise NotImplementedError

    @staticmethod
    def grad(g, x, y, m, **options):
        """The gradient of x: the upstream gradient g times dy/dx, written with the primitives of ``m``."""
        raise NotImplementedError

    @staticmethod
    def forward(ctx, a, **options):
        """``value`` on arrays; saves what ``grad`` reads (``saves``)."""
        cls = type(ctx)
        if cls.errstate is not None:  # (exp overflowing to inf, log(0) = -inf: numpy's warnings would be noise)
            with np.errstate(**cls.errstate):
                out = cls.value(a, ARRAYS, **options)
        else:
            out = cls.value(a, ARRAYS, **options) if options else cls.value(a, ARRAYS)
        if options:
            ctx.options = options
        saves = cls.saves  # (save_for_backward, inlined: the hot path)
        ctx.saved = (out,) if saves == "y" else (a,) if saves == "x" else (a, out) if saves else ()
        return out

    @staticmethod
    def backward(ctx, g):
        """``grad`` with ``dual``: on arrays, or on Tensors (create_graph) for every order."""
        cls, saved, options = type(ctx), ctx.saved, ctx.options
        saves = cls.saves
        x = saved[0] if "x" in saves else None
        y = saved[-1] if "y" in saves else None
        return cls.grad(g, x, y, dual, **options) if options else cls.grad(g, x, y, dual)


def _public(cls):
    """``cls``'s public function: ``name(x)``, options by keyword or in ``value``'s order."""
    names = [p for p in inspect.signature(cls.value).parameters][2:]
    if not names:
        return cls.apply

    def op(a, *args, **options):
        return cls.apply(a, **dict(zip(names, args)), **options)

    op.__name__ = op.__qualname__ = cls.name
    op.__doc__ = cls.__doc__
    return op


def public_functions(module: str) -> dict:
    """name -> public function of the ``Elementwise`` ops defined in ``module``."""
    return {name: _public(cls) for name, cls in Elementwise.registry.items() if cls.__module__ == module}


def loop_template(formula, count: int, **options) -> str:
    """The loop expression of ``formula`` applied to operands ``{0}`` .. ``{count - 1}``."""
    return _text(formula(*[Expr(f"{{{i}}}") for i in range(count)], LOOP, **options))
