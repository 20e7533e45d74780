"""Adagrad (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """``a += g^2``; ``p -= lr g / sqrt(a + eps)``. Slots: accumulator (starts at initial_accumulator_value)."""

    _default_name = "adagrad"

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build_slots(self):
        """accumulator."""
        self.add_optimizer_variables("accumulator", self.initial_accumulator_value)

    def update_rule(self, learning_rate):
        """``rules.adagrad``."""
        return rules.adagrad, ("accumulator",), (self.epsilon, learning_rate)

    def get_config(self):
        """Base config plus initial_accumulator_value, epsilon."""
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
