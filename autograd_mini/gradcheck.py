"""Check analytic derivatives against finite differences, in float64, with no false alarm.

``gradcheck(f, inputs)`` checks reverse mode (``modes=("rev",)``, the default): it draws one
random upstream gradient ``v`` per output (seeded, so a failure repeats), computes the
vector-Jacobian product ``v^T J`` by backward, and compares each of its elements with the
central difference of ``<v, f(x)>`` along that input element. Forward mode (``"fwd"``)
compares the Jacobian-vector product ``J t`` for a random tangent ``t`` with
``(f(x + h t) - f(x - h t)) / (2 h)``. ``order=2`` or ``3`` repeats the check on the derivative
function itself (``(x, v) -> v^T J`` in reverse mode, ``(x, t) -> J t`` in forward mode), as
``jax.test_util.check_grads`` does; ``gradgradcheck`` is reverse mode at order 2.

**One set of defaults** (``DEFAULT_EPS``, ``DEFAULT_ATOL``, ``DEFAULT_RTOL``) serves
``gradcheck``, ``gradgradcheck``, ``testing.check_grad`` and ``testing.assert_grads_match``:
``eps=1e-6`` (scaled by ``max(1, |x_j|)`` per element), ``atol=1e-5``, ``rtol=1e-4`` (a gradient
computed in float16, relative error up to 5e-4, fails). An entry agrees when
``|analytic - numeric| <= atol + rtol |numeric| + noise`` (``noise``: the rounding error of the
difference quotient, see ``finite_diff.py``). Before an entry is blamed, its finite difference
is refined (Richardson extrapolation over several steps, stability across steps, one-sided
estimates at kinks): only a stable estimate that disagrees counts as a mismatch.

**Strict mode** (``strict=True``, the default) also calls every custom op's ``backward`` itself
and reports a gradient of the wrong shape or dtype (which the engine would silently sum down
or cast) and writes into saved arrays, naming the op, the input and the line
(``gradcheck_strict.py``). The checked inputs are read-only: a function that writes into its
input is reported too.

When a check fails and the inputs and outputs have at most ``FULL_JACOBIAN_LIMIT`` elements,
the verdict is taken on the full Jacobians (one entry at a time), and the report lists them and
the entries that differ, so a person can verify them by hand; for larger ones it says that
only the random projection was compared.
"""

from __future__ import annotations

import numpy as np

from . import finite_diff
from .functional import jvp_graph, vjp_graph
from .grad_mode import enable_grad
from .gradcheck_strict import StrictError, check_graph, forward_inplace_message
from .tensor import Tensor

#: failure reports show full Jacobians when inputs and outputs have at most this many elements
FULL_JACOBIAN_LIMIT = 300
#: the defaults of gradcheck, gradgradcheck, testing.check_grad and testing.assert_grads_match
DEFAULT_EPS = 1e-6
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4
_MODES = ("rev", "fwd")


class GradcheckError(AssertionError):
    """An analytic derivative differs from finite differences (or a backward broke its contract)."""


def _as_outputs(out) -> tuple:
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got {type(o).__name__}")
    return outs


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _float64_inputs(inputs) -> list:
    xs = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else x
        if (
            isinstance(data, (np.ndarray, float, int, list))
            and np.asarray(data).dtype.kind in "fi"
            and not (isinstance(x, Tensor) and x.dtype.kind != "f")
        ):
            xs.append(Tensor(_readonly(np.array(data, dtype=np.float64)), requires_grad=True))
        else:
            xs.append(x)  # integer index arrays, options, ...: passed through, not checked
    return xs


def _call(f, args):
    """``f(*args)``, with a write into a read-only input reported as such."""
    __tracebackhide__ = True
    try:
        return f(*args)
    except ValueError as error:
        message = forward_inplace_message(error)
        if message is None:
            raise
        raise GradcheckError(f"gradcheck: {message}") from None


def _evaluate(f, xs, shifts: dict) -> list:
    """f's outputs (float64 arrays) at ``xs`` moved by ``shifts`` {input index: array}, no graph."""
    __tracebackhide__ = True
    point = list(xs)
    for i, delta in shifts.items():
        point[i] = Tensor(_readonly(xs[i].data + delta))
    with np.errstate(all="ignore"):
        return [o.data.astype(np.float64) for o in _as_outputs(_call(f, point))]


