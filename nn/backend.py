"""``keras.backend`` for nn: the session, float type and fuzz factor Keras code asks for."""

from __future__ import annotations

from .utils.random_state import clear_session as _reset_names

_EPSILON = 1e-7


def clear_session(free_memory=True) -> None:
    """Keras' ``clear_session``: reset the layer-name counters (the next Dense is 'dense' again)."""
    _reset_names()


def backend() -> str:
    """The name of the engine nn runs on."""
    return "autograd_mini"


def floatx() -> str:
    """The default float type, 'float32' (as Keras)."""
    return "float32"


def epsilon() -> float:
    """The fuzz factor clipping probabilities, 1e-7 (as Keras)."""
    return _EPSILON


def image_data_format() -> str:
    """'channels_last' (Keras' default)."""
    return "channels_last"
