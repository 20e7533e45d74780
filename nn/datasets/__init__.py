"""Datasets in Keras' shapes: ``iris`` (embedded) and ``mnist`` (IDX files)."""

from . import iris, mnist

__all__ = ["iris", "mnist"]
