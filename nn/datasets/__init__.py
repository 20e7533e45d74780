"""Datasets in Keras' shapes: ``iris`` (embedded), ``mnist`` (IDX files), ``fashion_mnist`` and
``boston_housing`` (local files only: the error says what they need offline)."""

from . import boston_housing, fashion_mnist, iris, mnist

__all__ = ["boston_housing", "fashion_mnist", "iris", "mnist"]
