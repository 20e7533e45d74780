"""Optimizers with Keras' update rules and defaults (``nn.optimizers``, as ``keras.optimizers``)."""

from . import schedules
from .optimizer import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop, get

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "schedules"]
