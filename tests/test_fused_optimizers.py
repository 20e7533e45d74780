"""Fused optimizer updates (numba kernels): bit for bit the numpy ``update_step``, for every rule,
float32 and float64, every shape; the switch ``fused_update`` and its fallbacks (numba off,
non-contiguous arrays, promoting scalars, subclass rules, failing compilation or cache)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import nn
from autograd_mini import numba_support
from autograd_mini.numba_support import get_numba, use_numba
from nn.optimizers import fused, kernels, rules

needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")


@pytest.fixture(autouse=True)
def _fuse_every_size(monkeypatch):
    """The optimizers fuse only variables of MIN_FUSED_SIZE elements or more; these tests compare
    the kernels on small shapes too."""

    monkeypatch.setattr(fused, "MIN_FUSED_SIZE", 0)


O = nn.optimizers
SHAPES = [(), (1,), (7,), (3, 5), (1027,), (33, 31)]  # 0-d, odd sizes, some long enough for SIMD in numpy
STEPS = 4
FTRL_ALL = {
    "learning_rate": 0.05,
    "l1_regularization_strength": 0.01,
    "l2_regularization_strength": 0.02,
    "l2_shrinkage_regularization_strength": 0.03,
    "beta": 0.1,
}
CONFIGS = [
    ("SGD", {}, "sgd"),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, "sgd_momentum"),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, "sgd_nesterov"),
    ("RMSprop", {}, "rmsprop"),
    ("RMSprop", {"momentum": 0.5}, "rmsprop_momentum"),
    ("RMSprop", {"centered": True}, "rmsprop_centered"),
    ("RMSprop", {"centered": True, "momentum": 0.5, "rho": 0.8}, "rmsprop_centered_momentum"),
    ("Adam", {}, "adam"),
    ("Adam", {"amsgrad": True, "beta_1": 0.8}, "adam_amsgrad"),
    ("AdamW", {"weight_decay": 0.1}, "adam"),
    ("AdamW", {"amsgrad": True}, "adam_amsgrad"),
    ("Adagrad", {"learning_rate": 0.1}, "adagrad"),
    ("Adadelta", {"learning_rate": 1.0}, "adadelta"),
    ("Adamax", {}, "adamax"),
    ("Nadam", {}, "nadam"),
    ("Lion", {}, "lion"),
    ("Ftrl", {}, "ftrl"),
    ("Ftrl", FTRL_ALL, "ftrl"),
    ("Ftrl", {"learning_rate_power": -1.0, "l1_regularization_strength": 0.5}, "ftrl"),
    ("Ftrl", {"learning_rate_power": -2.0, "initial_accumulator_value": 0.5}, "ftrl"),
]


def gradients(seed, dtype, shapes=SHAPES, steps=STEPS):
    """Random gradients per step; some exact zeros and negative zeros (sign, clip and max ties)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        step = []
        for s in shapes:
            g = rng.normal(size=s).astype(dtype)
            g[rng.random(size=s) < 0.1] = 0.0
            g[rng.random(size=s) < 0.1] = -0.0
            step.append(np.asarray(g, dtype=dtype))
        out.append(step)
    return out


