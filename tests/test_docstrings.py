"""Every public callable has a docstring: asserted for autograd_mini's API, counted (printed) for nn.

Public names: a package's ``__all__`` when it has one, else its names without a leading
underscore; callables defined in the package itself (functions and classes, and the public
methods and properties those classes define). Run with ``-s`` to see the lists.
"""

import importlib
import inspect
import types

import autograd_mini as am

NN_MODULES = [
    "nn",
    "nn.layers",
    "nn.losses",
    "nn.metrics",
    "nn.optimizers",
    "nn.callbacks",
    "nn.models",
    "nn.saving",
    "nn.utils",
    "nn.activations",
    "nn.initializers",
    "nn.regularizers",
]

# Top-level names of autograd_mini still without a docstring, in files owned by the core
# (ops/, tensor.py): this list may only shrink (the test prints the names documented since).
KNOWN_UNDOCUMENTED = {"cos", "exp", "log", "neg", "ones", "randn", "sin", "sqrt", "tanh", "zeros"}


def _public_names(module) -> list:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return sorted(names)


def _members(cls, package: str):
    """(qualified name, object) of the public methods and properties ``cls`` itself defines."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            yield f"{cls.__qualname__}.{name}", value


def undocumented(module_names, package: str, methods: bool = True, exact: bool = False) -> list:
    """Public callables of ``module_names`` defined in ``package`` (``exact``: in that very module)
    whose docstring is missing."""
    missing, seen = [], set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            obj = getattr(module, name, None)
            if obj is None or isinstance(obj, types.ModuleType) or not callable(obj):
                continue
            home = getattr(obj, "__module__", None) or ""
            if not (home == module_name if exact else home.startswith(package)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if not (obj.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
            if methods and inspect.isclass(obj):
                for qualified, member in _members(obj, package):
                    if not (member.__doc__ or "").strip():
                        missing.append(f"{obj.__module__}.{qualified}")
    return missing


def test_autograd_mini_public_api_has_docstrings():
    top = {name.split(".")[-1] for name in undocumented(["autograd_mini"], "autograd_mini", methods=False)}
    assert top <= KNOWN_UNDOCUMENTED, f"public callables without a docstring: {sorted(top - KNOWN_UNDOCUMENTED)}"
    fixed = KNOWN_UNDOCUMENTED - top
    if fixed:  # printed, not asserted: a docstring arriving in a parallel branch must not turn this red
        print(f"\ndocumented now, to remove from KNOWN_UNDOCUMENTED: {sorted(fixed)}")
    # the modules of this workstream, methods included, are complete
    own = [
        "autograd_mini.functional",
        "autograd_mini.gradcheck",
        "autograd_mini.testing",
        "autograd_mini.numpy_dispatch",
    ]
    assert undocumented(own, "autograd_mini", exact=True) == []
    methods = [m for m in undocumented(["autograd_mini"], "autograd_mini") if m.count(".") > 1]
    print(f"\nautograd_mini: {len(methods)} public methods without a docstring: {methods}")


def test_the_checker_finds_a_missing_docstring():
    module = types.ModuleType("autograd_mini.fake")
    exec("def documented():\n    '''Yes.'''\n\ndef bare():\n    pass\n", module.__dict__)
    module.documented.__module__ = module.bare.__module__ = "autograd_mini.fake"
    import sys

    sys.modules["autograd_mini.fake"] = module
    try:
        assert undocumented(["autograd_mini.fake"], "autograd_mini") == ["autograd_mini.fake.bare"]
    finally:
        del sys.modules["autograd_mini.fake"]
    assert not set(undocumented(["autograd_mini"], "autograd_mini", methods=False)) - {
        f"autograd_mini.{n}" for n in KNOWN_UNDOCUMENTED
    }


def test_nn_docstring_count_is_reported():
    missing = undocumented(NN_MODULES, "nn")
    print(f"\nnn: {len(missing)} public callables without a docstring:")
    for name in missing:
        print("  ", name)
    assert isinstance(missing, list)  # counted only: the lead turns this into an assertion after merging


def test_the_functional_api_is_exported():
    for name in ("jvp", "vjp", "hvp", "gradients", "gradcheck", "gradgradcheck"):
        assert (getattr(am, name).__doc__ or "").strip(), name
