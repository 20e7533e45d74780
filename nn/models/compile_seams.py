"""Seams between the models and the packages that other workstreams own (losses, metrics,
optimizers, layers). Each is one small function; each prefers the contract API when it exists
(``nn.compile_utils.CompileLoss`` / ``CompileMetrics``, ``optimizer.build``, ``layer.losses``)
and falls back to today's API otherwise, so the merge switches them without edits here.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am


class LossTracker:
    """Running mean of the loss, weighted by batch size (Keras' loss tracker)."""

    __slots__ = ("total", "count")

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update_state(self, value: float, count: int) -> None:
        """Add a batch mean ``value`` over ``count`` samples."""
        self.total += value * count
        self.count += count

    def result(self) -> float:
        """The mean so far (NaN before any batch)."""
        return self.total / self.count if self.count else float("nan")

    def reset_state(self) -> None:
        """Forget the batches seen."""
        self.total, self.count = 0.0, 0


def resolve_loss(loss):
    """``model.loss``: the loss object for names and classes, the identifier otherwise."""
    if loss is None or isinstance(loss, (list, dict)):
        return loss
    from .. import losses

    return losses.get(loss)


def make_compile_loss(loss, loss_weights=None):
    """``CompileLoss(loss, loss_weights)`` from nn.compile_utils, else the local fallback."""
    try:
        from ..compile_utils import CompileLoss
    except ImportError:
        CompileLoss = _FallbackCompileLoss
    return CompileLoss(loss, loss_weights=loss_weights)


def make_compile_metrics(metrics, weighted_metrics=None, loss=None):
    """``CompileMetrics(metrics, weighted_metrics)`` from nn.compile_utils (None when there are
    no metrics), else the local fallback."""
    if not metrics and not weighted_metrics:
        return None
    try:
        from ..compile_utils import CompileMetrics
    except ImportError:
        return _FallbackCompileMetrics(metrics, weighted_metrics, loss)
    return CompileMetrics(metrics, weighted_metrics=weighted_metrics)


def register_variables(optimizer, variables) -> None:
    """Give the optimizer the model's trainable variables (``build`` or today's ``add_params``)."""
    if hasattr(optimizer, "add_params"):
        optimizer.add_params(variables)
    elif not getattr(optimizer, "built", False):
        optimizer.build(variables)


def optimizer_step(optimizer, params) -> None:
    """Apply ``p.grad`` of each parameter (all-or-nothing, the optimizer's contract)."""
    optimizer.step()


def layer_losses(layer) -> list:
    """A layer's scalar loss Tensors: ``layer.losses`` (contract) or ``regularization_losses()``."""
    losses = getattr(layer, "losses", None)
    if isinstance(losses, list):
        return losses
    method = getattr(layer, "regularization_losses", None)
    return method() if method is not None else []


# ---- fallbacks for today's losses.py / metrics.py ------------------------------------------------------------
class _FallbackCompileLoss:
    """One loss for one output; ``sample_weight`` weights per-sample losses (sum / batch size)."""

    def __init__(self, loss, loss_weights=None):
        if isinstance(loss, (list, dict)):
            raise NotImplementedError("compile: several losses need nn.compile_utils.CompileLoss")
        self.fn = resolve_loss(loss)
        self.weight = 1.0 if loss_weights is None else float(loss_weights)

    def __call__(self, y_true, y_pred, sample_weight=None):
        fn = self.fn
        if sample_weight is None:
            value = fn(y_true, y_pred)
            if value.ndim:
                value = value.mean()
        else:
            per_sample = fn.per_sample(y_true, y_pred) if hasattr(fn, "per_sample") else fn(y_true, y_pred)
            weights = np.asarray(sample_weight, dtype=per_sample.dtype).reshape(per_sample.shape[:1])
            while weights.ndim < per_sample.ndim:
                weights = weights[..., None]
            value = (per_sample * weights).sum() / float(per_sample.size)
        return value * self.weight if self.weight != 1.0 else value


class _FallbackCompileMetrics:
    """Today's metric functions averaged over samples; 'accuracy' resolved at the first batch
    from the loss and the output width (Keras' rule)."""

    def __init__(self, metrics, weighted_metrics, loss):
        if isinstance(metrics, dict) or weighted_metrics:
            raise NotImplementedError("compile: metric dicts and weighted_metrics need nn.compile_utils")
        self._identifiers = list(metrics or [])
        self._loss_name = getattr(resolve_loss(loss), "name", "") if loss is not None else ""
        self._fns = None
        self._totals = None
        self._count = 0

    @property
    def metrics_names(self) -> list[str]:
        return [m if isinstance(m, str) else getattr(m, "__name__", "metric") for m in self._identifiers]

    def update_state(self, y_true, y_pred, sample_weight=None):
        from .. import metrics as metrics_module

        y_pred = y_pred.data if isinstance(y_pred, am.Tensor) else np.asarray(y_pred)
        y_true = y_true.data if isinstance(y_true, am.Tensor) else np.asarray(y_true)
        if self._fns is None:
            units = y_pred.shape[-1] if y_pred.ndim else 1
            self._fns = [metrics_module.resolve(m, self._loss_name, units)[1] for m in self._identifiers]
            self._totals = [0.0] * len(self._fns)
        n = len(y_pred)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(n)
        for i, fn in enumerate(self._fns):
            values = np.asarray(fn(y_true, y_pred), dtype=np.float64).reshape(n, -1).mean(axis=1)
            self._totals[i] += float(values.sum() if weights is None else (values * weights).sum())
        self._count += n if weights is None else float(weights.sum())

    def result(self) -> dict:
        names = self.metrics_names
        if not self._count:
            return {name: 0.0 for name in names}
        return {name: total / self._count for name, total in zip(names, self._totals or [0.0] * len(names))}

    def reset_state(self):
        self._totals = None if self._fns is None else [0.0] * len(self._fns)
        self._count = 0
