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
