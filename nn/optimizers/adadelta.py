"""Adadelta (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """``a = rho a + (1 - rho) g^2``; ``d = -sqrt(s + eps) g / sqrt(a + eps)``;
    ``s = rho s + (1 - rho) d^2``; ``p += lr d``. Slots: accumulated_grad, accumulated_delta_var."""

    _default_name = "adadelta"

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
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
        self.rho, self.epsilon = rho, epsilon

    def build_slots(self):
        """accumulated_grad, accumulated_delta_var (per variable)."""
        self.add_optimizer_variables(["accumulated_grad", "accumulated_delta_var"])

    def update_rule(self, learning_rate):
        """``rules.adadelta``."""
        names = ("accumulated_grad", "accumulated_delta_var")
        return rules.adadelta, names, (self.rho, 1 - self.rho, self.epsilon, learning_rate)

    def get_config(self):
        """Base config plus rho, epsilon."""
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
