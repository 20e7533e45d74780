"""The loop emitter: array operations on fixed shapes written out as scalar loops for numba.

A captured step has fixed shapes (they are part of its signature), so every array operation
can be written as plain nested loops with constant bounds over flat, C-ordered buffers. Such
loops compile quickly with numba (no numpy array-expression typing) and run without any
Python in between. ``Var`` is a flat buffer with the logical shape it stands for; the emitter
writes Python source, one statement per line, which ``kernel.py`` compiles.

Rounding: elementwise arithmetic is IEEE and matches numpy; sums are accumulated in order
(numpy sums pairwise) and ``math.exp``/``log``/``tanh`` are LLVM's, so results can differ from
the numpy replay in the last bits (bounded, tested; ``exact=True`` keeps the numpy replay).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

_DTYPE_NAMES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.int64): "i64",
    np.dtype(np.int32): "i32",
    np.dtype(np.bool_): "b1",
    np.dtype(np.uint8): "u1",
}


_RESERVED = frozenset(_DTYPE_NAMES.values())
_KIND_ORDER = "biufc"  # numpy's kinds from weakest to strongest (bool, signed, unsigned, float, complex)
_WEAK_KIND = {bool: "b", int: "i", float: "f"}
_WEAK_DEFAULT = {"b": np.dtype(np.bool_), "i": np.dtype(np.int64), "f": np.dtype(np.float64)}

HELPER = "helper"  # a placeholder in ``Emitter.globals``: a helper of helpers.py, bound when compiled


class NotLowerable(Exception):
    """This instruction (or its shapes) has no loop form: the step keeps the numpy replay."""


@dataclass(frozen=True)
class Var:
    """A flat C-ordered buffer named ``name`` in the generated code, standing for an array of ``shape``."""

    name: str
    shape: tuple
    dtype: np.dtype
    scalar: bool = False  # one element kept in a local variable, not a buffer

    def at(self, index: str) -> str:
        """The generated expression for element ``index``."""
        return self.name if self.scalar else f"{self.name}[{index}]"

    @property
    def size(self) -> int:
        """The number of elements."""
        return math.prod(self.shape)


def literal(value) -> str:
    """A float as generated code (``math.inf`` and ``math.nan`` spelled out)."""
    value = float(value)
    if math.isnan(value):
        return "math.nan"
    if math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    return repr(value)


def dtype_name(dtype) -> str:
    """The name the generated code uses for ``dtype`` (a numpy scalar type bound in its globals)."""
    try:
        return _DTYPE_NAMES[np.dtype(dtype)]
    except KeyError:
        raise NotLowerable(f"dtype {np.dtype(dtype)} has no loop form") from None


def strides_of(shape: tuple) -> tuple:
    """C-order strides, counted in elements."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_shapes(*shapes) -> tuple:
    """numpy's broadcast of ``shapes`` (raises NotLowerable when they do not broadcast)."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise NotLowerable(f"shapes {shapes} do not broadcast") from None


def result_dtype(*operands) -> np.dtype:
    """numpy's result dtype with Python numbers weak (NEP 50), as the eager ops compute: the
    arrays' dtypes promoted, then a Python number changes only the kind (a float with integers
    gives float64, a float stays the float it meets). Spelled out rather than asked of
    ``np.result_type`` with 0-d arrays and numbers, which numpy 1.x answers by value (a float32
    Var times 2.0 would be float64 there)."""
    dtypes = [o.dtype for o in operands if isinstance(o, Var)]
    result = np.result_type(*dtypes) if dtypes else None
    for value in operands:
        if isinstance(value, Var):
            continue
        kind = _WEAK_KIND.get(type(value))  # (a Python number; a numpy scalar is not weak)
        if kind is None:  # (a numpy scalar, or anything else: numpy's own answer)
            result = np.result_type(value) if result is None else np.result_type(result, value)
        elif result is None or _KIND_ORDER.index(result.kind) < _KIND_ORDER.index(kind):
            result = _WEAK_DEFAULT[kind]
    return result


class Emitter:
    """Writes the body of one generated function: ``map``, ``reduce_sum``, ``matmul`` and
    friends each append loops computing a new ``Var``; ``source()`` gives the code."""

    def __init__(self, max_matmul_work: int = 1 << 16, large_matmul=None):
        self.lines: list[str] = []
        self.count = 0
        self.largest = 0  # elements of the largest buffer or loop written (numba_build.level reads it)
        self.constants: dict[str, np.ndarray] = {}
        self.globals: dict[str, object] = {}  # other names the code calls (compiled kernels)
        self.max_matmul_work = max_matmul_work
        # ``large_matmul(L, a, b, (m, k, n), transpose_a, transpose_b, out_dtype)``: a product above
        # ``max_matmul_work`` (the kernel builder hands ``blas.matmul``); None: NotLowerable
        self.large_matmul = large_matmul

    # -- names and plain statements ----------------------------------------------------------------------
    def fresh(self, prefix: str = "v") -> str:
        """A new local name (never a dtype's name, ``i32``, ``i64``, ``u1``: those are the code's globals)."""
        self.count += 1
        name = f"{prefix}{self.count}"
        if name in _RESERVED:
            return self.fresh(prefix)
        return name

    def line(self, text: str, depth: int = 0) -> None:
        """Append one statement at loop ``depth`` (indentation is added by ``source``)."""
        self.lines.append("    " * depth + text)

    def helper(self, name: str) -> str:
        """The name of a compiled helper (``helpers.py``: ``empty_``, ``view_``, ``mm_``) the code calls;
        ``kernel.py`` binds it."""
        self.globals[name] = HELPER
        return name

    def view(self, name: str, shape: tuple) -> str:
        """The expression for the C-contiguous array ``name`` seen with ``shape`` (no copy)."""
        return f"{self.helper('view_')}({name}, {tuple(int(n) for n in shape)!r})"

    def alloc(self, shape, dtype, fill=None, depth: int = 0) -> Var:
        """A new value: a local scalar when it has one element (set it, or give ``fill``), else a
        buffer (uninitialised, or filled with ``fill``)."""
        shape = tuple(int(n) for n in shape)
        kind = dtype_name(dtype)
        if math.prod(shape) == 1:
            var = Var(self.fresh(), shape, np.dtype(dtype), scalar=True)
            if fill is not None:
                self.line(f"{var.name} = {kind}({literal(fill)})", depth)
            return var
        var = Var(self.fresh(), shape, np.dtype(dtype))
        self.largest = max(self.largest, var.size)
        self.line(f"{var.name} = {self.helper('empty_')}({var.size}, {kind})", depth)
        if fill is not None and var.size:
            index = self.fresh("i")
            self.line(f"for {index} in range({var.size}):", depth)
            self.line(f"{var.name}[{index}] = {kind}({literal(fill)})", depth + 1)
        return var

    def buffer(self, var: Var) -> str:
        """The name of a flat buffer holding ``var`` (a scalar is copied into a new one)."""
        if not var.scalar:
            return var.name
        name = self.fresh("buf")
        self.line(f"{name} = {self.helper('empty_')}(1, {dtype_name(var.dtype)})")
        self.line(f"{name}[0] = {var.name}")
        return name

    def constant(self, value) -> Var:
        """An array constant of the step (a global of the generated code: numba freezes it)."""
        array = np.array(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        dtype_name(array.dtype)
        name = self.fresh("k")
        self.largest = max(self.largest, array.size)
        self.constants[name] = array.reshape(-1) if array.ndim else array.reshape(1)
        return Var(name, array.shape, array.dtype)

    def operand(self, value):
        """A Var, or a Python/numpy scalar kept inline, or an array turned into a constant Var."""
        if isinstance(value, Var):
            return value
        if isinstance(value, (bool, numbers.Number)) and not isinstance(value, np.ndarray):
            if isinstance(value, np.generic):
                return self.constant(np.asarray(value))
            return value
        if isinstance(value, np.ndarray):
            return self.constant(value)
        raise NotLowerable(f"operand of type {type(value).__name__} has no loop form")

    # -- elementwise --------------------------------------------------------------------------------------
    def map(self, template: str, *operands, dtype=None, shape=None) -> Var:
        """out = template applied elementwise with numpy broadcasting.

        ``template`` uses ``{0}``, ``{1}``, ... for the operands' elements and ``{f}`` for the
        computation's scalar type (write constants as ``{f}(1.0)`` so float32 stays float32);
        ``math.exp`` and friends are available. Python numbers are weak, as in numpy."""
        ops = [self.operand(o) for o in operands]
        compute = result_dtype(*ops) if ops else np.dtype(dtype)
        out_dtype = np.dtype(dtype) if dtype is not None else compute
        vars_ = [o for o in ops if isinstance(o, Var)]
        out_shape = broadcast_shapes(*(v.shape for v in vars_), *(() if shape is None else (shape,)))
        out = self.alloc(out_shape, out_dtype)
        f = dtype_name(compute) if compute.kind in "fc" else dtype_name(out_dtype)
        self._loop(out, ops, template, f)
        return out

    def _loop(self, out: Var, ops, template: str, f: str) -> None:
        shape = out.shape
        same = all(not isinstance(o, Var) or o.shape == shape or o.size == 1 for o in ops)
        if out.scalar:
            self.line(f"{out.name} = {self._expr(template, ops, f, lambda o: '0')}")
            return
        if same:  # one flat loop: every operand is the output's shape or a single element
            index = self.fresh("i")
            expr = self._expr(template, ops, f, lambda o: "0" if o.size == 1 else index)
            self.line(f"for {index} in range({out.size}):")
            self.line(f"{out.name}[{index}] = {expr}", 1)
            return
        names, depth = self._loops(shape)
        out_index = _flat_index(names, shape, shape)
        expr = self._expr(template, ops, f, lambda o: _flat_index(names, shape, o.shape))
        self.line(f"{out.name}[{out_index}] = {expr}", depth)

    def _loops(self, shape) -> tuple[list, int]:
        """Open nested loops over ``shape`` (none for axes of length 1): (index names, depth)."""
        return self._loops_at(shape, 0)

    @staticmethod
    def _expr(template, ops, f, index_of) -> str:
        items = []
        for o in ops:
            if isinstance(o, Var):
                items.append(o.at(index_of(o)))
            elif isinstance(o, bool):
                items.append(repr(o))
            else:
                items.append(f"{f}({literal(o)})")
        return template.format(*items, f=f)

    def cast(self, x: Var, dtype) -> Var:
        """x converted to ``dtype`` (a copy, as numpy's astype)."""
        if np.dtype(dtype) == x.dtype:
            return x
        return self.map("{0}", x, dtype=dtype)

    def broadcast_to(self, x, shape) -> Var:
        """x broadcast to ``shape`` (materialised)."""
        return self.map("{0}", x, dtype=x.dtype if isinstance(x, Var) else None, shape=tuple(shape))

    def reshape(self, x: Var, shape) -> Var:
        """The same buffer with another logical shape (no code)."""
        shape = tuple(int(n) for n in shape)
        if math.prod(shape) != x.size:
            raise NotLowerable(f"reshape of {x.shape} to {shape}")
        return Var(x.name, shape, x.dtype, x.scalar)

    def transpose(self, x: Var) -> Var:
        """The 2-d transpose, materialised."""
        if len(x.shape) != 2:
            raise NotLowerable(f"transpose of a {len(x.shape)}-d array (only 2-d has a loop form)")
        m, n = x.shape
        out = self.alloc((n, m), x.dtype)
        if out.scalar:
            self.line(f"{out.name} = {x.at('0')}")
            return out
        names, depth = self._loops((n, m))
        j, i = (name or "0" for name in names)
        self.line(f"{out.name}[{_sum_terms((j, m), (i, 1))}] = {x.at(_sum_terms((i, n), (j, 1)))}", depth)
        return out

    # -- reductions ---------------------------------------------------------------------------------------
    def reduce_sum(self, x: Var, axes, keepdims: bool = False, dtype=None) -> Var:
        """sum over ``axes`` (accumulated in order, in the output dtype)."""
        axes = tuple(sorted(a % max(len(x.shape), 1) for a in axes)) if x.shape else ()
        kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        out_dtype = np.dtype(dtype) if dtype is not None else x.dtype
        if x.size and x.size == math.prod(kept):  # one term per sum: 0 + x, what the accumulation gives, in one pass
            out = self.alloc(kept, out_dtype)
            names, depth = self._loops(x.shape)
            target, source = _flat_index(names, x.shape, kept), _flat_index(names, x.shape, x.shape)
            self.line(f"{out.at(target)} = {dtype_name(out_dtype)}(0.0) + {x.at(source)}", depth)
            final = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
            return self.reshape(out, final)
        out = self.alloc(kept, out_dtype, fill=0)
        if x.size:
            names, depth = self._loops(x.shape)
            target = _flat_index(names, x.shape, kept)
            source = _flat_index(names, x.shape, x.shape)
            self.line(f"{out.at(target)} += {x.at(source)}", depth)
        final = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
        return self.reshape(out, final)

    def reduce_max(self, x: Var, axis: int, keepdims: bool = True) -> Var:
        """max over one axis (NaN propagates as in numpy)."""
        axis %= len(x.shape)
        kept = tuple(1 if i == axis else n for i, n in enumerate(x.shape))
        out = self.alloc(kept, x.dtype, fill=-math.inf)
        names, depth = self._loops(x.shape)
        target, source = _flat_index(names, x.shape, kept), _flat_index(names, x.shape, x.shape)
        e = self.fresh("e")
        self.line(f"{e} = {x.at(source)}", depth)
        self.line(f"if {e} > {out.at(target)} or {e} != {e}:", depth)
        self.line(f"{out.at(target)} = {e}", depth + 1)
        return out if keepdims else self.reshape(out, tuple(n for i, n in enumerate(x.shape) if i != axis))

    # -- products -----------------------------------------------------------------------------------------
    def matmul(self, a: Var, b: Var, transpose_a: bool = False, transpose_b: bool = False, dtype=None) -> Var:
        """2-d a @ b (either operand read transposed), accumulated in order; a product of more than
        ``max_matmul_work`` multiply-adds goes to ``large_matmul`` (``blas.matmul``; NotLowerable without it)."""
        if len(a.shape) != 2 or len(b.shape) != 2:
            raise NotLowerable(f"matmul of shapes {a.shape} and {b.shape} (only 2-d has a loop form)")
        m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
        k2, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
        if k != k2:
            raise NotLowerable(f"matmul of shapes {a.shape} and {b.shape}")
        out_dtype = np.dtype(dtype) if dtype is not None else result_dtype(a, b)
        if m * n * k > self.max_matmul_work:  # large: one BLAS call (large_matmul), else NotLowerable
            if self.large_matmul is None:
                raise NotLowerable(f"matmul of {m}x{k} by {k}x{n} is large: BLAS does it faster")
            return self.large_matmul(self, a, b, (m, k, n), transpose_a, transpose_b, out_dtype)
        if m * n * k > 64 and a.dtype == b.dtype == out_dtype:  # one call to a compiled helper
            out = Var(self.fresh(), (m, n), out_dtype)
            self.largest = max(self.largest, m * n)
            self.line(f"{out.name} = {self.helper('empty_')}({m * n}, {dtype_name(out_dtype)})")
            self.line(
                f"{self.helper('mm_')}({self.buffer(a)}, {self.buffer(b)}, {out.name}, {m}, {k}, {n}, {transpose_a}, {transpose_b})"
            )
            return out
        out = self.alloc((m, n), out_dtype)
        f = dtype_name(out_dtype)
        names, depth = self._loops((m, n))
        i, j = (name or "0" for name in names)
        (p,), inner = self._loops_at((k,), depth)
        p = p or "0"
        a_at = _sum_terms((p, m), (i, 1)) if transpose_a else _sum_terms((i, k), (p, 1))
        b_at = _sum_terms((j, k), (p, 1)) if transpose_b else _sum_terms((p, n), (j, 1))
        if k == 1:  # one product per element: 0 + a*b, what the accumulation gives, in one statement
            value = f"{f}(0.0) + {a.at(a_at)} * {b.at(b_at)}"
            self.line(
                f"{out.name} = {value}" if out.scalar else f"{out.name}[{_sum_terms((i, n), (j, 1))}] = {value}", depth
            )
            return out
        target = out.name if out.scalar else self.fresh("acc")
        # the accumulator starts before the k loop: rewrite the opened loop's header order
        header = self.lines.pop() if inner > depth else None
        self.line(f"{target} = {f}(0.0)", depth)
        if header is not None:
            self.lines.append(header)
        self.line(f"{target} += {a.at(a_at)} * {b.at(b_at)}", inner)
        if not out.scalar:
            self.line(f"{out.name}[{_sum_terms((i, n), (j, 1))}] = {target}", depth)
        return out

    def _loops_at(self, shape, depth: int) -> tuple[list, int]:
        """``_loops`` opened inside ``depth`` enclosing loops."""
        names = []
        for n in shape:
            if n == 1:
                names.append(None)
                continue
            name = self.fresh("i")
            self.largest = max(self.largest, n)
            self.line(f"for {name} in range({n}):", depth)
            names.append(name)
            depth += 1
        return names, depth

    def source(self, name: str, params: list[str], results: list[str]) -> str:
        """The generated function's source."""
        body = ["    " + text for text in self.lines] or ["    pass"]
        returned = ", ".join(results) + ("," if len(results) == 1 else "")
        return "\n".join([f"def {name}({', '.join(params)}):", *body, f"    return ({returned})", ""])


_TYPED_LITERAL = re.compile(r"\b(f32|f64)\((-?(?:\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+|math\.inf|math\.nan))\)")
_FLOAT_TYPES = {"f32": np.float32, "f64": np.float64}


def typed_literals(source: str) -> tuple[str, dict]:
    """``source`` with each ``f32(1.0)``-style literal (how the loop forms spell a constant of the
    computation's type) replaced by a global of that type, ``(source, {name: value})``: numba
    freezes a global numpy scalar as a constant, where the call costs it a typing and a
    lowering at every use (about 0.01 s of the lecture step's cold compile). Same value, same
    rounding (numpy's float32 of the literal is what numba's ``float32(literal)`` computes)."""
    names: dict[tuple, str] = {}

    def constant(match) -> str:
        key = (match.group(1), match.group(2))
        if key not in names:
            names[key] = f"_{key[0]}_{len(names)}"
        return names[key]

    text = _TYPED_LITERAL.sub(constant, source)
    values = {}
    with np.errstate(over="ignore"):  # (f32(1e300) is inf, in numba as in numpy)
        for (kind, spelled), name in names.items():
            value = float(spelled.replace("math.inf", "inf").replace("math.nan", "nan"))
            values[name] = _FLOAT_TYPES[kind](value)
    return text, values


def _sum_terms(*pairs) -> str:
    """``i * stride + ...`` for (index, stride) pairs, leaving out constant-0 indices."""
    terms = [name if stride == 1 else f"{name} * {stride}" for name, stride in pairs if name != "0"]
    return " + ".join(terms) or "0"


def _flat_index(names, loop_shape: tuple, operand_shape: tuple) -> str:
    """The flat index of an operand of ``operand_shape`` (right-aligned, broadcast) at the loop
    position ``names`` over ``loop_shape``."""
    offset = len(loop_shape) - len(operand_shape)
    terms = []
    for d, (n, stride) in enumerate(zip(operand_shape, strides_of(operand_shape))):
        if n == 1:
            continue
        name = names[offset + d]
        if name is None:
            continue
        terms.append(name if stride == 1 else f"{name} * {stride}")
    return " + ".join(terms) or "0"
