"""Models (``nn.models``, as ``keras.models``): ``Sequential`` and ``load_model``."""

from ..saving import load_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model"]
