"""What ``model.compile(loss=..., loss_weights=..., metrics=..., weighted_metrics=...)`` turns
into, as Keras 3's ``keras/src/trainers/compile_utils.py``:

- ``CompileLoss(loss, loss_weights=None)``: ``(y_true, y_pred, sample_weight=None)`` -> the
  scalar training loss (one output, or a list / dict of outputs with per-output losses and
  weights); with several outputs it also tracks ``{output}_loss`` means in ``.metrics``.
- ``CompileMetrics(metrics, weighted_metrics=None)``: ``update_state`` / ``result()`` (dict
  name -> value, Keras' History names) / ``reset_state()`` / ``metrics_names``.

'accuracy' / 'acc' (and 'crossentropy' / 'ce') are resolved on the first batch from the
shapes alone, Keras 3's rule: binary when y_pred's last dim is 1; sparse when y_true has fewer
dims than y_pred or a last dim of 1 while y_pred's is larger; categorical otherwise. (So a
multi-label sigmoid output with several units gets categorical accuracy in Keras 3 too; ask
for 'binary_accuracy' explicitly there.)
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from . import losses as losses_module
from . import metrics as metrics_module
from .losses.loss import to_snake_case


def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def is_binary_or_sparse_categorical(y_true, y_pred) -> tuple[bool, bool]:
    """Keras' shape rule: (binary: y_pred's last dim is 1, sparse: y_true has lower rank, or a
    last dim of 1 while y_pred's last dim is larger)."""
    t, p = _shape(y_true), _shape(y_pred)
    t_last = t[-1] if t else None
    p_last = p[-1] if p else None
    is_binary = p_last == 1
    is_sparse = len(t) < len(p) or (t_last == 1 and p_last is not None and p_last > 1)
    return is_binary, is_sparse


