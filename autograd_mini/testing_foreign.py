"""Check gradients written in PyTorch or JAX with autograd_mini's checks, strategies and reports.

``check_torch(fn, *arrays)`` checks a ``torch.autograd.Function`` subclass (or any function of
torch tensors); ``check_jax(fn, *arrays)`` a ``jax.custom_vjp`` function (or any function of jax
arrays). The foreign function becomes an ``am.Function`` whose backward is the framework's own
vector-Jacobian product, and whose backward's backward is the framework's double backward, so
``gradcheck``'s reverse and forward modes, orders 1 and 2, refined finite differences and
reports all apply, and a failure raises ``GradcheckError`` (an ``AssertionError``) that
Hypothesis shrinks like any other.

Strict mode for torch: ``torch`` sums a broadcast-shaped gradient down and casts its dtype
(``validate_outputs``), so the bug hides as it does in autograd_mini; ``check_torch`` wraps the
Function's ``backward`` (classic ``forward(ctx, ...)`` style) and reports a gradient whose
shape or dtype differs from its input's. JAX checks both itself (``custom_vjp`` raises).

Float arguments are checked in float64 (jax runs under ``jax.enable_x64``); integer arguments
(index arrays) are passed through. torch and jax are imported only when used.
"""

from __future__ import annotations

import numpy as np

from .function import Function
from .gradcheck import DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL, GradcheckError, gradcheck
from .tensor import Tensor

__all__ = ["check_jax", "check_torch"]


def _op(engine, fn, n: int, floats: tuple, name: str):
    """An am op computing ``fn`` (a function of framework tensors) on arrays. Its backward, for
    each float input i, is the op of ``(xs..., g) -> (the framework's vjp of fn)[i]``, itself a
    framework function: every order of derivative is the framework's own."""

    class Foreign(Function):
        strict_backward = True

        @staticmethod
        def forward(ctx, *xs):
            ctx.save_for_backward(*xs)
            return np.asarray(engine.value(fn, xs), dtype=np.float64)

        @staticmethod
        def backward(ctx, g):
            xs = ctx.saved_tensors
            grads = []
            for i in range(n):
                if not ctx.needs_input_grad[i] or not floats[i]:
                    grads.append(None)
                    continue
                grads.append(_op(engine, _grad_fn(engine, fn, n, i), n + 1, (*floats, True), f"{name}'")(*xs, g))
            return tuple(grads)

    Foreign.name = name

    def call(*xs):
        out = Foreign.apply(*xs)
        return out if any(isinstance(x, Tensor) for x in xs) else out.data

    return call


def _grad_fn(engine, fn, n, i):
    def grad_i(*args):
        return engine.vjp(fn, args[:n], args[n])[i]

    return grad_i


# ---- torch ------------------------------------------------------------------------------------------


class _Torch:
    """Values and differentiable vjps by torch (float64; integer arrays as constants)."""

    def __init__(self):
        import torch

        self.torch = torch

    def value(self, fn, arrays):
        torch = self.torch
        with torch.enable_grad():
            ts = [
                torch.tensor(a, dtype=torch.float64, requires_grad=True) if a.dtype.kind == "f" else torch.as_tensor(a)
                for a in (np.asarray(getattr(x, "data", x)) for x in arrays)
            ]
            return fn(*ts).detach().numpy()

    def vjp(self, fn, ts, g):
        torch = self.torch
        out = fn(*ts)
        wrt = [t for t in ts if t.requires_grad]
        got = iter(torch.autograd.grad(out, wrt, grad_outputs=g, create_graph=True, allow_unused=True))
        grads = []
        for t in ts:
            d = next(got) if t.requires_grad else None
            grads.append(torch.zeros_like(t) if d is None and t.requires_grad else d)
        return grads


