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


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file of nn, lazy ones (inside functions) included."""
    import ast

    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def test_layers_sit_below_models():
    """Keras' layering: the symbolic graph (nn.symbolic), layers, modules, losses, metrics and
    optimizers never import nn.models, not even lazily; the data adapters not model.py."""
    below = [ROOT / "nn" / "module.py", ROOT / "nn" / "symbolic.py"]
    for folder in ("layers", "losses", "metrics", "optimizers"):
        below += sorted((ROOT / "nn" / folder).rglob("*.py"))
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in below
        for line, module in _imports(path)
        if module == "nn.models" or module.startswith("nn.models.")
    ]
    adapters = ROOT / "nn" / "models" / "data_adapters.py"
    offenders += [
        f"nn/models/data_adapters.py:{line} imports {module}"
        for line, module in _imports(adapters)
        if module.startswith(("nn.models.model", "nn.models.trainer"))
    ]
    assert offenders == []
