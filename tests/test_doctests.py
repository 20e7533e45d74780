"""The examples in autograd_mini's docstrings run (doctest over every module of the package)."""

import doctest
import importlib
import pkgutil

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
