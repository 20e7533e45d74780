"""Atomic file writes: a kill at any moment leaves the old complete file or the new one.

Every file ``nn`` writes (models, weights, checkpoints, backups, CSV logs) goes through
``atomic_write``: the bytes go to a temporary file in the same folder, which is flushed,
fsynced and then ``os.replace``d over the target (an atomic rename on POSIX and Windows);
the folder is fsynced too where the platform allows, so the rename itself survives a crash.

As ``open(path, "w")`` would: the file gets the permissions ``open`` gives (``0o666`` less the
umask) or keeps those of the file it replaces; a symbolic link is followed (its target is
written, the link stays). The temporary name is short (``.nntmp-<8 hex of the target's
name>-<random>``, 27 bytes), so a target name up to the file system's limit works; a temporary
file left by a killed save of the same target is removed by the next successful save.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path

TEMP_PREFIX = ".nntmp-"


def _target(path) -> Path:
    """The file a write to ``path`` must replace: a symlink's (final) target."""
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0)  # (not thread safe: only where /proc is missing)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _temp_prefix(path: Path) -> str:
    return f"{TEMP_PREFIX}{hashlib.sha1(path.name.encode('utf8', 'surrogateescape')).hexdigest()[:8]}-"


def _prepare(path, overwrite: bool):
    path = _target(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists and overwrite=False")
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=folder)
    return path, folder, fd, tmp


def _finish(tmp: str, path: Path, folder: Path, started: float) -> None:
    os.chmod(tmp, _mode_for(path))
    os.replace(tmp, path)
    _fsync_folder(folder)
    _remove_stale(path, folder, started)


def _remove_stale(path: Path, folder: Path, started: float) -> None:
    """Remove temporary files of this target that an interrupted save left (older than this save)."""
    prefixes = (_temp_prefix(path), f".{path.name}.")  # (the second: names nn used before)
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            name = entry.name
            if name.endswith(".tmp") and name.startswith(prefixes):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < started and entry.is_file(follow_symlinks=False):
                        os.unlink(entry.path)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, overwrite: bool = True, encoding: str | None = None):
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    ``overwrite=False`` raises ``FileExistsError`` when ``path`` exists.
    """
    started = time.time()
    path, folder, fd, tmp = _prepare(path, overwrite)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _finish(tmp, path, folder, started)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path, *, overwrite: bool = True):
    """Like ``atomic_write`` for libraries that want a file name (zipfile, onnx): yields a
    temporary path beside ``path``; after the block it is fsynced and moved over ``path``."""
    started = time.time()
    path, folder, fd, tmp = _prepare(path, overwrite)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        _finish(tmp, path, folder, started)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
