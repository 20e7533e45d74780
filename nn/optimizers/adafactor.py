"""Adafactor (Keras 3's rule, ``keras/src/optimizers/adafactor.py``)."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor with factored second moments.

    At step t (1-based), with ``rho = min(lr, 1 / sqrt(t))`` (``lr`` itself capped the same way
    when ``relative_step`` and the rate is a constant), ``alpha = max(epsilon_2, rms(p)) rho``,
    ``b = 1 - t^beta_2_decay`` and ``s = g^2 + epsilon_1``: a matrix (or higher) keeps row and
    column means ``r = b r + (1 - b) mean(s, -1)``, ``c = b c + (1 - b) mean(s, -2)`` and
    ``v = r / mean(r) (outer) c``; a vector keeps ``v = b v + (1 - b) s``. Then
    ``u = g / sqrt(v)``, ``p -= alpha u / max(1, rms(u) / clip_threshold)``.
    Slots (Keras' order, per variable): r and c (matrices only), velocity.
    """

    _default_name = "adafactor"

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build_slots(self):
        """r, c (matrices: the variable's shape without its last / second-to-last axis; a vector
        gets two unused scalars, as Keras tracks them), velocity."""
        self._r, self._c, self._v = [], [], []
        for p in self._vars:
            shape = p.shape
            if len(shape) >= 2:
                r = np.zeros(shape[:-1], p.dtype)
                c = np.zeros(shape[:-2] + shape[-1:], p.dtype)
            else:  # Keras tracks two unused scalars for a vector
                r, c = np.zeros((), p.dtype), np.zeros((), p.dtype)
            self._extra_variables += [r, c]
            v = np.zeros_like(p.data)
            self._extra_variables.append(v)
            self._r.append(r)
            self._c.append(c)
            self._v.append(v)

    def add_params(self, params):
        """Adafactor's slots are made once, at build (as in Keras)."""
        params = list(params)
        if self.built and any(id(p) not in self._index for p in params):
            raise ValueError("Adafactor: its slots are built once; build it with every variable at once")
        super().add_params(params)

    def update_step(self, i, p, g, lr, tmp):
        """The rule above, in the variable's dtype."""
        dtype = p.dtype.type
        step = dtype(self._iterations + 1)
        g = g.astype(p.dtype, copy=False)
        lr = dtype(lr)
        if not callable(self._learning_rate) and self.relative_step:
            lr = min(lr, dtype(1) / np.sqrt(step))
        rho = min(lr, dtype(1) / np.sqrt(step))
        alpha = max(dtype(self.epsilon_2), np.sqrt(np.mean(np.square(p)))) * rho
        squared = np.square(g) + dtype(self.epsilon_1)
        beta = dtype(1) - np.power(step, dtype(self.beta_2_decay))
        v = self._v[i]
        if p.ndim >= 2:
            r, c = self._r[i], self._c[i]
            r[...] = beta * r + (dtype(1) - beta) * np.mean(squared, axis=-1)
            c[...] = beta * c + (dtype(1) - beta) * np.mean(squared, axis=-2)
            v[...] = np.expand_dims(r / np.mean(r, axis=-1, keepdims=True), -1) * np.expand_dims(c, -2)
        else:
            v[...] = beta * v + (dtype(1) - beta) * squared
        u = g / np.sqrt(v)
        u_hat = u / np.maximum(dtype(1), np.sqrt(np.mean(np.square(u))) / dtype(self.clip_threshold))
        p -= alpha * u_hat

    def get_config(self):
        """Base config plus Adafactor's arguments."""
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
