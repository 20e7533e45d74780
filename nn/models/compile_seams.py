"""Where the models meet the losses, metrics, optimizers and layers: one small function each
(``nn.compile_utils.CompileLoss`` / ``CompileMetrics``, ``optimizer.build``, ``layer.losses``).
"""

from __future__ import annotations


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
    """``nn.compile_utils.CompileLoss(loss, loss_weights)``."""
    from ..compile_utils import CompileLoss

    return CompileLoss(loss, loss_weights=loss_weights)


def make_compile_metrics(metrics, weighted_metrics=None, loss=None):
    """``nn.compile_utils.CompileMetrics(metrics, weighted_metrics)``; None when there are none."""
    if not metrics and not weighted_metrics:
        return None
    from ..compile_utils import CompileMetrics

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
    """A layer's scalar loss Tensors (``layer.losses``; a plain Module has none)."""
    losses = getattr(layer, "losses", None)
    return losses if isinstance(losses, list) else []
