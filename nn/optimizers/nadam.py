"""Nadam (Keras 3's rule)."""

from __future__ import annotations

import numpy as np

from . import rules
from .optimizer import Optimizer


class Nadam(Optimizer):
    """Adam with Nesterov momentum and the momentum schedule ``u_t = b1 (1 - 0.5 * 0.96^t)``:
    ``m_hat = u_{t+1} m / (1 - prod u_1..u_{t+1}) + (1 - u_t) g / (1 - prod u_1..u_t)``,
    ``p -= lr m_hat / (sqrt(v / (1 - b2^t)) + eps)``. Slots: momentum, velocity; then the product (scalar)."""

    _default_name = "nadam"

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
        """momentum, velocity, and the scalar u product (in the first variable's dtype)."""
        self.add_optimizer_variables(["momentum", "velocity"])
        dtype = self._vars[0].dtype if self._vars else np.float32
        self._u_product = np.array(1.0, dtype=dtype)
        self._extra_variables.append(self._u_product)

    def before_update_step(self, learning_rate):
        """u_product *= u_t (once per applied step)."""
        t = self.iterations + 1
        self._u_product[...] = self._u_product * self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def update_rule(self, learning_rate):
        """``rules.nadam``; the momentum-schedule factors of this step (after ``before_update_step``)."""
        t = self.iterations + 1
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = float(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        scalars = (
            1 - self.beta_1,
            1 - self.beta_2,
            u_t_1 / (1 - u_product_t_1),
            (1 - u_t) / (1 - u_product_t),
            1 / (1 - self.beta_2**t),
            self.epsilon,
            learning_rate,
        )
        return rules.nadam, ("momentum", "velocity"), scalars

    def get_config(self):
        """Base config plus beta_1, beta_2, epsilon."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
