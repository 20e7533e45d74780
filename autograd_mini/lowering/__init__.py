"""Lowering a captured step to one compiled loop kernel per stretch of array work.

``am.compile`` records a step as a flat program (``capture.py``). When numba is available and a
signature has been replayed long enough to pay for compiling, ``compile_program`` turns the
program into generated Python source of plain loops over fixed shapes (``emitter.py``) and
compiles it with numba: the whole forward, loss and backward run in one call.

Each op says how it lowers with ``register(cls, forward, backward)``:

- ``forward(L, ins, options) -> Var``: ``ins`` are the op's inputs as ``Var`` (arrays of the
  step) or Python constants, ``L`` the ``Emitter``; the result must have the shape and dtype the
  eager op produced (checked).
- ``backward(L, g, ins, out, options, needs) -> tuple``: one gradient ``Var`` (or None) per
  input, of the broadcast shape; reducing to each input's shape and dtype is done centrally,
  as in the engine.

A ``@am.replayable`` function may register an effect rule with ``register_effect(fn, rule)``;
``rule(L, args, kwargs) -> Var | tuple`` (its Python then never runs on replay). An op or
effect without a rule, or a rule raising ``NotLowerable`` (a shape too large for loops, a
dtype without a loop form), keeps the numpy replay: lowering is an optimisation, never a
requirement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .emitter import Emitter, NotLowerable, Var


class Rule(NamedTuple):
    """An op's lowering: ``forward`` and ``backward`` as documented in the module."""

    forward: Callable
    backward: Callable | None


RULES: dict[type, Rule] = {}
EFFECTS: dict[Callable, Callable] = {}


def register(cls: type, forward: Callable, backward: Callable | None = None) -> None:
    """Give the ``Function`` subclass ``cls`` a loop form (see the module docstring)."""
    RULES[cls] = Rule(forward, backward)


def register_effect(fn: Callable, rule: Callable) -> None:
    """Give the ``@am.replayable`` function ``fn`` a loop form: ``rule(L, args, kwargs)``."""
    EFFECTS[getattr(fn, "__wrapped__", fn)] = rule


def call_by_symbol(dispatcher, symbol: str):
    """A global for generated code that calls the compiled numba function ``dispatcher`` (its
    signatures compiled ahead) through the process-wide symbol ``symbol``, unlinked: LLVM does
    not optimize the callee again inside each kernel (``helpers.call_unlinked``)."""
    from ..numba_support import get_numba
    from .helpers import call_unlinked

    return call_unlinked(get_numba(), dispatcher, symbol)


from . import core_rules  # noqa: E402  (the core ops' loop forms; they use register above)

__all__ = [
    "EFFECTS",
    "RULES",
    "Emitter",
    "NotLowerable",
    "Rule",
    "Var",
    "call_by_symbol",
    "register",
    "register_effect",
]
