"""``GradientTape``: TensorFlow's idiom for gradients, on the same engine.

    with am.GradientTape() as tape:
        loss = ((x @ W + b - y) ** 2).mean()
    dW, db = tape.gradient(loss, [W, b])
    W.assign_sub(lr * dW)

The engine records every op on tensors that require grad, so the tape needs no recording of
its own: inside it gradient recording is on, ``watch(t)`` makes a tensor that does not require
grad tracked (until the tape closes), and ``gradient`` runs the backward pass from the
target to the sources. A gradient taken while a tape is recording (the tape itself, or an
outer one) is recorded too (``create_graph``), so nested tapes give higher derivatives.
"""

from __future__ import annotations

import threading

import numpy as np

from .engine import backward
from .grad_mode import set_grad_enabled
from .tensor import Tensor

_recording = threading.local()  # .n: how many tapes are recording in this thread


def _active() -> int:
    return getattr(_recording, "n", 0)


class GradientTape:
    """Record operations for differentiation (TensorFlow's ``tf.GradientTape``).

    ``persistent=False``: ``gradient`` may be called once (TensorFlow's rule), after which the
    graph is released; ``persistent=True`` allows many calls. ``watch_accessed_variables`` is
    accepted for compatibility: tensors that require grad are always tracked.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = watch_accessed_variables
        self._used = False
        self._recording = False
        self._watched = []  # leaves whose requires_grad this tape switched on (restored on exit)
        self._grad_mode = None

    def __enter__(self) -> GradientTape:
        if self._recording:
            raise ValueError("GradientTape: this tape is already recording (tapes cannot be entered twice at once)")
        self._recording = True
        _recording.n = _active() + 1
        self._grad_mode = set_grad_enabled(True)
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._grad_mode.__exit__(*exc_info)
        _recording.n = _active() - 1
        self._recording = False
        for t in self._watched:
            t._requires_grad = False  # the recorded ops keep what they need
        self._watched = []
        return False

    def watch(self, tensor) -> None:
        """Track ``tensor`` (a Tensor, or a list/tuple/dict of them) though it does not require grad.

        Integer and boolean tensors cannot carry a gradient: their gradients stay None.
        """
        for t in _flatten("watch", "tensor", tensor)[0]:
            if not t._requires_grad and t._ctx is None and t.dtype.kind == "f":
                t._requires_grad = True
                if self._recording:
                    self._watched.append(t)

    def reset(self) -> None:
        """Forget the gradients' bookkeeping: the tape can be used again (TensorFlow's ``reset``)."""
        self._used = False

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(target)/d(sources): ``target`` a Tensor or a list of them (their sum is differentiated;
        a non-scalar target is summed unless ``output_gradients`` gives its upstream gradient);
        ``sources`` a Tensor, list/tuple or dict of Tensors. Returns the gradients in the shape of
        ``sources``: None for a source the target does not depend on (zeros with
        ``unconnected_gradients="zero"``)."""
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                f"GradientTape.gradient: unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}"
            )
        targets, _ = _flatten("gradient", "target", target)
        flat, rebuild = _flatten("gradient", "sources", sources)
        if output_gradients is None:
            seeds = [None] * len(targets)
        else:
            seeds = list(output_gradients) if isinstance(output_gradients, (list, tuple)) else [output_gradients]
            if len(seeds) != len(targets):
                raise ValueError(f"GradientTape.gradient: {len(seeds)} output_gradients for {len(targets)} targets")
        create_graph = _active() > 0
        roots, grads = [], []
        for t, seed in zip(targets, seeds):
            if seed is None:
                seed = np.ones_like(t.data)
            else:
                seed = (
                    seed
                    if isinstance(seed, Tensor) and create_graph
                    else np.asarray(getattr(seed, "data", seed), dtype=t.dtype)
                )
                if seed.shape != t.shape:
                    raise ValueError(
                        f"GradientTape.gradient: an output gradient of shape {seed.shape} for a target of shape {t.shape}"
                    )
            if t._requires_grad:
                roots.append(t)
                grads.append(Tensor._wrap(seed) if create_graph and not isinstance(seed, Tensor) else seed)
        self._used = True
        found = [None] * len(flat)
        if roots:
            found = backward(
                roots, grads, retain_graph=self._persistent or create_graph, create_graph=create_graph, inputs=flat
            )
        if unconnected_gradients == "zero":
            found = [Tensor._wrap(np.zeros_like(s.data)) if g is None else g for s, g in zip(flat, found)]
        return rebuild(found)


def _flatten(method: str, argument: str, value):
    """``value`` (a Tensor, list/tuple or dict of Tensors) as a flat list, and a function that
    puts a flat list back into ``value``'s structure."""
    if isinstance(value, Tensor):
        return [value], lambda flat: flat[0]
    if isinstance(value, dict):
        keys = list(value)
        items = [value[k] for k in keys]
        rebuild = lambda flat: dict(zip(keys, flat))
    elif isinstance(value, (list, tuple)):
        items = list(value)
        kind = type(value) if type(value) in (list, tuple) else list
        rebuild = lambda flat: kind(flat)
    else:
        raise TypeError(
            f"GradientTape.{method}: {argument} must be a Tensor, a list/tuple or a dict of Tensors, "
            f"got {type(value).__name__}"
        )
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"GradientTape.{method}: {argument}[{i}] must be a Tensor, got {type(item).__name__}")
    return items, rebuild
