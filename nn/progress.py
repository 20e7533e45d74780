"""Training progress, as Keras 3's ``Progbar`` shows it.

``EpochProgress(title, steps, verbose, stream=None)`` with ``.update(logs, steps=1)`` per step
(or per execution of ``steps`` batches) and ``.close(logs)`` at the end of an epoch (``logs``
then includes the ``val_*`` values):

- ``verbose=0``: silent.
- ``verbose=1`` in Jupyter: a live bar while the epoch runs (``tqdm.notebook`` when ipywidgets
  is installed, else a text bar redrawn in place through a display handle), replaced at the end
  of the epoch by one plain text line (as ``verbose=2`` prints it), so the notebook keeps a
  log that survives ``nbconvert`` and HTML export, with or without widgets; on a terminal: a Keras-style bar redrawn with ``\\r``,
  cut to the terminal's width while it runs, and a final line printed in full (the terminal
  wraps it: every metric stays visible at any width); elsewhere (a file, a pipe): the final
  line only.
- ``verbose=2``: one complete line per epoch.

Nothing here is imported at ``import nn`` time beyond the standard library; tqdm loads only
when a notebook front-end is detected, so importing never prints a ``TqdmWarning``.
"""

from __future__ import annotations

import shutil
import sys
import time

import numpy as np

BAR_WIDTH = 20


def format_value(value) -> str:
    """A metric as Keras prints it: 4 decimals, scientific below 1e-3 in magnitude; a metric
    with an array value (``F1Score(average=None)``) prints its mean, as Keras' ``Progbar`` does."""
    value = float(np.mean(value)) if np.ndim(value) else float(value)
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def format_logs(logs: dict) -> str:
    """``loss: 0.1234 - accuracy: 0.9000 - val_loss: ...`` (every entry, in order)."""
    return " - ".join(f"{k}: {format_value(v)}" for k, v in logs.items())


def format_time(seconds_per_step: float) -> str:
    """``3ms/step`` (Keras' units: s, ms or us per step)."""
    if seconds_per_step >= 1 or seconds_per_step == 0:
        return f"{seconds_per_step:.0f}s/step"
    if seconds_per_step >= 1e-3:
        return f"{seconds_per_step * 1e3:.0f}ms/step"
    return f"{seconds_per_step * 1e6:.0f}us/step"


def in_notebook() -> bool:
    """True inside a Jupyter kernel with a notebook front-end (not a terminal IPython)."""
    if "IPython" not in sys.modules or "ipykernel" not in sys.modules:
        return False
    try:
        shell = sys.modules["IPython"].get_ipython()
    except AttributeError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _has_ipywidgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


class EpochProgress:
    """One epoch's progress: ``update(logs)`` after each step, ``close(logs)`` at the end.
    ``verbose``: 0 silent, 1 a live bar (notebook or terminal; else the final line), 2 one
    line per epoch. ``stream`` defaults to ``sys.stdout``."""

    def __init__(self, title: str, steps: int, verbose: int, stream=None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"EpochProgress: verbose must be 0, 1 or 2, got {verbose!r}")
        self.stream = stream if stream is not None else sys.stdout
        self.verbose, self.steps, self.title = verbose, int(steps), title
        self.start = time.perf_counter()
        self.seen = 0
        self.last_draw = 0.0
        self.mode = "silent" if verbose == 0 else "line"
        self.bar = None
        self.handle = None  # a notebook display that is redrawn in place (no widgets)
        if verbose == 1:
            if stream is None and in_notebook():
                self.mode = "notebook"
                if _has_ipywidgets():
                    from tqdm.notebook import tqdm

                    # leave=False: the widget goes away at the end; the text line stays
                    self.bar = tqdm(total=self.steps, desc=title, unit="step", leave=False)
                else:
                    self.handle = _display_handle(title)
            elif getattr(self.stream, "isatty", lambda: False)():
                self.mode = "live"
        if self.mode == "live":
            print(title, file=self.stream, flush=True)

    def _count(self, current: int) -> str:
        digits = len(str(self.steps))
        return f"{current:>{digits}}/{self.steps}"

    def _bar(self, current: int) -> str:
        filled = int(BAR_WIDTH * current / max(self.steps, 1))
        return "━" * filled + "─" * (BAR_WIDTH - filled)

    def _line(self, current: int, logs: dict, final: bool) -> str:
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(current, 1)
        if final:
            timing = f"{elapsed:.0f}s {format_time(per_step)}"
        else:
            timing = f"ETA {per_step * (self.steps - current):.0f}s {format_time(per_step)}"
        parts = [self._count(current), self._bar(current) + " " + timing]
        text = " ".join(parts)
        return text + (" - " + format_logs(logs) if logs else "")

    def update(self, logs: dict, steps: int = 1) -> None:
        """``steps`` more steps done (one execution of ``steps_per_execution`` batches);
        ``logs`` are the running averages so far."""
        self.seen += steps
        if self.mode == "notebook" and self.bar is not None:
            self.bar.update(steps)
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            return
        if self.mode not in ("live", "notebook"):
            return
        now = time.perf_counter()
        if now - self.last_draw < 0.05 and self.seen < self.steps:
            return
        self.last_draw = now
        if self.mode == "notebook":
            if self.handle is not None:
                self.handle.update(
                    {"text/plain": self.title + "\n" + self._line(self.seen, logs, final=False)}, raw=True
                )
            return
        width = shutil.get_terminal_size((80, 24)).columns - 1
        line = self._line(self.seen, logs, final=False)
        self.stream.write("\r" + line[:width].ljust(width))  # a running line must not wrap
        self.stream.flush()

    def close(self, logs: dict) -> None:
        """The epoch is over: print its complete line (every metric, ``val_*`` included)."""
        if self.mode == "silent":
            return
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs))
            self.bar.close()
        if self.mode == "notebook":  # the epoch's record: plain text, kept by nbconvert and HTML export
            line = self._record(logs)
            if self.handle is not None:
                self.handle.update({"text/plain": line}, raw=True)
            else:
                print(line, file=self.stream, flush=True)
            return
        if self.mode == "live":
            width = shutil.get_terminal_size((80, 24)).columns - 1
            self.stream.write("\r" + " " * width + "\r")
            print(self._line(self.steps, logs, final=True), file=self.stream, flush=True)
            return
        print(self._record(logs), file=self.stream, flush=True)

    def _record(self, logs: dict) -> str:
        """The epoch's one complete line: ``Epoch 1/3 - 5/5 - 0s - 3ms/step - loss: ...``."""
        elapsed = time.perf_counter() - self.start
        line = (
            f"{self.title} - {self._count(self.steps)} - {elapsed:.0f}s - {format_time(elapsed / max(self.steps, 1))}"
        )
        if logs:  # predict has none: no dangling separator
            line += f" - {format_logs(logs)}"
        return line


def _display_handle(title: str):
    """A notebook output redrawn in place (``display(..., display_id=True)``); None without
    IPython's display machinery (the epoch's line is then printed at the end)."""
    try:
        from IPython.display import display
    except ImportError:
        return None
    return display({"text/plain": title}, raw=True, display_id=True)
