"""``nn.utils`` (as ``keras.utils``): seeding and the random state, ``to_categorical``,
``normalize``, ``PyDataset``, and ``plot_model`` (loaded on first use: graphviz stays unimported)."""

from .numerical import normalize, to_categorical
from .py_dataset import PyDataset
from .random_state import (
    clear_session,
    get_rng_state,
    rng,
    set_random_seed,
    set_rng_state,
    snake_case,
    unique_name,
)

__all__ = [
    "PyDataset",
    "clear_session",
    "get_rng_state",
    "normalize",
    "plot_model",
    "rng",
    "set_random_seed",
    "set_rng_state",
    "snake_case",
    "to_categorical",
    "unique_name",
]


_SAVING_NAMES = (
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
)


def __getattr__(name):
    if name == "plot_model":
        from ..plot import plot_model

        return plot_model
    if name in _SAVING_NAMES:  # keras.utils exports the registration API too (nn.saving's)
        from .. import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'nn.utils' has no attribute {name!r}")
