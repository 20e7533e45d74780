"""FTRL-Proximal (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class Ftrl(Optimizer):
    """With ``l2 = l2_regularization_strength + beta / (2 lr)``, ``gs = g + 2 l2_shrinkage p``,
    ``n' = n + g^2``: ``z += gs - (n'^(-lr_power) - n^(-lr_power)) / lr * p``;
    ``p = (clip(z, -l1, l1) - z) / (n'^(-lr_power) / lr + 2 l2)``; ``n = n'``.
    Slots: accumulator (starts at initial_accumulator_value), linear (per variable)."""

    _default_name = "ftrl"

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
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
        checks = (
            ("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
            ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, "positive or zero"),
        )
        for arg, value, what in checks:
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be {what}. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                f"`learning_rate_power` needs to be negative or zero. Received: learning_rate_power={learning_rate_power}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build_slots(self):
        """accumulator, linear."""
        self.add_optimizer_variables(["accumulator", "linear"], [self.initial_accumulator_value, 0.0])

    def update_rule(self, learning_rate):
        """``rules.ftrl`` with ``l2 = l2_regularization_strength + beta / (2 lr)``."""
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        shrinkage = 2 * self.l2_shrinkage_regularization_strength
        scalars = (shrinkage, -self.learning_rate_power, learning_rate, -l1, l1, 2 * l2)
        return rules.ftrl, ("accumulator", "linear"), scalars

    def get_config(self):
        """Base config plus the FTRL arguments."""
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
