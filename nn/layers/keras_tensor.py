"""``KerasTensor``: the symbolic placeholder the functional API passes between layers (defined in
``nn.symbolic``, with the graph's nodes)."""

from ..symbolic import KerasTensor

__all__ = ["KerasTensor"]
