"""How generated kernels are compiled (``autograd_mini/lowering/numba_build.py``): the trimmed
pipeline, LLVM's level by size, and the typed literals (``emitter.typed_literals``) all leave every
number as numba's whole pipeline at ``-O3`` computes it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd_mini.lowering import disk_cache, kernel, numba_build
from autograd_mini.lowering.emitter import typed_literals

numba = pytest.importorskip("numba")

SIGMOID_SUM = """def kernel(a, out):
    x = a.reshape(16)
    s = f32(0.0)
    for i in range(16):
        e = math.exp(-abs(x[i]))
        y = (f32(1.0) / (f32(1.0) + e)) if x[i] >= f32(0.0) else (e / (f32(1.0) + e))
        out[i] = y * f32(0.1) - f32(-2.5e-3)
        s += y * x[i]
    return s
"""


def _function(source, namespace):
    scope = {"np": np, "math": math, "f32": np.float32, **namespace}
    exec(compile(source, "<test>", "exec"), scope)
    return scope["kernel"]


def _run(fn, a):
    out = np.zeros(16, np.float32)
    return fn(a, out), out


@pytest.mark.parametrize("opt_level", [None, 1, 0])
def test_lean_pipeline_typed_literals_and_level_give_the_whole_pipelines_bits(opt_level):
    a = np.random.default_rng(0).normal(0, 3, (4, 4)).astype(np.float32)
    a[0, 0], a[1, 1] = -0.0, 40.0
    signature = (numba.typeof(a), numba.typeof(np.zeros(16, np.float32)))
    reference = numba.njit(_function(SIGMOID_SUM, {}), **numba_build.OPTIONS)
    reference.compile(signature)
    text, literals = typed_literals(SIGMOID_SUM)
    assert "f32(" not in text
    lean = numba_build.dispatcher(numba, _function(text, literals), cache=False)
    lean = numba_build.compile_with_fallback(numba, lean, signature, cache=False, opt_level=opt_level)
    expected, got = _run(reference, a), _run(lean, a)
    assert np.float32(got[0]).tobytes() == np.float32(expected[0]).tobytes()
    assert got[1].tobytes() == expected[1].tobytes()


def test_the_level_is_set_for_one_compile_and_restored_even_on_error():
    before = numba.config.OPT
    fn = numba_build.dispatcher(numba, _function("def kernel(a):\n    return undefined_name + a\n", {}), cache=False)
    with pytest.raises(Exception, match="undefined_name"):
        numba_build.compile_with_fallback(numba, fn, (numba.float64,), cache=False, opt_level=1)
    assert numba.config.OPT is before


def test_code_the_lean_pipeline_refuses_compiles_with_the_whole_one():
    """A comprehension needs the closure-inlining pass the lean pipeline leaves out."""
    source = "def kernel(a):\n    return sum([a * k for k in range(4)])\n"
    fn = numba_build.dispatcher(numba, _function(source, {}), cache=False)
    compiled = numba_build.compile_with_fallback(numba, fn, (numba.float64,), cache=False, opt_level=None)
    assert compiled(2.0) == 12.0


def test_small_kernels_that_call_only_code_compiled_ahead_get_the_low_level():
    assert numba_build.level(10, True) == numba_build.SMALL_LEVEL
    assert numba_build.level(numba_build.SMALL, True) == numba_build.SMALL_LEVEL
    assert numba_build.level(numba_build.SMALL + 1, True) is None
    assert numba_build.level(10, False) is None


def test_the_cache_key_names_the_level():
    namespace = {"f32": np.float32}
    types = (numba.float32,)
    keys = {disk_cache.kernel_key("def k(a):\n    return a\n", namespace, types, level) for level in (None, 1, 0)}
    assert len(keys) == 3


def test_typed_literals_one_global_per_distinct_literal():
    text, values = typed_literals(
        "y = f32(0.0) + f64(-1.5e-07) * x[i] + f32(math.inf) - f32(-math.inf) + f32(0.0) + f32(v3) + f32(1e+300)"
    )
    assert text == "y = _f32_0 + _f64_1 * x[i] + _f32_2 - _f32_3 + _f32_0 + f32(v3) + _f32_4"
    assert values["_f32_0"].dtype == np.float32 and values["_f32_0"] == 0.0
    assert values["_f64_1"].dtype == np.float64 and values["_f64_1"] == -1.5e-07
    assert values["_f32_2"] == np.inf and values["_f32_3"] == -np.inf and values["_f32_4"] == np.inf
    nan_text, nan_values = typed_literals("z = f32(math.nan)")
    assert nan_text == "z = _f32_0" and np.isnan(nan_values["_f32_0"])
    assert typed_literals("ok40 = optimizer_kernel_0(x2, v34)") == ("ok40 = optimizer_kernel_0(x2, v34)", {})


def _lecture_model():
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
    return model


def test_the_lecture_step_is_compiled_small_and_a_large_step_is_not(monkeypatch):
    levels = []
    compile_kernel = kernel.compile_kernel

    def record(source, name, namespace, types, opt_level=None):
        levels.append(opt_level)
        return compile_kernel(source, name, namespace, types, opt_level)

    monkeypatch.setattr(kernel, "compile_kernel", record)
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(8, 1)
    _lecture_model().fit(x, x * x, batch_size=1, epochs=1, verbose=0)
    assert levels and all(level == numba_build.SMALL_LEVEL for level in levels)
    levels.clear()
    nn.utils.set_random_seed(0)
    wide = nn.Sequential([nn.Input((4,)), nn.Dense(300, activation="sigmoid"), nn.Dense(1)])
    wide.compile(optimizer=nn.optimizers.SGD(learning_rate=0.008), loss="mse", jit_compile=True)
    x4 = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    wide.fit(x4, x4[:, :1], batch_size=4, epochs=1, verbose=0)
    assert levels and all(level is None for level in levels)


def test_the_level_is_lowered_for_one_compile_never_raised(monkeypatch):
    from numba.core import config

    with numba_build._optimization_level(1):
        assert int(config.OPT) == 1 and type(config.OPT).__name__ == "_OptLevel"
    monkeypatch.setattr(config, "OPT", type(config.OPT)(0))  # (NUMBA_OPT=0: the user's choice)
    with numba_build._optimization_level(1):
        assert int(config.OPT) == 0
    with numba_build._optimization_level(None):
        assert int(config.OPT) == 0


def test_a_load_that_fails_the_lean_way_is_done_numbas_way(tmp_path, monkeypatch):
    """``numba_support.loading_cached_code``: a cached function loads inside the block; should
    the load without numba's refresh fail, numba's own load runs (and finds the same code)."""
    from numba.core import caching

    from autograd_mini.numba_support import loading_cached_code

    module = tmp_path / "cached_square.py"
    module.write_text("def square(x):\n    return x * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import cached_square

    first = numba.njit(cache=True)(cached_square.square)
    first.compile((numba.float64,))  # (compiled and saved)
    again = numba.njit(cache=True)(cached_square.square)
    with loading_cached_code():
        again.compile((numba.float64,))
    assert sum(again.stats.cache_hits.values()) == 1 and again(3.0) == 9.0
    numbas = caching.Cache._load_overload
    calls = []

    def failing_once(self, sig, target_context):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("an unexpected numba")
        return numbas(self, sig, target_context)

    monkeypatch.setattr(caching.Cache, "_load_overload", failing_once)
    third = numba.njit(cache=True)(cached_square.square)
    with loading_cached_code():
        third.compile((numba.float64,))
    assert len(calls) == 2 and sum(third.stats.cache_hits.values()) == 1 and third(4.0) == 16.0
    assert caching.Cache.load_overload.__module__ == "numba.core.caching"  # (restored after the block)


@pytest.mark.parametrize(
    "dtype, number, expected",
    [
        (np.float32, 2.0, np.float32),  # (numpy 1.x's np.result_type of a 0-d float32 and 2.0: float64)
        (np.float32, 3, np.float32),
        (np.float64, 2.0, np.float64),
        (np.int32, 2.0, np.float64),
        (np.int32, 3, np.int32),
        (np.uint8, 3, np.uint8),
        (np.uint8, 2.0, np.float64),
        (np.bool_, True, np.bool_),
        (np.bool_, 3, np.int64),
        (np.bool_, 2.0, np.float64),
    ],
)
def test_the_loop_forms_promote_python_numbers_as_nep_50_on_any_numpy(dtype, number, expected):
    from autograd_mini.lowering.emitter import Var, result_dtype

    assert result_dtype(Var("v", (2,), np.dtype(dtype)), number) == np.dtype(expected)
    assert result_dtype(number, Var("v", (2,), np.dtype(dtype))) == np.dtype(expected)
    assert result_dtype(Var("v", (2,), np.dtype(dtype)), Var("w", (), np.dtype(np.float64))) == np.result_type(
        dtype, np.float64
    )
