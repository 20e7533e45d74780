"""Finite-difference estimates that check themselves before a gradient is blamed.

``phi(s)`` is the function along one direction (an array, flattened), ``phi(0)`` the point
checked. The first estimate is the central difference ``(phi(h) - phi(-h)) / (2 h)``. Where it
disagrees with the analytic value, ``refine`` looks harder before calling it a mismatch:

- **Richardson extrapolation** over steps ``h`` and ``h/2``, ``R(h) = (4 D(h/2) - D(h)) / 3``,
  cancels the ``h**2`` error term (the one that grows like ``h**2 / d**3`` at a distance ``d``
  from a singularity, as for ``x / |x|`` near 0), for steps from ``1e3 h`` to ``h / 10``;
- **stability**: an estimate counts only when the next smaller step gives the same value
  within the tolerance; otherwise the step straddles a kink or rounding dominates;
- **kinks**: where the one-sided (Richardson) estimates from the right and from the left are
  each stable but differ, the point is a kink and any value between them (a subgradient, what
  ``abs`` or ``relu`` return at 0) is accepted;
- **no stable estimate** at any step: the entry is not blamed (it is counted as unchecked and
  reported), because finite differences cannot tell what the derivative is there.

The tolerance of one comparison is ``atol + rtol * |numeric| + noise``, where ``noise`` is the
rounding error of a difference quotient: ``64 * machine eps * scale / h`` with ``scale`` the
size of the values differenced (so large function values do not raise false alarms).
"""

from __future__ import annotations

import numpy as np

_MACHINE = np.finfo(np.float64).eps
#: refinement steps, as multiples of the base step
_STEPS = (1e3, 1e2, 1e1, 1.0, 1e-1)


def noise(scale, h):
    """The rounding error of a difference quotient of values of size ``scale`` with step ``h``."""
    return 64.0 * _MACHINE * np.asarray(scale) / h


def within(analytic, numeric, atol, rtol, slack=0.0):
    """Entrywise: ``|analytic - numeric| <= atol + rtol |numeric| + slack`` (NaN never agrees)."""
    return np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric) + slack


def central(phi, h):
    """``(phi(h) - phi(-h)) / (2 h)`` and the scale of the values differenced."""
    p, m = phi(h), phi(-h)
    return (p - m) / (2 * h), np.abs(p) + np.abs(m)


def refine(phi, h, analytic, atol, rtol):
    """Look harder at entries whose first central difference disagreed (see the module docstring).

    Returns ``(verdict, numeric)`` arrays over the entries: verdict 1 agrees, 0 differs, -1 no
    stable estimate (unchecked); ``numeric`` is the best stable estimate (NaN where none).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    with np.errstate(all="ignore"):
        centre = phi(0.0)
        scale = np.abs(centre)
        values = {}

        def at(s):
            if s not in values:
                values[s] = phi(s)
            return values[s]

        rich, right, left, slack = [], [], [], []
        for k in _STEPS:
            s = h * k
            d1 = (at(s) - at(-s)) / (2 * s)
            d2 = (at(s / 2) - at(-s / 2)) / s
            rich.append((4 * d2 - d1) / 3)
            # one-sided, Richardson over s and s/2: 2 D(s/2) - D(s)
            right.append(2 * (at(s / 2) - centre) / (s / 2) - (at(s) - centre) / s)
            left.append(2 * (centre - at(-s / 2)) / (s / 2) - (centre - at(-s)) / s)
            slack.append(noise(scale + np.abs(at(s)) + np.abs(at(-s)), s / 2))
    verdict = np.full(analytic.shape, -1, dtype=np.int8)
    best = np.full(analytic.shape, np.nan)
    best_gap = np.full(analytic.shape, np.inf)
    for k in range(len(_STEPS) - 1):
        a, b = rich[k], rich[k + 1]
        tol = atol + rtol * np.abs(b) + slack[k + 1]
        stable = np.abs(a - b) <= tol
        gap = np.where(stable, np.abs(a - b), np.inf)
        better = gap < best_gap
        best = np.where(better, b, best)
        best_gap = np.where(better, gap, best_gap)
        agrees = stable & within(analytic, b, atol, rtol, slack[k + 1])
        verdict = np.where(agrees, 1, np.where(stable & (verdict == -1), 0, verdict))
    # kinks: stable one-sided estimates that differ; accept anything between them
    for k in range(len(_STEPS) - 1):
        tol = atol + slack[k + 1]
        r_stable = within(right[k], right[k + 1], tol, rtol)
        l_stable = within(left[k], left[k + 1], tol, rtol)
        lo = np.minimum(right[k + 1], left[k + 1]) - tol - rtol * np.abs(right[k + 1])
        hi = np.maximum(right[k + 1], left[k + 1]) + tol + rtol * np.abs(left[k + 1])
        kink = r_stable & l_stable & (analytic >= lo) & (analytic <= hi)
        verdict = np.where(kink & (verdict != 1), 1, verdict)
    return verdict, best