def _unit(shape, j: int, scale: float) -> np.ndarray:
    e = np.zeros(shape)
    e.flat[j] = scale
    return e


def _index(shape, flat: int) -> tuple:
    return tuple(int(k) for k in np.unravel_index(flat, shape)) if shape else ()


def _step(x: np.ndarray, j: int, eps: float) -> float:
    return eps * max(1.0, abs(float(x.flat[j])))


def gradcheck(
    func,
    inputs,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    raise_exception: bool = True,
    seed: int = 0,
    *,
    modes=("rev",),
    order: int | str = 1,
    strict: bool = True,
) -> bool:
    """True when ``func``'s derivatives match finite differences for every float input.

    ``func`` takes Tensors and returns a Tensor (or a tuple of them). Float inputs are
    converted to read-only float64 copies; other inputs are passed through unchanged. ``modes``
    is any of ``"rev"`` (vector-Jacobian products, by backward) and ``"fwd"``
    (Jacobian-vector products, ``am.jvp``); ``order`` (1 to 3) checks derivatives up to that
    order; ``order="auto"`` checks order 2 wherever the backward is written with ops (it stops
    at order 1, without error, for a backward that is first order only: ``once_differentiable``,
    saved intermediates, numpy calls with no graph op). ``strict`` also checks each custom op's backward result (shape, dtype, no writes
    into saved arrays) before the engine fixes it up. With ``raise_exception`` a mismatch
    raises ``GradcheckError`` naming the mode, the input or output, the entries that differ,
    both values and by how much, and for small inputs the full Jacobians.

    ```pycon
    >>> import autograd_mini as am
    >>> am.gradcheck(lambda x: (x * x).sin(), (am.tensor([0.5, 1.5]),), modes=("rev", "fwd"), order=2)
    True

    ```
    """
    __tracebackhide__ = True
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    if isinstance(modes, str):
        modes = (modes,)
    for mode in modes:
        if mode not in _MODES:
            raise ValueError(f"gradcheck: modes must hold 'rev' and/or 'fwd', got {mode!r}")
    auto = order == "auto"
    if auto:
        order = 2
    elif not isinstance(order, int) or not 1 <= order <= 3:
        raise ValueError(
            f"gradcheck: order must be 1, 2 or 3, got {order!r} (or 'auto': 2 where the backward allows it)"
        )
    for mode in modes:
        f, xs, what = func, _float64_inputs(inputs), "the function"
        for k in range(1, order + 1):
            try:
                ok = _check(
                    f, xs, mode, k, what, eps, atol, rtol, raise_exception, seed if k == 1 else seed + k, strict
                )
            except (RuntimeError, TypeError) as error:
                if auto and k == 2 and _first_order_only(error):
                    break
                raise
            if not ok:
                return False
            if k < order:
                f, xs, what = _derivative(f, xs, mode, seed + 100 * k, what)
    return True


#: what the errors of a backward that cannot be differentiated again say (function.py, numpy_dispatch.py)
_FIRST_ORDER_ONLY = ("once_differentiable", "neither an input nor the output", "has no differentiable op", ".at in the")


def _first_order_only(error) -> bool:
    return any(text in str(error) for text in _FIRST_ORDER_ONLY)


def gradgradcheck(
    f,
    inputs,
    grad_outputs=None,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    raise_exception: bool = True,
    seed: int = 0,
    *,
    strict: bool = True,
) -> bool:
    """``gradcheck`` of the vector-Jacobian product of ``f``: proves second derivatives.

    The checked function maps (inputs, v) to ``v^T J_f(inputs)``, built with
    ``create_graph=True``, so both its input and its ``v`` derivatives are compared.
    ``grad_outputs`` fixes ``v`` (one array per output; default: random, seeded).

    ```pycon
    >>> import autograd_mini as am
    >>> am.gradgradcheck(lambda x: x.tanh(), (am.tensor([0.1, -0.7]),))
    True

    ```
    """
    __tracebackhide__ = True
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    xs = _float64_inputs(inputs)
    if grad_outputs is not None:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, (Tensor, np.ndarray)) else list(grad_outputs)
    g, args, what = _derivative(f, xs, "rev", seed + 1, "the function", grad_outputs)
    return _check(g, args, "rev", 2, what, eps, atol, rtol, raise_exception, seed + 2, strict)


