"""SGD with momentum and Nesterov momentum (Keras 3's rule)."""

from __future__ import annotations

from . import rules
from .optimizer import Optimizer


class SGD(Optimizer):
    """``m = momentum * m - lr * g``; ``p += m`` (nesterov: ``p += momentum * m - lr * g``);
    momentum 0: ``p -= lr * g``. Slots: momentum (only when momentum != 0)."""

    _default_name = "sgd"

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if isinstance(momentum, int) and not isinstance(momentum, bool):
            momentum = float(momentum)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum, self.nesterov = momentum, nesterov

    def build_slots(self):
        """momentum (when momentum != 0)."""
        if self.momentum != 0:
            self.add_optimizer_variables("momentum")

    def update_rule(self, learning_rate):
        """``rules.sgd`` / ``sgd_momentum`` / ``sgd_nesterov``."""
        if self.momentum == 0:
            return rules.sgd, (), (learning_rate,)
        rule = rules.sgd_nesterov if self.nesterov else rules.sgd_momentum
        return rule, ("momentum",), (learning_rate, self.momentum)

    def get_config(self):
        """Base config plus momentum, nesterov."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
