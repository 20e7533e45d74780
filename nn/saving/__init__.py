"""Saving and loading models and weights (``nn.saving``, as ``keras.saving``)."""

from .npz_format import load_model, load_weights, save_model, save_weights

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
