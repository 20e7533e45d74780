"""Hypothesis strategies and assertions for property tests of gradients (yours and ours).

A complete property test of your own function, second order included:

```pycon
>>> from hypothesis import given
>>> import autograd_mini as am
>>> from autograd_mini.testing import arrays, assert_grads_match, grad_settings, shapes
>>> def softsign(x):
...     return x / (1 + x.abs())
>>> @grad_settings
... @given(shapes(max_dims=2).flatmap(lambda s: arrays(s, avoid=(0.0,))))
... def test_softsign(x):
...     assert_grads_match(softsign, am.tensor(x), order=2, modes=("rev", "fwd"))
>>> test_softsign()

```

Elements are drawn in an op's domain (``low``/``high``) and kept at least ``gap`` away from
the points in ``avoid`` (kinks such as 0 for relu and abs), far more than the
finite-difference step, so that a central difference never straddles a kink.
``distinct=True`` also keeps elements ``gap`` apart from each other (for max/min, where ties
are kinks).

A gradient check evaluates the function a few times per input element, so one example can
take longer than Hypothesis' default 200 ms deadline: decorate the test with
``grad_settings`` (no deadline, no too-slow health check, 25 examples) or your own
``hypothesis.settings``.

Plain numpy functions with a hand-written gradient are checked by ``check_grad``, no
``am.Function`` needed; a ``torch.autograd.Function`` by ``check_torch`` and a
``jax.custom_vjp`` function by ``check_jax`` (``testing_foreign.py``), with the same
strategies, shrinking and reports.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .function import Function
from .gradcheck import DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL, GradcheckError, gradcheck
from .tensor import Tensor
from .testing_foreign import check_jax, check_torch

__all__ = [
    "arrays",
    "assert_grads_match",
    "broadcastable_shapes",
    "check_grad",
    "check_jax",
    "check_torch",
    "grad_settings",
    "index_arrays",
    "matmul_shapes",
    "probability_vectors",
    "shapes",
    "sorted_arrays",
    "tensors",
    "well_conditioned_matrices",
]

#: Hypothesis settings for gradient checks: no deadline (a check evaluates the function a few
#: times per element), no too-slow health check, 25 examples. Use it as a decorator.
grad_settings = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, up to ``max_dims`` dimensions of at most ``max_side`` elements."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
):
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda b: b.input_shapes)


#: the default distance kept from the points in ``avoid``: a thousand finite-difference steps
DEFAULT_GAP = 1000 * DEFAULT_EPS


def _push_away(values: np.ndarray, avoid, gap: float) -> np.ndarray:
    """Move values within ``gap`` of a point in ``avoid`` out of that band, keeping their order:
    ``k + gap + d`` above, ``k - sqrt(2) gap - d`` below (``d`` the distance to ``k``), so two
    values pushed to opposite sides never cancel (``[0, -0]`` does not become ``[g, -g]``, whose
    sum is a singularity of ``x / sum(x)``) and no value lands on a band's edge twice."""
    for kink in avoid:
        d = np.abs(values - kink)
        near = d < gap
        pushed = np.where(values >= kink, kink + gap + d, kink - np.sqrt(2.0) * gap - d)
        values = np.where(near, pushed, values)
    return values


@st.composite
def arrays(
    draw,
    shape,
    dtype=np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid=(),
    gap: float = DEFAULT_GAP,
    distinct: bool = False,
):
    """Float arrays of ``shape`` with elements in [low, high] (``avoid`` pushes may step out by
    up to ``2.5 gap``), at least ``gap`` away from the points in ``avoid``."""
    shape = tuple(shape)
    size = int(np.prod(shape)) if shape else 1
    if distinct:
        # a random permutation of evenly spaced slots, jittered inside each slot
        order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
        jitter = draw(hnp.arrays(np.float64, size, elements=st.floats(0.0, 0.5)))
        step = (high - low) / size
        values = low + (order + 0.25 + jitter) * step
    else:
        values = draw(
            hnp.arrays(np.float64, size, elements=st.floats(low, high, allow_nan=False, allow_infinity=False))
        )
    values = _push_away(values, avoid, gap)
    return values.reshape(shape).astype(dtype)


def matmul_shapes(max_batch_dims: int = 1, min_side: int = 1, max_side: int = 4, vectors: bool = True):
    """Pairs of shapes ``a @ b`` accepts: ``(..., m, n), (..., n, p)`` with broadcastable batch
    dimensions, and (``vectors``) the 1-d cases ``(n,), (n, p)`` / ``(m, n), (n,)`` / ``(n,), (n,)``."""
    side = st.integers(min_side, max_side)

    @st.composite
    def draw(draw):
        m, n, p = draw(side), draw(side), draw(side)
        kind = draw(st.sampled_from(["mm", "vv", "vm", "mv"] if vectors else ["mm"]))
        if kind == "vv":
            return (n,), (n,)
        if kind == "vm":
            return (n,), (n, p)
        if kind == "mv":
            return (m, n), (n,)
        batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=max_batch_dims, max_side=max_side))
        return (*batch_a, m, n), (*batch_b, n, p)

    return draw()


