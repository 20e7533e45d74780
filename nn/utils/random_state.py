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


RNG_ALGORITHM = "PCG64"
"""The one bit generator nn uses and stores (numpy's ``default_rng``); a saved state naming any
other algorithm is refused: a file's state is data, never a name looked up in numpy."""


def get_rng_state() -> dict:
    """The state of the generator behind shuffling, initializers and dropout, as a
    JSON-serialisable dict (``{"bit_generator": "PCG64", "state": {"state", "inc"},
    "has_uint32", "uinteger"}``); ``set_rng_state`` of it continues the exact same stream."""
    state = _generator.bit_generator.state
    return _jsonable(state)


def check_rng_state(state) -> dict:
    """``state`` validated as a PCG64 state (exact keys, integer ranges, an odd increment);
    returns a clean copy. A ``ValueError`` naming the first fault otherwise."""
    hint = "expected a dict from nn.utils.get_rng_state()"
    if not isinstance(state, dict):
        raise ValueError(f"set_rng_state: {hint}, got {type(state).__name__}")
    if set(state) != {"bit_generator", "state", "has_uint32", "uinteger"}:
        raise ValueError(f"set_rng_state: {hint}, got the keys {sorted(map(str, state))[:8]}")
    if state["bit_generator"] != RNG_ALGORITHM:
        raise ValueError(
            f"set_rng_state: nn stores only {RNG_ALGORITHM} states, got bit_generator={state['bit_generator']!r:.60}"
        )
    inner = state["state"]
    if not isinstance(inner, dict) or set(inner) != {"state", "inc"}:
        raise ValueError(f"set_rng_state: {hint}: 'state' must be {{'state': int, 'inc': int}}")

    def integer(value, name, bound):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < bound:
            raise ValueError(
                f"set_rng_state: {name} must be an int in [0, 2**{bound.bit_length() - 1}), got {value!r:.60}"
            )
        return int(value)

    clean = {
        "bit_generator": RNG_ALGORITHM,
        "state": {
            "state": integer(inner["state"], "state.state", 2**128),
            "inc": integer(inner["inc"], "state.inc", 2**128),
        },
        "has_uint32": integer(state["has_uint32"], "has_uint32", 2),
        "uinteger": integer(state["uinteger"], "uinteger", 2**32),
    }
    if clean["state"]["inc"] % 2 == 0:
        raise ValueError("set_rng_state: state.inc of a PCG64 state is odd, got an even number")
    return clean


def set_rng_state(state: dict) -> None:
    """Restore a state from ``get_rng_state()`` (bit-identical continuation). Only PCG64
    states are accepted, checked field by field (``check_rng_state``); nothing is looked up by name."""
    global _generator
    clean = check_rng_state(state)
    if isinstance(_generator.bit_generator, np.random.PCG64):
        _generator.bit_generator.state = clean  # in place: whoever holds rng() continues the restored stream
        return
    bit_generator = np.random.PCG64()
    bit_generator.state = clean
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
