"""Adamax (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class Adamax(Optimizer):
    """``m += (1 - b1)(g - m)``; ``u = max(b2 u, |g|)``; ``p -= lr m / ((1 - b1^t)(u + eps))``.
    Slots: momentum, norm (per variable)."""

    _default_name = "adamax"

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
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
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self):
        """momentum, norm."""
        self.add_optimizer_variables(["momentum", "norm"])

    def update_rule(self, learning_rate):
        """``rules.adamax``; the bias correction ``1 - b1^t`` of this step, t = iterations + 1."""
        t = self.iterations + 1
        scalars = (1 - self.beta_1, self.beta_2, self.epsilon, 1 - self.beta_1**t, learning_rate)
        return rules.adamax, ("momentum", "norm"), scalars

    def get_config(self):
        """Base config plus beta_1, beta_2, epsilon."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
