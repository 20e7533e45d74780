"""Function transforms: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian`` and ``gradients``.

They compose: inside another transform, a transform keeps its result attached to the outer
graph (``create_graph=True``), so ``grad(lambda x: grad(f)(x).sum())(x)`` gives second
derivatives. At the outermost level they work on fresh leaves and return plain Tensors.
"""

from __future__ import annotations

import numbers
import threading

import numpy as np

from .engine import backward
from .grad_mode import enable_grad
from .tensor import Tensor

_depth = threading.local()


def gradients(outputs, inputs, grad_outputs=None, *, retain_graph=None, create_graph=False):
    """d(outputs)/d(inputs) contracted with ``grad_outputs``, like ``torch.autograd.grad``.

    ``outputs`` and ``inputs`` are Tensors or sequences of them. Nothing accumulates into
    ``.grad``; returns a tuple with one gradient per input (zeros where an input is not
    reached). ``retain_graph`` defaults to ``create_graph``.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError("gradients: an output does not require grad (no input it depends on requires grad)")
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"gradients: grad_outputs is needed for an output of shape {out.shape}")
            g = np.ones_like(out.data)
        g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise ValueError(f"gradients: grad_output of shape {g.shape} for an output of shape {out.shape}")
        seeds.append(g if create_graph else g.data)
    if retain_graph is None:
        retain_graph = create_graph
    found = backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)
    return tuple(
        Tensor._wrap(np.zeros_like(x.data)) if g is None else (g if isinstance(g, Tensor) else Tensor._wrap(g))
        for x, g in zip(inputs, found)
    )


def _nested() -> bool:
    return getattr(_depth, "n", 0) > 0


class _Level:
    def __enter__(self):
        _depth.n = getattr(_depth, "n", 0) + 1

    def __exit__(self, *exc):
        _depth.n -= 1


def _prepare(args, argnums, nested):
    """Inputs to differentiate: the outer graph's own tensors when nested, else fresh leaves."""
    args = list(args)
    for i in argnums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"argnums {i} is out of range for {len(args)} positional arguments")
        a = args[i]
        if nested and isinstance(a, Tensor) and a.requires_grad:
            continue
        data = a.data if isinstance(a, Tensor) else np.asarray(a)
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        args[i] = Tensor._wrap(data).requires_grad_()
    return args


def _argnums(argnums):
    if isinstance(argnums, numbers.Integral):
        return (int(argnums),), True
    return tuple(argnums), False


def value_and_grad(f, argnums=0):
    """``f`` -> function returning ``(f(*args), df/dargs[argnums])``; ``f`` must return a scalar."""
    nums, single = _argnums(argnums)

    def wrapped(*args, **kwargs):
        nested = _nested()
        args = _prepare(args, nums, nested)
        with _Level(), enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor) or out.size != 1:
            raise TypeError(
                f"grad: the function must return a one-element Tensor, got "
                f"{type(out).__name__} of shape {getattr(out, 'shape', '?')}"
            )
        inputs = [args[i] for i in nums]
        if not out.requires_grad:
            found = tuple(Tensor._wrap(np.zeros_like(x.data)) for x in inputs)
        else:
            found = gradients(out, inputs, create_graph=nested)
        value = out if nested else out.detach()
        return value, (found[0] if single else found)

    return wrapped


def grad(f, argnums=0):
    """``f`` -> function returning df/dargs[argnums] (a Tensor, or a tuple for several argnums)."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


def jacobian(f, argnums=0):
    """``f`` -> function returning d f(x)_i / d x_j, of shape ``f(x).shape + x.shape``."""
    nums, single = _argnums(argnums)

    def wrapped(*args, **kwargs):
        nested = _nested()
        args = _prepare(args, nums, nested)
        inputs = [args[i] for i in nums]
        with _Level(), enable_grad():
            out = f(*args, **kwargs)
        rows = [[] for _ in inputs]
        flat_size = out.size
        for k in range(flat_size):
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.flat[k] = 1
            if out.requires_grad:
                row = gradients(out, inputs, Tensor._wrap(seed), retain_graph=True, create_graph=nested)
            else:
                row = tuple(Tensor._wrap(np.zeros_like(x.data)) for x in inputs)
            for r, g in zip(rows, row):
                r.append(g)
        from .ops import reshape, stack

        result = []
        for x, r in zip(inputs, rows):
            if nested:
                result.append(reshape(stack(r), out.shape + x.shape))
            else:
                result.append(Tensor._wrap(np.stack([g.data for g in r]).reshape(out.shape + x.shape)))
        return result[0] if single else tuple(result)

    return wrapped


def hessian(f, argnums=0):
    """``f`` -> function returning the matrix of second derivatives, shape ``x.shape + x.shape``."""
    return jacobian(grad(f, argnums), argnums)
