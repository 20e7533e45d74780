"""RMSprop, plain, centered and with momentum (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """``v = rho v + (1 - rho) g^2``; ``d = v + eps`` (centered: ``a = rho a + (1 - rho) g``,
    ``d = v - a^2 + eps``); ``inc = lr g / sqrt(d)``; ``p -= inc`` (momentum: ``m = momentum m + inc;
    p -= m``). Slots: velocity; momentum (momentum > 0); average_gradient (centered)."""

    _default_name = "rmsprop"

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build_slots(self):
        """velocity, then momentum (momentum > 0), then average_gradient (centered)."""
        self.add_optimizer_variables("velocity")
        if self.momentum > 0:
            self.add_optimizer_variables("momentum")
        if self.centered:
            self.add_optimizer_variables("average_gradient")

    def update_rule(self, learning_rate):
        """``rules.rmsprop[_centered][_momentum]``, slots in build order."""
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        scalars = (self.rho, 1 - self.rho, self.epsilon, learning_rate)
        if self.momentum > 0:
            rule = rules.rmsprop_centered_momentum if self.centered else rules.rmsprop_momentum
            return rule, tuple(names), (*scalars, self.momentum)
        return (rules.rmsprop_centered if self.centered else rules.rmsprop), tuple(names), scalars

    def get_config(self):
        """Base config plus rho, momentum, epsilon, centered."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
