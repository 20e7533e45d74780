"""Models (``nn.models``, as ``keras.models``): ``Model`` (functional or subclassed),
``Sequential``, ``load_model``."""

import inspect

from ..saving.object_registration import register_builtin_models
from .functional import Functional
from .model import Model
from .sequential import Sequential
from .serialization import clone_model, model_from_json

register_builtin_models(Sequential, Functional, Model)  # "Sequential"/"Functional" in configs resolve here


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by ``model.save`` (``nn.saving.load_model``; arguments the saving
    build does not take are dropped)."""
    from .. import saving

    kwargs = {"custom_objects": custom_objects, "compile": compile, "safe_mode": safe_mode}
    parameters = inspect.signature(saving.load_model).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in parameters}
    return saving.load_model(filepath, **kwargs)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]
