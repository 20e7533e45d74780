"""Learning-rate schedules with Keras 3's formulas, names and configs (``keras.optimizers.schedules``).

A schedule is called with the optimizer's step count (``optimizer.iterations`` before the step)
and returns a Python float. Computed in float64 (Keras computes in the dtype of
``initial_learning_rate``, float32 for Python floats): results agree to float32 precision.
"""

from __future__ import annotations

import math


class LearningRateSchedule:
    """Base class: ``__call__(step) -> float`` and ``get_config()``; ``from_config(config)`` is ``cls(**config)``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        """The constructor arguments (Keras' keys)."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        """The schedule with these constructor arguments."""
        return cls(**config)


def _check_decay_steps(value, argument="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{argument}` must be > 0. Received: {argument}={value}")


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (exponent floored with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate * self.decay_rate**p)

    def get_config(self):
        """Keras' keys: initial_learning_rate, decay_steps, decay_rate, staircase, name."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (ratio floored with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate / (1 + self.decay_rate * p))

    def get_config(self):
        """Keras' keys: initial_learning_rate, decay_steps, decay_rate, staircase, name."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < step <=
    boundaries[i]``, ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        """Keras' keys: boundaries, values, name."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end`` with ``step`` capped at
    ``decay_steps``; ``cycle``: ``decay_steps`` grows to the next multiple of itself instead."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        step, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        end = self.end_learning_rate
        return float((self.initial_learning_rate - end) * (1 - p) ** self.power + end)

    def get_config(self):
        """Keras' keys: initial_learning_rate, decay_steps, end_learning_rate, power, cycle, name."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Without warmup: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``.
    With ``warmup_target``: linear from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then the cosine decay from ``warmup_target`` over ``decay_steps``."""

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None, warmup_steps=0
    ):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (
            initial_learning_rate,
            decay_steps,
            alpha,
            name,
        )
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = float(step)
        if self.warmup_target is None:
            return float(self._decay(min(step, self.decay_steps), self.initial_learning_rate))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return float(delta * step / self.warmup_steps + self.initial_learning_rate)
        return float(self._decay(step - self.warmup_steps, self.warmup_target))

    def get_config(self):
        """Keras' keys: initial_learning_rate, decay_steps, alpha, name, warmup_target, warmup_steps."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay over ``first_decay_steps``, then restarts; period ``i`` lasts
    ``first_decay_steps * t_mul**i`` steps and starts at ``initial_learning_rate * m_mul**i``
    (each period: ``(1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * fraction)) + alpha``)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_decay_steps(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = float(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul**i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul**i_restart
        cosine = 0.5 * self._m_mul**i_restart * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self):
        """Keras' keys: initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha, name."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(learning_rate_schedule) -> dict:
    """Keras' form: ``{"module": "keras.optimizers.schedules", "class_name": ..., "config": ..., "registered_name": None}``."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(f"serialize: expected a LearningRateSchedule, got {type(learning_rate_schedule).__name__}")
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(learning_rate_schedule).__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None) -> LearningRateSchedule:
    """The schedule described by ``serialize``'s dict (nn's own classes, or ``custom_objects`` by name)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    known = {**_SCHEDULES, **(custom_objects or {})}
    cls = known.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"deserialize: unknown learning rate schedule {config['class_name']!r}; known: {sorted(known)}"
        )
    return cls.from_config(dict(config.get("config", {})))
