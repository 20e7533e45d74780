"""autograd_mini: reverse-mode automatic differentiation for Python scalars and numpy arrays.

import autograd_mini as am
x = am.tensor([1.0, 2.0], requires_grad=True)
y = (x * x).sum()
y.backward()
x.grad            # tensor([2., 4.])
"""

from .tensor import Tensor, as_tensor, ones, randn, tensor, zeros  # noqa: I001  (Tensor first: ops need it)
from .function import Function, once_differentiable
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    name_scope,
    no_grad,
    set_grad_enabled,
)
from .ops import *  # noqa: F403  (the public op list is written once: ops.__all__)
from .ops.formula import Elementwise
from .value import Value
from .gradient_tape import GradientTape
from .engine import topological_order, unbroadcast
from .functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .capture import CaptureError, compile, replayable
from .numba_support import use_numba
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import numpy_dispatch  # numpy's dispatch protocols on Tensor: np.exp(t) is a graph op

__version__ = "0.1.0"

# Drawing (graphviz) and the Hypothesis strategies load on first use: ``import autograd_mini``
# stays light (numpy only).
_LAZY = {
    "draw_graph": "viz",
    "to_dot": "viz",
    "animate_backward": "animate",
    "viz": None,
    "animate": None,
    "testing": None,
    "compile_cache": None,
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'autograd_mini' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value