# ---- one check ------------------------------------------------------------------------------------


def _check(f, xs, mode, order, what, eps, atol, rtol, raise_exception, seed, strict=True) -> bool:
    __tracebackhide__ = True
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    head = "gradcheck" if order == 1 else f"gradcheck (order {order}, checking the derivative of {what})"
    outs = _as_outputs(_call(f, xs))
    if strict:
        try:
            check_graph(outs, seed)
        except StrictError as error:
            return _fail(raise_exception, f"{head} (strict): {error}")
    rng = np.random.default_rng(seed)
    tol = f"atol={atol}, rtol={rtol}, eps={eps}"
    if mode == "rev":
        vs = [rng.standard_normal(o.shape) for o in outs]
        cts = [Tensor._wrap(v.astype(o.dtype)) for o, v in zip(outs, vs)]
        analytic = vjp_graph(outs, [xs[i] for i in checked], cts, create_graph=False)
        for i, a in zip(checked, analytic):
            x = xs[i]
            if a.shape != x.shape:
                return _fail(
                    raise_exception,
                    f"{head}: gradient of input {i} has shape {a.shape}, expected the input's shape {x.shape}",
                )
            a = a.data.astype(np.float64)
            numeric, bad = _numeric_vjp(f, xs, i, vs, a, eps, atol, rtol)
            if bad.any():
                entries = _entries(x.shape, a, numeric, bad)
                message = (
                    f"{head}: gradient of input {i} (shape {x.shape}) differs from finite differences "
                    f"in {int(bad.sum())} of {x.size} elements; {entries} ({tol}). Compared (rev mode): the "
                    f"vector-Jacobian product v^T J for a random upstream gradient v (seed {seed})."
                )
                report = _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol)
                if report is None:
                    continue  # entry by entry, the Jacobians agree: the projection's error is within tolerance
                return _fail(raise_exception, message + _inputs_text(xs, checked) + report)
        return True
    ts = [rng.standard_normal(xs[i].shape) for i in checked]
    analytic = jvp_graph(outs, [xs[i] for i in checked], [Tensor._wrap(t) for t in ts], create_graph=False)
    for k, (o, a) in enumerate(zip(outs, analytic)):
        if a.shape != o.shape:
            return _fail(
                raise_exception, f"{head}: jvp of output {k} has shape {a.shape}, expected the output's shape {o.shape}"
            )

    def phi(s):
        values = _evaluate(f, xs, {i: s * t for i, t in zip(checked, ts)})
        return np.concatenate([v.ravel() for v in values])

    flat = np.concatenate([a.data.astype(np.float64).ravel() for a in analytic])
    numeric_flat, bad_flat = _numeric_direction(phi, eps, flat, atol, rtol)
    start = 0
    for k, (o, a) in enumerate(zip(outs, analytic)):
        numeric = numeric_flat[start : start + o.size].reshape(o.shape)
        bad = bad_flat[start : start + o.size].reshape(o.shape)
        start += o.size
        if bad.any():
            a = a.data.astype(np.float64)
            entries = _entries(o.shape, a, numeric, bad)
            message = (
                f"{head}: forward-mode derivative of output {k} (shape {o.shape}) differs from finite differences "
                f"in {int(bad.sum())} of {o.size} elements; {entries} ({tol}). Compared (fwd mode): the "
                f"Jacobian-vector product J t for a random tangent t of the inputs (seed {seed})."
            )
            report = _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol)
            if report is None:
                continue
            return _fail(raise_exception, message + _inputs_text(xs, checked) + report)
    return True


