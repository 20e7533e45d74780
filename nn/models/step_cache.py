"""The training step ``fit`` calls per batch, and the one ``CapturedTrainStep`` kept per model.

With ``compile(jit_compile=...)`` capturing, ``fit`` uses ``model._captured_train_step``: one
``CapturedTrainStep`` per model, reused across epochs and across ``fit`` calls, so each input
signature is traced once per model (twice, counting the check), not once per epoch. It is
replaced when what its traces baked in may have changed: ``compile()`` ran again (a new
optimizer, loss, metrics or ``jit_compile``), or the trainable variables are another list
(other variables, a layer added) or a layer's ``trainable`` flag was flipped (it
clears its weights' ``requires_grad``, which the trace's backward baked in). Like ``jax.jit``,
other Python-level changes after a trace (a layer attribute set by hand) are not seen; call
``compile()`` again to retrace.
"""

from __future__ import annotations

from . import captured_step


def train_step_for(model, params):
    """``model.train_step``, or the model's ``CapturedTrainStep`` for ``params`` (the trainable
    variables of this fit), built on first use and kept while still valid."""
    if not captured_step.wants_capture(model):
        return model.train_step
    key = (model._compile_config, model.optimizer, model.jit_compile, model._loss_tracker, *params)
    frozen = tuple(not p.requires_grad for p in params)  # a layer's trainable=False clears requires_grad
    step = getattr(model, "_captured_train_step", None)
    cached = model._fit_state.get("captured_key")
    if step is None or cached is None or not _same(cached[0], key) or cached[1] != frozen:
        step = model._captured_train_step = captured_step.CapturedTrainStep(model, params)
        model._fit_state["captured_key"] = (key, frozen)  # a dict: Module never walks it for weights
    return step


def _same(a: tuple, b: tuple) -> bool:
    """The same objects, in order (``is``: Tensors compare elementwise with ``==``)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))