def train(cls_name, kwargs, dtype, use, seed=0, shapes=SHAPES, steps=STEPS, make=None):
    """Parameters and optimizer variables after ``steps`` steps, numba on (``use``) or off."""
    rng = np.random.default_rng(seed + 100)
    params = [nn.Parameter(rng.normal(size=s).astype(dtype)) for s in shapes]
    opt = getattr(O, cls_name)(**kwargs)
    with use_numba(use):
        for g in gradients(seed, dtype, shapes, steps):
            opt.apply(g, params)
    return opt, params


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_identical(run_a, run_b):
    (opt_a, params_a), (opt_b, params_b) = run_a, run_b
    for i, (pa, pb) in enumerate(zip(params_a, params_b)):
        assert np.array_equal(pa.data, pb.data) and same_bits(pa.data, pb.data), f"parameter {i}"
    va, vb = opt_a.variables, opt_b.variables
    assert len(va) == len(vb)
    for i, (a, b) in enumerate(zip(va, vb)):
        assert np.array_equal(a, b) and same_bits(a, b), f"optimizer variable {i}"


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls_name", "kwargs", "kernel_name"), CONFIGS)
def test_fused_update_is_bit_identical_to_numpy(cls_name, kwargs, kernel_name, dtype):
    fused_run = train(cls_name, kwargs, dtype, use=True)
    numpy_run = train(cls_name, kwargs, dtype, use=False)
    assert_identical(fused_run, numpy_run)
    opt, params = fused_run
    with use_numba(True):
        found = opt.fused_update(0, opt.learning_rate)
    assert found is not None, "the fused path was not taken"
    kernel, arrays, scalars = found
    assert kernel is kernels.kernel(kernel_name, dtype)
    assert all(type(s) is np.dtype(dtype).type for s in scalars)
    assert len(arrays) == kernels.slot_count(kernel_name)
    with use_numba(False):
        assert opt.fused_update(0, opt.learning_rate) is None
    assert not np.array_equal(params[-1].data, train(cls_name, kwargs, dtype, use=True, steps=0)[1][-1].data)


