"""Seeding, the random state and naming: one call makes a training run repeatable bit for bit."""

from __future__ import annotations

import random
import re
from collections import defaultdict

import numpy as np

_generator = np.random.default_rng()
_name_counts: dict[str, int] = defaultdict(int)


def set_random_seed(seed: int) -> None:
    """Seed everything ``nn`` draws from: initializers, shuffling, dropout (and numpy's and
    Python's global generators, as Keras does), so a run repeats bit for bit."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed: expected a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    random.seed(int(seed))


def rng() -> np.random.Generator:
    """The generator behind all of ``nn``'s randomness."""
    return _generator


def get_rng_state() -> dict:
    """The state of the generator behind shuffling, initializers and dropout, as a
    JSON-serialisable dict; ``set_rng_state`` of it continues the exact same stream."""
    state = _generator.bit_generator.state
    return _jsonable(state)


def set_rng_state(state: dict) -> None:
    """Restore a state from ``get_rng_state()`` (bit-identical continuation)."""
    global _generator
    if not isinstance(state, dict) or "bit_generator" not in state:
        raise ValueError(f"set_rng_state: expected a dict from nn.utils.get_rng_state(), got {type(state).__name__}")
    kind = state["bit_generator"]
    bit_generator_class = getattr(np.random, kind, None)
    if bit_generator_class is None:
        raise ValueError(f"set_rng_state: unknown bit generator {kind!r}")
    bit_generator = bit_generator_class()
    bit_generator.state = state
    _generator = np.random.Generator(bit_generator)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


def unique_name(base: str) -> str:
    """Keras-style names: 'dense', then 'dense_1', 'dense_2', ..."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Reset layer-name counters (the next Dense is 'dense' again)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    """'LeakyReLU' -> 'leaky_relu': Keras' default layer names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("re_l_u", "relu").replace("p_relu", "prelu")
