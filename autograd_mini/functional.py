"""Function transforms: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``, ``gradients``,
and the JAX-style ``vjp``, ``jvp`` (forward mode) and ``hvp`` (Hessian-vector product).

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
    reached). An input listed twice gets its gradient in both places. ``retain_graph``
    defaults to ``create_graph``.

    ```pycon
    >>> import autograd_mini as am
    >>> x = am.tensor([1.0, 2.0], requires_grad=True)
    >>> gx, gx_again = am.gradients((x * x).sum(), [x, x])
    >>> gx.data, gx_again.data
    (array([2., 4.]), array([2., 4.]))

    ```
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradients: inputs[{k}] must be a Tensor, got {type(x).__name__}")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"gradients: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = []
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(f"gradients: output {k} does not require grad (no input it depends on requires grad)")
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"gradients: grad_outputs is needed for output {k} of shape {out.shape}")
            g = np.ones_like(out.data)
        g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise ValueError(f"gradients: grad_outputs[{k}] has shape {g.shape} but output {k} has shape {out.shape}")
        seeds.append(g if create_graph else g.data)
    if retain_graph is None:
        retain_graph = create_graph
    # the engine returns one gradient per distinct tensor: ask it once per tensor, map back
    slot = {}
    unique = []
    for x in inputs:
        if id(x) not in slot:
            slot[id(x)] = len(unique)
            unique.append(x)
    found = backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=tuple(unique))
    result = []
    given = set()
    for x in inputs:
        g = found[slot[id(x)]]
        if g is None:
            result.append(Tensor._wrap(np.zeros_like(x.data)))
            continue
        g = g if isinstance(g, Tensor) else Tensor._wrap(g)
        if id(x) in given and not g.requires_grad:
            g = Tensor._wrap(g.data.copy())  # a repeated input gets its own buffer (no aliasing)
        given.add(id(x))
        result.append(g)
    return tuple(result)


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
    """``f`` -> function returning ``(f(*args), df/dargs[argnums])``; ``f`` must return a scalar.

    ```pycon
    >>> import autograd_mini as am
    >>> value, g = am.value_and_grad(lambda x: (x**2).sum())(am.tensor([1.0, 3.0]))
    >>> value.item(), g.data
    (10.0, array([2., 6.]))

    ```
    """
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
    """``f`` -> function returning df/dargs[argnums] (a Tensor, or a tuple for several argnums).

    ```pycon
    >>> import autograd_mini as am
    >>> am.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(am.tensor([1.0, 2.0]), am.tensor([3.0, 4.0]))
    (tensor([3., 4.]), tensor([1., 2.]))

    ```
    """
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


def jacobian(f, argnums=0):
    """``f`` -> function returning d f(x)_i / d x_j, of shape ``f(x).shape + x.shape``.

    One backward pass per output element (reverse mode).

    ```pycon
    >>> import autograd_mini as am
    >>> am.jacobian(lambda x: x * x)(am.tensor([1.0, 2.0])).data
    array([[2., 0.],
           [0., 4.]])

    ```
    """
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
    """``f`` -> function returning the matrix of second derivatives, shape ``x.shape + x.shape``.

    The Jacobian of the gradient; for a product with one vector, ``hvp`` is cheaper.

    ```pycon
    >>> import autograd_mini as am
    >>> am.hessian(lambda x: (x**3).sum())(am.tensor([1.0, 2.0])).data
    array([[ 6.,  0.],
           [ 0., 12.]])

    ```
    """
    return jacobian(grad(f, argnums), argnums)


# ---- JAX-style transforms: vjp, jvp (forward mode), hvp ----------------------------------------


def _tuple_of(name: str, what: str, values) -> tuple:
    if isinstance(values, (tuple, list)):
        return tuple(values)
    raise TypeError(f"{name}: {what} must be a tuple or list (as in JAX), got {type(values).__name__}")


def _outputs_of(name: str, out) -> tuple[tuple, bool]:
    """(the output Tensors, whether ``f`` returned a single Tensor)."""
    if isinstance(out, Tensor):
        return (out,), True
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return tuple(out), False
    raise TypeError(f"{name}: the function must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


def _same_shaped(name: str, what: str, values, like) -> list:
    """``values`` as Tensors, each with the shape and dtype of its partner in ``like``."""
    if len(values) != len(like):
        raise ValueError(
            f"{name}: {len(values)} {what} for {len(like)} {'outputs' if 'cotangent' in what else 'primals'}"
        )
    result = []
    for k, (v, x) in enumerate(zip(values, like)):
        data = v.data if isinstance(v, Tensor) else np.asarray(v)
        if data.shape != x.shape:
            raise ValueError(f"{name}: {what}[{k}] has shape {data.shape}, expected {x.shape}")
        result.append(v if isinstance(v, Tensor) and v.dtype == x.dtype else Tensor._wrap(np.asarray(data, x.dtype)))
    return result


def _zeros(x: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros_like(x.data))


def vjp_graph(outputs, inputs, cotangents, create_graph: bool) -> tuple:
    """``sum_k cotangents[k]^T d outputs[k] / d inputs`` for Tensors of one graph (zeros when unreached)."""
    live = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not live:
        return tuple(_zeros(x) for x in inputs)
    return gradients(
        [o for o, _ in live], list(inputs), [c for _, c in live], retain_graph=True, create_graph=create_graph
    )


def jvp_graph(outputs, inputs, tangents, create_graph: bool) -> tuple:
    """``d outputs / d inputs`` applied to ``tangents`` (forward mode), exactly, by transposing a vjp.

    ``u -> J^T u`` is linear in ``u``; differentiating ``<J^T u, t>`` with respect to ``u``
    gives ``J t``. Costs two backward passes, whatever the sizes.
    """
    live = [o for o in outputs if o.requires_grad]
    if not live:
        return tuple(_zeros(o) for o in outputs)
    us = [Tensor._wrap(np.zeros(o.shape, dtype=o.dtype)).requires_grad_() for o in live]
    with enable_grad():
        pulled = gradients(live, list(inputs), us, retain_graph=True, create_graph=True)
        terms = [(p * t).sum() for p, t in zip(pulled, tangents) if p.requires_grad]
    if not terms:
        return tuple(_zeros(o) for o in outputs)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    found = iter(gradients(total, us, retain_graph=True, create_graph=create_graph))
    return tuple(next(found) if o.requires_grad else _zeros(o) for o in outputs)


def vjp(f, *primals):
    """``(f(*primals), vjp_fn)`` as ``jax.vjp``: ``vjp_fn(cotangent)`` returns ``cotangent^T df/dprimals``.

    ``vjp_fn`` takes one cotangent per output (a single array when ``f`` returns one Tensor,
    else a tuple) and returns a tuple with one gradient per primal. It can be called many times.

    ```pycon
    >>> import autograd_mini as am
    >>> out, vjp_fn = am.vjp(lambda x: x * x, am.tensor([1.0, 2.0]))
    >>> vjp_fn(am.tensor([1.0, 10.0]))[0].data
    array([ 2., 40.])

    ```
    """
    nested = _nested()
    args = _prepare(primals, range(len(primals)), nested)
    with _Level(), enable_grad():
        out = f(*args)
    outs, single = _outputs_of("vjp", out)

    def vjp_fn(cotangent):
        """``cotangent^T d f / d primals``: one gradient per primal (a tuple)."""
        cts = (cotangent,) if single else _tuple_of("vjp_fn", "the cotangent of a tuple output", cotangent)
        cts = _same_shaped("vjp_fn", "cotangents", cts, outs)
        return vjp_graph(outs, args, cts, create_graph=nested)

    if not nested:
        out = outs[0].detach() if single else tuple(o.detach() for o in outs)
    return out, vjp_fn


def jvp(f, primals, tangents):
    """``(f(*primals), J tangents)`` as ``jax.jvp``: the forward-mode (directional) derivative.

    ``primals`` and ``tangents`` are tuples of the same length and shapes. The result is exact
    (no finite differences): the vjp ``u -> J^T u`` is linear, and its own vjp is ``J``.

    ```pycon
    >>> import autograd_mini as am
    >>> out, t_out = am.jvp(lambda x: x ** 3, (am.tensor([1.0, 2.0]),), (am.tensor([1.0, 0.5]),))
    >>> t_out.data
    array([3., 6.])

    ```
    """
    primals = _tuple_of("jvp", "primals", primals)
    tangents = _tuple_of("jvp", "tangents", tangents)
    nested = _nested()
    args = _prepare(primals, range(len(primals)), nested)
    ts = _same_shaped("jvp", "tangents", tangents, args)
    with _Level(), enable_grad():
        out = f(*args)
    outs, single = _outputs_of("jvp", out)
    t_out = jvp_graph(outs, args, ts, create_graph=nested)
    if not nested:
        outs = tuple(o.detach() for o in outs)
        t_out = tuple(t.detach() for t in t_out)
    return (outs[0], t_out[0]) if single else (outs, t_out)


def hvp(f, x, v):
    """The Hessian of scalar ``f`` at ``x`` times ``v``, without forming the Hessian.

    Reverse over reverse: the gradient is built with ``create_graph=True`` and differentiated
    once more along ``v``. ``x`` and ``v`` are Tensors (or tuples of them, for a function of
    several arguments, giving a tuple).

    ```pycon
    >>> import autograd_mini as am
    >>> am.hvp(lambda x: (x ** 3).sum(), am.tensor([1.0, 2.0]), am.tensor([1.0, 1.0])).data
    array([ 6., 12.])

    ```
    """
    single = not isinstance(x, (tuple, list))
    xs = (x,) if single else tuple(x)
    vs = (v,) if single else _tuple_of("hvp", "v", v)
    nested = _nested()
    args = _prepare(xs, range(len(xs)), nested)
    vs = _same_shaped("hvp", "v", vs, args)
    with _Level(), enable_grad():
        out = f(*args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise TypeError(
                f"hvp: the function must return a one-element Tensor, got "
                f"{type(out).__name__} of shape {getattr(out, 'shape', '?')}"
            )
        if out.requires_grad:
            g = gradients(out, args, create_graph=True)
            terms = [(gi * vi).sum() for gi, vi in zip(g, vs) if gi.requires_grad]
        else:
            terms = []
    if not terms:
        result = tuple(_zeros(a) for a in args)
    else:
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        result = gradients(total, args, create_graph=nested)
    return result[0] if single else result