@st.composite
def well_conditioned_matrices(draw, n=None, batch=(), spd: bool = False, max_side: int = 4):
    """Square matrices ``(*batch, n, n)`` far from singular: strictly diagonally dominant
    (invertible, condition number below about ``4 n``), or with ``spd`` symmetric positive
    definite (``a a^T + n I``, eigenvalues in [n, n + n**2])."""
    if n is None:
        n = draw(st.integers(1, max_side))
    a = draw(arrays((*batch, n, n), low=-1.0, high=1.0))
    eye = np.eye(n)
    if spd:
        return a @ np.swapaxes(a, -1, -2) + n * eye
    signs = np.where(draw(arrays((*batch, n), low=-1.0, high=1.0)) >= 0, 1.0, -1.0)
    return a + eye * (signs * (np.abs(a).sum(-1) + 1.0))[..., None]


@st.composite
def index_arrays(draw, size: int, shape=None, unique: bool = False):
    """Integer index arrays (int64) into an axis of ``size``: for gather/scatter and take_along_axis.
    ``unique`` gives no repeated index (repeats test that a scatter accumulates)."""
    if shape is None:
        shape = (draw(st.integers(1, size if unique else 2 * size)),)
    shape = tuple(shape)
    count = int(np.prod(shape)) if shape else 1
    if unique:
        if count > size:
            raise ValueError(f"index_arrays: {count} unique indices into an axis of size {size}")
        values = draw(st.permutations(range(size)))[:count]
    else:
        values = draw(st.lists(st.integers(0, size - 1), min_size=count, max_size=count))
    return np.array(values, dtype=np.int64).reshape(shape)


@st.composite
def probability_vectors(draw, shape, axis: int = -1, min_p: float = 1e-2):
    """Positive arrays summing to 1 along ``axis``, each entry at least about ``min_p`` / size
    (log and division stay away from 0)."""
    raw = draw(arrays(shape, low=min_p, high=1.0))
    return raw / raw.sum(axis=axis, keepdims=True)


@st.composite
def sorted_arrays(draw, shape, low: float = -3.0, high: float = 3.0, gap: float = DEFAULT_GAP, axis: int = -1):
    """Arrays sorted along ``axis`` with neighbours at least ``gap`` apart (no ties: a tie is a
    kink of sort, max and top-k)."""
    x = draw(arrays(shape, low=low, high=high, gap=gap, distinct=True))
    return np.sort(x, axis=axis)


@st.composite
def tensors(draw, shape=None, dtype=np.float64, requires_grad: bool = True, **elements):
    """Tensors of ``shape`` (or a drawn shape) whose elements follow ``arrays``' options."""
    if shape is None:
        shape = draw(shapes())
    return Tensor(draw(arrays(shape, dtype=dtype, **elements)), requires_grad=requires_grad)


def assert_grads_match(
    f,
    *inputs,
    order: int | str = "auto",
    modes=("rev",),
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    strict: bool = True,
) -> None:
    """Assert that ``f``'s derivatives up to ``order`` (1 to 3) match finite differences in
    float64 in each of ``modes`` (``"rev"``, ``"fwd"``), and that ``f`` does not modify its
    inputs. The default ``order="auto"`` checks second order wherever the backward is written
    with ops (see ``gradcheck``). Raises ``GradcheckError`` (an ``AssertionError``) with the report of ``gradcheck``.

    ```pycon
    >>> import autograd_mini as am
    >>> assert_grads_match(lambda x: x.tanh(), am.tensor([0.5, -1.0]), order=2)

    ```
    """
    __tracebackhide__ = True
    before = [np.array(getattr(x, "data", x), copy=True) for x in inputs]
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, modes=modes, order=order, strict=strict)
    for k, (x, b) in enumerate(zip(inputs, before)):
        after = np.asarray(getattr(x, "data", x))
        if not np.array_equal(after, b, equal_nan=True):
            raise AssertionError(f"assert_grads_match: input {k} was modified by the function")


