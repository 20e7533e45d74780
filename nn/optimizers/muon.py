"""Muon (Keras 3's rule, ``keras/src/optimizers/muon.py``): orthogonalised momentum for
matrices, AdamW for everything else."""

from __future__ import annotations

import re

import numpy as np

from .optimizer import Optimizer


class Muon(Optimizer):
    """Muon. A 2-d variable (not an embedding, not matched by ``exclude_layers``) gets
    ``m = momentum m + g``, ``u = g + momentum m`` (``nesterov``) or ``m``, ``u`` orthogonalised
    by ``ns_steps`` quintic Newton-Schulz iterations (coefficients ``muon_a, muon_b, muon_c``, on
    ``u / (||u||_F + 1e-7)``, transposed when tall), then ``p -= lr u sqrt(max(rows, cols)) rms_rate``
    and decoupled weight decay ``weight_decay``. Every other variable gets AdamW at
    ``lr adam_lr_ratio`` with ``adam_beta_1, adam_beta_2, epsilon`` and ``adam_weight_decay``.
    Slots (Keras' order, per variable): momentum, then velocity for the AdamW variables.
    """

    _default_name = "muon"

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=None,  # Muon applies its two decays itself, per variable kind
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
        self.muon_weight_decay = weight_decay
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.rms_rate = nesterov, rms_rate
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay

    def _should_use_adamw(self, variable) -> bool:
        """Not 2-d, an embedding, or a path matched by ``exclude_layers``."""
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", None) or variable.name or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build_slots(self):
        """momentum for every variable, velocity for the AdamW ones (Keras' order)."""
        self._m, self._v = [], []
        for p in self._vars:
            m = np.zeros_like(p.data)
            v = np.zeros_like(p.data) if self._should_use_adamw(p) else None
            self._extra_variables += [m] + ([v] if v is not None else [])
            self._m.append(m)
            self._v.append(v)

    def add_params(self, params):
        """Muon's slots are made once, at build (as in Keras)."""
        params = list(params)
        if self.built and any(id(p) not in self._index for p in params):
            raise ValueError("Muon: its slots are built once; build it with every variable at once")
        super().add_params(params)

    def update_step(self, i, p, g, lr, tmp):
        """Weight decay, then the Muon or the AdamW rule, in the variable's dtype."""
        dtype = p.dtype.type
        g = g.astype(p.dtype, copy=False)
        adamw = self._v[i] is not None
        decay = self.adam_weight_decay if adamw else self.muon_weight_decay
        if decay is not None and self._use_weight_decay(self._vars[i]):
            p -= p * dtype(decay) * dtype(lr)
        if adamw:
            self._adamw(p, g, dtype(lr * self.adam_lr_ratio), self._m[i], self._v[i])
        else:
            self._muon(p, g, dtype(lr), self._m[i])

    def _adamw(self, p, g, lr, m, v):
        dtype = p.dtype.type
        step = dtype(self._iterations + 1)
        b1, b2 = dtype(self.adam_beta_1), dtype(self.adam_beta_2)
        alpha = lr * np.sqrt(dtype(1) - np.power(b2, step)) / (dtype(1) - np.power(b1, step))
        m += (g - m) * (dtype(1) - b1)
        v += (np.square(g) - v) * (dtype(1) - b2)
        p -= (m * alpha) / (np.sqrt(v) + dtype(self.epsilon))

    def _muon(self, p, g, lr, m):
        dtype = p.dtype.type
        mu = dtype(self.momentum)
        m += g + m * (mu - dtype(1))
        u = g + mu * m if self.nesterov else m.copy()
        update = self._newton_schulz(u)
        step = lr * update
        if self.rms_rate is not None:
            step = step * np.sqrt(dtype(max(step.shape[0], step.shape[1]))) * dtype(self.rms_rate)
        p -= step

    def _newton_schulz(self, x):
        """The quintic Newton-Schulz iteration towards the orthogonal factor of ``x``."""
        dtype = x.dtype.type
        a, b, c = dtype(self.muon_a), dtype(self.muon_b), dtype(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = np.swapaxes(x, -1, -2)
        x = x / (np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True)) + dtype(1e-7))
        for _ in range(self.ns_steps):
            gram = x @ np.swapaxes(x, -1, -2)
            poly = b * gram + c * gram @ gram
            x = a * x + poly @ x
        return np.swapaxes(x, -1, -2) if tall else x

    def get_config(self):
        """Base config plus Muon's arguments (``weight_decay`` is Muon's own)."""
        return {
            **super().get_config(),
            "weight_decay": self.muon_weight_decay,
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "exclude_embeddings": self.exclude_embeddings,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
