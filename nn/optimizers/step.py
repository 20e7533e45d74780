"""``apply_if_finite``: one optimizer step from the parameters' ``.grad``, skipped when the loss
is not finite. It is the step a training step calls (``Model.train_step``), marked
``@am.replayable`` so that a captured step (``jit_compile``) runs it again on every replay.

nn's rule (Keras 3 writes NaN into the weights instead): a non-finite loss leaves the weights,
the slots and the step count as they are, and the optimizer warns once (``skip_step``); an
update that would make a weight non-finite is undone by the optimizer itself (``Optimizer.step``).
The loop form of this step, for ``jit_compile=True``, is ``nn.optimizers.step_lowering``.
"""

from __future__ import annotations

import math

import autograd_mini as am


@am.replayable
def apply_if_finite(optimizer, variables, loss) -> None:
    """``optimizer.step()`` when ``loss`` is finite, else ``optimizer.skip_step(...)``."""
    value = float(loss.data)
    if math.isfinite(value):
        optimizer.step()
    else:
        optimizer.skip_step(f"the loss is {value}")
