"""What ``make_train_function`` (and the test and predict ones) return: a step, captured or not,
run over one execution of ``steps_per_execution`` batches.

``capture(model, step, kind)`` returns ``step`` itself, or a ``CapturedStep`` that runs the same
``step`` through ``am.compile``: the first two batches of each input signature (batch shape and
dtype, so a partial last batch is a second one) run ``step`` eagerly and are recorded; later
batches replay the recording (``jit_compile="auto"``: numpy, bit for bit the eager numbers) or
its numba loop kernels (``jit_compile=True``: the train, test and predict steps alike, so that
validation inside ``fit`` costs what a training step costs). There is one step: what is captured is the
method the model defines, with its Python effects (optimizer step, metrics, random draws)
marked ``@am.replayable``.

``jit_compile="auto"`` (Keras' default) captures only what is nn's own (the model class, its
layers, its loss and the step methods), since a replay would not run the user's Python, and
falls back to the eager step without a word when the trace is refused (``am.CaptureError``).
``jit_compile=True`` raises instead; set ``NN_DEBUG_CAPTURE=1`` to see "auto"'s fallbacks.
"""

from __future__ import annotations

import os
import warnings
from itertools import islice

import numpy as np

import autograd_mini as am

from ..utils import get_rng_state, set_rng_state
from .data_adapters import pack_x_y_sample_weight, unpack_x_y_sample_weight


def execution(step, steps_per_execution: int, collect=None):
    """``function(batch, batches) -> (logs, count)``: ``step`` on ``batch``, then on up to
    ``steps_per_execution - 1`` more batches from the iterator ``batches``; the logs of the last
    one (``collect``: every batch's ``collect(step(batch))``, in a list)."""
    spe = steps_per_execution
    if spe > 1 and collect is None and isinstance(step, CapturedStep) and step.kernels:

        def function(batch, batches):  # (N steps in one native call where the step is one kernel)
            group = [batch, *islice(batches, spe - 1)]
            return step.run_execution(group), len(group)

    elif collect is not None:

        def function(batch, batches):
            outputs = [collect(step(batch))]
            for batch in islice(batches, spe - 1) if spe > 1 else ():
                outputs.append(collect(step(batch)))
            return outputs, len(outputs)

    elif spe == 1:

        def function(batch, batches):
            return step(batch), 1

    else:

        def function(batch, batches):
            logs, count = step(batch), 1
            for batch in islice(batches, spe - 1):
                logs = step(batch)
                count += 1
            return logs, count

    function.step = step
    return function


def capture(model, step, kind: str, own_step, track_loss):
    """``step`` (a bound ``train_step``/``test_step``/``predict_step``), or a ``CapturedStep`` of it.
    ``own_step``: the trainer's own method of that kind (a user's override stays eager under
    "auto"); ``track_loss``: the trainer's loss-tracking effect, given its loop form here."""
    if not wants_capture(model, kind, own_step):
        return step
    if kind == "train":
        from ..optimizers import step_lowering  # noqa: F401  (the optimizer step's loop form)
    if kind != "predict":
        _register_loss_tracking(track_loss)
    kernels = model.jit_compile is True
    # (kernels: predict's traces are undone too, so that every batch, the first ones included, runs the kernel)
    return CapturedStep(model, step, kernels=kernels, stateful=kernels or kind != "predict")


def wants_capture(model, kind: str, own_step) -> bool:
    """Whether the ``kind`` step should be captured: ``jit_compile=True`` whenever it is nn's own
    step method; "auto" also needs the model class, every layer and the loss to be nn's own,
    because a replay runs none of the user's Python (a custom layer's side effects would run
    once, at trace time: jax's rule), so "auto" leaves user code eager."""
    mode = model.jit_compile
    if mode is False or model.run_eagerly:
        return False
    step = getattr(model, f"{kind}_step")  # (an instance attribute set by hand counts as the user's own step)
    if getattr(step, "__func__", None) is not own_step:
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
    if loss is None or isinstance(loss, str):
        return True
    return _ours(loss if isinstance(loss, type) else type(loss)) or getattr(loss, "__module__", "").startswith("nn.")


