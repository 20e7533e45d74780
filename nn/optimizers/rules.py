"""Each elementwise optimizer rule, written once: a pure function that numpy evaluates on whole
arrays and numba compiles into a per-element loop (``nn.optimizers.kernels``).

A rule is ``rule(p, g, *slots, *scalars) -> (p, *slots)``: the variable, its gradient, its slot
variables (in the order the optimizer names them) and the step's scalars, already cast to the
variable's dtype (``fused.as_operand``, Keras 3's cast). It returns the new values of the
variable and of each slot. The same text serves both paths:

- numpy (``update``, ``apply``): the arguments are arrays. An augmented assignment (``m += ...``)
  writes the array in place, exactly as the former ``out=`` passes did; a name that is rebound
  (``p = ...``) is copied back into its array afterwards. Each operation rounds to the dtype,
  since every operand has it.
- numba (``loop``): the arguments are one element of each array; a loop ``for k in
  range(p.size)`` calls the rule (inlined) and stores what it returns. The loop takes the
  scalars as one tuple: ``kernel(p, g, *slots, scalars)``.

So that both give the same bits, a rule uses only ``+ - * /``, unary ``-``, ``np.sqrt``,
``np.abs`` and the helpers below, never a numeric literal (a literal is float64/int64 in numba
and would promote a float32 element: every constant is a scalar argument). The helpers follow
numpy's rules for NaN, ties and signed zeros, which numba's scalar ``np.maximum``/``np.sign``
do not (their per-element forms are ``_numba_forms``, registered when numba compiles a rule).
"""

from __future__ import annotations

import math
import types

import numpy as np


# ---- helpers with numpy's rules (arrays: numpy itself; elements: ``_numba_forms``) --------------
def maximum(a, b):
    """``np.maximum``: NaN when either is NaN, else the larger; a tie (+0, -0) gives ``b``."""
    return np.maximum(a, b)


def sign(x):
    """``np.sign``: -1, +1, +0 for both zeros, NaN stays NaN."""
    return np.sign(x)


def clip(x, low, high):
    """``np.clip``: ``min(max(x, low), high)`` with ``maximum``'s NaN and tie rules (NaN stays)."""
    return np.clip(x, low, high)


def power(x, exponent):
    """``np.power(x, exponent)``; numpy computes the exponents 0.5, 1 and 2 as ``sqrt(x)``, ``x``
    and ``x * x``, which is all a loop may take (``loopable``): any other exponent goes to a pow
    whose rounding depends on numpy's build."""
    return np.power(x, exponent)


# ---- the rules -------------------------------------------------------------------------------
def sgd(p, g, lr):
    """SGD: ``p -= g lr``."""
    p -= g * lr
    return (p,)


def sgd_momentum(p, g, m, lr, momentum):
    """SGD with momentum: ``m = m momentum - g lr``; ``p += m``."""
    m *= momentum
    m -= g * lr
    p += m
    return p, m


def sgd_nesterov(p, g, m, lr, momentum):
    """Nesterov: ``m = m momentum - g lr``; ``p = p - g lr + m momentum``."""
    step = g * lr
    m *= momentum
    m -= step
    p -= step
    p += m * momentum
    return p, m


def rmsprop(p, g, v, rho, one_minus_rho, epsilon, lr):
    """RMSprop: ``v = v rho + g^2 (1 - rho)``; ``p -= g / sqrt(v + eps) lr``."""
    v *= rho
    v += g * g * one_minus_rho
    p -= g / np.sqrt(v + epsilon) * lr
    return p, v


def rmsprop_momentum(p, g, v, m, rho, one_minus_rho, epsilon, lr, momentum):
    """RMSprop with momentum: ``m = m momentum + g / sqrt(v + eps) lr``; ``p -= m``."""
    v *= rho
    v += g * g * one_minus_rho
    m *= momentum
    m += g / np.sqrt(v + epsilon) * lr
    p -= m
    return p, v, m


def rmsprop_centered(p, g, v, a, rho, one_minus_rho, epsilon, lr):
    """Centered RMSprop: ``a = a rho + g (1 - rho)``; ``p -= g / sqrt(v - a^2 + eps) lr``."""
    v *= rho
    v += g * g * one_minus_rho
    a *= rho
    a += g * one_minus_rho
    p -= g / np.sqrt(v - a * a + epsilon) * lr
    return p, v, a


