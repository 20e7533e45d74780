"""nn.ops against Keras 3's keras.ops: values and gradients, op by op (a table), plus second
order through the core (gradcheck) for every differentiable row."""

import os

import numpy as np
import pytest

import autograd_mini as am
from nn import ops

os.environ.setdefault("KERAS_BACKEND", "jax")

R = np.random.RandomState(0)
A = R.uniform(-2, 2, (3, 4))
B = R.uniform(-2, 2, (3, 4))
P = R.uniform(0.1, 0.9, (3, 4))  # probabilities, positive
POS = R.uniform(0.5, 2.0, (3, 4))
M = R.uniform(-1, 1, (4, 2))
T01 = (R.uniform(size=(3, 4)) > 0.5).astype(float)
ONEHOT = np.eye(4)[[0, 3, 1]]

# (name, args, kwargs, indices of differentiable args)
ROWS = [
    ("add", (A, B), {}, (0, 1)),
    ("subtract", (A, B), {}, (0, 1)),
    ("multiply", (A, B), {}, (0, 1)),
    ("divide", (A, POS), {}, (0, 1)),
    ("power", (POS, B), {}, (0, 1)),
    ("negative", (A,), {}, (0,)),
    ("square", (A,), {}, (0,)),
    ("sqrt", (POS,), {}, (0,)),
    ("reciprocal", (POS,), {}, (0,)),
    ("exp", (A,), {}, (0,)),
    ("expm1", (A,), {}, (0,)),
    ("log", (POS,), {}, (0,)),
    ("log1p", (POS,), {}, (0,)),
    ("log2", (POS,), {}, (0,)),
    ("log10", (POS,), {}, (0,)),
    ("logaddexp", (A, B), {}, (0, 1)),
    ("abs", (A,), {}, (0,)),
    ("sin", (A,), {}, (0,)),
    ("cos", (A,), {}, (0,)),
    ("tan", (P,), {}, (0,)),
    ("tanh", (A,), {}, (0,)),
    ("sinh", (A,), {}, (0,)),
    ("cosh", (A,), {}, (0,)),
    ("maximum", (A, B), {}, (0, 1)),
    ("minimum", (A, B), {}, (0, 1)),
    ("clip", (A, -1.0, 1.0), {}, (0,)),
    ("where", (A > 0, A, B), {}, (1, 2)),
    ("sum", (A,), {"axis": 1}, (0,)),
    ("sum", (A,), {"axis": None}, (0,)),
    ("mean", (A,), {"axis": 0, "keepdims": True}, (0,)),
    ("max", (A,), {"axis": 1}, (0,)),
    ("min", (A,), {"axis": 0}, (0,)),
    ("prod", (A,), {"axis": 1}, (0,)),
    ("var", (A,), {"axis": 1}, (0,)),
    ("std", (A,), {"axis": 0}, (0,)),
    ("average", (A,), {"axis": 1, "weights": np.array([1.0, 2.0, 3.0, 4.0])}, (0,)),
    ("cumsum", (A,), {"axis": 1}, (0,)),
    ("matmul", (A, M), {}, (0, 1)),
    ("dot", (A, M), {}, (0, 1)),
    ("tensordot", (A, M), {"axes": 1}, (0, 1)),
    ("outer", (A[0], B[1]), {}, (0, 1)),
    ("trace", (A,), {}, (0,)),
    ("diagonal", (A,), {}, (0,)),
    ("reshape", (A, (2, 6)), {}, (0,)),
    ("ravel", (A,), {}, (0,)),
    ("transpose", (A,), {}, (0,)),
    ("swapaxes", (A, 0, 1), {}, (0,)),
    ("moveaxis", (A[None], 0, 2), {}, (0,)),
    ("expand_dims", (A, 1), {}, (0,)),
    ("squeeze", (A[:, None],), {"axis": 1}, (0,)),
    ("broadcast_to", (A[0], (2, 4)), {}, (0,)),
    ("concatenate", ([A, B],), {"axis": 1}, ()),
    ("stack", ([A, B],), {"axis": 0}, ()),
    ("tile", (A, (2, 1)), {}, (0,)),
    ("repeat", (A, 2), {"axis": 0}, (0,)),
    ("flip", (A,), {"axis": 1}, (0,)),
    ("take", (A, np.array([2, 0, 2])), {"axis": 1}, (0,)),
    ("take_along_axis", (A, np.argsort(A, axis=1)), {"axis": 1}, (0,)),
    ("sort", (A,), {"axis": 1}, (0,)),
    ("tril", (A,), {}, (0,)),
    ("triu", (A,), {"k": 1}, (0,)),
    ("pad", (A, ((1, 0), (0, 2))), {}, (0,)),
    ("norm", (A,), {"axis": 1}, (0,)),
    ("logsumexp", (A,), {"axis": 1}, (0,)),
    ("rsqrt", (POS,), {}, (0,)),
    ("erf", (A,), {}, (0,)),
    ("relu", (A,), {}, (0,)),
    ("relu6", (A * 4,), {}, (0,)),
    ("sigmoid", (A,), {}, (0,)),
    ("softplus", (A,), {}, (0,)),
    ("softsign", (A,), {}, (0,)),
    ("silu", (A,), {}, (0,)),
    ("log_sigmoid", (A,), {}, (0,)),
    ("leaky_relu", (A,), {}, (0,)),
    ("hard_sigmoid", (A,), {}, (0,)),
    ("elu", (A,), {}, (0,)),
    ("selu", (A,), {}, (0,)),
    ("gelu", (A,), {}, (0,)),
    ("softmax", (A,), {}, (0,)),
    ("log_softmax", (A,), {"axis": 0}, (0,)),
    ("binary_crossentropy", (T01, P), {}, (1,)),
    ("binary_crossentropy", (T01, A), {"from_logits": True}, (1,)),
    ("categorical_crossentropy", (ONEHOT, P), {}, (1,)),
    ("categorical_crossentropy", (ONEHOT, A), {"from_logits": True}, (1,)),
    ("sparse_categorical_crossentropy", (np.array([0, 3, 1]), A), {"from_logits": True}, (1,)),
    ("normalize", (A,), {"axis": -1}, (0,)),
    ("one_hot", (np.array([0, 2, 1]), 3), {}, ()),
    ("argmax", (A,), {"axis": 1}, ()),
    ("argmin", (A,), {"axis": 0}, ()),
    ("argsort", (A,), {"axis": 1}, ()),
    ("equal", (A > 0, B > 0), {}, ()),
    ("greater", (A, B), {}, ()),
    ("floor", (A,), {}, ()),
    ("round", (A,), {}, ()),
    ("sign", (A,), {}, ()),
]


