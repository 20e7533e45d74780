"""Layers with Keras 3's names, arguments and defaults (``nn.layers``, as ``keras.layers``)."""

from . import core
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, RReLU, Softmax
from .core import Activation, Dense, Embedding, Identity, Lambda
from .input_layer import Input, InputLayer, KerasTensor
from .layer import Layer
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization, Normalization, Rescaling, UnitNormalization
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from .registry import LAYER_TYPES, deserialize, serialize
from .regularization import ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise
from .reshaping import Flatten, Reshape

LAYER_TYPES.setdefault("InputLayer", InputLayer)  # functional configs list their InputLayers (Keras 3)
# nn.saving looks the classes up as nn.layers.core.LAYER_TYPES (kept for it; prefer nn.layers.LAYER_TYPES)
core.LAYER_TYPES = LAYER_TYPES
for _cls in LAYER_TYPES.values():
    if not hasattr(core, _cls.__name__):
        setattr(core, _cls.__name__, _cls)
del _cls

__all__ = [
    "ELU",
    "LAYER_TYPES",
    "Activation",
    "ActivityRegularization",
    "Add",
    "AlphaDropout",
    "Average",
    "BatchNormalization",
    "Concatenate",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "GaussianDropout",
    "GaussianNoise",
    "Identity",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Maximum",
    "Minimum",
    "Multiply",
    "Normalization",
    "PReLU",
    "RReLU",
    "ReLU",
    "Rescaling",
    "Reshape",
    "Softmax",
    "Subtract",
    "UnitNormalization",
    "add",
    "average",
    "concatenate",
    "core",
    "deserialize",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "serialize",
    "subtract",
]
