"""``MonitorCallback``: the shared "is this an improvement?" of EarlyStopping, ModelCheckpoint and
ReduceLROnPlateau (Keras 3's ``keras.src.callbacks.monitor_callback``)."""

from __future__ import annotations

import re
import warnings

from .callback import Callback

_LOWER_IS_BETTER = re.compile(r"(loss|error|crossentropy|hinge|divergence|poisson|cosh)$")
_HIGHER_IS_BETTER = re.compile(r"(acc|accuracy|auc|precision|recall|f1_score|fbeta_score|iou|r2_score)$")


class MonitorCallback(Callback):
    """``mode``: "min", "max" or "auto" (decided at the first epoch end: "loss" is minimised, a
    metric object with Keras' ``_direction`` decides, else the metric's name; unknown names raise
    as Keras does). An improvement beats the reference by more than ``min_delta``."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _direction_from_model(self, metric_name):
        for metric in getattr(self.model, "metrics", None) or []:
            inner = getattr(metric, "metrics", None)
            for m in inner if isinstance(inner, (list, tuple)) else [metric]:
                if getattr(m, "name", None) == metric_name and hasattr(m, "_direction"):
                    return m._direction
        return None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = _less
        elif self.mode == "max":
            self.monitor_op = _greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            direction = self._direction_from_model(metric_name)
            if (
                metric_name == "loss"
                or direction == "down"
                or (direction is None and _LOWER_IS_BETTER.search(metric_name))
            ):
                self.monitor_op = _less
            elif direction == "up" or _HIGHER_IS_BETTER.search(metric_name):
                self.monitor_op = _greater
            else:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Keras isn't able to "
                    "automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                    "in order to use the lowest value."
                )
        if self.monitor_op is _less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def _less(a, b):
    return a < b


def _greater(a, b):
    return a > b
