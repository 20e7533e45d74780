"""nn: Keras-style models and PyTorch-style building blocks on the autograd_mini core.

    import nn
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10)
"""
from . import (activations, callbacks, datasets, initializers, layers, losses, metrics, optimizers, regularizers,
               schedules, utils)
from .callbacks import EarlyStopping, History, LambdaCallback, LearningRateScheduler, ModelCheckpoint
from .fused import dense
from .io import load_model
from .layers import (Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, LeakyReLU, PReLU, RReLU,
                     Softmax)
from .model import Sequential
from .module import Module, Parameter
from .plot import plot_history, plot_model

__all__ = [
    "Activation", "Dense", "Dropout", "EarlyStopping", "Flatten", "History", "Input", "InputLayer", "LambdaCallback",
    "Layer", "LeakyReLU", "LearningRateScheduler", "ModelCheckpoint", "Module", "PReLU", "Parameter", "RReLU",
    "Sequential", "Softmax", "activations", "callbacks", "datasets", "dense", "initializers", "layers", "load_model",
    "losses", "metrics", "optimizers", "plot_history", "plot_model", "regularizers", "schedules", "utils",
]