def _numeric_vjp(f, xs, i, vs, a, eps, atol, rtol):
    """Numeric v^T J for input i, refined where it disagrees with ``a``: (numeric, differs mask)."""
    x = xs[i]
    numeric = np.empty(x.shape)
    bad = np.zeros(x.shape, dtype=bool)
    for j in range(x.size):
        h = _step(x.data, j, eps)

        def phi(s, j=j):
            if s == 0.0:
                values = _evaluate(f, xs, {})
            else:
                values = _evaluate(f, xs, {i: _unit(x.shape, j, s)})
            return np.array(sum(float(np.sum(v * y)) for v, y in zip(vs, values)))

        plus = _evaluate(f, xs, {i: _unit(x.shape, j, h)})
        minus = _evaluate(f, xs, {i: _unit(x.shape, j, -h)})
        # difference first, then project: rounding stays relative to each output
        d = sum(float(np.sum(v * (p - m))) for v, p, m in zip(vs, plus, minus)) / (2 * h)
        scale = sum(float(np.sum(np.abs(v) * (np.abs(p) + np.abs(m)))) for v, p, m in zip(vs, plus, minus))
        numeric.flat[j] = d
        if not finite_diff.within(a.flat[j], d, atol, rtol, finite_diff.noise(scale, h)):
            verdict, best = finite_diff.refine(phi, h, np.array(a.flat[j]), atol, rtol)
            if np.isfinite(best):
                numeric.flat[j] = float(best)
            bad.flat[j] = bool(verdict == 0)
    return numeric, bad


def _numeric_direction(phi, h, analytic, atol, rtol):
    """Numeric derivative of ``phi`` (a flat array) at 0, refined where it disagrees with ``analytic``."""
    p, m = phi(h), phi(-h)
    numeric = (p - m) / (2 * h)
    ok = finite_diff.within(analytic, numeric, atol, rtol, finite_diff.noise(np.abs(p) + np.abs(m), h))
    bad = np.zeros(analytic.shape, dtype=bool)
    if not ok.all():
        verdict, best = finite_diff.refine(phi, h, analytic, atol, rtol)
        numeric = np.where(~ok & np.isfinite(best), best, numeric)
        bad = ~ok & (verdict == 0)
    return numeric, bad


def _entries(shape, a, numeric, bad) -> str:
    """The first differing entry, and the worst one when it is another: index and values."""
    first = _index(shape, int(np.argmax(bad)))
    worst = _index(shape, int(np.argmax(np.where(bad, np.abs(a - numeric), -1.0))))
    text = f"at index {first}: {_values(a[first], numeric[first])}"
    if worst != first:
        text += f"; worst at index {worst}: {_values(a[worst], numeric[worst])}"
    return text


def _values(a, n) -> str:
    a, n = float(a), float(n)
    off = abs(a - n)
    rel = f", {off / abs(n):.3g} relative" if n != 0 and np.isfinite(off) else ""
    return f"analytic {a!r}, numeric {n!r} (off by {off:.3g}{rel})"


def _inputs_text(xs, checked) -> str:
    parts = []
    for i in checked:
        if xs[i].size <= 24:
            with np.printoptions(precision=17, linewidth=200):
                parts.append(f"input {i} = {np.array2string(xs[i].data, separator=', ')}")
    return ("\nAt " + "; ".join(parts) + ".") if parts else ""


# ---- full Jacobians for reports ---------------------------------------------------------------


def _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol):
    """The report's full Jacobians, or None when, entry by entry, they all agree."""
    n_in = sum(xs[i].size for i in checked)
    n_out = sum(o.size for o in outs)
    if n_in > FULL_JACOBIAN_LIMIT or n_out > FULL_JACOBIAN_LIMIT:
        return (
            f"\nOnly that random projection was compared: the inputs ({n_in} elements) or outputs ({n_out}) are "
            f"larger than FULL_JACOBIAN_LIMIT={FULL_JACOBIAN_LIMIT}, too large to list full Jacobians."
        )
    analytic, numeric, differs = _jacobians(f, xs, checked, outs, mode, eps, atol, rtol)
    if not any(d.any() for d in differs.values()):
        return None
    lines = [
        f"\nFull Jacobians (analytic by {'backward, one row' if mode == 'rev' else 'jvp, one column'} at a time; "
        f"numeric by refined finite differences), entries [output index, input index]:"
    ]
    for (k, i), a in analytic.items():
        n = numeric[(k, i)]
        bad = differs[(k, i)]
        lines.append(f"d output {k} {outs[k].shape} / d input {i} {xs[i].shape}: {int(bad.sum())} of {a.size} differ")
        for r, c in list(zip(*np.nonzero(bad)))[:20]:
            lines.append(
                f"  [{_index(outs[k].shape, int(r))}, {_index(xs[i].shape, int(c))}]: "
                f"analytic {float(a[r, c])!r}, numeric {float(n[r, c])!r}"
            )
        if bad.any() and a.size <= 100:
            with np.printoptions(precision=6, suppress=True, linewidth=120):
                lines.append("  analytic:\n" + _indent(a) + "\n  numeric:\n" + _indent(n))
    return "\n".join(lines)


