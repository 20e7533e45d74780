"""Layers with Keras names, arguments and defaults (``nn.layers``, as ``keras.layers``)."""

from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, LeakyReLU, PReLU, RReLU, Softmax

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "PReLU",
    "RReLU",
    "Softmax",
]