@needs_numba
@pytest.mark.parametrize(
    ("cls_name", "kwargs"),
    [
        ("Adam", {"clipnorm": 0.5, "use_ema": True, "ema_overwrite_frequency": 2}),
        ("RMSprop", {"global_clipnorm": 1.0, "loss_scale_factor": 8.0}),
        ("SGD", {"momentum": 0.9, "clipvalue": 0.3, "gradient_accumulation_steps": 2, "weight_decay": 0.01}),
        ("Adam", {"learning_rate": O.schedules.ExponentialDecay(0.01, 2, 0.5)}),
        ("Lion", {"weight_decay": 0.1, "use_ema": True}),
        ("AdamW", {"learning_rate": 0.3, "weight_decay": 0.7, "use_ema": True, "ema_momentum": 0.3}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_base_class_features_keep_working_with_fused_updates(cls_name, kwargs, dtype):
    """Weight decay and the EMA have kernels of their own; clipping, scaling, accumulation stay numpy."""
    assert_identical(train(cls_name, kwargs, dtype, use=True), train(cls_name, kwargs, dtype, use=False))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_decay_and_ema_kernels_match_numpy(dtype):
    rng = np.random.default_rng(5)
    for shape in SHAPES:
        data = rng.normal(size=shape).astype(dtype)
        average = rng.normal(size=shape).astype(dtype)
        expected, expected_average = data.copy(), average.copy()
        expected -= expected * (0.3 * 0.7)  # numpy's order: p * (wd * lr), then p - that
        if data.size > 100:  # the test can tell the order: two roundings differ somewhere
            assert not same_bits(data - data * 0.3 * 0.7, expected)
        expected_average *= 0.99
        expected_average += data * (1 - 0.99)
        with use_numba(True):
            assert fused.ema(average, data, 0.99, 1 - 0.99)
            assert fused.weight_decay(data, 0.3 * 0.7)
        assert same_bits(data, expected) and same_bits(average, expected_average), shape
    with use_numba(True):
        assert not fused.weight_decay(np.ones((3, 2), dtype).T, 0.1)  # not C-contiguous: the caller's numpy
        wide = np.ones(3, dtype)  # a numpy float wider than the variable: cast to its dtype (Keras)
        assert fused.weight_decay(wide, np.float128(0.1))
        assert same_bits(wide, np.ones(3, dtype) - np.ones(3, dtype) * dtype(0.1))
        assert not fused.ema(np.ones(3, dtype), np.ones(3, np.float16), 0.9, 0.1)
    with use_numba(False):
        assert not fused.weight_decay(np.ones(3, dtype), 0.1)


@needs_numba
def test_the_documented_calling_convention():
    """``kernel(p.reshape(-1), g.reshape(-1), *[a.reshape(-1) for a in arrays], *scalars)`` after
    ``before_update_step`` equals ``update_step`` on copies (Nadam: scalars after the u product)."""
    rng = np.random.default_rng(3)
    p = nn.Parameter(rng.normal(size=(4, 6)).astype(np.float32))
    opt = O.Nadam(learning_rate=0.01)
    opt.build([p])
    g = np.asfortranarray(rng.normal(size=(4, 6)).astype(np.float32))  # any layout for the gradient
    g.flags.writeable = False  # and read only
    lr = opt.learning_rate
    opt.before_update_step(lr)
    reference = p.data.copy()
    slots_before = {name: [s.copy() for s in slots] for name, slots in opt._slots.items()}
    opt.update_step(0, reference, g, lr, np.empty_like(reference))
    expected_slots = {name: [s.copy() for s in slots] for name, slots in opt._slots.items()}
    for name, slots in opt._slots.items():
        slots[0][...] = slots_before[name][0]
    with use_numba(True):
        kernel, arrays, scalars = opt.fused_update(0, lr)
    data = p.mutable_data()
    kernel(data.reshape(-1), g.reshape(-1), *[a.reshape(-1) for a in arrays], scalars)
    assert same_bits(data, reference)
    for name, slots in opt._slots.items():
        assert same_bits(slots[0], expected_slots[name][0]), name


@needs_numba
def test_non_contiguous_parameters_fall_back_to_numpy():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(6, 5)).astype(np.float32)
    grads = gradients(2, np.float32, shapes=[(5, 6)])
    results = {}
    for use in (True, False):
        transposed = nn.Parameter(base.T)  # Fortran order: the slots too (built like the variable)
        swapped = nn.Parameter(np.ascontiguousarray(base.T))
        opt = O.RMSprop(learning_rate=0.01, momentum=0.5)
        opt.build([transposed, swapped])
        swapped.data = np.asfortranarray(swapped.data)  # after build: the variable alone not C-contiguous
        assert not transposed.data.flags.c_contiguous and not swapped.data.flags.c_contiguous
        with use_numba(use):
            assert opt.fused_update(0, 0.01) is None and opt.fused_update(1, 0.01) is None
            for g in grads:
                opt.apply([g[0], g[0]], [transposed, swapped])
        results[use] = (transposed.data.copy(), swapped.data.copy())
    for a, b in zip(results[True], results[False]):
        assert same_bits(a, b)
    assert np.array_equal(results[True][0], results[True][1])
    fresh = nn.Parameter(base.T)
    assert not np.array_equal(results[True][0], fresh.data)


@needs_numba
def test_numpy_float_hyperparameters_are_cast_to_the_variables_dtype():
    """Keras 3 casts hyperparameters to the variable's dtype: an np.float64 rho with float32 weights
    computes in float32 (numpy would promote), on both paths, as the Python float 0.9 does."""
    strong = {"rho": np.float64(0.9)}
    opt, _ = train("RMSprop", strong, np.float32, use=True, steps=1)
    with use_numba(True):
        assert opt.fused_update(0, 0.001) is not None
    assert_identical(train("RMSprop", strong, np.float32, use=True), train("RMSprop", strong, np.float32, use=False))
    assert_identical(
        train("RMSprop", strong, np.float32, use=False), train("RMSprop", {"rho": 0.9}, np.float32, use=False)
    )
    _, promoted = train("RMSprop", strong, np.float32, use=False, shapes=[(7,)], steps=1)
    assert promoted[0].dtype == np.float32
    exact = {"rho": np.float32(0.9), "epsilon": np.float16(1e-3)}  # promote to float32: exact casts
    opt, _ = train("RMSprop", exact, np.float32, use=True, steps=1)
    with use_numba(True):
        assert opt.fused_update(0, 0.001) is not None
    assert_identical(train("RMSprop", exact, np.float32, use=True), train("RMSprop", exact, np.float32, use=False))
    clip = {"clipnorm": np.float64(0.5)}  # float64 gradients for float32 variables: numpy's update
    assert_identical(train("Adam", clip, np.float32, use=True), train("Adam", clip, np.float32, use=False))


def test_as_operand_rounds_like_numpy():
    for value in (0.1, 1 - 0.9, 1e-7, 3, True, np.float32(0.3), np.int64(5)):
        for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            if isinstance(value, np.generic) and np.result_type(value, dtype) != dtype:
                continue
            expected = (np.ones(1, dtype) * value)[0]
            got = fused.as_operand(value, dtype)
            assert type(got) is dtype.type and same_bits(got, expected), (value, dtype)
    for zero in (0.0, -0.0, 0.0):  # equal as dict keys, not as bits: never memoized
        assert same_bits(fused.as_operand(zero, np.dtype(np.float32)), np.float32(zero))
    for k in range(1100):  # a schedule's rates: the memo stays bounded, the values right
        assert same_bits(fused.as_operand(0.001 + k * 1e-9, np.dtype(np.float32)), np.float32(0.001 + k * 1e-9))
    assert 0 < len(fused._memo["f"]) <= 1024
    assert same_bits(fused.as_operand(np.float64(0.1), np.dtype(np.float32)), np.float32(0.1))  # Keras' cast
    with pytest.raises(TypeError, match="real number"):
        fused.as_operand("0.1", np.dtype(np.float32))
    with pytest.raises(TypeError, match="real number"):
        fused.as_operand(1j, np.dtype(np.float32))


@needs_numba
def test_ftrl_with_a_general_exponent_keeps_numpy():
    kwargs = {"learning_rate_power": -0.7}  # numpy's pow (libm or SIMD, by build): no kernel
    opt, _ = train("Ftrl", kwargs, np.float32, use=True, steps=1)
    with use_numba(True):
        assert opt.fused_update(0, 0.001) is None
    assert_identical(train("Ftrl", kwargs, np.float32, use=True), train("Ftrl", kwargs, np.float32, use=False))


@needs_numba
def test_no_kernel_for_lamb_or_a_subclass_rule():
    class MyAdam(O.Adam):
        def update_step(self, i, p, g, lr, tmp):
            """Plain gradient descent."""
            p -= g * lr

    patched = O.SGD(0.5)
    patched.update_step = lambda i, p, g, lr, tmp: None  # an instance's own rule is honoured too
    for opt in (patched, O.Lamb(), MyAdam(learning_rate=0.5)):
        p = nn.Parameter(np.ones(3, np.float32))
        opt.build([p])
        with use_numba(True):
            assert opt.fused_update(0, 0.5) is None
    with use_numba(True):
        opt.apply([np.ones(3, np.float32)], [p])
    np.testing.assert_array_equal(p.data, np.full(3, 0.5, np.float32))


@needs_numba
def test_bad_input_raises_clear_errors():
    opt = O.Adam()
    opt.build([nn.Parameter(np.ones(2, np.float32))])
    for bad in (1, -1, "0", True):
        with pytest.raises(IndexError, match="variable index"):
            opt.fused_update(bad, 0.001)
    with pytest.raises(ValueError, match="unknown kernel"):
        kernels.kernel("adamm", np.float32)
    with pytest.raises(ValueError, match="float32 or float64"):
        kernels.kernel("adam", np.float16)
    kernel = kernels.kernel("sgd", np.float32)
    p = np.ones(3, np.float32)
    with pytest.raises(TypeError):  # exactly the compiled types: no silent float64 loop
        kernel(p, np.ones(3, np.float64), (np.float32(0.1),))
    assert same_bits(p, np.ones(3, np.float32))
    for dtype in (np.float16, np.float32):
        q = nn.Parameter(np.ones(3, dtype))
        sgd = O.SGD(0.5)
        with use_numba(True):
            sgd.apply([np.ones(3, dtype)], [q])
            assert (sgd.fused_update(0, 0.5) is None) == (dtype == np.float16)
        assert q.dtype == dtype and np.array_equal(q.data, np.full(3, 0.5))


@needs_numba
def test_import_nn_does_not_import_numba_or_the_kernels():
    code = (
        "import sys, numpy as np, nn\n"
        "print('numba' in sys.modules, 'nn.optimizers.kernels' in sys.modules)\n"
        "p = nn.Parameter(np.ones(4096, np.float32)); opt = nn.optimizers.SGD(0.1)\n"
        "opt.apply([np.ones(4096, np.float32)], [p])\n"
        "print('numba' in sys.modules, 'nn.optimizers.kernels' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"]
    assert out[2:] == ["True", "True"]  # the first large update compiles (or loads) its kernel
    off = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AUTOGRAD_MINI_NUMBA": "0"},
    ).stdout.split()
    assert off == ["False", "False", "False", "False"]


@needs_numba
def test_a_cache_that_cannot_be_written_compiles_without_it():
    class NoCacheNumba:
        """numba whose ``njit(cache=True)`` fails as with no writable cache directory."""

        def __getattr__(self, name):
            return getattr(numba, name)

        def njit(self, cache=False, **kwargs):
            if cache:
                raise RuntimeError("cannot cache function 'sgd': no locator available")
            return numba.njit(cache=False, **kwargs)

    numba = pytest.importorskip("numba")
    with pytest.warns(RuntimeWarning, match="without the on-disk cache"):
        kernel = kernels._compile(NoCacheNumba(), rules.sgd, np.float32)
    p = np.ones(3, np.float32)
    kernel(p, np.ones(3, np.float32), (np.float32(0.25),))
    assert same_bits(p, np.full(3, 0.75, np.float32))


@needs_numba
def test_a_failing_compilation_falls_back_to_numpy(monkeypatch):
    def broken(numba_module, rule, dtype, guarded=False):
        raise RuntimeError("LLVM exploded")

    monkeypatch.setattr(kernels, "_compiled", {})
    monkeypatch.setattr(kernels, "_compile", broken)
    with pytest.warns(RuntimeWarning, match="numpy update is used instead"):
        fused_run = train("Adam", {}, np.float32, use=True)
    assert kernels._compiled[("adam", "f", False)] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per kernel and dtype, not per step
        assert kernels.kernel("adam", np.float32) is None
    assert_identical(fused_run, train("Adam", {}, np.float32, use=False))


def _seed_model(jit):
    nn.utils.set_random_seed(0)
    model = nn.Sequential(
        [
            nn.Input((784,)),
            nn.Dense(512, activation="relu"),
            nn.Dropout(0.2),
            nn.Dense(512, activation="relu"),
            nn.Dropout(0.2),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", jit_compile=jit)
    return model


@needs_numba
@pytest.mark.parametrize("jit", [False, True])
def test_seed_model_trains_to_identical_weights_with_and_without_numba(jit, monkeypatch):
    from autograd_mini.lowering import blas

    # jit_compile=True keeps the bit-exact numpy replay here (its products as BLAS calls inside a
    # kernel would sum in order elsewhere: within the kernels' rounding, test_lowering_blas.py)
    monkeypatch.setitem(blas._state, "enabled", False)
    rng = np.random.default_rng(0)
    x = rng.random((384, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 384)]
    weights = {}
    for use in (True, False):
        model = _seed_model(jit)
        before = [w.copy() for w in model.get_weights()]
        with use_numba(use):
            model.fit(x, y, batch_size=128, epochs=2, verbose=0, shuffle=False)
            assert (model.optimizer.fused_update(0, model.optimizer.learning_rate) is not None) == use
            assert (get_numba() is not None) == use
        weights[use] = model.get_weights()
    for a, b, start in zip(weights[True], weights[False], before):
        assert same_bits(a, b)
        assert not np.array_equal(a, start)


def test_without_numba_every_optimizer_runs_on_numpy(monkeypatch):
    """numba not installed (simulated): no kernel, no import attempt, the numpy rules train."""
    monkeypatch.setitem(numba_support._state, "checked", True)
    monkeypatch.setitem(numba_support._state, "module", None)
    monkeypatch.setitem(numba_support._state, "enabled", True)
    assert get_numba() is None and kernels.kernel("adam", np.float32) is None
    for cls_name, kwargs, _ in CONFIGS[::3]:
        opt, params = train(cls_name, kwargs, np.float32, use=True, shapes=[(3, 2)], steps=2)
        assert opt.fused_update(0, opt.learning_rate) is None
        start = train(cls_name, kwargs, np.float32, use=True, shapes=[(3, 2)], steps=0)[1][0].data
        assert not np.array_equal(params[0].data, start)


@needs_numba
def test_a_compiled_step_undoes_an_update_that_would_leave_a_non_finite_weight():
    """``jit_compile=True``: nn's rule holds inside the kernel too (as ``FiniteGuard`` in the eager
    and replayed steps): the weights and slots of the last finite step stay, the step count does
    not advance, the optimizer warns once naming the step; later finite steps apply."""
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4), dtype=np.float32), rng.integers(0, 3, 40)
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3, activation="softmax")])
    optimizer = O.SGD(learning_rate=0.1, momentum=0.9)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, shuffle=False)
    (stats,) = model._captured_train_step.compiled.stats()
    assert stats["kernel"] and stats["replays"] == 0, stats
    steps, weights, slots = optimizer.iterations, model.get_weights(), [np.copy(v) for v in optimizer.variables]
    optimizer.learning_rate = 1e38  # (the kernel reads the rate each step: the same kernel runs)
    with pytest.warns(RuntimeWarning, match=r"step 9 was skipped because it would make 'kernel' non-finite"):
        model.fit(x * 1e3, y, batch_size=10, epochs=1, verbose=0, shuffle=False)
    assert model._captured_train_step.compiled.stats()[0]["replays"] == 0
    assert optimizer.iterations == steps
    for a, b in zip(weights, model.get_weights()):
        assert same_bits(a, b)
    for a, b in zip(slots[2:], optimizer.variables[2:]):  # (after iterations and learning_rate)
        assert same_bits(a, b)
    optimizer.learning_rate = 0.1
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, shuffle=False)
    assert optimizer.iterations == steps + 4
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert not np.array_equal(weights[0], model.get_weights()[0])


