"""Keras 3's ``keras.ops`` for nn: ``from nn import ops`` (or ``import nn as keras; keras.ops``).

The namespace joins ``nn.ops.numpy`` (numpy-like ops), ``nn.ops.nn`` (activations,
cross-entropies, one_hot), ``nn.ops.core`` (conversion, shapes, control flow) and
``nn.ops.math``, as ``keras.ops`` does. Every op takes Tensors, numpy arrays or Python
numbers and returns an autograd_mini Tensor; differentiable ops compose the core's ops, so
their gradients are the core's at every order.
"""

from . import core, math, nn, numpy
from .core import *  # noqa: F403
from .core import map, slice
from .math import *  # noqa: F403
from .nn import *  # noqa: F403
from .numpy import *  # noqa: F403
from .numpy import abs, all, any, max, min, round, sum

__all__ = sorted(
    {
        name
        for module in (core, math, nn, numpy)
        for name in vars(module)
        if not name.startswith("_")
        and callable(vars(module)[name])
        and getattr(vars(module)[name], "__module__", "").startswith("nn.ops.")
        and not vars(module)[name].__module__.endswith("_convert")
    }
)
