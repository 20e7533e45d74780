"""LAMB (Keras 3's rule)."""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer


class Lamb(Optimizer):
    """Adam's moments; ``u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``;
    ``p -= r lr u`` with the trust ratio ``r = |p| / |u|`` (1 when either norm is 0). Slots: momentum, velocity."""

    _default_name = "lamb"

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
        """momentum, velocity."""
        self.add_optimizer_variables(["momentum", "velocity"])

    def update_step(self, i, p, g, lr, tmp):
        """The LAMB rule, in place."""
        t = self.iterations + 1
        m, v = self._slots["momentum"][i], self._slots["velocity"][i]
        np.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        np.multiply(v, 1.0 / (1.0 - self.beta_2**t), out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= 1.0 / (1.0 - self.beta_1**t)
        w_norm = math.sqrt(float(np.sum(np.square(p))))
        g_norm = math.sqrt(float(np.sum(np.square(tmp))))
        ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
        tmp *= ratio * lr
        p -= tmp

    def get_config(self):
        """Base config plus beta_1, beta_2, epsilon."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