def rmsprop_centered_momentum(p, g, v, m, a, rho, one_minus_rho, epsilon, lr, momentum):
    """Centered RMSprop with momentum (slots in build order: velocity, momentum, average_gradient)."""
    v *= rho
    v += g * g * one_minus_rho
    a *= rho
    a += g * one_minus_rho
    m *= momentum
    m += g / np.sqrt(v - a * a + epsilon) * lr
    p -= m
    return p, v, m, a


def adam(p, g, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """Adam: ``m += (g - m)(1 - b1)``; ``v += (g^2 - v)(1 - b2)``; ``p -= m / (sqrt(v) + eps) alpha``
    (alpha: the bias-corrected rate of the step)."""
    m += (g - m) * one_minus_beta_1
    v += (g * g - v) * one_minus_beta_2
    p -= m / (np.sqrt(v) + epsilon) * alpha
    return p, m, v


def adam_amsgrad(p, g, m, v, v_hat, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """AMSGrad: as ``adam`` with ``v_hat = maximum(v_hat, v)`` in the denominator."""
    m += (g - m) * one_minus_beta_1
    v += (g * g - v) * one_minus_beta_2
    v_hat = maximum(v_hat, v)
    p -= m / (np.sqrt(v_hat) + epsilon) * alpha
    return p, m, v, v_hat


def nadam(p, g, m, v, one_minus_beta_1, one_minus_beta_2, m_scale, g_scale, v_scale, epsilon, lr):
    """Nadam: Adam's moments; ``p -= (m c_m + g c_g) / (sqrt(v c_v) + eps) lr``."""
    m += (g - m) * one_minus_beta_1
    v += (g * g - v) * one_minus_beta_2
    p -= (m * m_scale + g * g_scale) / (np.sqrt(v * v_scale) + epsilon) * lr
    return p, m, v


def adamax(p, g, m, u, one_minus_beta_1, beta_2, epsilon, bias_correction, lr):
    """Adamax: ``m += (g - m)(1 - b1)``; ``u = maximum(u b2, |g|)``; ``p -= m / ((u + eps) c) lr``."""
    m += (g - m) * one_minus_beta_1
    u *= beta_2
    u = maximum(u, np.abs(g))
    p -= m / ((u + epsilon) * bias_correction) * lr
    return p, m, u


def adagrad(p, g, accumulator, epsilon, lr):
    """Adagrad: ``a += g^2``; ``p -= g / sqrt(a + eps) lr``."""
    accumulator += g * g
    p -= g / np.sqrt(accumulator + epsilon) * lr
    return p, accumulator


def adadelta(p, g, accumulated_grad, accumulated_delta_var, rho, one_minus_rho, epsilon, lr):
    """Adadelta: ``a = a rho + g^2 (1 - rho)``; ``d = -(sqrt(s + eps) g / sqrt(a + eps))``;
    ``s = s rho + d^2 (1 - rho)``; ``p += d lr``."""
    a, s = accumulated_grad, accumulated_delta_var
    a *= rho
    a += g * g * one_minus_rho
    delta = -(np.sqrt(s + epsilon) * g / np.sqrt(a + epsilon))
    s *= rho
    s += delta * delta * one_minus_rho
    p += delta * lr
    return p, a, s


def lion(p, g, m, beta_1, one_minus_beta_1, lr, beta_2, one_minus_beta_2):
    """Lion: ``p -= sign(m b1 + g (1 - b1)) lr``; ``m = m b2 + g (1 - b2)``."""
    p -= sign(m * beta_1 + g * one_minus_beta_1) * lr
    m *= beta_2
    m += g * one_minus_beta_2
    return p, m


def ftrl(p, g, n, z, shrinkage, exponent, lr, neg_l1, l1, two_l2):
    """FTRL-Proximal: ``gs = g + 2 l2_shrinkage p``, ``n' = n + g^2``;
    ``z += gs - (n'^e - n^e) / lr p``; ``p = (clip(z, -l1, l1) - z) / (n'^e / lr + 2 l2)``; ``n = n'``
    (``e = -learning_rate_power``)."""
    grad_to_use = g + shrinkage * p
    new_n = n + g * g
    new_n_power = power(new_n, exponent)
    z += grad_to_use - (new_n_power - power(n, exponent)) / lr * p
    quadratic = new_n_power / lr + two_l2
    p = (clip(z, neg_l1, l1) - z) / quadratic
    return p, new_n, z


# ---- the base class' own passes ----------------------------------------------------------------
def weight_decay(p, scale):
    """Decoupled weight decay: ``p -= p scale`` (scale = weight_decay * lr)."""
    p -= p * scale
    return (p,)


def ema(average, p, momentum, one_minus_momentum):
    """The weights' moving average (``use_ema``): ``average = average momentum + p (1 - momentum)``."""
    average *= momentum
    average += p * one_minus_momentum
    return (average,)


RULES = {
    f.__name__: f
    for f in (
        weight_decay,
        ema,
        sgd,
        sgd_momentum,
        sgd_nesterov,
        rmsprop,
        rmsprop_momentum,
        rmsprop_centered,
        rmsprop_centered_momentum,
        adam,
        adam_amsgrad,
        adagrad,
        adadelta,
        adamax,
        nadam,
        lion,
        ftrl,
    )
}
"""nn's rules by name: only these have loop kernels (a rule of a user's subclass stays numpy)."""

_SLOTS = {"sgd": 0, "sgd_momentum": 1, "sgd_nesterov": 1, "rmsprop": 1, "rmsprop_momentum": 2}
_SLOTS.update(rmsprop_centered=2, rmsprop_centered_momentum=3, adam=2, adam_amsgrad=3, adagrad=1)
_SLOTS.update(adadelta=2, adamax=2, nadam=2, lion=1, ftrl=2)


def arrays(name: str) -> str:
    """The array arguments of rule ``name``: "w" updated (and returned), "r" read only."""
    if name == "weight_decay":
        return "w"
    if name == "ema":
        return "wr"
    return "wr" + "w" * _SLOTS[name]


def loopable(rule, scalars) -> bool:
    """Whether the loop form gives numpy's bits for these scalars: FTRL only for the exponents
    numpy computes exactly (``power``); every other rule always."""
    return rule is not ftrl or scalars[1] in (0.5, 1.0, 2.0)


# ---- numpy: the rule on whole arrays -------------------------------------------------------------
def update(rule, p, g, slots, scalars) -> None:
    """``rule`` on whole arrays: ``p`` and ``slots`` updated in place (a rebound name copied back)."""
    out = rule(p, g, *slots, *scalars)
    if out[0] is not p:
        np.copyto(p, out[0])
    if slots:
        for slot, value in zip(slots, out[1:]):
            if value is not slot:
                np.copyto(slot, value)


def apply(rule, target, others, scalars) -> None:
    """A base-class pass (``weight_decay``, ``ema``) on whole arrays: ``target`` updated in place."""
    (value,) = rule(target, *others, *scalars)
    if value is not target:
        np.copyto(target, value)


# ---- numba: the rule per element ----------------------------------------------------------------
def _loop_w(p, scalars):
    for k in range(p.size):
        (p[k],) = RULE(p[k], *scalars)  # noqa: F821 (RULE: the compiled rule, bound by ``loop``)


def _loop_wr(p, g, scalars):
    for k in range(p.size):
        (p[k],) = RULE(p[k], g[k], *scalars)  # noqa: F821


def _loop_wrw(p, g, a, scalars):
    for k in range(p.size):
        p[k], a[k] = RULE(p[k], g[k], a[k], *scalars)  # noqa: F821


def _loop_wrww(p, g, a, b, scalars):
    for k in range(p.size):
        p[k], a[k], b[k] = RULE(p[k], g[k], a[k], b[k], *scalars)  # noqa: F821


def _loop_wrwww(p, g, a, b, c, scalars):
    for k in range(p.size):
        p[k], a[k], b[k], c[k] = RULE(p[k], g[k], a[k], b[k], c[k], *scalars)  # noqa: F821


_LOOPS = {"w": _loop_w, "wr": _loop_wr, "wrw": _loop_wrw, "wrww": _loop_wrww, "wrwww": _loop_wrwww}


# The guarded loops of a compiled step: each element's old values copied out (``cp``, ``ca``, ...)
# as the rule reads them, and whether every new weight is finite returned (nn's rule: a step that
# would leave a non-finite weight is undone from the copies). One pass over the arrays instead of
# a copy pass, the update and a check pass.
def _guard_wr(p, g, cp, scalars):
    ok = True
    for k in range(p.size):
        x = p[k]
        cp[k] = x
        (x,) = RULE(x, g[k], *scalars)  # noqa: F821
        p[k] = x
        ok &= math.isfinite(x)
    return ok


def _guard_wrw(p, g, a, cp, ca, scalars):
    ok = True
    for k in range(p.size):
        x, y = p[k], a[k]
        cp[k], ca[k] = x, y
        x, y = RULE(x, g[k], y, *scalars)  # noqa: F821
        p[k], a[k] = x, y
        ok &= math.isfinite(x)
    return ok


def _guard_wrww(p, g, a, b, cp, ca, cb, scalars):
    ok = True
    for k in range(p.size):
        x, y, z = p[k], a[k], b[k]
        cp[k], ca[k], cb[k] = x, y, z
        x, y, z = RULE(x, g[k], y, z, *scalars)  # noqa: F821
        p[k], a[k], b[k] = x, y, z
        ok &= math.isfinite(x)
    return ok


def _guard_wrwww(p, g, a, b, c, cp, ca, cb, cc, scalars):
    ok = True
    for k in range(p.size):
        x, y, z, w = p[k], a[k], b[k], c[k]
        cp[k], ca[k], cb[k], cc[k] = x, y, z, w
        x, y, z, w = RULE(x, g[k], y, z, w, *scalars)  # noqa: F821
        p[k], a[k], b[k], c[k] = x, y, z, w
        ok &= math.isfinite(x)
    return ok


_GUARDS = {"wr": _guard_wr, "wrw": _guard_wrw, "wrww": _guard_wrww, "wrwww": _guard_wrwww}


def loop(name: str, compiled_rule):
    """The per-element loop of rule ``name`` (a Python function for numba to compile): its array
    pattern's loop with ``RULE`` bound to ``compiled_rule``, named ``loop_<name>`` (numba's cache
    files and the step kernel cache tell the rules apart by that name and this file's digest)."""
    template = _LOOPS[arrays(name)]
    function = types.FunctionType(template.__code__, {**globals(), "RULE": compiled_rule}, f"loop_{name}")
    function.__qualname__ = f"loop_{name}"
    return function


def guarded_loop(name: str, compiled_rule):
    """The guarded per-element loop of update rule ``name``, ``guard_<name>(p, g, *slots, *copies,
    scalars) -> bool``: the rule's loop that also copies each old value (weight, then slots) into
    ``copies`` and returns whether every new weight is finite (for a compiled step's undo)."""
    template = _GUARDS[arrays(name)]
    function = types.FunctionType(template.__code__, {**globals(), "RULE": compiled_rule}, f"guard_{name}")
    function.__qualname__ = f"guard_{name}"
    return function


def _numba_forms(numba) -> None:
    """The helpers per element, with numpy's rules (numba's scalar ``np.maximum`` keeps the first
    on a tie and its ``np.sign(-0.0)`` is -0.0)."""
    from numba.extending import overload
    from numba.np.numpy_support import as_dtype

    @overload(maximum, inline="always")
    def _maximum(a, b):
        return lambda a, b: a if (a > b or a != a) else b

    def _minimum(a, b):
        return a if (a < b or a != a) else b

    minimum = numba.njit(inline="always")(_minimum)

    @overload(clip, inline="always")
    def _clip(x, low, high):
        def impl(x, low, high):
            m = x if (x > low or x != x) else low
            return minimum(m, high)

        return impl

    @overload(sign, inline="always")
    def _sign(x):
        one, zero = as_dtype(x).type(1), as_dtype(x).type(0)

        def impl(x):
            if x > zero:
                return one
            if x < zero:
                return -one
            return x if x != x else zero

        return impl

    @overload(power, inline="always")
    def _power(x, exponent):
        half, one, two = as_dtype(x).type(0.5), as_dtype(x).type(1), as_dtype(x).type(2)

        def impl(x, exponent):
            if exponent == half:
                return np.sqrt(x)
            if exponent == two:
                return x * x
            if exponent == one:
                return x
            return np.power(x, exponent)  # (no loop takes it: ``loopable``)

        return impl