def _strict_torch_function(fn):
    """A subclass of the torch Function ``fn`` whose backward reports a gradient of the wrong shape or dtype."""
    import inspect

    import torch

    if "setup_context" in fn.__dict__ or "ctx" not in list(inspect.signature(fn.forward).parameters)[:1]:
        return fn

    def forward(ctx, *args, **kwargs):
        ctx._am_inputs = [(a.shape, a.dtype) if isinstance(a, torch.Tensor) else None for a in args]
        return fn.forward(ctx, *args, **kwargs)

    def backward(ctx, *grads):
        got = fn.backward(ctx, *grads)
        got = got if isinstance(got, tuple) else (got,)
        for i, (meta, d) in enumerate(zip(ctx._am_inputs, got)):
            if meta is None or d is None or not ctx.needs_input_grad[i]:
                continue
            if tuple(d.shape) != tuple(meta[0]) or d.dtype != meta[1]:
                raise GradcheckError(
                    f"check_torch (strict): {fn.__name__}.backward returned a gradient of shape {tuple(d.shape)}, "
                    f"dtype {d.dtype} for input {i} of shape {tuple(meta[0])}, dtype {meta[1]}; torch would sum it "
                    f"down or cast it silently (check with strict=False to accept)"
                )
        return got

    return type(fn.__name__, (fn,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def check_torch(
    fn,
    *arrays,
    order: int = 1,
    modes=("rev",),
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    strict: bool = True,
    raise_exception: bool = True,
) -> bool:
    """Check a ``torch.autograd.Function`` subclass (or a function of torch tensors returning one
    tensor) on numpy ``arrays``, like ``gradcheck``: orders 1-2, ``"rev"``/``"fwd"``.

    ```pycon
    >>> import numpy as np, torch  # doctest: +SKIP
    >>> class Exp(torch.autograd.Function):  # doctest: +SKIP
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp(); ctx.save_for_backward(y); return y
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (y,) = ctx.saved_tensors; return g * y
    >>> check_torch(Exp, np.array([0.5, -1.0]), order=2, modes=("rev", "fwd"))  # doctest: +SKIP
    True

    ```
    """
    __tracebackhide__ = True
    call = fn
    if isinstance(fn, type) and hasattr(fn, "apply"):
        call = (_strict_torch_function(fn) if strict else fn).apply
    name = getattr(fn, "__name__", "torch_function")
    return _check_foreign(name, _Torch(), call, arrays, order, modes, eps, atol, rtol, seed, raise_exception)


# ---- jax --------------------------------------------------------------------------------------------


class _Jax:
    """Values and differentiable vjps by jax.vjp, under jax.enable_x64 (integer arrays as constants)."""

    def __init__(self):
        import jax

        self.jax = jax

    def value(self, fn, arrays):
        with self.jax.enable_x64(True):
            return np.asarray(fn(*[np.asarray(getattr(x, "data", x)) for x in arrays]))

    def vjp(self, fn, xs, g):
        floats = [np.result_type(x).kind == "f" for x in xs]

        def of_floats(*fs):
            it = iter(fs)
            return fn(*[next(it) if f else x for x, f in zip(xs, floats)])

        _, pull = self.jax.vjp(of_floats, *[x for x, f in zip(xs, floats) if f])
        got = iter(pull(g))
        return [next(got) if f else None for f in floats]


def check_jax(
    fn,
    *arrays,
    order: int = 1,
    modes=("rev",),
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check a ``jax.custom_vjp`` function (or any function of jax arrays returning one array) on
    numpy ``arrays``, like ``gradcheck``: orders 1-2, ``"rev"``/``"fwd"``, in float64."""
    __tracebackhide__ = True
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "fun", None), "__name__", "jax_function")
    return _check_foreign(name, _Jax(), fn, arrays, order, modes, eps, atol, rtol, seed, raise_exception)


# ---- shared -----------------------------------------------------------------------------------------


def _check_foreign(name, engine, fn, arrays, order, modes, eps, atol, rtol, seed, raise_exception) -> bool:
    __tracebackhide__ = True
    if order not in (1, 2):
        raise ValueError(f"{name}: order must be 1 or 2, got {order!r}")
    points = [np.asarray(a) for a in arrays]
    points = [p.astype(np.float64) if p.dtype.kind == "f" else Tensor(p) for p in points]
    floats = tuple(not isinstance(p, Tensor) for p in points)
    op = _op(engine, fn, len(points), floats, name)
    try:
        return gradcheck(
            op,
            tuple(points),
            eps=eps,
            atol=atol,
            rtol=rtol,
            seed=seed,
            modes=modes,
            order=order,
            raise_exception=raise_exception,
        )
    except GradcheckError as error:
        message = str(error)
        if message.startswith("check_torch"):
            raise
        raise GradcheckError(
            f"{name} (its backward against finite differences of its forward): {message.removeprefix('gradcheck: ')}"
        ) from None
