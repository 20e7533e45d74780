"""Weight penalties added to the training loss: l1 * sum|w| + l2 * sum(w^2) (Keras)."""

from __future__ import annotations

import autograd_mini as am


class Regularizer:
    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * am.abs(weight).sum()
        if self.l2:
            penalty = penalty + self.l2 * (weight * weight).sum()
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


def l1(l1=0.01) -> Regularizer:
    return Regularizer(l1=l1)


def l2(l2=0.01) -> Regularizer:
    return Regularizer(l2=l2)


def l1_l2(l1=0.01, l2=0.01) -> Regularizer:
    return Regularizer(l1=l1, l2=l2)


L1, L2, L1L2 = l1, l2, l1_l2


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in ("l1", "l2", "l1_l2"):
        return {"l1": l1, "l2": l2, "l1_l2": l1_l2}[identifier]()
    if isinstance(identifier, dict):
        return Regularizer(**identifier)
    raise ValueError(f"unknown regularizer {identifier!r}; expected 'l1', 'l2', 'l1_l2' or nn.regularizers.l2(...)")
