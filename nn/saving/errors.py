"""One error type for every refused file: a ``ValueError`` naming the file, the entry and the fault."""

from __future__ import annotations

import os


class FileFormatError(ValueError):
    """A model or weights file nn refuses: corrupt, truncated, foreign, too large, or not
    matching the model (a ``ValueError``: ``except ValueError`` catches it)."""


def file_error(path, where: str | None, message: str) -> FileFormatError:
    """``FileFormatError("m.keras: config.json: layer 2 has no 'units'")``."""
    name = os.fspath(path) if path is not None else "<file>"
    return FileFormatError(f"{name}: {where}: {message}" if where else f"{name}: {message}")
