"""Layers with Keras names, arguments and defaults (``nn.layers``, as ``keras.layers``)."""

from .core import Activation, Dense, Dropout, Flatten, Layer, LeakyReLU, PReLU, RReLU, Softmax
from .input_layer import Input, InputLayer, KerasTensor

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "LeakyReLU",
    "PReLU",
    "RReLU",
    "Softmax",
]