def _indent(a) -> str:
    return "\n".join("    " + line for line in str(a).splitlines())


def _jacobians(f, xs, checked, outs, mode, eps, atol, rtol) -> tuple[dict, dict, dict]:
    """{(output k, input i): 2-d Jacobian (out size, input size)}: analytic, numeric, differs."""
    numeric = {(k, i): np.empty((o.size, xs[i].size)) for k, o in enumerate(outs) for i in checked}
    analytic = {key: np.empty_like(value) for key, value in numeric.items()}
    differs = {key: np.zeros(value.shape, dtype=bool) for key, value in numeric.items()}
    inputs = [xs[i] for i in checked]
    if mode == "rev":
        for k, o in enumerate(outs):
            for r in range(o.size):
                cts = [Tensor._wrap(_unit(q.shape, r, 1.0) if q is o else np.zeros(q.shape)) for q in outs]
                for i, g in zip(checked, vjp_graph(outs, inputs, cts, create_graph=False)):
                    analytic[(k, i)][r, :] = g.data.ravel()
    else:
        for i in checked:
            for j in range(xs[i].size):
                ts = [Tensor._wrap(_unit(x.shape, j, 1.0) if x is xs[i] else np.zeros(x.shape)) for x in inputs]
                for k, t in enumerate(jvp_graph(outs, inputs, ts, create_graph=False)):
                    analytic[(k, i)][:, j] = t.data.ravel()
    for i in checked:
        for j in range(xs[i].size):
            h = _step(xs[i].data, j, eps)

            def phi(s, i=i, j=j):
                values = _evaluate(f, xs, {i: _unit(xs[i].shape, j, s)} if s else {})
                return np.concatenate([v.ravel() for v in values])

            column = np.concatenate([analytic[(k, i)][:, j] for k in range(len(outs))])
            num, bad = _numeric_direction(phi, h, column, atol, rtol)
            start = 0
            for k, o in enumerate(outs):
                numeric[(k, i)][:, j] = num[start : start + o.size]
                differs[(k, i)][:, j] = bad[start : start + o.size]
                start += o.size
    return analytic, numeric, differs


# ---- derivative functions (for order 2 and 3) ------------------------------------------------------


def _derivative(f, xs, mode, seed, what, cotangents=None):
    """(g, its inputs, its description): g maps (xs..., v...) to v^T J (rev) or (xs..., t...) to J t (fwd)."""
    diff = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_outputs(f(*xs))
    rng = np.random.default_rng(seed)
    if mode == "rev":
        shapes = [o.shape for o in outs]
        given = cotangents
    else:
        shapes = [xs[i].shape for i in diff]
        given = None
    extra = [rng.standard_normal(s) for s in shapes] if given is None else [np.asarray(g) for g in given]
    extra = [Tensor(np.array(e, dtype=np.float64), requires_grad=True) for e in extra][: len(shapes)]
    n = len(xs)

    def derivative(*args):
        point = list(args[:n])
        for i in diff:
            if not point[i].requires_grad:
                point[i] = point[i].detach().requires_grad_()
        vs = [v if v.requires_grad else v.detach().requires_grad_() for v in args[n:]]
        with enable_grad():
            results = _as_outputs(f(*point))
        if mode == "rev":
            return vjp_graph(results, [point[i] for i in diff], vs, create_graph=True)
        return jvp_graph(results, [point[i] for i in diff], vs, create_graph=True)

    if mode == "rev":
        described = f"(inputs, v) -> v^T J of {what}"
    else:
        described = f"(inputs, t) -> J t of {what}"
    return derivative, list(xs) + extra, described


def _fail(raise_exception: bool, message: str) -> bool:
    __tracebackhide__ = True
    if raise_exception:
        raise GradcheckError(message)
    return False
