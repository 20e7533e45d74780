"""Check analytic derivatives against central finite differences, in float64.

``gradcheck(f, inputs)`` checks reverse mode (``modes=("rev",)``, the default): it draws one
random upstream gradient ``v`` per output (seeded, so a failure repeats), computes the
vector-Jacobian product ``v^T J`` by backward, and compares each of its elements with the
central difference of ``<v, f(x)>``: ``(<v, f(x + eps e_j)> - <v, f(x - eps e_j)>) / (2 eps)``.
Forward mode (``"fwd"``) compares the Jacobian-vector product ``J t`` for a random tangent ``t``
with ``(f(x + eps t) - f(x - eps t)) / (2 eps)``. ``order=2`` or ``3`` repeats the check on the
derivative function itself (``(x, v) -> v^T J`` in reverse mode, ``(x, t) -> J t`` in forward
mode), as ``jax.test_util.check_grads`` does; ``gradgradcheck`` is reverse mode at order 2.

When a check fails and the inputs and outputs have at most ``FULL_JACOBIAN_LIMIT`` elements,
the report lists the full analytic and numeric Jacobians and the entries that differ, so a
person can verify them by hand; for larger ones it says that only the random projection was
compared.
"""

from __future__ import annotations

import numpy as np

from .functional import jvp_graph, vjp_graph
from .grad_mode import enable_grad
from .tensor import Tensor

#: failure reports show full Jacobians when inputs and outputs have at most this many elements
FULL_JACOBIAN_LIMIT = 300
_MODES = ("rev", "fwd")


class GradcheckError(AssertionError):
    """An analytic derivative differs from finite differences."""


def _as_outputs(out) -> tuple:
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got {type(o).__name__}")
    return outs


def _float64_inputs(inputs) -> list:
    xs = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else x
        if (
            isinstance(data, (np.ndarray, float, int, list))
            and np.asarray(data).dtype.kind in "fi"
            and not (isinstance(x, Tensor) and x.dtype.kind != "f")
        ):
            xs.append(Tensor(np.array(data, dtype=np.float64), requires_grad=True))
        else:
            xs.append(x)  # integer index arrays, options, ...: passed through, not checked
    return xs


def _evaluate(f, xs, shifts: dict) -> list:
    """f's outputs (float64 arrays) at ``xs`` moved by ``shifts`` {input index: array}, no graph."""
    point = list(xs)
    for i, delta in shifts.items():
        point[i] = Tensor(xs[i].data + delta)
    return [o.data.astype(np.float64) for o in _as_outputs(f(*point))]


def _unit(shape, j: int, scale: float) -> np.ndarray:
    e = np.zeros(shape)
    e.flat[j] = scale
    return e


def _index(shape, flat: int) -> tuple:
    return tuple(int(k) for k in np.unravel_index(flat, shape)) if shape else ()


