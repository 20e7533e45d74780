"""Seeding and naming: one call makes a training run repeatable bit for bit."""

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


def unique_name(base: str) -> str:
    """Keras-style names: 'dense', then 'dense_1', 'dense_2', ..."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Reset layer-name counters (the next Dense is 'dense' again)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("re_l_u", "relu").replace("p_relu", "prelu")
