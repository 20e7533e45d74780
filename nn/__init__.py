"""nn: Keras-style models and PyTorch-style building blocks on the autograd_mini core.

    import nn as keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10)

Modules follow Keras 3's names: ``nn.models``, ``nn.layers``, ``nn.optimizers`` (with
``nn.optimizers.schedules``), ``nn.losses``, ``nn.metrics``, ``nn.callbacks``,
``nn.regularizers``, ``nn.initializers``, ``nn.activations``, ``nn.utils``, ``nn.saving``,
``nn.datasets``, ``nn.ops`` and ``nn.random``. Drawing (``nn.utils.plot_model``, ``nn.plot_history``) loads graphviz and
matplotlib only when called.
"""

from . import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    lowering_rules,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from .callbacks import EarlyStopping, History, LambdaCallback, LearningRateScheduler, ModelCheckpoint
from .fused import dense
from .layers import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, LeakyReLU, PReLU, RReLU, Softmax
from .models import Model, Sequential, load_model
from .module import Module, Parameter
from .plot import plot_history, plot_model

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Flatten",
    "History",
    "Input",
    "InputLayer",
    "LambdaCallback",
    "Layer",
    "LeakyReLU",
    "LearningRateScheduler",
    "Model",
    "ModelCheckpoint",
    "Module",
    "PReLU",
    "Parameter",
    "RReLU",
    "Sequential",
    "Softmax",
    "activations",
    "backend",
    "callbacks",
    "datasets",
    "dense",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "plot_history",
    "plot_model",
    "random",
    "regularizers",
    "saving",
    "utils",
]