@needs_numba
@pytest.mark.parametrize("name", [n for n in rules.RULES if n not in ("weight_decay", "ema")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_guarded_loop_updates_as_the_loop_and_keeps_the_old_values(name, dtype):
    """``kernel(name, dtype, guarded=True)`` (a compiled step's update): the same bits as the plain
    loop, each old value copied out, and whether every new weight is finite."""
    rng = np.random.default_rng(5)
    n_slots = kernels.slot_count(name)
    n_scalars = rules.RULES[name].__code__.co_argcount - 2 - n_slots
    scalars = tuple(dtype(v) for v in rng.uniform(0.05, 0.5, n_scalars))
    if name == "ftrl":
        scalars = (scalars[0], dtype(0.5), *scalars[2:])  # (an exponent the loop form takes)
    p, g = rng.normal(size=7).astype(dtype), rng.normal(size=7).astype(dtype)
    slots = [rng.uniform(0.1, 1.0, 7).astype(dtype) for _ in range(n_slots)]
    plain = [p.copy(), *[s.copy() for s in slots]]
    kernels.kernel(name, dtype)(plain[0], g, *plain[1:], scalars)
    arrays = [p.copy(), *[s.copy() for s in slots]]
    copies = [np.full(7, np.nan, dtype) for _ in arrays]
    assert kernels.kernel(name, dtype, guarded=True)(arrays[0], g, *arrays[1:], *copies, scalars) is True
    for a, b in zip(arrays, plain):
        assert same_bits(a, b)
    for copy, old in zip(copies, [p, *slots]):
        assert same_bits(copy, old)
    huge = p.copy()
    huge[3] = np.finfo(dtype).max
    big_g = g.copy()
    big_g[3] = -np.finfo(dtype).max
    arrays = [huge, *[s.copy() for s in slots]]
    ok = kernels.kernel(name, dtype, guarded=True)(arrays[0], big_g, *arrays[1:], *copies, scalars)
    assert ok is bool(np.isfinite(arrays[0]).all())
