"""Schedule-free AdamW (Keras 3's rule, ``keras/src/optimizers/schedule_free_adamw.py``)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al.): the variable holds y, the slot ``momentum`` holds z
    (starting as a copy of the variable), and x is implied.

    At step t with ``lr`` (times ``min(t / warmup_steps, 1)`` during warm-up):
    ``v += (g^2 - v)(1 - b2)``, ``z -= lr g / (sqrt(v / (1 - b2^t)) + eps)``,
    ``x = (y - (1 - b1) z_old) / b1``, ``x = (1 - 1/t) x + z / t``, ``y = (1 - b1) z + b1 x``.
    Weight decay (decoupled) applies to y before the step, as in every Keras optimizer.
    Slots: momentum (z), velocity.
    """

    _default_name = "schedule_free_adamw"

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
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
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, warmup_steps

    def build_slots(self):
        """momentum (a copy of each variable), velocity (zeros)."""
        self.add_optimizer_variables(["momentum", "velocity"])
        for z, p in zip(self._slots["momentum"], self._vars):
            np.copyto(z, p.data)

    def update_step(self, i, p, g, lr, tmp):
        """The rule above, in the variable's dtype."""
        dtype = p.dtype.type
        step = dtype(self._iterations + 1)
        lr = dtype(lr)
        if self.warmup_steps > 0:
            lr = lr * min(step / dtype(self.warmup_steps), dtype(1))
        b1, b2 = dtype(self.beta_1), dtype(self.beta_2)
        z, v = self._slots["momentum"][i], self._slots["velocity"][i]
        g = g.astype(p.dtype, copy=False)
        z_old = z.copy()
        v += (np.square(g) - v) * (dtype(1) - b2)
        denom = np.sqrt(v / (dtype(1) - np.power(b2, step))) + dtype(self.epsilon)
        z -= (lr * g) / denom
        weight = dtype(1) / step
        x = (p - (dtype(1) - b1) * z_old) / b1
        x = (dtype(1) - weight) * x + weight * z
        p[...] = (dtype(1) - b1) * z + b1 * x

    def get_config(self):
        """Base config plus beta_1, beta_2, epsilon, warmup_steps."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
