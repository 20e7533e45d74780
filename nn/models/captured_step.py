"""The captured training step behind ``compile(jit_compile=...)`` (Keras' name).

``fit`` calls ``train_step`` once per batch. With ``jit_compile`` on, the default
``train_step``'s array work — forward, loss, backward and the optimizer update — runs through
``am.compile``: each input signature (batch shape and dtype, so the last partial batch is a
second one) is traced by running the eager step, checked by a second trace, and replayed on
later batches without Graph objects. What stays in Python on every batch is what must:
the loss tracker, the metrics (from the replayed predictions), callbacks and progress.

The replay gives the numbers the eager step gives, bit for bit: the same array operations in
the same order, the same random stream (Dropout draws its masks in ``@am.replayable`` code),
the same optimizer (its update is replayed as Python, writing through ``mutable_data``). A
non-finite loss skips the update inside the replayed step, as the eager step does.

``jit_compile="auto"`` (Keras' default) captures when the model can be captured: a built-in
``train_step``, one array input and one array target. Where the trace is refused
(``am.CaptureError``: a custom layer or loss that computes from the data outside the op set),
"auto" falls back to the eager step with a warning; ``jit_compile=True`` raises instead.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import autograd_mini as am
import autograd_mini.lowering

from .. import lowering_rules  # noqa: F401  (nn's ops get their loop forms)
from ..utils import get_rng_state, set_rng_state
from .data_adapters import unpack_x_y_sample_weight


@am.replayable
def _update_if_finite(optimizer, params, loss) -> None:
    """The optimizer step, skipped when the loss is not finite (the weights keep the last good step)."""
    if math.isfinite(float(loss.data)):
        optimizer.step()


def _lower_update(L, args, kwargs, step) -> None:
    """The loop form of ``_update_if_finite``: when the loss is finite, each variable's fused
    optimizer kernel (``Optimizer.fused_update``) runs inside the compiled step, and the step
    count advances afterwards. Only for plain optimizers: clipping, EMA, weight decay, gradient
    accumulation, loss scaling, constraints or a ``before_update_step`` keep the Python step."""
    from ..optimizers.fused import _NotExact as NotExact
    from ..optimizers.fused import as_operand
    from ..optimizers.optimizer import Optimizer

    optimizer, params, loss = args
    fused = getattr(optimizer, "fused_update", None)
    if (
        fused is None
        or type(optimizer).before_update_step is not Optimizer.before_update_step
        or optimizer.clipnorm
        or optimizer.clipvalue
        or optimizer.global_clipnorm
        or optimizer.use_ema
        or optimizer.gradient_accumulation_steps
        or optimizer.loss_scale_factor is not None
        or optimizer.weight_decay is not None
        or not optimizer.built
        or {id(v) for v in optimizer._vars} != {id(p) for p in params}
        or any(getattr(p, "constraint", None) is not None or not getattr(p, "trainable", True) for p in params)
        or not isinstance(loss, am.lowering.Var)
    ):
        raise am.lowering.NotLowerable("an optimizer step that needs its Python form")
    indices = [optimizer._index[id(p)] for p in params]
    lr = optimizer.learning_rate
    plans = [fused(i, lr) for i in indices]
    if any(plan is None for plan in plans):
        raise am.lowering.NotLowerable("an optimizer without a fused kernel for these variables")
    grads = [step.leaf_grad(p) for p in params]
    datas = [step.write(p) for p in params]

    rule, names = optimizer._fused_rule, [optimizer._fused_rule(i, lr)[0] for i in indices]
    dtypes = [p.data.dtype for p in params]

    def runtime():  # each step: the rules' slot arrays and scalars (fused_update's checks, kept lean)
        rate = optimizer.learning_rate
        if not math.isfinite(rate):
            return None  # the numpy replay raises the eager error
        values = []
        try:
            for i, name, dtype in zip(indices, names, dtypes):
                found = rule(i, rate)
                if found is None or found[0] != name:
                    return None
                for array in found[1]:
                    flags = array.flags
                    if not (flags.c_contiguous and flags.writeable) or array.dtype != dtype:
                        return None
                    values.append(array.reshape(-1))
                values.extend(as_operand(value, dtype) for value in found[2])
        except NotExact:
            return None
        return tuple(values)

    name = step.runtime(runtime)
    flag = L.alloc((1,), np.float64, fill=0)
    grad_buffers = [L.buffer(grad) for grad in grads]  # (before the branch: a scalar gradient gets a buffer)
    L.line(f"if math.isfinite({loss.at('0')}):")
    position = 0
    for k, (plan, grad, data) in enumerate(zip(plans, grad_buffers, datas)):
        key = f"optimizer_kernel_{k}"
        L.globals[key] = plan[0]
        extra = [f"{name}[{position + j}]" for j in range(len(plan[1]) + len(plan[2]))]
        position += len(extra)
        L.line(f"{key}({', '.join([data.name, grad, *extra])})", 1)
    L.line(f"{flag.name} = 1.0", 1)
    step.after(lambda value: _count_step(optimizer, value), flag)


def _count_step(optimizer, flag) -> None:
    if flag[0]:
        optimizer._iterations += 1


am.lowering.register_effect(_update_if_finite, _lower_update)


def wants_capture(model) -> bool:
    """Whether ``fit`` should try the captured step for this model.

    ``jit_compile=True``: whenever the default ``train_step`` runs. ``"auto"``: only when every
    piece is nn's own (layers, loss, the model class's ``call``), because a replay runs none of
    the user's Python: a custom loss or layer with side effects would silently run once, at
    trace time (jax's rule), so "auto" leaves user code eager."""
    mode = getattr(model, "jit_compile", "auto")
    if mode is False or getattr(model, "run_eagerly", False):
        return False
    from .model import Model

    if type(model).train_step is not Model.train_step:
        return False
    if mode is True:
        return True
    return _ours(type(model)) and all(_ours(type(layer)) for layer in model.layers) and _ours_loss(model.loss)


def _ours(cls) -> bool:
    return cls.__module__.split(".")[0] == "nn"


def _ours_loss(loss) -> bool:
    if isinstance(loss, (list, tuple)):
        return all(_ours_loss(item) for item in loss)
    if isinstance(loss, dict):
        return all(_ours_loss(item) for item in loss.values())
    if isinstance(loss, str):
        return True
    return _ours(loss if isinstance(loss, type) else type(loss)) or getattr(loss, "__module__", "").startswith("nn.")


class CapturedTrainStep:
    """``train_step`` for one fit call: captured per signature, eager where it cannot be."""

    def __init__(self, model, params):
        self.model = model
        self.params = params
        self.strict = getattr(model, "jit_compile", "auto") is True
        # True: compiled loop kernels from the first batch on (the traces are undone, see _save);
        # "auto": the numpy replay, bit for bit the eager step
        self.compiled = am.compile(self._core, kernels=self.strict, state=(self._save, self._restore))
        self.eager = False

    def _save(self):
        """What a traced step changes: every weight, the optimizer's variables and step count,
        the random generators (nn's and seeded layers' own)."""
        model = self.model
        store: dict = {}
        optimizer = model.optimizer
        if getattr(optimizer, "built", False):
            optimizer.save_own_variables(store)
        generators = [
            (layer, layer._generator.bit_generator.state)
            for layer in model.layers
            if getattr(layer, "_generator", None) is not None
        ]
        weights = [(w, w.data, w.data.copy()) for w in model.weights]
        return weights, store, getattr(optimizer, "_iterations", None), get_rng_state(), generators

    def _restore(self, snapshot) -> None:
        weights, store, iterations, rng_state, generators = snapshot
        for w, array, copy in weights:
            w.data = array  # the original array object (read-only views of it stay valid)...
            np.copyto(w.mutable_data(), copy)  # ...holding the saved values again
        optimizer = self.model.optimizer
        if store:
            optimizer.load_own_variables(store)
        if iterations is not None:
            optimizer._iterations = iterations
        set_rng_state(rng_state)
        for layer, state in generators:
            layer._generator.bit_generator.state = state

    def _core(self, x, y, sample_weight):
        model = self.model
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
        for p in self.params:
            p.grad = None
        loss.backward()
        _update_if_finite(model.optimizer, self.params, loss)
        return loss, y_pred

    def __call__(self, data):
        model = self.model
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self.eager or not _plain_batch(x, y, sample_weight):
            return model.train_step(data)
        try:
            loss, y_pred = self.compiled(x, y, sample_weight)
        except am.CaptureError as error:
            if self.strict:
                raise
            warnings.warn(f"jit_compile: training eagerly, the step cannot be captured: {error}", stacklevel=2)
            self.eager = True
            return model.train_step(data)
        value = float(loss.data)
        model._loss_tracker.update_state(value, len(x))
        if not math.isfinite(value):
            return model.get_metrics_result()
        return model.compute_metrics(x, y, y_pred, sample_weight)


def _plain_batch(x, y, sample_weight) -> bool:
    """One array input, one array target, an optional array of sample weights."""
    return (
        isinstance(x, np.ndarray)
        and isinstance(y, np.ndarray)
        and (sample_weight is None or isinstance(sample_weight, np.ndarray))
    )
