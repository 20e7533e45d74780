"""``Tensor``: a thin wrapper of a numpy array that records the ops applied to it.

The Tensor holds the array (``.data``), its gradient (``.grad``, a Tensor or None), and the
op that produced it (``._ctx``, a ``Function`` instance; None for leaves). All arithmetic is
delegated to the ops in ``autograd_mini.ops``; this file only wires operators to them.
"""

from __future__ import annotations

import numbers

import numpy as np

from .grad_mode import state


def _as_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"tensor: expected numbers, a nested list of numbers or an ndarray, got {type(data).__name__} ({error})"
        ) from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"tensor: expected numeric data, got an array of dtype {array.dtype}")
    return array


class Tensor:
    """An n-d array node of the graph. Build one with ``am.tensor(...)``."""

    __slots__ = ("data", "grad", "_ctx", "_requires_grad", "name", "_retains_grad", "_keras_logits", "__weakref__")
    # _keras_logits: set (never initialised, read with getattr) by nn on a softmax/sigmoid output
    # to the logits it came from, as Keras 3 does, so that a cross-entropy can fuse with it
    __array_ufunc__ = None  # ndarray (op) Tensor defers to the Tensor's reflected operator
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        self.data = data if type(data) is np.ndarray and dtype is None else _as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._requires_grad = False
        self.name = name
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, ctx=None) -> Tensor:
        """Fast constructor for op results (no copy, no checks)."""
        t = cls.__new__(cls)
        t.data = array
        t.grad = None
        t._ctx = ctx
        t._requires_grad = ctx is not None and array.dtype.kind == "f"
        t.name = None
        t._retains_grad = False
        return t

    # ---- gradient bookkeeping ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether backward computes a gradient for this tensor (settable on float leaves only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind not in "f":
            raise TypeError(
                f"only floating-point tensors can require grad, got dtype {self.data.dtype}"
                f"{' for ' + repr(self.name) if self.name else ''}"
            )
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad can only be turned off on leaves; use .detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, value: bool = True) -> Tensor:
        """Set ``requires_grad`` to ``value`` in place (PyTorch's ``requires_grad_``); returns self."""
        self.requires_grad = value
        return self

    @property
    def is_leaf(self) -> bool:
        """True when no op produced this tensor (``grad_fn`` is None)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The op that produced this tensor (a ``Function`` instance), None for leaves."""
        return self._ctx

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        self._retains_grad = True
        return self

    def mutable_data(self) -> np.ndarray:
        """This tensor's array, ready to be written in place (copy-on-write).

        ``self.data`` itself when no live graph holds it; otherwise (a graph saved it for
        backward, so it is read-only) a fresh copy that becomes ``self.data``, and the graph
        keeps the old values. Every update path of the library (optimizers, ``assign*``,
        ``set_weights``, ``load_weights``) writes through this, so an update never fails and
        never corrupts a pending backward.
        """
        data = self.data
        if not data.flags.writeable:
            data = self.data = data.copy()
        return data

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, like torch's detach)."""
        return Tensor._wrap(self.data)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (chain rule over the graph).

        ``gradient`` is the upstream gradient, required unless ``self`` has one element.
        The graph's saved arrays are released afterwards unless ``retain_graph`` (which
        defaults to ``create_graph``). ``create_graph=True`` makes the gradients themselves
        differentiable.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph "
                "(did you build it from tensors with requires_grad=True, outside no_grad()?)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for single-element outputs; "
                    f"this output has shape {self.shape}. Pass gradient= of that shape "
                    f"(or reduce it first, e.g. .sum())"
                )
            seed = np.empty_like(self.data)
            seed.fill(1)  # np.ones_like(self.data) without its Python frame
        else:
            seed = gradient.data if isinstance(gradient, Tensor) and not create_graph else gradient
            if not isinstance(seed, Tensor):
                seed = np.asarray(seed, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient has shape {seed.shape} but the output has shape {self.shape}")
        if create_graph and not isinstance(seed, Tensor):
            seed = Tensor._wrap(seed)
        if retain_graph is None:
            retain_graph = create_graph
        _engine_backward([self], [seed], retain_graph=retain_graph, create_graph=create_graph)

    # ---- array-like views ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """The array's dimensions, a tuple of ints (``ndarray.shape``)."""
        return self.data.shape

    @property
    def dtype(self):
        """The numpy dtype of the data (``ndarray.dtype``)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions (``ndarray.ndim``)."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements (``ndarray.size``)."""
        return self.data.size

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (d/dx: the gradient transposed back); see am.transpose."""
        return _ops.transpose(self)

    def item(self):
        """The single element as a Python number (``ndarray.item``); no gradient."""
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The ndarray behind this tensor (``.data``, shared, not a copy); no gradient."""
        return self.data

    def tolist(self):
        """The data as nested Python lists of numbers (``ndarray.tolist``); no gradient."""
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        for i in range(len(self.data)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        # any one-element tensor, as torch and jax allow (numpy 2 refuses float() of shape (1, 1))
        return float(self.data.item()) if self.data.size == 1 else float(self.data)

    def __int__(self) -> int:
        return int(self.data.item()) if self.data.size == 1 else int(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---- operators (each delegates to one op) ------------------------------------------------
    # the four arithmetic operators call their op's apply directly (bound at the end of the file)
    def __add__(self, other):
        return _add(self, other)

    def __radd__(self, other):
        return _add(other, self)

    def __sub__(self, other):
        return _sub(self, other)

    def __rsub__(self, other):
        return _sub(other, self)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(other, self)

    def __truediv__(self, other):
        return _div(self, other)

    def __rtruediv__(self, other):
        return _div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        """``t[index] = value``: an in-place update (see ``add_``), allowed where those are."""
        self._check_inplace("__setitem__", value)
        value = value.data if isinstance(value, Tensor) else value
        try:
            np.broadcast_to(np.asarray(value), np.shape(self.data[index]))  # checked before anything changes
        except (IndexError, ValueError, TypeError) as error:
            raise type(error)(
                f"__setitem__: cannot assign a value of shape {np.shape(value)} to index {index!r} "
                f"of a tensor of shape {self.shape}: {error}"
            ) from None
        self.mutable_data()[index] = value

    # ---- in-place updates (PyTorch's methods and operators, TensorFlow's assign*) -------------
    # An update writes into ``mutable_data()``: in place when no live graph holds the array,
    # else into a fresh copy (the graph keeps the old values, so its backward stays right).
    def _check_inplace(self, op: str, other=None) -> None:
        """PyTorch's rule: with grad mode on, in-place ops on tensors of the graph raise."""
        if not state.grad:
            return
        if self._requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{op}: a leaf Tensor that requires grad is being used in an in-place operation; "
                f"update it inside am.no_grad() (e.g. `with am.no_grad(): w -= lr * w.grad`) or with "
                f"w.assign_sub(lr * w.grad)"
            )
        if self._requires_grad:
            raise RuntimeError(
                f"{op}: in-place operations on a tensor computed by the graph (a non-leaf that requires "
                f"grad) are not supported: write the out-of-place form (y = y + z) instead"
            )
        if isinstance(other, Tensor) and other._requires_grad:
            raise RuntimeError(
                f"{op}: an in-place update with a value that requires grad would not be recorded: "
                f"write the out-of-place form (y = y + z), or detach the value"
            )

    def _update(self, op: str, ufunc, value) -> Tensor:
        """``self = ufunc(self, value)`` in place (dtype and shape kept), after checking both."""
        value = value.data if isinstance(value, Tensor) else value
        if isinstance(value, (list, tuple)):
            value = np.asarray(value)
        data = self.data
        try:
            shape = np.broadcast_shapes(data.shape, np.shape(value))
        except ValueError:
            shape = None
        if shape != data.shape:
            raise ValueError(
                f"{op}: cannot update a tensor of shape {data.shape} in place with a value of shape "
                f"{np.shape(value)} (the value must broadcast to the tensor's shape)"
            )
        kind = np.result_type(data.dtype, value) if ufunc is not None else np.asarray(value).dtype
        if not np.can_cast(kind, data.dtype, "same_kind"):
            raise TypeError(
                f"{op}: a value of dtype {np.asarray(value).dtype} cannot update a tensor of dtype "
                f"{data.dtype} in place (the result type {kind} cannot be cast to it)"
            )
        out = self.mutable_data()
        if ufunc is None:
            np.copyto(out, value, casting="same_kind")
        else:
            ufunc(out, value, out=out, casting="same_kind")
        return self

    def __iadd__(self, other):
        """``t += other`` in place (PyTorch's rule: a leaf that requires grad only under no_grad)."""
        self._check_inplace("+=", other)
        return self._update("+=", np.add, other)

    def __isub__(self, other):
        """``t -= other`` in place (PyTorch's rule: a leaf that requires grad only under no_grad)."""
        self._check_inplace("-=", other)
        return self._update("-=", np.subtract, other)

    def __imul__(self, other):
        """``t *= other`` in place (PyTorch's rule: a leaf that requires grad only under no_grad)."""
        self._check_inplace("*=", other)
        return self._update("*=", np.multiply, other)

    def __itruediv__(self, other):
        """``t /= other`` in place (PyTorch's rule: a leaf that requires grad only under no_grad)."""
        self._check_inplace("/=", other)
        return self._update("/=", np.true_divide, other)

    def add_(self, other, alpha=1) -> Tensor:
        """self += alpha * other, in place (PyTorch's ``add_``); returns self."""
        self._check_inplace("add_", other)
        return self._update("add_", np.add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other, alpha=1) -> Tensor:
        """self -= alpha * other, in place (PyTorch's ``sub_``); returns self."""
        self._check_inplace("sub_", other)
        return self._update("sub_", np.subtract, other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other) -> Tensor:
        """self *= other, in place; returns self."""
        self._check_inplace("mul_", other)
        return self._update("mul_", np.multiply, other)

    def div_(self, other) -> Tensor:
        """self /= other, in place; returns self."""
        self._check_inplace("div_", other)
        return self._update("div_", np.true_divide, other)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place; returns self."""
        self._check_inplace("zero_")
        return self._update("zero_", None, 0)

    def fill_(self, value) -> Tensor:
        """Set every element to the number ``value``, in place; returns self."""
        self._check_inplace("fill_", value)
        if np.ndim(value.data if isinstance(value, Tensor) else value) != 0:
            raise ValueError(f"fill_: expected a number (or a 0-d tensor), got shape {np.shape(value)}")
        return self._update("fill_", None, value)

    def copy_(self, src) -> Tensor:
        """Copy ``src``'s values (broadcast to this shape) into this tensor, in place; returns self."""
        self._check_inplace("copy_", src)
        return self._update("copy_", None, src)

    def clamp_(self, min=None, max=None) -> Tensor:
        """Limit the values to [min, max] in place (either bound may be None); returns self."""
        if min is None and max is None:
            raise ValueError("clamp_: give min, max or both")
        self._check_inplace("clamp_")
        out = self.mutable_data()
        np.clip(out, min, max, out=out)
        return self

    def assign(self, value) -> Tensor:
        """TensorFlow's ``Variable.assign``: set the values (never recorded, even on a leaf that
        requires grad; a graph that saved the old values keeps them); returns self."""
        return self._update("assign", None, value)

    def assign_add(self, delta) -> Tensor:
        """TensorFlow's ``Variable.assign_add``: self += delta, never recorded; returns self."""
        return self._update("assign_add", np.add, delta)

    def assign_sub(self, delta) -> Tensor:
        """TensorFlow's ``Variable.assign_sub``: self -= delta, never recorded; returns self."""
        return self._update("assign_sub", np.subtract, delta)

    # comparisons give boolean tensors that carry no gradient
    def __lt__(self, other):
        return compare(np.less, self, other)

    def __le__(self, other):
        return compare(np.less_equal, self, other)

    def __gt__(self, other):
        return compare(np.greater, self, other)

    def __ge__(self, other):
        return compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return compare(np.equal, self, other)

    def __ne__(self, other):
        return compare(np.not_equal, self, other)

    # ---- methods ---------------------------------------------------------------------------------
    def square(self):
        """Elementwise x * x (d/dx = 2x)."""
        return _ops.mul(self, self)

    def flatten(self):
        """The tensor reshaped to 1-d (the gradient is reshaped back); see am.reshape."""
        return _ops.reshape(self, (-1,))

    def astype(self, dtype):
        """The tensor converted to ``dtype`` (d/dx = 1, the gradient cast back); see am.cast."""
        return _ops.cast(self, dtype)

    def reshape(self, *shape):
        """New shape, as a tuple or as ints, one may be -1 (the gradient is reshaped back); see am.reshape."""
        return _ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape)

    def transpose(self, *axes):
        """Permute the axes (reverse them when none given); the gradient is permuted back; see am.transpose."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    def argmax(self, axis=None):
        """Index of the largest element (an integer tensor, no gradient)."""
        return Tensor._wrap(np.asarray(self.data.argmax(axis=axis)))

    def argmin(self, axis=None):
        """Index of the smallest element (an integer tensor, no gradient)."""
        return Tensor._wrap(np.asarray(self.data.argmin(axis=axis)))


def _scaled(value, alpha):
    return (value.data if isinstance(value, Tensor) else np.asarray(value)) * alpha


def compare(ufunc, a, b) -> Tensor:
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    with np.errstate(invalid="ignore"):
        return Tensor._wrap(np.asanyarray(ufunc(a, b)))  # asanyarray: am.compile sees traced comparisons


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None) -> Tensor:
    """Make a leaf Tensor holding a copy of ``data`` (Python floats give float64).

    A float32 array stays float32 (and so do its gradients); integer and bool data cannot
    require grad.
    """
    return Tensor(_as_array(data, dtype), requires_grad=requires_grad, name=name)


def as_tensor(data, dtype=None) -> Tensor:
    """``data`` itself if it is already a Tensor (of ``dtype``), else a new leaf without grad."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if type(data) is np.ndarray and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor._wrap(data)
    return Tensor(_as_array(data, dtype))


def zeros(shape, dtype=np.float64, requires_grad=False) -> Tensor:
    """A new leaf Tensor of ``shape`` filled with 0 (float64 by default)."""
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(shape, dtype=np.float64, requires_grad=False) -> Tensor:
    """A new leaf Tensor of ``shape`` filled with 1 (float64 by default)."""
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=np.float64, requires_grad=False, rng=None) -> Tensor:
    """A new leaf Tensor of ``shape`` of standard normal draws from ``rng`` (default: a fresh Generator)."""
    rng = np.random.default_rng() if rng is None else rng
    return Tensor(rng.standard_normal(shape).astype(dtype, copy=False), requires_grad=requires_grad)