def _ids():
    return [f"{name}-{i}" for i, (name, *_rest) in enumerate(ROWS)]


def _cast(args, dtype):
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(a.astype(dtype))
        elif isinstance(a, list):
            out.append([x.astype(dtype) for x in a])
        else:
            out.append(a)
    return out


def _value(x):
    if isinstance(x, (tuple, list)):
        return [np.asarray(ops.convert_to_numpy(v)) for v in x]
    return np.asarray(ops.convert_to_numpy(x))


@pytest.mark.parametrize("row", ROWS, ids=_ids())
def test_value_equals_keras(row):
    keras = pytest.importorskip("keras")
    name, args, kwargs, _diff = row
    args32 = _cast(args, np.float32)
    ours = getattr(ops, name)(*args32, **kwargs)
    theirs = getattr(keras.ops, name)(*args32, **kwargs)
    np.testing.assert_allclose(_value(ours), np.asarray(theirs), rtol=2e-5, atol=2e-6, err_msg=name)
    if _value(ours).dtype.kind == "f":
        assert _value(ours).dtype == np.float32, (name, _value(ours).dtype)


@pytest.mark.slow
@pytest.mark.parametrize("row", [r for r in ROWS if r[3]], ids=lambda r: r[0])
def test_gradient_equals_keras(row):
    """Gradients against jax.grad of keras.ops (slow: one jax compile per op); conventions at
    kinks (relu'(0), ties) included."""
    keras = pytest.importorskip("keras")
    jax = pytest.importorskip("jax")
    name, args, kwargs, diff = row
    args32 = _cast(args, np.float32)
    theirs = getattr(keras.ops, name)(*args32, **kwargs)
    w = np.random.RandomState(1).standard_normal(np.shape(theirs)).astype(np.float32)

    def keras_loss(*xs):
        full = list(args32)
        for i, x in zip(diff, xs):
            full[i] = x
        return (keras.ops.convert_to_tensor(w) * getattr(keras.ops, name)(*full, **kwargs)).sum()

    expected = jax.grad(keras_loss, argnums=tuple(range(len(diff))))(*[args32[i] for i in diff])
    leaves = [am.tensor(args32[i], requires_grad=True) for i in diff]
    full = list(args32)
    for i, leaf in zip(diff, leaves):
        full[i] = leaf
    (getattr(ops, name)(*full, **kwargs) * am.as_tensor(w)).sum().backward()
    for leaf, g in zip(leaves, expected):
        np.testing.assert_allclose(leaf.grad.data, np.asarray(g), rtol=1e-4, atol=1e-5, err_msg=f"d {name}")


