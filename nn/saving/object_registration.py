"""Where class names in configs are resolved (Keras 3's ``keras.saving`` registration API).

A name from a file is looked up, in this order, in: the innermost ``custom_object_scope``, the
classes registered with ``register_keras_serializable`` (``get_custom_objects()``), the
``custom_objects`` the caller passes, and nn's own classes (``builtin_objects``). Nothing is
ever imported by a name or module a file holds: the ``module`` field only chooses which of
nn's own collections (layers, optimizers, losses, ...) is searched.
"""

from __future__ import annotations

import inspect
import threading

GLOBAL_CUSTOM_OBJECTS: dict[str, object] = {}
GLOBAL_CUSTOM_NAMES: dict[object, str] = {}
_scope = threading.local()
_BUILTIN_MODELS: dict[str, type] = {}


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}): ...``: names visible to deserialization
    inside the block (Keras' rule: the scope's dict replaces the outer scope's while active)."""

    def __init__(self, custom_objects=None):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(
                f"custom_object_scope: expected a dict of name -> object, got {type(custom_objects).__name__}"
            )
        self.custom_objects = dict(custom_objects or {})
        self.backup = None

    def __enter__(self):
        self.backup = getattr(_scope, "objects", {})
        _scope.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.objects = self.backup


custom_object_scope = CustomObjectScope


def scope_objects() -> dict:
    """The active ``custom_object_scope``'s objects (empty outside any scope)."""
    return dict(getattr(_scope, "objects", {}))


def get_custom_objects() -> dict:
    """The live global dict of registered objects (``"package>Name" -> class``)."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: register ``cls`` as ``"package>name"`` (name defaults to the class
    name) so configs naming it rebuild it. A class needs ``get_config`` (Keras' rule)."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under, else its Python name."""
    try:
        if obj in GLOBAL_CUSTOM_NAMES:
            return GLOBAL_CUSTOM_NAMES[obj]
    except TypeError:  # an unhashable object is never registered
        pass
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered as ``name`` (scope, global registry, ``custom_objects``,
    ``module_objects``, in Keras' order), else None."""
    scoped = getattr(_scope, "objects", {})
    if name in scoped:
        return scoped[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


# ---- nn's own classes ------------------------------------------------------------------------------
def register_builtin_models(*classes) -> None:
    """``nn.models`` registers its model classes here, so saving resolves "Sequential" and
    "Functional" without importing ``nn.models``."""
    for cls in classes:
        _BUILTIN_MODELS[cls.__name__] = cls


def _subclasses_in(module, base) -> dict:
    return {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, base) and not name.startswith("_")
    }


def builtin_objects() -> dict[str, dict[str, object]]:
    """nn's own classes by Keras module: ``{"keras.layers": {"Dense": Dense, ...}, ...}``."""
    from .. import constraints, initializers, layers, losses, metrics, optimizers, regularizers
    from ..optimizers import schedules

    return {
        "keras.layers": dict(layers.LAYER_TYPES),
        "keras.optimizers": _subclasses_in(optimizers, optimizers.Optimizer),
        "keras.optimizers.schedules": _subclasses_in(schedules, schedules.LearningRateSchedule),
        "keras.losses": _subclasses_in(losses, losses.Loss),
        "keras.metrics": _subclasses_in(metrics, metrics.Metric),
        "keras.initializers": _subclasses_in(initializers, initializers.Initializer),
        "keras.regularizers": _subclasses_in(regularizers, regularizers.Regularizer),
        "keras.constraints": _subclasses_in(constraints, constraints.Constraint),
        "keras": dict(_BUILTIN_MODELS),
    }


KERAS_MODULE_ALIASES = {
    "keras.models": "keras",
    "keras.src.models.functional": "keras",
    "keras.src.models.sequential": "keras",
    "keras.src.models.model": "keras",
}


def builtin_module_of(obj) -> str | None:
    """The Keras module under which nn's own class of ``obj`` (an instance or class) is known."""
    cls = obj if isinstance(obj, type) else type(obj)
    for module, classes in builtin_objects().items():
        if classes.get(cls.__name__) is cls:
            return module
    return None


def resolve_class(class_name, module=None, registered_name=None, custom_objects=None):
    """The class a config names, from the registries only (see the module docstring), or None."""
    for name in (registered_name, class_name):
        if isinstance(name, str):
            found = get_registered_object(name, custom_objects)
            if found is not None:
                return found
    if not isinstance(class_name, str):
        return None
    builtins = builtin_objects()
    module = KERAS_MODULE_ALIASES.get(module, module)
    if isinstance(module, str) and module.startswith("keras.src."):
        module = "keras." + module.split(".")[2]
    if module in builtins and class_name in builtins[module]:
        return builtins[module][class_name]
    if module is None or (module not in builtins and module.startswith("keras")):
        for classes in builtins.values():
            if class_name in classes:
                return classes[class_name]
    return None
