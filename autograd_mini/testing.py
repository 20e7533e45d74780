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
``am.Function`` needed.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .function import Function
from .gradcheck import GradcheckError, gradcheck
from .tensor import Tensor

__all__ = [
    "arrays",
    "assert_grads_match",
    "broadcastable_shapes",
    "check_grad",
    "grad_settings",
    "shapes",
    "tensors",
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


def _push_away(values: np.ndarray, avoid, gap: float) -> np.ndarray:
    for kink in avoid:
        near = np.abs(values - kink) < gap
        values = np.where(near, kink + np.where(values >= kink, gap, -gap), values)
    return values


@st.composite
def arrays(
    draw,
    shape,
    dtype=np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid=(),
    gap: float = 1e-3,
    distinct: bool = False,
):
    """Float arrays of ``shape`` with elements in [low, high], ``gap`` away from ``avoid``."""
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


@st.composite
def tensors(draw, shape=None, dtype=np.float64, requires_grad: bool = True, **elements):
    """Tensors of ``shape`` (or a drawn shape) whose elements follow ``arrays``' options."""
    if shape is None:
        shape = draw(shapes())
    return Tensor(draw(arrays(shape, dtype=dtype, **elements)), requires_grad=requires_grad)


def assert_grads_match(
    f,
    *inputs,
    order: int = 1,
    modes=("rev",),
    eps: float = 1e-6,
    atol: float = 1e-7,
    rtol: float = 1e-5,
    seed: int = 0,
) -> None:
    """Assert that ``f``'s derivatives up to ``order`` (1 to 3) match finite differences in
    float64 in each of ``modes`` (``"rev"``, ``"fwd"``), and that ``f`` does not modify its
    inputs. Raises ``GradcheckError`` (an ``AssertionError``) with the report of ``gradcheck``.

    ```pycon
    >>> import autograd_mini as am
    >>> assert_grads_match(lambda x: x.tanh(), am.tensor([0.5, -1.0]), order=2)

    ```
    """
    before = [np.array(getattr(x, "data", x), copy=True) for x in inputs]
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, modes=modes, order=order)
    for k, (x, b) in enumerate(zip(inputs, before)):
        after = np.asarray(getattr(x, "data", x))
        if not np.array_equal(after, b, equal_nan=True):
            raise AssertionError(f"assert_grads_match: input {k} was modified by the function")


def check_grad(
    f,
    grad_f,
    *arrays,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check a numpy function ``f`` against its hand-written gradient ``grad_f`` (n-d, several arguments).

    The calling convention of ``grad_f`` follows what ``f`` returns on ``arrays``:

    - a scalar (a Python number or a 0-d array): ``grad_f(*arrays)`` returns the gradient of
      ``f`` with respect to each argument: one array for one argument, else a tuple with one
      per argument;
    - an array: ``grad_f(*arrays, g)`` returns the vector-Jacobian product, the gradient of
      ``sum(g * f(*arrays))`` with respect to each argument, for an upstream gradient ``g`` of
      ``f``'s output shape (a random one is drawn, seeded by ``seed``).

    Float arguments are checked in float64; other arguments (integer index arrays, ...) are
    passed through and their gradient entries (``None`` is fine) ignored. The report is that of
    ``gradcheck`` (full Jacobians for small inputs); like it, a mismatch raises
    ``GradcheckError``, an ``AssertionError``, so it shrinks under Hypothesis.

    ```pycon
    >>> import numpy as np
    >>> check_grad(lambda a, b: np.sum(a * b), lambda a, b: (b, a), np.ones((2, 3)), np.arange(6.0).reshape(2, 3))
    True
    >>> check_grad(np.sin, lambda x, g: g * np.cos(x), np.linspace(0.0, 1.0, 5))
    True

    ```
    """
    if not arrays:
        raise ValueError("check_grad: no arrays given: call check_grad(f, grad_f, *arrays)")
    points = [_float64(a) for a in arrays]
    try:
        scalar = np.ndim(f(*points)) == 0
    except Exception as error:
        raise type(error)(f"check_grad: f failed on the given arrays: {error}") from error
    n = len(arrays)

    class NumpyFunction(Function):
        name = getattr(f, "__name__", "f")

        @staticmethod
        def forward(ctx, *xs):
            ctx.save_for_backward(*xs)
            return np.asarray(f(*xs), dtype=np.float64)

        @staticmethod
        def backward(ctx, g):
            xs = ctx.saved_tensors
            got = grad_f(*xs) if scalar else grad_f(*xs, g)
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
                gi = np.asarray(gi, dtype=np.float64)
                if gi.shape != np.shape(x):
                    raise GradcheckError(
                        f"check_grad: grad_f's gradient for argument {i} has shape {gi.shape}, "
                        f"expected the argument's shape {np.shape(x)}"
                    )
                grads.append(gi * g if scalar else gi)
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
        )
    except GradcheckError as error:
        message = str(error)
        if message.startswith("check_grad"):
            raise
        raise GradcheckError(
            "check_grad (grad_f against finite differences of f): " + message.removeprefix("gradcheck: ")
        ) from None


def _float64(a):
    """A float64 copy of a float array (checked); other arrays as constant Tensors (passed through)."""
    data = np.asarray(a)
    return data.astype(np.float64) if data.dtype.kind == "f" else Tensor(data)
