"""Large matrix products inside compiled kernels as BLAS calls (``autograd_mini/lowering/blas.py``):
a BLAS-sized product and its two transposed backward products against the numpy replay, a
Dense/Dropout/softmax training against eager training, and the clean fallback to the replay
where a kernel cannot call BLAS."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini.lowering import NotLowerable, blas
from autograd_mini.lowering.emitter import Emitter, Var
from autograd_mini.lowering.kernel import plan_program

pytest.importorskip("numba")


def _product_step(a, b, w):
    """loss = sum((a @ b) * w): its backward takes g @ b.T for a and a.T @ g for b."""

    def step(weight):
        out = am.matmul(a, b)
        a.grad = b.grad = None
        (out * weight).sum().backward()
        return out

    return step


def _sources(compiled) -> str:
    return "\n".join(next(iter(compiled.cache.values())).kernel.sources)


def _products(source: str) -> set:
    """(transpose_a, transpose_b) of every BLAS call in generated code: ``blas_f32_(..., ta, tb)``
    (numpy's OpenBLAS) or ``blas_tn_(...)`` (numba's np.dot, scipy's BLAS)."""
    found = set()
    for name, args in re.findall(r"blas_(\w+?)_\((.*)\)", source):
        if name in ("f32", "f64"):
            found.add(tuple(arg.strip() == "True" for arg in args.split(",")[-2:]))
        else:
            found.add((name[0] == "t", name[1] == "t"))
    return found


BACKENDS = ["numpy", "scipy"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_blas_sized_product_and_its_transposed_gradients_match_the_replay(backend, monkeypatch):
    if backend == "numpy" and blas.backend() != "numpy":
        pytest.skip("numpy's OpenBLAS symbols are not found here")
    if backend == "scipy":
        pytest.importorskip("scipy")
    monkeypatch.setitem(blas._state, "backend", backend)
    rng = np.random.default_rng(0)
    a = am.tensor(rng.standard_normal((48, 70)), requires_grad=True)  # 48 * 70 * 40 multiply-adds: BLAS
    b = am.tensor(rng.standard_normal((70, 40)), requires_grad=True)
    w = rng.standard_normal((48, 40))
    step = am.compile(_product_step(a, b, w), kernels=True)
    step(w)
    step(w)  # two traces (checked), then a numpy replay that compiles the kernel
    replayed = step(w).data.copy()
    replayed_grads = a.grad.data.copy(), b.grad.data.copy()
    (stats,) = step.stats()
    assert stats["kernel"], stats["not_lowered"]
    source = _sources(step)
    assert _products(source) == {(False, False), (False, True), (True, False)}, source
    assert ("blas_f64_(" in source) == (backend == "numpy")
    out = step(w).data
    np.testing.assert_allclose(out, replayed, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.grad.data, replayed_grads[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, replayed_grads[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.grad.data, w @ b.data.T, rtol=1e-10)
    np.testing.assert_allclose(b.grad.data, a.data.T @ w, rtol=1e-10)


def _mlp(jit):
    nn.utils.set_random_seed(0)
    model = nn.Sequential(
        [
            nn.Input((100,)),
            nn.Dense(256, activation="relu"),
            nn.Dropout(0.2),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", jit_compile=jit)
    return model


def test_a_dense_dropout_softmax_training_with_blas_kernels_matches_eager_training():
    """The seed MNIST model's kind of step: Dense products (forward, x.T @ gz, gz @ W.T) by BLAS,
    bias, relu, dropout mask, softmax cross-entropy and RMSprop in the kernels' loops."""
    if not blas.available():
        pytest.skip("no BLAS for kernels here")
    rng = np.random.default_rng(1)
    x = rng.random((128, 100), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    eager = _mlp(False)  # (each model seeded just before its fit: the shuffles and masks are the same)
    eager_losses = eager.fit(x, y, batch_size=32, epochs=3, verbose=0).history["loss"]
    captured = _mlp(True)
    losses = captured.fit(x, y, batch_size=32, epochs=3, verbose=0).history["loss"]
    stats = captured._captured_train_step.compiled.stats()
    assert any(s["kernel"] for s in stats), stats
    source = _sources(captured._captured_train_step.compiled)
    assert _products(source) == {(False, False), (False, True), (True, False)}, source
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_without_blas_a_large_product_keeps_the_bit_exact_replay(monkeypatch):
    rng = np.random.default_rng(2)
    a = am.tensor(rng.standard_normal((48, 70)), requires_grad=True)
    b = am.tensor(rng.standard_normal((70, 40)), requires_grad=True)
    w = rng.standard_normal((48, 40))
    expected = (a.data @ b.data).copy()
    monkeypatch.setitem(blas._state, "backend", "")  # as without numpy's OpenBLAS symbols and scipy
    step = am.compile(_product_step(a, b, w), kernels=True)
    results = [step(w).data.copy() for _ in range(4)]
    (stats,) = step.stats()
    assert not stats["kernel"]
    assert "is large" in stats["not_lowered"] and "no BLAS" in stats["not_lowered"]
    assert all(np.array_equal(r, expected) for r in results)
    assert np.array_equal(b.grad.data, a.data.T @ w)


def test_blas_can_be_turned_off_and_refuses_what_it_cannot_take():
    if not blas.available():
        pytest.skip("no BLAS for kernels here")
    recorded = am.compile(_product_step(*_leaves(), np.ones((48, 40))), kernels=True)
    recorded(np.ones((48, 40)))
    recorded(np.ones((48, 40)))
    program = next(iter(recorded.cache.values())).program
    blas.set_enabled(False)
    try:
        with pytest.raises(NotLowerable, match="is large"):
            plan_program(program)
    finally:
        blas.set_enabled(True)
    assert _products("\n".join(plan_program(program).steps[0].L.lines)) == {
        (False, False),
        (False, True),
        (True, False),
    }
    L = Emitter(max_matmul_work=0, large_matmul=blas.matmul)  # every product goes to BLAS
    ints = Var("a", (8, 8), np.dtype(np.int64))
    with pytest.raises(NotLowerable, match="is large and BLAS takes one float dtype"):
        L.matmul(ints, ints)
    mixed = Var("b", (8, 8), np.dtype(np.float32)), Var("c", (8, 8), np.dtype(np.float64))
    with pytest.raises(NotLowerable, match="BLAS takes one float dtype"):
        L.matmul(*mixed)


def _leaves():
    rng = np.random.default_rng(3)
    return (
        am.tensor(rng.standard_normal((48, 70)), requires_grad=True),
        am.tensor(rng.standard_normal((70, 40)), requires_grad=True),
    )
