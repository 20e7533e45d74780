"""Adam (with AMSGrad) and AdamW (Keras 3's rules)."""

from __future__ import annotations

import math

from . import rules
from .optimizer import Optimizer


class Adam(Optimizer):
    """``m += (1 - b1)(g - m)``; ``v += (1 - b2)(g^2 - v)`` (amsgrad: ``vh = max(vh, v)`` used for v);
    ``p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, t = iterations + 1.
    Slots: momentum, velocity (per variable), then velocity_hat (amsgrad)."""

    _default_name = "adam"

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build_slots(self):
        """momentum, velocity; velocity_hat (amsgrad)."""
        self.add_optimizer_variables(["momentum", "velocity"])
        if self.amsgrad:
            self.add_optimizer_variables("velocity_hat")

    def update_rule(self, learning_rate):
        """``rules.adam`` / ``adam_amsgrad``; ``alpha`` = lr sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1."""
        t = self.iterations + 1
        alpha = learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        scalars = (1 - self.beta_1, 1 - self.beta_2, self.epsilon, alpha)
        if self.amsgrad:
            return rules.adam_amsgrad, ("momentum", "velocity", "velocity_hat"), scalars
        return rules.adam, ("momentum", "velocity"), scalars

    def get_config(self):
        """Base config plus beta_1, beta_2, epsilon, amsgrad."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): ``p -= p * weight_decay * lr`` before the Adam step."""

    _default_name = "adamw"

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