def gradcheck(
    func,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    *,
    modes=("rev",),
    order: int = 1,
) -> bool:
    """True when ``func``'s derivatives match central differences for every float input.

    ``func`` takes Tensors and returns a Tensor (or a tuple of them). Float inputs are
    converted to float64 copies; other inputs are passed through unchanged. ``modes`` is any of
    ``"rev"`` (vector-Jacobian products, by backward) and ``"fwd"`` (Jacobian-vector products,
    ``am.jvp``); ``order`` (1 to 3) checks derivatives up to that order. With
    ``raise_exception`` a mismatch raises ``GradcheckError`` naming the mode, the input or
    output, the element and both values, and for small inputs the full Jacobians.

    ```pycon
    >>> import autograd_mini as am
    >>> am.gradcheck(lambda x: (x * x).sin(), (am.tensor([0.5, 1.5]),), modes=("rev", "fwd"), order=2)
    True

    ```
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    if isinstance(modes, str):
        modes = (modes,)
    for mode in modes:
        if mode not in _MODES:
            raise ValueError(f"gradcheck: modes must hold 'rev' and/or 'fwd', got {mode!r}")
    if not isinstance(order, int) or not 1 <= order <= 3:
        raise ValueError(f"gradcheck: order must be 1, 2 or 3, got {order!r}")
    for mode in modes:
        f, xs, what = func, _float64_inputs(inputs), "the function"
        for k in range(1, order + 1):
            if not _check(f, xs, mode, k, what, eps, atol, rtol, raise_exception, seed if k == 1 else seed + k):
                return False
            if k < order:
                f, xs, what = _derivative(f, xs, mode, seed + 100 * k, what)
    return True


def gradgradcheck(
    f,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
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
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    xs = _float64_inputs(inputs)
    if grad_outputs is not None:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, (Tensor, np.ndarray)) else list(grad_outputs)
    g, args, what = _derivative(f, xs, "rev", seed + 1, "the function", grad_outputs)
    return _check(g, args, "rev", 2, what, eps, atol, rtol, raise_exception, seed + 2)


# ---- one check ------------------------------------------------------------------------------------


def _check(f, xs, mode, order, what, eps, atol, rtol, raise_exception, seed) -> bool:
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    outs = _as_outputs(f(*xs))
    rng = np.random.default_rng(seed)
    head = "gradcheck" if order == 1 else f"gradcheck (order {order}, checking the derivative of {what})"
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
            numeric = np.empty(x.shape)
            for j in range(x.size):
                plus = _evaluate(f, xs, {i: _unit(x.shape, j, eps)})
                minus = _evaluate(f, xs, {i: _unit(x.shape, j, -eps)})
                # difference first, then project: rounding stays relative to each output
                numeric.flat[j] = sum(float(np.sum(v * (p - m))) for v, p, m in zip(vs, plus, minus)) / (2 * eps)
            a = a.data.astype(np.float64)
            bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
            if bad.any():
                where = _index(x.shape, int(np.argmax(bad)))
                message = (
                    f"{head}: gradient of input {i} (shape {x.shape}) differs from finite differences "
                    f"at index {where}: analytic {float(a[where])!r}, numeric {float(numeric[where])!r} "
                    f"({tol}; {int(bad.sum())} of {x.size} elements differ). Compared (rev mode): the "
                    f"vector-Jacobian product v^T J for a random upstream gradient v (seed {seed})."
                )
                return _fail(raise_exception, message + _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol))
        return True
    ts = [rng.standard_normal(xs[i].shape) for i in checked]
    analytic = jvp_graph(outs, [xs[i] for i in checked], [Tensor._wrap(t) for t in ts], create_graph=False)
    plus = _evaluate(f, xs, {i: eps * t for i, t in zip(checked, ts)})
    minus = _evaluate(f, xs, {i: -eps * t for i, t in zip(checked, ts)})
    for k, (o, a, p, m) in enumerate(zip(outs, analytic, plus, minus)):
        if a.shape != o.shape:
            return _fail(
                raise_exception, f"{head}: jvp of output {k} has shape {a.shape}, expected the output's shape {o.shape}"
            )
        numeric = (p - m) / (2 * eps)
        a = a.data.astype(np.float64)
        bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            where = _index(o.shape, int(np.argmax(bad)))
            message = (
                f"{head}: forward-mode derivative of output {k} (shape {o.shape}) differs from finite differences "
                f"at index {where}: analytic {float(a[where])!r}, numeric {float(numeric[where])!r} "
                f"({tol}; {int(bad.sum())} of {o.size} elements differ). Compared (fwd mode): the "
                f"Jacobian-vector product J t for a random tangent t of the inputs (seed {seed})."
            )
            return _fail(raise_exception, message + _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol))
    return True


# ---- full Jacobians for reports ---------------------------------------------------------------


def _jacobian_report(f, xs, checked, outs, mode, eps, atol, rtol) -> str:
    n_in = sum(xs[i].size for i in checked)
    n_out = sum(o.size for o in outs)
    if n_in > FULL_JACOBIAN_LIMIT or n_out > FULL_JACOBIAN_LIMIT:
        return (
            f"\nOnly that random projection was compared: the inputs ({n_in} elements) or outputs ({n_out}) are "
            f"larger than FULL_JACOBIAN_LIMIT={FULL_JACOBIAN_LIMIT}, too large to list full Jacobians."
        )
    analytic, numeric = _jacobians(f, xs, checked, outs, mode, eps)
    lines = [
        f"\nFull Jacobians (analytic by {'backward, one row' if mode == 'rev' else 'jvp, one column'} at a time; "
        f"numeric by central differences), entries [output index, input index]:"
    ]
    for (k, i), a in analytic.items():
        n = numeric[(k, i)]
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
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


def _jacobians(f, xs, checked, outs, mode, eps) -> tuple[dict, dict]:
    """{(output k, input i): 2-d Jacobian (out size, input size)}, analytic and numeric."""
    numeric = {(k, i): np.empty((o.size, xs[i].size)) for k, o in enumerate(outs) for i in checked}
    analytic = {key: np.empty_like(value) for key, value in numeric.items()}
    inputs = [xs[i] for i in checked]
    for i in checked:
        for j in range(xs[i].size):
            plus = _evaluate(f, xs, {i: _unit(xs[i].shape, j, eps)})
            minus = _evaluate(f, xs, {i: _unit(xs[i].shape, j, -eps)})
            for k, (p, m) in enumerate(zip(plus, minus)):
                numeric[(k, i)][:, j] = ((p - m) / (2 * eps)).ravel()
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
    return analytic, numeric


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
    if raise_exception:
        raise GradcheckError(message)
    return False
