"""RMSprop, plain, centered and with momentum (Keras 3's rule)."""

from __future__ import annotations

import numpy as np

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

    def update_step(self, i, p, g, lr, tmp):
        """The RMSprop rule, in place."""
        v = self._slots["velocity"][i]
        v *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        if self.centered:
            a = self._slots["average_gradient"][i]
            a *= self.rho
            np.multiply(g, 1 - self.rho, out=tmp)
            a += tmp
            np.multiply(a, a, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(v, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum > 0:
            m = self._slots["momentum"][i]
            m *= self.momentum
            m += tmp
            p -= m
        else:
            p -= tmp

    def _fused_rule(self, i, lr):
        """Kernel rmsprop[_centered][_momentum], slots in build order, the scalars of ``update_step``."""
        arrays = [self._slots["velocity"][i]]
        name = "rmsprop_centered" if self.centered else "rmsprop"
        if self.momentum > 0:
            arrays.append(self._slots["momentum"][i])
        if self.centered:
            arrays.append(self._slots["average_gradient"][i])
        scalars = (self.rho, 1 - self.rho, self.epsilon, lr)
        if self.momentum > 0:
            return name + "_momentum", arrays, (*scalars, self.momentum)
        return name, arrays, scalars

    def get_config(self):
        """Base config plus rho, momentum, epsilon, centered."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
