"""The persistent kernel cache (``am.compile_cache``, ``autograd_mini/lowering/disk_cache.py``):
a second process loads a step's machine code instead of compiling it, with the same numbers;
foreign or altered files in the folder are refused; ``clear()`` and the size limit."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
from autograd_mini.lowering import disk_cache

numba = pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parents[1]

TINY = """def tiny(a):
    x = a.reshape(3)
    s = f32(0.0)
    for i in range(3):
        s += x[i] * k1[i]
    return s
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("AUTOGRAD_MINI_CACHE_DIR", str(path))
    monkeypatch.setitem(disk_cache._state, "enabled", True)
    monkeypatch.setitem(disk_cache._state, "limit", None)
    return path


def _tiny(constant=(1.0, 2.0, 3.0)):
    namespace = {"np": np, "math": math, "f32": np.float32, "k1": np.array(constant, np.float32)}
    types = (numba.typeof(np.zeros(3, np.float32)),)
    fn, how = disk_cache.compile_kernel(numba, "tiny", TINY, namespace, types)
    return fn, how


def _stem(folder):
    (source,) = folder.glob("k_*.py")
    return source.stem


def test_a_new_dispatcher_loads_the_machine_code_from_disk(folder):
    fn, how = _tiny()
    assert how == "compiled"
    before = disk_cache.stats()
    again, how = _tiny()  # a new dispatcher, as in a new process
    assert how == "disk cache"
    assert disk_cache.stats()["disk_hits"] == before["disk_hits"] + 1
    assert disk_cache.stats()["compiled"] == before["compiled"]
    a = np.array([1.0, 1.0, 2.0], np.float32)
    assert fn(a) == again(a) == np.float32(9.0)
    info = am.compile_cache.info()
    assert info["kernels"] == 1 and info["bytes"] > 0 and info["directory"] == str(folder)
    source = next(folder.glob("k_*.py")).read_text()
    assert source.startswith(disk_cache.HEADER + _stem(folder)[2:] + "\n")


def test_another_constant_is_another_kernel(folder):
    _tiny((1.0, 2.0, 3.0))
    fn, how = _tiny((1.0, 2.0, 4.0))
    assert how == "compiled"  # never the machine code of the other constants
    assert fn(np.ones(3, np.float32)) == np.float32(7.0)
    assert am.compile_cache.info()["kernels"] == 2


def test_a_foreign_source_file_is_refused_and_replaced(folder):
    _tiny()
    stem = _stem(folder)
    source = folder / f"{stem}.py"
    ours = source.read_bytes()
    source.write_text("import os\nos.system('echo not ours')\n")  # same name, not what we wrote
    refused = disk_cache.stats()["refused"]
    fn, how = _tiny()
    assert how == "compiled" and disk_cache.stats()["refused"] == refused + 1
    assert source.read_bytes() == ours
    assert fn(np.ones(3, np.float32)) == np.float32(6.0)


def test_altered_or_unrecorded_machine_code_is_refused(folder):
    _tiny()
    stem = _stem(folder)
    machine = folder / "__pycache__"
    (data,) = machine.glob(f"{stem}*.nbc")
    blob = bytearray(data.read_bytes())
    blob[-1] ^= 0xFF
    data.write_bytes(bytes(blob))
    refused = disk_cache.stats()["refused"]
    fn, how = _tiny()
    assert how == "compiled" and disk_cache.stats()["refused"] == refused + 1
    assert fn(np.ones(3, np.float32)) == np.float32(6.0)
    _, how = _tiny()
    assert how == "disk cache"  # the fresh machine code was recorded
    (machine / f"{stem}.tiny-9.py311.nbi").write_bytes(b"planted")  # a file we never recorded
    _, how = _tiny()
    assert how == "compiled" and disk_cache.stats()["refused"] == refused + 2
    assert not (machine / f"{stem}.tiny-9.py311.nbi").exists()
    (folder / f"{stem}.sums").write_text(json.dumps({"format": 1, "key": "0" * 64, "files": {}}))
    _, how = _tiny()  # a record for another key proves nothing
    assert how == "compiled"


def test_clear_and_the_size_limit(folder):
    _tiny((1.0, 2.0, 3.0))
    _tiny((1.0, 2.0, 4.0))
    (folder / "notes.txt").write_text("not ours")
    info = am.compile_cache.info()
    assert info["kernels"] == 2
    one = info["bytes"] // 2
    am.compile_cache.set_limit(one + one // 2)  # room for one kernel: the least recently used goes
    assert am.compile_cache.info()["kernels"] == 1
    with pytest.raises(ValueError, match="max_bytes"):
        am.compile_cache.set_limit(-1)
    am.compile_cache.set_limit(None)
    assert am.compile_cache.clear() == 1
    assert am.compile_cache.info()["kernels"] == 0 and am.compile_cache.size() == 0
    assert (folder / "notes.txt").read_text() == "not ours"  # clear() removes only our own files


def test_a_folder_others_may_write_is_not_used(folder):
    if not hasattr(os, "getuid"):
        pytest.skip("POSIX permissions")
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o777)
    with pytest.warns(RuntimeWarning, match="writable by other users"):
        fn, how = _tiny((5.0, 5.0, 5.0))
    assert how == "compiled (no disk cache)" and not list(folder.glob("k_*"))
    assert fn(np.ones(3, np.float32)) == np.float32(15.0)


def test_machine_code_is_never_read_from_outside_the_folder(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "elsewhere"))  # NUMBA_CACHE_DIR
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        fn, how = _tiny((6.0, 6.0, 6.0))
    assert how == "compiled (no disk cache)" and not list((tmp_path / "elsewhere").rglob("*.nb*"))
    assert fn(np.ones(3, np.float32)) == np.float32(18.0)