class CapturedStep:
    """``step`` through ``am.compile``; eager for batches it cannot take (not one array input and
    one array target) and, under "auto", for good once a trace is refused."""

    def __init__(self, model, step, kernels: bool, stateful: bool):
        self.model, self.step = model, step
        self.strict = model.jit_compile is True
        self.kernels = kernels
        self.multi_step_batches = 0  # batches run N at a time in one native call (run_execution)
        # kernels: compiled loop kernels from the first batch on (the traces are undone, see _save)
        state = (self._save, self._restore) if stateful else None
        self.compiled = am.compile(self._on_arrays, kernels=kernels, state=state)
        self.eager = False

    def _on_arrays(self, x, y=None, sample_weight=None):
        """The step on one batch given as arrays (what ``am.compile`` traces per signature)."""
        return self.step(pack_x_y_sample_weight(x, y, sample_weight))

    def __call__(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self.eager or not _plain_batch(x, y, sample_weight):
            return self.step(data)
        try:
            return self.compiled(x, y, sample_weight)
        except am.CaptureError as error:
            if self.strict:
                raise
            if os.environ.get("NN_DEBUG_CAPTURE"):
                warnings.warn(
                    f"jit_compile='auto': running eagerly, the step cannot be captured: {error}", stacklevel=2
                )
            self.eager = True
            return self.step(data)

    def run_execution(self, batches: list):
        """The logs after the last of ``batches`` (one execution of ``steps_per_execution``), with
        the numbers of ``self(batch)`` on each in turn. Each run of two or more consecutive batches
        of one compiled signature goes through ``run_steps`` (one native call for the run, when the
        step is a single kernel); the others, and any run ``run_steps`` declines (having done
        nothing), go one by one. ``invariant=True`` only for plain SGD with a constant float
        learning rate (its kernel's inputs cannot change between the steps); otherwise
        ``run_steps`` checks them after the steps and undoes the run when one changed."""
        logs = None
        unpacked = [unpack_x_y_sample_weight(batch) for batch in batches]
        keys = [None if self.eager or not _plain_batch(*args) else _shapes(args) for args in unpacked]
        k, n = 0, len(batches)
        compiled = self.compiled
        while k < n:
            key, end = keys[k], k + 1
            while key is not None and end < n and keys[end] == key:
                end += 1
            # a signature's first batches run singly until its kernel is checked and compiled
            while key is not None and k < end - 1 and not self.eager and not compiled.steps_ready(unpacked[k]):
                logs = self(batches[k])
                k += 1
            results = None
            if end - k > 1 and not self.eager:
                invariant = _invariant(self.model)
                results = compiled.run_steps(unpacked[k:end], invariant=invariant, last_only=True)
            if results is not None:
                self.multi_step_batches += end - k
                logs = results[-1]
            else:
                for batch in batches[k:end]:
                    logs = self(batch)
            k = end
        return logs

    def run_stacked(self, xs, ys, collect=None, sws=None):
        """``run_execution`` of the batches ``(xs[i], ys[i], sws[i])`` (arrays with a leading batch
        axis; ys and sws may be None), handed to ``run_steps`` as they are, without a Python object
        per batch. ``collect``: every batch's ``collect(result)``, in a list (predict), instead of
        the last result."""
        from autograd_mini.lowering.multi_step import Stacked

        n, k, logs, outputs = len(xs), 0, None, []
        compiled = self.compiled

        def batch(s):
            return (xs[s], None if ys is None else ys[s], None if sws is None else sws[s])

        def one(s):
            x, y, sw = batch(s)
            result = self((x,) if y is None else (x, y) if sw is None else (x, y, sw))
            if collect is not None:
                outputs.append(collect(result))
            return result

        while k < n - 1 and not self.eager and not compiled.steps_ready(batch(k)):
            logs = one(k)  # (a signature's first batches: traced, checked, compiled)
            k += 1
        if n - k > 1 and not self.eager:
            stacked = Stacked(tuple(None if a is None else a[k:] for a in (xs, ys, sws)))
            results = compiled.run_steps(stacked, invariant=_invariant(self.model), last_only=collect is None)
            if results is not None:
                self.multi_step_batches += n - k
                if collect is None:
                    return results[-1]
                outputs.extend(collect(result) for result in results)
                return outputs
        for s in range(k, n):
            logs = one(s)
        return logs if collect is None else outputs

    def run_blocks(self, blocks, collect=None, progress=None) -> tuple:
        """``run_all`` over ``EpochIterator.blocks()``: runs of stacked full batches in groups of at
        most ``GROUP_BYTES`` (``run_stacked``), other batches one by one. ``collect``: returns
        ``(every batch's collect(result), count)`` (predict). ``progress(logs, n)`` after each
        native call of ``n`` batches (a live progress bar; ``logs`` None when collecting)."""
        logs, count, outputs = None, 0, []
        for kind, item in blocks:
            if kind == "batch":
                logs = self(item)
                if collect is not None:
                    outputs.append(collect(logs))
                count += 1
                if progress is not None:
                    progress(None if collect is not None else logs, 1)
                continue
            xs, ys, sws = item
            per_batch = sum(0 if a is None else a[0].nbytes for a in item)
            size = max(2, min(GROUP_BYTES // max(per_batch, 1), GROUP_MAX))
            for start in range(0, len(xs), size):
                group = [None if a is None else a[start : start + size] for a in item]
                logs = self.run_stacked(group[0], group[1], collect, group[2])
                if collect is not None:
                    outputs.extend(logs)
                if progress is not None:
                    progress(None if collect is not None else logs, len(group[0]))
            count += len(xs)
        return (logs if collect is None else outputs), count

    def run_all(self, batches, progress=None) -> tuple:
        """``(logs after the last batch, count)`` for every batch of the iterator ``batches``, run
        as ``run_execution`` runs them, in groups of at most ``GROUP_BYTES`` of batch data: what
        the loops call when nothing observes the steps between the first and the last
        (no callback batch hooks; a progress bar is drawn per group: ``progress(logs, n)``), so
        that the executions' boundaries make no difference. The numbers are those of the single
        steps, bit for bit."""
        logs, count = None, 0
        first = next(batches, None)
        if first is None:
            return logs, count
        size = max(1, GROUP_BYTES // max(_nbytes(first), 1))
        group = [first, *islice(batches, min(size, GROUP_MAX) - 1)]
        while group:
            logs = self.run_execution(group)
            count += len(group)
            if progress is not None:
                progress(logs, len(group))
            group = list(islice(batches, min(size, GROUP_MAX)))
        return logs, count

    def _save(self):
        """What a traced step changes: every weight, the optimizer's variables (slots and step
        count), the loss tracker and the metrics, the random generators (nn's and seeded layers' SeedGenerator states)."""
        model = self.model
        store: dict = {}
        optimizer = model.optimizer
        if optimizer is not None and optimizer.built:
            optimizer.save_own_variables(store)
        seed_states = [(g, g.get_state()) for g in _seed_generators(model)]
        weights = [(w, w.data, w.data.copy()) for w in model.weights]
        tracker = model._loss_tracker
        metrics = _metric_states(model._compile_metrics)
        return weights, store, (tracker.total, tracker.count), metrics, get_rng_state(), seed_states

    def _restore(self, snapshot) -> None:
        weights, store, tracked, metrics, rng_state, seed_states = snapshot
        for w, array, copy in weights:
            w.data = array  # the original array object (read-only views of it stay valid)...
            np.copyto(w.mutable_data(), copy)  # ...holding the saved values again
        if store:
            self.model.optimizer.load_own_variables(store)
        self.model._loss_tracker.total, self.model._loss_tracker.count = tracked
        for obj, state in metrics:
            obj.__dict__.update(state)
        set_rng_state(rng_state)
        for generator, state in seed_states:
            generator.set_state(state)


GROUP_BYTES = 1 << 20  # run_all: batch data stacked per native call (the outputs are per step, small)
GROUP_MAX = 4096  # ... and at most this many batches


def _nbytes(batch) -> int:
    """The bytes of a batch's arrays (anything else counts as nothing)."""
    items = batch if isinstance(batch, (tuple, list)) else (batch,)
    return sum(item.nbytes for item in items if isinstance(item, np.ndarray))


def _seed_generators(model) -> list:
    """The ``seed_generator`` (a ``nn.random.SeedGenerator``) of each seeded layer of ``model``."""
    from ..random import SeedGenerator

    return [
        layer.seed_generator
        for layer in model.layers
        if isinstance(getattr(layer, "seed_generator", None), SeedGenerator)
    ]


def _metric_states(compile_metrics) -> list:
    """(object, copy of its attributes) for the compiled metrics and each metric they hold: a
    traced step updates them, and a refused or undone trace must not count its batch."""
    if compile_metrics is None:
        return []
    import copy

    objects = [compile_metrics, *getattr(compile_metrics, "metrics", [])]
    return [(obj, copy.deepcopy(obj.__dict__)) for obj in objects]


def _shapes(args) -> tuple:
    """What makes plain batches one compiled signature: each array's shape and dtype."""
    x, y, sample_weight = args
    return (
        x.shape,
        x.dtype,
        None if y is None else (y.shape, y.dtype),
        None if sample_weight is None else (sample_weight.shape, sample_weight.dtype),
    )


def _invariant(model) -> bool:
    """Whether a compiled train step's Python-read values provably stay the same over the steps of
    one execution: plain ``SGD`` (its kernel reads the rate, the momentum and its slot arrays,
    none of which a step changes) with a constant float learning rate (no schedule or callable,
    ``get_config()``'s public view). Callbacks change the rate only between executions."""
    from ..optimizers import SGD

    optimizer = model.optimizer
    return type(optimizer) is SGD and type(optimizer.get_config().get("learning_rate")) is float


def _plain_batch(x, y, sample_weight) -> bool:
    """One array input, an optional array target and array of sample weights."""
    return (
        isinstance(x, np.ndarray)
        and (y is None or isinstance(y, np.ndarray))
        and (sample_weight is None or isinstance(sample_weight, np.ndarray))
    )


def _register_loss_tracking(_track_loss) -> None:
    """The loop form of the trainer's loss tracking (``_track_loss``, handed by the trainer), so that a compiled step
    without metrics runs as one kernel: the running mean is computed in the kernel from the
    tracker's state (the same float64 operations as ``LossTracker``), and the tracker is
    updated after each call. The state is one array, refreshed from the tracker before each
    call and advanced by the kernel itself, so N steps in one native call (``run_steps``) pass it
    from step to step and read the same running means as N single steps."""
    import autograd_mini.lowering as lowering

    if _track_loss in lowering.EFFECTS:
        return

    def rule(L, args, kwargs, step):
        model, loss, batch_size = args
        if not isinstance(loss, lowering.Var) or loss.size != 1 or not isinstance(batch_size, int):
            raise lowering.NotLowerable("loss tracking needs a scalar loss")
        tracker = model._loss_tracker
        carried = np.zeros(2, np.float64)  # [total, count]: the kernel advances it as the tracker will

        def current():  # the same array each call, holding the tracker's state before this step
            carried[0], carried[1] = tracker.total, tracker.count
            return carried

        state = step.runtime(current)
        value = L.alloc((), np.float64)
        L.line(f"{value.name} = float({loss.at('0')})")
        mean = L.alloc((), np.float64)
        L.line(f"{mean.name} = ({state}[0] + {value.name} * {batch_size}) / ({state}[1] + {batch_size})")
        L.line(f"{state}[0] = {state}[0] + {value.name} * {batch_size}")  # (LossTracker.update_state's
        L.line(f"{state}[1] = {state}[1] + {batch_size}")  # operations: N steps in one call carry it)
        step.after(
            lambda array: tracker.update_state(array.item(), batch_size),
            value,
            many=lambda values: tracker.update_many(values, batch_size),
        )
        return mean

    lowering.register_effect(_track_loss, rule)
