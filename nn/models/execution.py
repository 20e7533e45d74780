"""The batch loops inside ``fit`` / ``evaluate`` / ``predict``, with Keras 3's ``steps_per_execution``.

An *execution* is ``steps_per_execution`` consecutive batches of an epoch (the last one may be
shorter). As in Keras 3 (``EpochIterator._enumerate_iterator`` and the JAX trainer's loops),
the callbacks' batch hooks and the progress bar run once per execution:
``on_*_batch_begin(begin)`` before it and ``on_*_batch_end(begin + steps_per_execution - 1,
logs)`` after it, ``begin`` counting batches from 0 (a shorter last execution still reports
``begin + steps_per_execution - 1``, as Keras does), with the logs after the execution's last
batch (``predict``: ``{"outputs": ...}`` concatenated over the execution's batches).
``steps_per_execution=1`` is the plain per-batch loop. An epoch of ``steps_per_epoch`` batches
runs exactly that many (Keras' JAX trainer runs whole executions there).

The loops are lean: batch hooks are fetched once per loop (callbacks that leave a hook as the
base class's no-op are skipped), the progress bar is not touched at ``verbose=0``, and the
loss check is one comparison for a float loss.

Where a multi-step fast path goes: a train step object with a method
``train_steps(batches) -> logs`` gets each execution's batches as one list (one call per
execution, e.g. one compiled kernel over all of them). It must run them in order, stop after
a batch whose loss is not finite (the weights keep the last finite step), and return the logs
after the last batch it ran. Without it the loop calls ``train_step(batch)`` per batch.
"""

from __future__ import annotations

import math
from itertools import islice

import autograd_mini as am


def loss_is_bad(logs) -> bool:
    """Whether ``logs["loss"]`` is present and not finite (NaN or +-Inf)."""
    loss = logs.get("loss") if isinstance(logs, dict) else None
    if loss is None:
        return False
    if loss.__class__ is float:
        return loss - loss != 0.0  # NaN and +-Inf give NaN, every finite float gives 0
    return not math.isfinite(float(loss.data if isinstance(loss, am.Tensor) else loss))


def callback_logs(logs):
    """The logs as callbacks get them at a batch end: Python floats (Keras' ``pythonify_logs``),
    the same dict when they already are (no copy per batch)."""
    if isinstance(logs, dict):
        for value in logs.values():
            if value.__class__ is not float:
                return float_logs(logs)
    return logs


def float_logs(logs) -> dict:
    """A copy with every value that converts (Tensors, numpy scalars) as a Python float."""
    out = {}
    for key, value in (logs or {}).items():
        if isinstance(value, am.Tensor):
            value = value.data
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def train_epoch(model, train_step, iterator, steps_per_execution, cbs, progress):
    """One epoch of ``fit``: returns ``(logs, bad_step)``, ``bad_step`` the 1-based index of the
    batch whose loss was not finite when no callback stopped training (the caller raises),
    else None. Stops early when a callback sets ``model.stop_training``."""
    begin_hooks = cbs.hooks("on_train_batch_begin")
    end_hooks = cbs.hooks("on_train_batch_end")
    update = progress.update if progress.verbose else None
    spe = steps_per_execution
    multi = getattr(train_step, "train_steps", None) if spe > 1 else None
    batches = iter(iterator)
    logs = {}
    step = 0
    for batch in batches:
        for hook in begin_hooks:
            hook(step, None)
        if multi is not None:
            group = [batch, *islice(batches, spe - 1)]
            logs = multi(group)
            count = len(group)
            bad = loss_is_bad(logs)
        else:
            logs = train_step(batch)
            bad = loss_is_bad(logs)
            count = 1
            while count < spe and not bad:
                batch = next(batches, None)
                if batch is None:
                    break
                logs = train_step(batch)
                bad = loss_is_bad(logs)
                count += 1
        if update is not None:
            update(logs, count)
        if end_hooks:
            out = callback_logs(logs)
            for hook in end_hooks:
                hook(step + spe - 1, out)
        if bad and not model.stop_training:
            return logs, step + count
        if model.stop_training:
            break
        step += spe
    return logs, None


def test_epoch(model, iterator, steps_per_execution, cbs, progress) -> dict:
    """All batches of ``evaluate`` (or of validation): the logs after the last one."""
    begin_hooks = cbs.hooks("on_test_batch_begin")
    end_hooks = cbs.hooks("on_test_batch_end")
    update = progress.update if progress.verbose else None
    test_step = model.test_step
    spe = steps_per_execution
    batches = iter(iterator)
    logs = {}
    step = 0
    for batch in batches:
        for hook in begin_hooks:
            hook(step, None)
        logs = test_step(batch)
        count = 1
        if spe > 1:
            for batch in islice(batches, spe - 1):
                logs = test_step(batch)
                count += 1
        if update is not None:
            update(logs, count)
        if end_hooks:
            out = callback_logs(logs)
            for hook in end_hooks:
                hook(step + spe - 1, out)
        step += spe
    return logs


def predict_batches(model, iterator, steps_per_execution, cbs, progress, to_numpy, concat) -> list:
    """The outputs of ``predict_step`` on every batch, as numpy, in order."""
    begin_hooks = cbs.hooks("on_predict_batch_begin")
    end_hooks = cbs.hooks("on_predict_batch_end")
    update = progress.update if progress.verbose else None
    predict_step = model.predict_step
    spe = steps_per_execution
    batches = iter(iterator)
    outputs = []
    step = 0
    for batch in batches:
        for hook in begin_hooks:
            hook(step, None)
        start = len(outputs)
        outputs.append(to_numpy(predict_step(batch)))
        if spe > 1:
            for batch in islice(batches, spe - 1):
                outputs.append(to_numpy(predict_step(batch)))
        if update is not None:
            update({}, len(outputs) - start)
        if end_hooks:
            done = outputs[start:]
            out = {"outputs": done[0] if len(done) == 1 else concat(done)}
            for hook in end_hooks:
                hook(step + spe - 1, out)
        step += spe
    return outputs
