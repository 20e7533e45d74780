"""Training progress: a tqdm bar per epoch on a terminal (verbose=1), else one line per epoch."""

from __future__ import annotations

import sys
import time


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class EpochProgress:
    """``verbose``: 0 silent, 1 a live bar when writing to a terminal (one line otherwise), 2 one line."""

    def __init__(self, title: str, steps: int, verbose: int, stream=None):
        self.stream = stream or sys.stdout
        self.verbose, self.steps, self.title = verbose, steps, title
        self.start = time.perf_counter()
        self.bar = None
        if verbose == 1 and getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm  # loaded on the first live bar: `import nn` stays light

            self.bar = tqdm(total=steps, desc=title, unit="step", file=self.stream, leave=True, dynamic_ncols=True)

    def update(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(format_logs(logs), refresh=False)

    def close(self, logs: dict) -> None:
        seconds = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs))
            self.bar.close()
        elif self.verbose:
            per_step = 1000 * seconds / max(self.steps, 1)
            print(
                f"{self.title} - {self.steps}/{self.steps} - {seconds:.1f}s - {per_step:.0f}ms/step - "
                f"{format_logs(logs)}",
                file=self.stream,
                flush=True,
            )
