"""Lion (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class Lion(Optimizer):
    """``p -= lr sign(b1 m + (1 - b1) g)``; ``m = b2 m + (1 - b2) g``. Slots: momentum."""

    _default_name = "lion"

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        self.beta_1, self.beta_2 = beta_1, beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
                f"SignSGD. Received: beta_1={beta_1}."
            )

    def build_slots(self):
        """momentum."""
        self.add_optimizer_variables("momentum")

    def update_rule(self, learning_rate):
        """``rules.lion``."""
        scalars = (self.beta_1, 1.0 - self.beta_1, learning_rate, self.beta_2, 1.0 - self.beta_2)
        return rules.lion, ("momentum",), scalars

    def get_config(self):
        """Base config plus beta_1, beta_2."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