def test_the_default_folder_follows_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOGRAD_MINI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert disk_cache.directory() == tmp_path / "autograd_mini"
    monkeypatch.setenv("AUTOGRAD_MINI_CACHE_DIR", str(tmp_path / "mine"))
    assert am.compile_cache.directory() == tmp_path / "mine"


# -- whole processes ------------------------------------------------------------------------------------------
SCRIPT = """
import hashlib, json, sys
import numpy as np
import nn
from autograd_mini.lowering import disk_cache
from numba.core import base

refreshes = []  # numba refreshing its whole target context: compiling needs it, loading does not
numbas_refresh = base.BaseContext.refresh
base.BaseContext.refresh = lambda self: (refreshes.append(1), numbas_refresh(self))[1]

mode, path = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
x = rng.uniform(-4, 4, (48, 1)).astype(np.float32)
y = (x - 0.5) ** 2
nn.utils.set_random_seed(0)
if mode == "resume":
    model = nn.models.load_model(path)
    model.compile(optimizer=model.optimizer, loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=4, epochs=4, initial_epoch=2, verbose=0)
elif mode == "dropout":  # two kernels (the mask draw runs as Python between them), matrix products
    x = rng.normal(size=(48, 6)).astype(np.float32)
    model = nn.Sequential([nn.Input((6,)), nn.Dense(16, activation="relu"), nn.Dropout(0.2), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.RMSprop(), loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
else:
    model = nn.Sequential([nn.Input((1,)), nn.Dense(10, activation="sigmoid"), nn.Dense(1)])
    model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.01), loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=4, epochs=2 if mode == "half" else 4, verbose=0)
    if mode == "half":
        model.save(path)
digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
stats = model._captured_train_step.compiled.stats()
report = {"weights": digest, "sources": [s["compile_source"] for s in stats], "cache": disk_cache.stats()}
print(json.dumps({**report, "refreshes": len(refreshes)}))
"""


def _run(tmp_path, cache, mode, model_path="", background=False):
    script = tmp_path / "step.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, AUTOGRAD_MINI_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), AUTOGRAD_MINI_CACHE="1")
    command = [sys.executable, str(script), mode, str(model_path)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if background:
        return process
    return _result(process)


def _result(process):
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_second_process_compiles_nothing(tmp_path):
    """Two processes compiling the same step at once into an empty folder (one waits for the
    other's lock, or both compile), then a third that compiles nothing, nor refreshes numba's
    typing and lowering registries (which only compiling needs): the same weights."""
    cache = tmp_path / "cache"
    first, second = (_run(tmp_path, cache, "whole", background=True) for _ in range(2))
    first, second = _result(first), _result(second)
    assert first["cache"]["compiled"] + second["cache"]["compiled"] >= 1
    assert first["cache"]["refused"] == second["cache"]["refused"] == 0
    warm = _run(tmp_path, cache, "whole")
    assert warm["sources"] == ["disk cache"]
    assert warm["cache"]["compiled"] == 0 and warm["cache"]["disk_hits"] >= 1 and warm["cache"]["refused"] == 0
    assert first["weights"] == second["weights"] == warm["weights"]
    # (numba_support.loading_cached_code: loading machine code sets up numba's runtime only)
    assert first["refreshes"] + second["refreshes"] >= 1 and warm["refreshes"] == 0


@pytest.mark.slow
def test_a_resumed_run_is_bit_for_bit_with_the_cache_warm_and_cold(tmp_path):
    """A run resumed from a save in a new process equals the whole run, whether that process
    loads the step's machine code from the cache or compiles it."""
    cache, cold = tmp_path / "cache", tmp_path / "cold"
    whole = _run(tmp_path, cache, "whole")
    saved = tmp_path / "half.keras"
    _run(tmp_path, cache, "half", saved)
    resumed_warm = _run(tmp_path, cache, "resume", saved)
    resumed_cold = _run(tmp_path, cold, "resume", saved)
    assert resumed_warm["cache"]["compiled"] == 0 and resumed_warm["sources"] == ["disk cache"]
    assert resumed_cold["cache"]["compiled"] >= 1 and resumed_cold["sources"] == ["compiled"]
    assert resumed_warm["weights"] == resumed_cold["weights"] == whole["weights"]


@pytest.mark.slow
def test_a_step_of_two_kernels_with_matrix_products_loads_from_disk(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(tmp_path, cache, "dropout")
    warm = _run(tmp_path, cache, "dropout")
    assert cold["cache"]["compiled"] >= 2 and cold["sources"] == ["compiled"]
    assert warm["cache"]["compiled"] == 0 and warm["cache"]["disk_hits"] >= 2 and warm["sources"] == ["disk cache"]
    assert cold["weights"] == warm["weights"]


def test_turned_off_it_writes_nothing(folder, monkeypatch):
    am.compile_cache.set_enabled(False)
    try:
        fn, how = _tiny((7.0, 7.0, 7.0))
    finally:
        am.compile_cache.set_enabled(True)
    assert how == "compiled (no disk cache)" and not folder.exists()
    assert fn(np.ones(3, np.float32)) == np.float32(21.0)


def test_the_size_limit_from_the_environment(folder, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_MINI_CACHE_MAX_BYTES", "1000")
    assert am.compile_cache.limit() == 1000
    _tiny((8.0, 8.0, 8.0))  # larger than the limit: kept (the newest is never dropped), others go
    _tiny((9.0, 9.0, 9.0))
    assert am.compile_cache.info()["kernels"] == 1
    monkeypatch.setenv("AUTOGRAD_MINI_CACHE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="AUTOGRAD_MINI_CACHE_MAX_BYTES must be an integer"):
        am.compile_cache.limit()
