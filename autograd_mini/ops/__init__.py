"""All differentiable ops, grouped by kind; each is a small ``Function`` subclass.

Each module lists its public ops once, in its ``__all__``; this package's ``__all__`` (and the
top-level ``autograd_mini`` namespace) is their union.
"""

from . import activation, elementwise, linalg, reduce, shape
from .activation import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .linalg import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403

__all__ = sorted(activation.__all__ + elementwise.__all__ + linalg.__all__ + reduce.__all__ + shape.__all__)
