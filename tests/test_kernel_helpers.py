"""The compiled helpers of generated kernels (``autograd_mini/lowering/helpers.py``): the allocation
and reshape intrinsics give what ``np.empty`` and ``reshape`` give, and the generated code uses
them (numba's own ``np.empty``/``reshape`` are typed and compiled per literal size and shape:
that was a third of the lecture step's cold compile)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mini as am
import nn

numba = pytest.importorskip("numba")

from autograd_mini.lowering.helpers import intrinsics  # noqa: E402


@pytest.fixture(scope="module")
def helpers():
    found = intrinsics(numba)
    return found["empty_"], found["view_"]


def test_empty_gives_a_fresh_flat_buffer_of_the_dtype(helpers):
    empty_, _ = helpers

    @numba.njit
    def fill(n):
        out = empty_(n, np.float32)
        for i in range(n):
            out[i] = i * 0.5
        return out

    out = fill(7)
    assert out.dtype == np.float32 and out.shape == (7,) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.arange(7, dtype=np.float32) * 0.5)
    assert fill(0).shape == (0,)
    other = fill(7)
    assert not np.shares_memory(out, other)


def test_view_reshapes_without_copying_and_keeps_the_buffer_alive(helpers):
    empty_, view_ = helpers

    @numba.njit
    def flat_then_shaped(a):
        flat = view_(a, (6,))
        flat[5] = 50.0  # writes through to a
        out = empty_(6, np.float64)
        for i in range(6):
            out[i] = flat[i] * 2
        return view_(out, (3, 2)), view_(a, (6,)), view_(empty_(1, np.float64), ())

    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    shaped, flat, scalar = flat_then_shaped(a)
    assert a[1, 2] == 50.0
    assert shaped.shape == (3, 2) and shaped.flags.c_contiguous
    np.testing.assert_array_equal(shaped, np.array([[0.0, 2.0], [4.0, 6.0], [8.0, 100.0]]))
    assert np.shares_memory(flat, a) and flat.shape == (6,)
    assert scalar.shape == () and scalar.dtype == np.float64
    del a
    flat[0] = 1.0  # (the view holds a's buffer)
    assert flat[0] == 1.0


def test_view_refuses_other_layouts(helpers):
    _, view_ = helpers

    @numba.njit
    def flat(a):
        return view_(a, (4,))

    with pytest.raises(numba.core.errors.TypingError):
        flat(np.zeros((4, 2))[:, 0])  # not C-contiguous
    with pytest.raises(ValueError, match="size"):
        flat(np.zeros((2, 3)))  # 6 elements seen as 4: refused, as reshape refuses


def test_generated_kernels_use_the_helpers_not_numpy_allocation_or_reshape(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_MINI_CACHE_DIR", str(tmp_path))
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="sigmoid"), nn.Dense(2)])
    model.compile(optimizer=nn.optimizers.SGD(0.01), loss="mse", jit_compile=True)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    model.fit(x, x[:, :2], batch_size=2, epochs=1, verbose=0)
    kernels = [e.kernel for e in model._captured_train_step.compiled.cache.values() if e.kernel is not None]
    assert kernels
    blocks = [source for kernel in kernels for source in kernel.sources[:-1]]  # (the last is the Python driver)
    assert blocks and all("view_(" in s and "empty_(" in s for s in blocks)
    assert not any(".reshape(" in s or "np.empty(" in s for s in blocks)
    assert am.compile_cache.stats()["compiled"] + am.compile_cache.stats()["disk_hits"] >= 1


def test_copy_is_one_memcpy_of_equal_sizes():
    copy_ = intrinsics(numba)["copy_"]

    @numba.njit
    def copied(dst, src):
        copy_(dst, src)
        return dst

    src = np.arange(5, dtype=np.float32) - 2.5
    src[1] = -0.0
    out = copied(np.full(5, np.nan, np.float32), src)
    assert out.tobytes() == src.tobytes()  # (bit for bit, -0.0 kept)
    with pytest.raises(ValueError, match="sizes differ"):
        copied(np.zeros(4, np.float32), src)
    with pytest.raises(numba.core.errors.TypingError):
        copied(np.zeros(5, np.float64), src)  # another dtype: no implicit cast


def test_call_unlinked_calls_the_compiled_function_by_symbol_without_linking_it():
    from autograd_mini.lowering.helpers import call_unlinked, finite_helper

    t = numba.types
    array = t.Array(t.float64, 1, "C")

    def scaled_sum(x, factor):  # pragma: no cover  (runs compiled)
        total = 0.0
        for v in x:
            total += v
        return total * factor

    callee = numba.njit([t.float64(t.Array(t.float64, 1, "C", readonly=True), t.float64)])(scaled_sum)
    call = call_unlinked(numba, callee, "test_scaled_sum")
    assert call_unlinked(numba, callee, "test_scaled_sum") is call  # (one intrinsic per callee and symbol)

    @numba.njit
    def caller(x):
        return call(x, 2.0) + 1.0  # (a writable array, converted to the read-only signature)

    assert caller(np.arange(4.0)) == 13.0
    code = caller.overloads[(array,)].library.get_llvm_str()
    (compiled,) = callee.overloads.values()
    assert compiled.fndesc.mangled_name not in code  # nothing of the callee linked in
    assert "declare i32 @test_scaled_sum_" in code  # only its symbol declared
    finite_ = finite_helper(numba)

    @numba.njit
    def check(x):
        return finite_(x)

    assert check(np.ones(3)) and not check(np.array([1.0, np.inf])) and not check(np.array([np.nan], np.float32))
