"""numba's first use in a process: its BLAS probe does not import ``scipy.linalg``'s package
(numba_support._quiet_blas_probe), yet numba still finds BLAS and ``np.dot`` still works."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None or importlib.util.find_spec("scipy") is None,
    reason="needs numba and scipy",
)

CODE = """
import sys
import numpy as np
from autograd_mini.numba_support import get_numba
numba = get_numba()
from numba.np import arraymath
print("scipy.linalg" in sys.modules, "scipy.linalg.cython_blas" in sys.modules, arraymath._HAVE_BLAS)
@numba.njit(cache=False)
def scaled(a):
    return a * 2.0
a = np.arange(6.0).reshape(2, 3)
scaled(a)
print("scipy.linalg" in sys.modules)
@numba.njit(cache=False)
def product(a, b):
    return np.dot(a, b)
print(bool(np.array_equal(product(a, a.T), a @ a.T)), "scipy.linalg" in sys.modules)
import scipy.linalg
print(scipy.linalg.cython_blas.__name__)
"""


def _run() -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AUTOGRAD_MINI_NUMBA": "1"}
    return subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    ).stdout.split()


def test_the_first_compile_does_not_import_scipy_linalg_and_np_dot_still_works():
    out = _run()
    assert out[:3] == ["False", "False", "True"]  # probed, BLAS found, the package not imported
    assert out[3] == "False"  # a kernel without BLAS compiles without it
    assert out[4:6] == ["True", "True"]  # np.dot types and runs: the package is imported then
    assert out[6] == "scipy.linalg.cython_blas"