def object_name(obj) -> str:
    """Keras' get_object_name: ``.name``, else the snake-case function or class name."""
    if hasattr(obj, "name") and isinstance(obj.name, str):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def get_metric(identifier, y_true, y_pred):
    """A Metric for one compile entry; a string names it (History shows the string as given)."""
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    key = str(identifier).lower() if isinstance(identifier, str) else None
    if key in ("accuracy", "acc", "crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if key in ("accuracy", "acc"):
            kinds = (
                metrics_module.BinaryAccuracy,
                metrics_module.SparseCategoricalAccuracy,
                metrics_module.CategoricalAccuracy,
            )
        else:
            kinds = (
                metrics_module.BinaryCrossentropy,
                metrics_module.SparseCategoricalCrossentropy,
                metrics_module.CategoricalCrossentropy,
            )
        cls = kinds[0] if is_binary else kinds[1] if is_sparse else kinds[2]
        metric = cls(name=identifier)
    else:
        metric = metrics_module.get(identifier)
    name = identifier if isinstance(identifier, str) else object_name(metric)
    if not isinstance(metric, metrics_module.Metric):
        if not callable(metric):
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
        metric = metrics_module.MeanMetricWrapper(metric)
    metric.name = name
    return metric


def get_loss(identifier, y_true, y_pred):
    """A Loss for one compile entry: 'crossentropy' / 'ce' by Keras' shape rule, functions
    wrapped in ``LossFunctionWrapper`` (named by the string or the function)."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        loss = (
            losses_module.BinaryCrossentropy
            if is_binary
            else losses_module.SparseCategoricalCrossentropy
            if is_sparse
            else losses_module.CategoricalCrossentropy
        )(name=identifier)
    else:
        loss = losses_module.get(identifier)
    if not isinstance(loss, losses_module.Loss):
        if not callable(loss):
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
        name = identifier if isinstance(identifier, str) else object_name(loss)
        loss = losses_module.LossFunctionWrapper(loss, name=name)
    return loss


class MetricsList:
    """The metrics of one output (``output_name`` prefixes their names in results)."""

    def __init__(self, metrics, output_name=None):
        self.metrics = list(metrics)
        self.output_name = output_name

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Update every metric with this output's batch."""
        for m in self.metrics:
            m.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        """Reset every metric."""
        for m in self.metrics:
            m.reset_state()


def _is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


def _flatten(y, names):
    """A list of per-output values from a single value, a list/tuple or a dict (by ``names``)."""
    if isinstance(y, dict):
        missing = [n for n in names or [] if n not in y]
        if names is None or missing:
            raise ValueError(f"expected a dict with keys {names}, got keys {sorted(y)}")
        return [y[n] for n in names]
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


def _output_names(y_pred, output_names):
    if isinstance(y_pred, dict):
        if output_names and set(y_pred) == set(output_names):
            return list(output_names)
        return sorted(y_pred)
    return list(output_names) if output_names else None


def _to_value(v):
    v = np.asarray(v)
    return float(v) if v.ndim == 0 else v


class CompileMetrics:
    """Metrics and weighted metrics of a compiled model; built on the first batch (Keras 3)."""

    def __init__(self, metrics, weighted_metrics=None, name="compile_metrics", output_names=None):
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"Expected `{arg}` argument to be a list, tuple, or dict. Received instead: "
                    f"{arg}={value!r} of type {type(value).__name__}"
                )
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.name = name
        self.output_names = output_names
        self.built = False
        self._flat_metrics: list = []
        self._flat_weighted_metrics: list = []

    @property
    def metrics(self) -> list:
        """All metric objects (empty before the first batch)."""
        return [m for ml in self._flat_metrics + self._flat_weighted_metrics if ml for m in ml.metrics]

    @property
    def metrics_names(self) -> list:
        """The result names, in History's order (empty before the first batch)."""
        return list(self.result()) if self.built else []

    def build(self, y_true, y_pred):
        """Resolve every entry against the first batch's shapes."""
        names = _output_names(y_pred, self.output_names)
        self._names = names
        flat_pred = _flatten(y_pred, names)
        flat_true = _flatten(y_true, names) if _is_nested(y_pred) else [y_true]
        if len(flat_true) != len(flat_pred):
            raise ValueError(f"y_true has {len(flat_true)} outputs but y_pred has {len(flat_pred)}")
        self._flat_metrics = self._build_set(self._user_metrics, flat_true, flat_pred, names, "metrics")
        self._flat_weighted_metrics = self._build_set(
            self._user_weighted_metrics, flat_true, flat_pred, names, "weighted_metrics"
        )
        self.built = True

    def _build_set(self, metrics, flat_true, flat_pred, names, argument):
        n = len(flat_pred)
        if not metrics:
            return [None] * n
        if n == 1:
            entries = metrics if isinstance(metrics, (list, tuple)) else [metrics]
            if isinstance(metrics, dict):
                entries = [m for v in metrics.values() for m in (v if isinstance(v, (list, tuple)) else [v])]
            return [MetricsList([get_metric(m, flat_true[0], flat_pred[0]) for m in entries])]
        if isinstance(metrics, (list, tuple)) and len(metrics) == n:
            per_output = list(metrics)
        elif isinstance(metrics, dict) and names and set(metrics) <= set(names):
            per_output = [metrics.get(name) for name in names]
        else:
            raise ValueError(
                f"Invalid `{argument}`: with {n} outputs (names {names}) give a list of {n} entries "
                f"(one per output) or a dict keyed by output name. Received: {argument}={metrics!r}"
            )
        result = []
        for i, (entry, yt, yp) in enumerate(zip(per_output, flat_true, flat_pred)):
            if entry is None:
                result.append(None)
                continue
            entries = entry if isinstance(entry, (list, tuple)) else [entry]
            result.append(MetricsList([get_metric(m, yt, yp) for m in entries], names[i] if names else None))
        return result

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Update the metrics with one batch (numpy arrays or Tensors); weighted metrics get
        ``sample_weight`` (one array for all outputs, or one per output)."""
        if not self.built:
            self.build(y_true, y_pred)
        names = self._names
        flat_pred = _flatten(y_pred, names)
        flat_true = _flatten(y_true, names) if _is_nested(y_pred) else [y_true]
        for ml, yt, yp in zip(self._flat_metrics, flat_true, flat_pred):
            if ml:
                ml.update_state(yt, yp)
        if sample_weight is None:
            weights = [None] * len(flat_pred)
        else:
            weights = _flatten(sample_weight, names) if _is_nested(sample_weight) else [sample_weight]
            if len(weights) < len(flat_pred):
                weights = [weights[0]] * len(flat_pred)
        for ml, yt, yp, sw in zip(self._flat_weighted_metrics, flat_true, flat_pred, weights):
            if ml:
                ml.update_state(yt, yp, sw)

    def reset_state(self):
        """Reset all metrics (a no-op before the first batch)."""
        for ml in self._flat_metrics + self._flat_weighted_metrics:
            if ml:
                ml.reset_state()

    def result(self) -> dict:
        """name -> value (float; an array for vector-valued metrics), with Keras' naming:
        ``{output}_{name}`` for several outputs, ``_1`` suffixes for repeats, ``weighted_``
        prefixes for weighted metrics that repeat an unweighted name."""
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results: dict = {}
        counters: dict = {}
        for ml in self._flat_metrics:
            if not ml:
                continue
            for m in ml.metrics:
                name = f"{ml.output_name}_{m.name}" if ml.output_name else m.name
                if name in counters:
                    index = counters[name]
                    counters[name] += 1
                    name = f"{name}_{index}"
                else:
                    counters[name] = 1
                results[name] = _to_value(m.result())
        for ml in self._flat_weighted_metrics:
            if not ml:
                continue
            for m in ml.metrics:
                name = f"{ml.output_name}_{m.name}" if ml.output_name else m.name
                if name not in counters:
                    counters[name] = 1
                else:
                    name = f"weighted_{m.name}"
                    if ml.output_name:
                        name = f"{ml.output_name}_{name}"
                    if name not in counters:
                        counters[name] = 1
                    else:
                        index = counters[name]
                        counters[name] += 1
                        name = f"{name}_{index}"
                results[name] = _to_value(m.result())
        return results


class CompileLoss:
    """The compiled loss: ``(y_true, y_pred, sample_weight=None)`` -> scalar Tensor, the
    (``loss_weights``-weighted) sum of each output's loss; built on the first call."""

    def __init__(self, loss, loss_weights=None, reduction="sum_over_batch_size", output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list, tuple, or "
                f"dict (multiple output case). Received instead: loss_weights={loss_weights!r}"
            )
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.reduction = reduction
        self.output_names = output_names
        self.name = "compile_loss"
        self.built = False
        self.metrics: list = []
        self._flat_losses: list = []

    def build(self, y_true, y_pred):
        """Resolve the loss of each output against the first batch's shapes."""
        names = _output_names(y_pred, self.output_names)
        self._names = names
        flat_pred = _flatten(y_pred, names)
        flat_true = _flatten(y_true, names) if _is_nested(y_pred) else [y_true]
        n = len(flat_pred)
        loss, weights = self._user_loss, self._user_loss_weights
        if isinstance(loss, dict):
            if not names or not set(loss) <= set(names):
                raise ValueError(f"Expected keys {names} in loss dict, but found loss.keys()={list(loss)}")
            per_output = [loss.get(name) for name in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != n:
                raise ValueError(f"`loss` must have one entry per output: {n} outputs, got {len(loss)} losses")
            per_output = list(loss)
        else:
            per_output = [loss] * n
        if weights is None:
            per_weight = [None] * n
        elif isinstance(weights, dict):
            per_weight = [weights.get(name) for name in names or []] if names else [None] * n
        elif isinstance(weights, (list, tuple)):
            if len(weights) != sum(x is not None for x in per_output) and len(weights) != n:
                raise ValueError(
                    f"`loss_weights` must match the number of losses, got {n} losses and {len(weights)} weights."
                )
            per_weight = list(weights)
        else:
            per_weight = [float(weights)] * n
        self._flat_losses = []
        for i in range(n):
            resolved = get_loss(per_output[i], flat_true[i], flat_pred[i])
            if resolved is None:
                continue
            name = names[i] if names else resolved.name
            self._flat_losses.append((i, resolved, per_weight[i], name))
        if len(self._flat_losses) > 1:
            self.metrics = [metrics_module.Mean(name=f"{name}_loss") for _, _, _, name in self._flat_losses]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The total loss for one batch (a scalar Tensor, differentiable in y_pred)."""
        if not self.built:
            self.build(y_true, y_pred)
        names = self._names
        flat_pred = _flatten(y_pred, names)
        flat_true = _flatten(y_true, names) if _is_nested(y_pred) else [y_true]
        nested_weights = _is_nested(sample_weight)
        flat_weights = _flatten(sample_weight, names) if nested_weights else None
        total = None
        for k, (i, loss_fn, weight, _name) in enumerate(self._flat_losses):
            sw = flat_weights[i] if nested_weights else sample_weight
            value = loss_fn(flat_true[i], flat_pred[i], sw)
            if self.metrics:
                self.metrics[k].update_state(float(value.data), sample_weight=len(flat_true[i]))
            if weight is not None:
                value = value * float(weight)
            total = value if total is None else total + value
        if total is None:
            return am.tensor(0.0)
        return total
