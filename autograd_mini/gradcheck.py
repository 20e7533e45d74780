"""Check analytic gradients against central finite differences, in float64.

``gradcheck(f, inputs)`` draws one random upstream gradient ``v`` per output (seeded, so a
failure repeats), computes the analytic vector-Jacobian product ``v^T J`` by backward, and
compares each of its elements with the central difference of ``<v, f(x)>``:
``(<v, f(x + eps e_j)> - <v, f(x - eps e_j)>) / (2 eps)``. A mismatch names the input, the
element index and both values. ``gradgradcheck`` applies the same test to the gradient itself
(with respect to the inputs and to ``v``), proving second derivatives.
"""

from __future__ import annotations

import numpy as np

from .functional import gradients
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient differs from finite differences."""


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


def _outputs_at(f, xs, i, flat_index, delta) -> list:
    shifted = list(xs)
    data = xs[i].data.copy()
    data.flat[flat_index] += delta
    shifted[i] = Tensor(data)
    return [o.data.astype(np.float64) for o in _as_outputs(f(*shifted))]


def gradcheck(
    f, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0
) -> bool:
    """True when ``f``'s analytic gradients match central differences for every float input.

    ``f`` takes Tensors and returns a Tensor (or a tuple of them). Float inputs are converted
    to float64 copies; other inputs are passed through unchanged. With ``raise_exception`` a
    mismatch raises ``GradcheckError`` naming the input, the element and both values.
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    xs = _float64_inputs(inputs)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    outs = _as_outputs(f(*xs))
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(o.shape) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if live:
        analytic = gradients(
            [o for o, _ in live], [xs[i] for i in checked], [Tensor._wrap(v.astype(o.dtype)) for o, v in live]
        )
    else:
        analytic = [Tensor._wrap(np.zeros_like(xs[i].data)) for i in checked]

    for i, a in zip(checked, analytic):
        x = xs[i]
        if a.shape != x.shape:
            return _fail(
                raise_exception,
                f"gradcheck: gradient of input {i} has shape {a.shape}, expected the input's shape {x.shape}",
            )
        numeric = np.empty(x.shape)
        for j in range(x.size):
            plus = _outputs_at(f, xs, i, j, eps)
            minus = _outputs_at(f, xs, i, j, -eps)
            # difference first, then project: rounding stays relative to each output
            numeric.flat[j] = sum(float(np.sum(v * (p - m))) for v, p, m in zip(vs, plus, minus)) / (2 * eps)
        analytic_data = a.data.astype(np.float64)
        bad = ~(np.abs(analytic_data - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            where = tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), x.shape)) if x.shape else ()
            return _fail(
                raise_exception,
                f"gradcheck: gradient of input {i} (shape {x.shape}) differs from finite differences "
                f"at index {where}: analytic {float(analytic_data[where])!r}, numeric {float(numeric[where])!r} "
                f"(atol={atol}, rtol={rtol}, eps={eps}; {int(bad.sum())} of {x.size} elements differ)",
            )
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
    """
    if not isinstance(inputs, (tuple, list)):
        inputs = (inputs,)
    xs = _float64_inputs(inputs)
    diff = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_outputs(f(*xs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [rng.standard_normal(o.shape) for o in outs]
    n_out = len(outs)

    def vjp(*args):
        point = list(args[: len(xs)])
        for i in diff:
            if not point[i].requires_grad:
                point[i] = point[i].detach().requires_grad_()
        vs = [v if v.requires_grad else v.detach().requires_grad_() for v in args[len(xs) :]]
        results = _as_outputs(f(*point))
        live = [(o, v) for o, v in zip(results, vs) if o.requires_grad]
        if not live:
            return tuple(Tensor._wrap(np.zeros_like(point[i].data)) for i in diff)
        return gradients([o for o, _ in live], [point[i] for i in diff], [v for _, v in live], create_graph=True)

    vs = [Tensor(np.asarray(g, dtype=np.float64), requires_grad=True) for g in grad_outputs][:n_out]
    return gradcheck(
        vjp, tuple(xs) + tuple(vs), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed + 2
    )


def _fail(raise_exception: bool, message: str) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False
