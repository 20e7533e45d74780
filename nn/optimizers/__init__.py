"""Optimizers with Keras 3's update rules, defaults and API (``nn.optimizers``, as ``keras.optimizers``)."""

from __future__ import annotations

import re

from . import schedules
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .muon import Muon
from .nadam import Nadam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .schedule_free_adamw import ScheduleFreeAdamW
from .sgd import SGD

_CLASSES = (
    SGD,
    RMSprop,
    Adagrad,
    Adadelta,
    Adam,
    AdamW,
    Adamax,
    Nadam,
    Ftrl,
    Lion,
    Lamb,
    Adafactor,
    ScheduleFreeAdamW,
    Muon,
)


class _Registry(dict):
    """Lower-case class names -> classes; a Keras auto-name ('adam_1') finds its class too."""

    def _key(self, key):
        key = str(key).lower()
        return key if dict.__contains__(self, key) else re.sub(r"_\d+$", "", key)

    def __contains__(self, key):
        return dict.__contains__(self, self._key(key))

    def __getitem__(self, key):
        return dict.__getitem__(self, self._key(key))


_BY_NAME = _Registry({cls.__name__.lower(): cls for cls in _CLASSES})


def serialize(optimizer) -> dict:
    """Keras' form: ``{"module": "keras.optimizers", "class_name": ..., "config": ..., "registered_name": None}``."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize: expected an nn.optimizers.Optimizer, got {type(optimizer).__name__}")
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None) -> Optimizer:
    """The optimizer described by ``serialize``'s dict (class names case-insensitive, as Keras)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name)
    if cls is None:
        if name.lower() not in _BY_NAME:
            raise ValueError(
                f"Could not interpret optimizer identifier: {name!r}; known: {sorted(c.__name__ for c in _CLASSES)}"
            )
        cls = _BY_NAME[name.lower()]
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier) -> Optimizer:
    """An optimizer from an instance, a name ('sgd', 'adam', ... with Keras' defaults) or a ``serialize`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "SGD",
    "ScheduleFreeAdamW",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "Muon",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
