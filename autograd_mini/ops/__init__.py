"""All differentiable ops, grouped by kind; each is a small ``Function`` subclass."""
from .activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from .elementwise import (abs, add, cast, clip, cos, div, exp, log, maximum, minimum, mul, neg, pow,
                          sin, sqrt, sub, where)
from .linalg import matmul
from .reduce import logsumexp, max, mean, min, sum
from .shape import (broadcast_to, concatenate, expand_dims, getitem, reshape, squeeze, stack, swapaxes,
                    transpose)

__all__ = [
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "cos", "div", "elu", "exp", "expand_dims",
    "getitem", "leaky_relu", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "neg", "pow", "relu", "reshape", "sigmoid", "sin", "softmax", "softplus", "sqrt",
    "squeeze", "stack", "sub", "sum", "swapaxes", "tanh", "transpose", "where",
]
