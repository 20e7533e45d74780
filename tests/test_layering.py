"""The layering rules: the core never imports nn, and importing either package stays light."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("hypothesis", "graphviz", "tqdm", "matplotlib")


@pytest.mark.parametrize("package", ["autograd_mini", "nn"])
def test_import_loads_no_heavy_module(package):
    code = f"import {package}, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_core_never_imports_nn():
    offenders = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in [*(ROOT / "autograd_mini").rglob("*.py"), ROOT / "tests" / "test_engine.py"]
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith(("import nn", "from nn"))
    ]
    assert offenders == []


def test_core_import_does_not_load_nn():
    code = "import autograd_mini, sys; print('nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
