"""Every public callable has a docstring: asserted for autograd_mini's API and nn's public modules.

Public names: a package's ``__all__`` when it has one, else its names without a leading
underscore; callables defined in the package itself (functions and classes, and the public
methods and properties those classes define). A failure lists the names missing one.
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
    # top-level names, and the public methods and properties of the classes they export
    # (Tensor, Function, ...): each must have a docstring
    missing = undocumented(["autograd_mini"], "autograd_mini")
    assert missing == [], f"autograd_mini: {len(missing)} public callables without a docstring: {missing}"
    own = [
        "autograd_mini.functional",
        "autograd_mini.gradcheck",
        "autograd_mini.testing",
        "autograd_mini.numpy_dispatch",
    ]
    assert undocumented(own, "autograd_mini", exact=True) == []


def test_tensor_and_function_methods_are_scanned():
    tensor_members = [name for name, _ in _members(am.Tensor, "autograd_mini")]
    assert {"Tensor.exp", "Tensor.shape", "Tensor.backward"} <= set(tensor_members)
    assert [name for name, _ in _members(am.Function, "autograd_mini")]


def test_the_checker_finds_a_missing_docstring():
    module = types.ModuleType("autograd_mini.fake")
    source = (
        'def documented():\n    """Yes."""\n\n\ndef bare():\n    pass\n\n\n'
        'class Cls:\n    """Yes."""\n\n    def method(self):\n        pass\n\n'
        "    @property\n    def prop(self):\n        return 1\n"
    )
    exec(source, module.__dict__)
    for obj in (module.documented, module.bare, module.Cls):
        obj.__module__ = "autograd_mini.fake"
    import sys

    sys.modules["autograd_mini.fake"] = module
    try:
        assert undocumented(["autograd_mini.fake"], "autograd_mini") == [
            "autograd_mini.fake.Cls.method",
            "autograd_mini.fake.Cls.prop",
            "autograd_mini.fake.bare",
        ]
    finally:
        del sys.modules["autograd_mini.fake"]


def test_nn_public_api_has_docstrings():
    missing = undocumented(NN_MODULES, "nn")
    assert missing == [], f"nn: {len(missing)} public callables without a docstring: {missing}"


def test_the_functional_api_is_exported():
    for name in ("jvp", "vjp", "hvp", "gradients", "gradcheck", "gradgradcheck"):
        assert (getattr(am, name).__doc__ or "").strip(), name
