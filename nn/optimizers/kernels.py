"""Fused optimizer updates: one compiled loop per variable (numba), bit-for-bit the numpy rules.

Each rule below is the per-element transcription of its optimizer's numpy ``update_step``: the
same operations, in the same order, each rounded to the parameter's dtype as numpy rounds its
``out=`` temporaries. A kernel is ``kernel(p, g, *slots, *scalars)`` on flat 1-D C-contiguous
arrays of one dtype (float32 or float64), written in place; the scalars are numpy scalars of that
dtype, cast exactly as numpy casts a Python float meeting an array of that dtype (NEP 50).

Compiled with ``numba.njit(cache=True, error_model="numpy")``: no fastmath (so no reassociation
and no FMA contraction), no parallel; ``error_model="numpy"`` gives IEEE results (inf, nan) for a
division by zero, as numpy does, instead of raising. This module imports numba only when a
kernel is first asked for (``kernel(name, dtype)``), never on ``import nn``. The on-disk cache
lives in ``nn/optimizers/__pycache__`` (numba's in-tree locator) when that directory is
writable, else in numba's user-wide cache (``~/.cache/numba`` or ``NUMBA_CACHE_DIR`` when set);
when no cache can be written, the kernel is compiled without one (a warning, never an error).
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np

from autograd_mini.numba_support import get_numba


# ---- the rules (plain Python: numba compiles them; each argument after the arrays is a scalar) --
def sgd(p, g, lr):
    """SGD without momentum: ``p -= g * lr``."""
    for k in range(p.size):
        p[k] = p[k] - g[k] * lr


def sgd_momentum(p, g, m, lr, momentum):
    """SGD with momentum: ``m = m * momentum - g * lr``; ``p += m``."""
    for k in range(p.size):
        t = g[k] * lr
        mk = m[k] * momentum - t
        m[k] = mk
        p[k] = p[k] + mk


def sgd_nesterov(p, g, m, lr, momentum):
    """SGD with Nesterov momentum: ``m = m * momentum - g * lr``; ``p = p - g * lr + m * momentum``."""
    for k in range(p.size):
        t = g[k] * lr
        mk = m[k] * momentum - t
        m[k] = mk
        p[k] = (p[k] - t) + mk * momentum


def rmsprop(p, g, v, rho, one_minus_rho, epsilon, lr):
    """RMSprop: ``v = v * rho + g * g * (1 - rho)``; ``p -= g / sqrt(v + eps) * lr``."""
    for k in range(p.size):
        gk = g[k]
        vk = v[k] * rho + (gk * gk) * one_minus_rho
        v[k] = vk
        p[k] = p[k] - (gk / math.sqrt(vk + epsilon)) * lr


def rmsprop_momentum(p, g, v, m, rho, one_minus_rho, epsilon, lr, momentum):
    """RMSprop with momentum: ``m = m * momentum + g / sqrt(v + eps) * lr``; ``p -= m``."""
    for k in range(p.size):
        gk = g[k]
        vk = v[k] * rho + (gk * gk) * one_minus_rho
        v[k] = vk
        mk = m[k] * momentum + (gk / math.sqrt(vk + epsilon)) * lr
        m[k] = mk
        p[k] = p[k] - mk


def rmsprop_centered(p, g, v, a, rho, one_minus_rho, epsilon, lr):
    """Centered RMSprop: ``a = a * rho + g * (1 - rho)``; ``p -= g / sqrt(v - a * a + eps) * lr``."""
    for k in range(p.size):
        gk = g[k]
        vk = v[k] * rho + (gk * gk) * one_minus_rho
        v[k] = vk
        ak = a[k] * rho + gk * one_minus_rho
        a[k] = ak
        p[k] = p[k] - (gk / math.sqrt((vk - ak * ak) + epsilon)) * lr


def rmsprop_centered_momentum(p, g, v, m, a, rho, one_minus_rho, epsilon, lr, momentum):
    """Centered RMSprop with momentum (slots in build order: velocity, momentum, average_gradient)."""
    for k in range(p.size):
        gk = g[k]
        vk = v[k] * rho + (gk * gk) * one_minus_rho
        v[k] = vk
        ak = a[k] * rho + gk * one_minus_rho
        a[k] = ak
        mk = m[k] * momentum + (gk / math.sqrt((vk - ak * ak) + epsilon)) * lr
        m[k] = mk
        p[k] = p[k] - mk


def adam(p, g, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """Adam: ``m += (g - m)(1 - b1)``; ``v += (g g - v)(1 - b2)``; ``p -= m / (sqrt(v) + eps) * alpha``."""
    for k in range(p.size):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * one_minus_beta_1
        m[k] = mk
        vk = v[k] + ((gk * gk) - v[k]) * one_minus_beta_2
        v[k] = vk
        p[k] = p[k] - (mk / (math.sqrt(vk) + epsilon)) * alpha


def adam_amsgrad(p, g, m, v, v_hat, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """Adam with AMSGrad: as ``adam`` with ``v_hat = maximum(v_hat, v)`` (numpy's NaN rule) in the denominator."""
    for k in range(p.size):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * one_minus_beta_1
        m[k] = mk
        vk = v[k] + ((gk * gk) - v[k]) * one_minus_beta_2
        v[k] = vk
        hk = v_hat[k]
        if not (hk > vk or hk != hk):  # np.maximum's rule: the second on ties (+-0), NaN propagates
            hk = vk
        v_hat[k] = hk
        p[k] = p[k] - (mk / (math.sqrt(hk) + epsilon)) * alpha


def adagrad(p, g, accumulator, epsilon, lr):
    """Adagrad: ``a += g g``; ``p -= g / sqrt(a + eps) * lr``."""
    for k in range(p.size):
        gk = g[k]
        ak = accumulator[k] + gk * gk
        accumulator[k] = ak
        p[k] = p[k] - (gk / math.sqrt(ak + epsilon)) * lr


def adadelta(p, g, accumulated_grad, accumulated_delta_var, rho, one_minus_rho, epsilon, lr):
    """Adadelta: ``a = a rho + g g (1 - rho)``; ``d = -(sqrt(s + eps) g / sqrt(a + eps))``;
    ``s = s rho + d d (1 - rho)``; ``p += d lr``."""
    for k in range(p.size):
        gk = g[k]
        ak = accumulated_grad[k] * rho + (gk * gk) * one_minus_rho
        accumulated_grad[k] = ak
        sk = accumulated_delta_var[k]
        delta = -((math.sqrt(sk + epsilon) * gk) / math.sqrt(ak + epsilon))
        accumulated_delta_var[k] = sk * rho + (delta * delta) * one_minus_rho
        p[k] = p[k] + delta * lr


def adamax(p, g, m, u, one_minus_beta_1, beta_2, epsilon, bias_correction, lr):
    """Adamax: ``m += (g - m)(1 - b1)``; ``u = maximum(u b2, |g|)``; ``p -= m / ((u + eps) c) * lr``."""
    for k in range(p.size):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * one_minus_beta_1
        m[k] = mk
        uk = u[k] * beta_2
        ag = abs(gk)
        if not (uk > ag or uk != uk):  # np.maximum's rule
            uk = ag
        u[k] = uk
        p[k] = p[k] - (mk / ((uk + epsilon) * bias_correction)) * lr


def nadam(p, g, m, v, one_minus_beta_1, one_minus_beta_2, m_scale, g_scale, v_scale, epsilon, lr):
    """Nadam: Adam's moments; ``m_hat = m c_m + g c_g``; ``p -= m_hat / (sqrt(v c_v) + eps) * lr``."""
    for k in range(p.size):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * one_minus_beta_1
        m[k] = mk
        vk = v[k] + ((gk * gk) - v[k]) * one_minus_beta_2
        v[k] = vk
        m_hat = mk * m_scale + gk * g_scale
        p[k] = p[k] - (m_hat / (math.sqrt(vk * v_scale) + epsilon)) * lr


def lion(p, g, m, beta_1, one_minus_beta_1, lr, beta_2, one_minus_beta_2):
    """Lion: ``p -= sign(m b1 + g (1 - b1)) lr`` (numpy's sign: 0 for +-0, NaN stays); ``m = m b2 + g (1 - b2)``."""
    for k in range(p.size):
        gk = g[k]
        mk = m[k]
        c = mk * beta_1 + gk * one_minus_beta_1
        s = np.sign(c)  # numba's np.sign keeps the dtype: +-1, 0 for +-0, NaN stays
        p[k] = p[k] - s * lr
        m[k] = mk * beta_2 + gk * one_minus_beta_2


def ftrl(p, g, n, z, shrinkage, power, lr, neg_l1, l1, two_l2):
    """FTRL-Proximal, as ``Ftrl.update_step`` (numpy's clip rule). ``power`` is 0.5, 1 or 2 only:
    numpy's ``np.power(array, scalar)`` computes those as sqrt, copy and square (its fast path);
    any other exponent goes to a pow whose rounding depends on numpy's build, so it has no kernel."""
    for k in range(p.size):
        gk, pk, nk = g[k], p[k], n[k]
        grad_to_use = gk + shrinkage * pk
        new_n = nk + gk * gk
        if power == 0.5:
            new_n_power, n_power = math.sqrt(new_n), math.sqrt(nk)
        elif power == 2:
            new_n_power, n_power = new_n * new_n, nk * nk
        else:
            new_n_power, n_power = new_n, nk
        z[k] = z[k] + (grad_to_use - ((new_n_power - n_power) / lr) * pk)
        zk = z[k]
        quadratic = new_n_power / lr + two_l2
        c = zk  # np.clip's rule: z itself unless strictly outside [-l1, l1] (so +-0 and NaN stay)
        if c < neg_l1:
            c = neg_l1
        elif c > l1:
            c = l1
        p[k] = (c - zk) / quadratic
        n[k] = new_n


# ---- the base class' own passes ---------------------------------------------------------------
def weight_decay(p, scale):
    """Decoupled weight decay (``Optimizer._update``): ``p -= p * scale``, scale = weight_decay * lr."""
    for k in range(p.size):
        pk = p[k]
        p[k] = pk - pk * scale


def ema(average, p, momentum, one_minus_momentum):
    """The weights' moving average (``use_ema``): ``average = average * momentum + p * (1 - momentum)``."""
    for k in range(average.size):
        average[k] = average[k] * momentum + p[k] * one_minus_momentum


_RULES = {
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
_compiled: dict = {}
_lock = threading.Lock()


def _signature(numba, rule, dtype):
    """``void(arrays..., scalars...)``: 1-D C arrays, written ("w") or read only ("r", a writable
    array converts to it), as ``_arrays(name)`` says; then scalars of ``dtype``."""
    scalar = numba.from_dtype(np.dtype(dtype))
    kinds = {"w": numba.types.Array(scalar, 1, "C"), "r": numba.types.Array(scalar, 1, "C", readonly=True)}
    arrays = _arrays(rule.__name__)
    n_scalars = rule.__code__.co_argcount - len(arrays)
    return numba.types.void(*[kinds[c] for c in arrays], *([scalar] * n_scalars))


def _arrays(name: str) -> str:
    """The array arguments of kernel ``name``: "w" written in place, "r" read only."""
    if name == "weight_decay":
        return "w"
    if name == "ema":
        return "wr"
    return "wr" + "w" * _SLOT_COUNTS[name]


_SLOT_COUNTS = {
    "sgd": 0,
    "sgd_momentum": 1,
    "sgd_nesterov": 1,
    "rmsprop": 1,
    "rmsprop_momentum": 2,
    "rmsprop_centered": 2,
    "rmsprop_centered_momentum": 3,
    "adam": 2,
    "adam_amsgrad": 3,
    "adagrad": 1,
    "adadelta": 2,
    "adamax": 2,
    "nadam": 2,
    "lion": 1,
    "ftrl": 2,
}


def _compile(numba, rule, dtype):
    """The rule compiled for ``dtype`` only (further compilation disabled, so a wrong argument type
    raises instead of silently compiling a differently rounded loop); on-disk cache when possible."""
    signature = _signature(numba, rule, dtype)
    try:
        dispatcher = numba.njit(cache=True, error_model="numpy")(rule)
        dispatcher.compile(signature)
    except Exception as error:  # no writable cache anywhere, or a failing save: compile without one
        warnings.warn(
            f"nn.optimizers.kernels: numba could not cache the {rule.__name__!r} kernel ({error}); "
            "compiling it without the on-disk cache",
            RuntimeWarning,
            stacklevel=3,
        )
        dispatcher = numba.njit(cache=False, error_model="numpy")(rule)
        dispatcher.compile(signature)
    dispatcher.disable_compile()
    return dispatcher


def kernel(name: str, dtype):
    """The compiled kernel ``name`` (one of ``KERNEL_NAMES``) for ``dtype`` (float32 or float64),
    or None when numba is unavailable or turned off. Compiled once per process and dtype."""
    found = _compiled.get((name, getattr(dtype, "char", None)))
    if found and get_numba() is not None:  # the common case: compiled, numba on
        return found
    if name not in _RULES:
        raise ValueError(f"kernel: unknown kernel {name!r}; expected one of {sorted(_RULES)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"kernel: dtype must be float32 or float64, got {dtype}")
    numba = get_numba()
    if numba is None:
        return None
    key = (name, dtype.char)
    found = _compiled.get(key)
    if found is None:
        with _lock:
            found = _compiled.get(key)
            if found is None:
                try:
                    found = _compile(numba, _RULES[name], dtype)
                except Exception as error:  # numba itself failed: the numpy rule serves, training goes on
                    warnings.warn(
                        f"nn.optimizers.kernels: numba could not compile the {name!r} kernel for {dtype} "
                        f"({type(error).__name__}: {error}); the numpy update is used instead",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    found = False
                _compiled[key] = found
    return found or None


def slot_count(name: str) -> int:
    """How many slot arrays the update kernel ``name`` takes after ``p`` and ``g``."""
    return _SLOT_COUNTS[name]


KERNEL_NAMES = tuple(_RULES)
