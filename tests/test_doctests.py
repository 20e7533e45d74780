"""The examples in autograd_mini's docstrings run (doctest over every module of the package)."""

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import autograd_mini

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(autograd_mini.__path__, prefix="autograd_mini.")
    if not name.endswith("__main__")
)


def test_the_package_has_examples():
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert examples >= 20


@pytest.mark.parametrize("name", ["autograd_mini", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)  # by module: am.gradcheck is also a function's name
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (see above)"


GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide"
FENCE = re.compile(r"(<!-- skip-test -->\s*)?```python\n(.*?)```", re.S)


def code_blocks(page: Path) -> list:
    """The page's ```python blocks, except those marked ``<!-- skip-test -->`` just before."""
    return [code for skip, code in FENCE.findall(page.read_text()) if not skip]


def test_every_guide_page_has_code():
    pages = sorted(GUIDE.glob("*.md"))
    assert len(pages) >= 4 and all(code_blocks(p) for p in pages)


@pytest.mark.parametrize("page", sorted(p.name for p in GUIDE.glob("*.md")))
def test_guide_code_runs(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # rendered graphs and saved files go to a scratch folder
    namespace = {"__name__": "guide"}
    for k, code in enumerate(code_blocks(GUIDE / page)):
        exec(compile(code, f"{page}[block {k}]", "exec"), namespace)