SECOND_ORDER_SKIP = {
    "abs",
    "maximum",
    "minimum",
    "clip",
    "relu",
    "relu6",
    "leaky_relu",
    "hard_sigmoid",
    "max",
    "min",
    "sort",
    "normalize",
    "elu",
    "selu",
}


@pytest.mark.parametrize("row", [r for r in ROWS if r[3] and r[0] not in SECOND_ORDER_SKIP], ids=lambda r: r[0])
def test_second_order_through_the_core(row):
    """Every smooth differentiable op: first and second derivatives against finite differences (float64)."""
    name, args, kwargs, diff = row
    args64 = _cast(args, np.float64)

    def f(*xs):
        full = list(args64)
        for i, x in zip(diff, xs):
            full[i] = x
        return getattr(ops, name)(*full, **kwargs)

    assert am.gradcheck(f, tuple(am.tensor(args64[i], requires_grad=True) for i in diff), order=2)


def test_python_scalars_keep_the_tensor_dtype():
    x = ops.convert_to_tensor(np.ones(3, np.float32))
    assert ops.add(x, 1.5).dtype == np.float32
    assert ops.multiply(2.0, x).dtype == np.float32
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor(np.ones(2)).dtype == np.float64  # arrays keep their dtype


def test_core_control_flow_and_conversion():
    x = am.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.cond(ops.sum(x) > 0, lambda: ops.square(x), lambda: x)
    ops.sum(ops.stop_gradient(x) * y).backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data * x.data)
    assert ops.fori_loop(0, 3, lambda i, v: v + i, 0) == 3
    assert ops.while_loop(lambda v: v < 10, lambda v: v * 2, 1) == 16
    assert ops.shape(ops.zeros((2, 3))) == (2, 3)
    arr = ops.convert_to_numpy(x)
    arr[0] = 99.0
    assert x.data[0] == 1.0
    np.testing.assert_allclose(ops.slice(np.arange(6.0).reshape(2, 3), (0, 1), (2, 2)).data, [[1, 2], [4, 5]])
    up = ops.slice_update(np.zeros((2, 3)), (1, 1), np.ones((1, 2)))
    np.testing.assert_allclose(up.data, [[0, 0, 0], [0, 1, 1]])
    assert ops.dtype(up) == "float64"
    assert ops.cast(up, "int32").dtype == np.int32