def check_grad(
    f,
    grad_f,
    *arrays,
    order: int = 1,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    raise_exception: bool = True,
    strict: bool = True,
) -> bool:
    """Check a numpy function ``f`` against its hand-written vector-Jacobian product ``grad_f``.

    One calling convention, whatever ``f`` returns: ``grad_f(g, out, *arrays)`` gets the
    upstream gradient ``g`` (``out``'s shape; a random one is drawn, seeded by ``seed``), the
    output ``out = f(*arrays)`` and the arguments, and returns the gradient of
    ``sum(g * f(*arrays))`` with respect to each argument: one array for one argument, else a
    tuple with one per argument. ``order=2`` also checks the derivative of ``grad_f`` (written
    with numpy functions that are graph ops on Tensors, see ``numpy_dispatch``).

    Float arguments are checked in float64; other arguments (integer index arrays, ...) are
    passed through and their gradient entries (``None`` is fine) ignored. The report is that of
    ``gradcheck`` (full Jacobians for small inputs); a mismatch raises ``GradcheckError``, an
    ``AssertionError``, so it shrinks under Hypothesis. With ``strict`` a gradient of the wrong
    shape or dtype is reported.

    The former conventions (``grad_f(*arrays)`` for a scalar ``f``, ``grad_f(*arrays, g)``
    otherwise), recognised by ``grad_f``'s number of parameters, still work and warn
    (``DeprecationWarning``).

    ```pycon
    >>> import numpy as np
    >>> check_grad(lambda a, b: np.sum(a * b), lambda g, out, a, b: (g * b, g * a), np.ones((2, 3)), np.ones((2, 3)))
    True
    >>> check_grad(np.sin, lambda g, out, x: g * np.cos(x), np.linspace(0.0, 1.0, 5), order=2)
    True

    ```
    """
    __tracebackhide__ = True
    if not arrays:
        raise ValueError("check_grad: no arrays given: call check_grad(f, grad_f, *arrays)")
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, got {order!r}")
    points = [_float64(a) for a in arrays]
    try:
        scalar = np.ndim(f(*points)) == 0
    except Exception as error:
        raise type(error)(f"check_grad: f failed on the given arrays: {error}") from error
    n = len(arrays)
    convention = _convention(grad_f, n, scalar)

    class NumpyFunction(Function):
        name = getattr(f, "__name__", "f")
        strict_backward = True

        @staticmethod
        def forward(ctx, *xs):
            out = np.asarray(f(*xs), dtype=np.float64)
            ctx.save_for_backward(*xs, out)
            return out

        @staticmethod
        def backward(ctx, g):
            *xs, out = ctx.saved_tensors
            if convention == "vjp":
                got = grad_f(g, out, *xs)
            elif convention == "scalar":
                got = grad_f(*xs)
            else:
                got = grad_f(*xs, g)
            if n == 1 and not isinstance(got, (tuple, list)):
                got = (got,)
            if not isinstance(got, (tuple, list)) or len(got) != n:
                count = len(got) if isinstance(got, (tuple, list)) else f"a {type(got).__name__}, not a tuple"
                raise GradcheckError(f"check_grad: grad_f returned {count} gradients for {n} arguments")
            grads = []
            for i, (x, gi) in enumerate(zip(xs, got)):
                if not ctx.needs_input_grad[i]:
                    grads.append(None)
                    continue
                if not isinstance(gi, Tensor):
                    gi = np.asarray(gi)
                    if gi.dtype.kind != "f":
                        gi = gi.astype(np.float64)
                if convention == "scalar":
                    gi = gi * g
                if gi.shape != np.shape(x):
                    raise GradcheckError(
                        f"check_grad: grad_f's gradient for argument {i} has shape {gi.shape}, "
                        f"expected the argument's shape {np.shape(x)}"
                    )
                grads.append(gi)
            return tuple(grads)

    try:
        return gradcheck(
            NumpyFunction.apply,
            tuple(points),
            eps=eps,
            atol=atol,
            rtol=rtol,
            raise_exception=raise_exception,
            seed=seed,
            order=order,
            strict=strict,
        )
    except GradcheckError as error:
        message = str(error)
        if message.startswith("check_grad"):
            raise
        message = message.replace(f"op '{NumpyFunction.name}': backward", "grad_f")
        raise GradcheckError(
            "check_grad (grad_f against finite differences of f): " + message.removeprefix("gradcheck: ")
        ) from None


def _convention(grad_f, n: int, scalar: bool) -> str:
    """'vjp' (grad_f(g, out, *arrays)), or a deprecated one: 'scalar' (grad_f(*arrays)), 'array'."""
    try:
        params = list(inspect.signature(grad_f).parameters.values())
    except (TypeError, ValueError):
        return "vjp"
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return "vjp"
    count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)
    if count == n + 2:
        return "vjp"
    if count == n + 1 or (count == n and scalar):
        old = "grad_f(*arrays, g)" if count == n + 1 else "grad_f(*arrays) for a scalar f"
        warnings.warn(
            f"check_grad: {old} is deprecated; write grad_f(g, out, *arrays), the vector-Jacobian "
            f"product for an upstream gradient g and the output out, for every f",
            DeprecationWarning,
            stacklevel=3,
        )
        return "array" if count == n + 1 else "scalar"
    raise TypeError(
        f"check_grad: grad_f takes {count} required positional arguments; expected {n + 2}: "
        f"grad_f(g, out, *arrays) for {n} array argument(s) (g: the upstream gradient, out: f's output)"
    )


def _float64(a):
    """A float64 copy of a float array (checked); other arrays as constant Tensors (passed through)."""
    data = np.asarray(a)
    return data.astype(np.float64) if data.dtype.kind == "f" else Tensor(data)