from . import ops as _ops  # noqa: E402  (the ops build on Tensor, so they come after it)
from .engine import backward as _engine_backward  # noqa: E402  (the engine builds on Tensor too)

_add, _sub, _mul, _div = (
    _ops.elementwise.Add.apply,
    _ops.elementwise.Sub.apply,
    _ops.elementwise.Mul.apply,
    _ops.elementwise.Div.apply,
)


def _method(fn, name: str, doc: str, options: bool = True):
    """A Tensor method calling the op function ``fn`` on ``self`` (written once, in the op)."""
    if options:

        def method(self, *args, **options):
            return fn(self, *args, **options)
    else:  # (the hot path: no argument packing)

        def method(self):
            return fn(self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


for _name, _cls in _ops.formula.Elementwise.registry.items():  # t.exp(), t.tanh(), ...: one per elementwise op
    if _name not in Tensor.__dict__:
        _fn = getattr(_ops, _name)
        setattr(Tensor, _name, _method(_fn, _name, f"Elementwise {_cls.__doc__}; see am.{_name}.", _fn != _cls.apply))
_FORWARDED = ("clip", "sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax", "matmul", "swapaxes")
for _name in (*_FORWARDED, "expand_dims", "squeeze", "broadcast_to"):
    setattr(Tensor, _name, _method(getattr(_ops, _name), _name, f"{getattr(_ops, _name).__doc__} See am.{_name}."))
