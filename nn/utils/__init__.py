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


def __getattr__(name):
    if name == "plot_model":
        from ..plot import plot_model

        return plot_model
    raise AttributeError(f"module 'nn.utils' has no attribute {name!r}")
