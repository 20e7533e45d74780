"""The persistent kernel cache: a generated loop kernel is compiled once per machine, not once per process.

Like ``jax``'s persistent compilation cache and numba's ``cache=True`` (on which it rests): the
kernel's generated source is written to the cache folder as ``k_<key>.py`` and numba caches its
machine code beside it (``__pycache__``), so a second process running the same step loads the
machine code instead of compiling (``stats()``: ``disk_hits``).

The key is a SHA-256 over everything the machine code depends on: the generated source, the
values of its constant arrays, the compiled kernels it calls (their name, source and module file),
the argument types, and the versions of this project, numba, llvmlite, numpy and Python and the
CPU (LLVM's host CPU name and features). A different program, version or machine is a
different file; nothing is ever looked up by a partial match.

Where: ``AUTOGRAD_MINI_CACHE_DIR``, else the platform's user cache folder
(``$XDG_CACHE_HOME/autograd_mini`` or ``~/.cache/autograd_mini`` on Linux,
``~/Library/Caches/autograd_mini`` on macOS, ``%LOCALAPPDATA%\\autograd_mini\\Cache`` on
Windows). ``AUTOGRAD_MINI_CACHE=0`` (or ``set_enabled(False)``) compiles in memory as before.

Safety (the project's file rules):

- Nothing read from the folder is executed as Python: the source that runs is the one generated
  in this process; the file only anchors numba's cache. A file whose bytes differ from it (a
  foreign or damaged file, one with another key in its header) is refused: removed with its
  machine code, rewritten, and the kernel compiled afresh (``stats()``: ``refused``).
- numba's cached machine code (its ``.nbi``/``.nbc`` files) is loaded only when every one of them
  has the SHA-256 this project recorded after numba wrote it (``k_<key>.sums``, JSON); a file
  without a record or with another digest is refused the same way.
- The folder must belong to the current user and not be writable by others (POSIX); otherwise
  the cache is not used (a warning says why) and kernels compile in memory.
- Writes are atomic (a temporary file, ``fsync``, then a link that fails if the name exists, or
  ``os.replace``; numba writes its own files the same way). Two processes compiling the same
  kernel at once: the second waits on a lock file (``k_<key>.lock``, POSIX ``flock``) and then
  loads the first one's machine code; without the lock (another platform), a process that
  finds machine code it cannot verify compiles again.
- A size limit (``set_limit``, ``AUTOGRAD_MINI_CACHE_MAX_BYTES``, default 256 MiB) drops the
  least recently used kernels after each write.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np

from ..numba_support import loading_cached_code
from . import numba_build

FORMAT = 1
HEADER = "# autograd_mini generated kernel (do not edit: checked byte for byte before use) key="
DEFAULT_LIMIT = 256 * 1024 * 1024
_MAX_SUMS_BYTES = 1 << 16  # a record of digests is small: anything larger is refused unread

_state = {
    "enabled": os.environ.get("AUTOGRAD_MINI_CACHE", "1") != "0",
    "limit": None,
    "warned": set(),
}
_origins: dict[int, str] = {}  # id(dispatcher) -> how it came (the lowering keeps the dispatchers alive)
_counts = {"disk_hits": 0, "compiled": 0, "refused": 0, "compile_seconds": 0.0, "load_seconds": 0.0}


# -- where ------------------------------------------------------------------------------------------------
def directory() -> Path:
    """The cache folder: ``AUTOGRAD_MINI_CACHE_DIR``, else the platform's user cache folder."""
    configured = os.environ.get("AUTOGRAD_MINI_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "autograd_mini" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "autograd_mini"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autograd_mini"


def enabled() -> bool:
    """Whether compiled kernels are cached on disk (``AUTOGRAD_MINI_CACHE=0`` turns it off)."""
    return _state["enabled"]


def set_enabled(flag: bool) -> None:
    """Turn the disk cache on or off for this process (off: kernels compile in memory, as before)."""
    _state["enabled"] = bool(flag)


def limit() -> int:
    """The size limit in bytes (``set_limit``, else ``AUTOGRAD_MINI_CACHE_MAX_BYTES``, else 256 MiB)."""
    if _state["limit"] is not None:
        return _state["limit"]
    raw = os.environ.get("AUTOGRAD_MINI_CACHE_MAX_BYTES")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"AUTOGRAD_MINI_CACHE_MAX_BYTES must be an integer number of bytes, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"AUTOGRAD_MINI_CACHE_MAX_BYTES must be >= 0, got {value}")
    return value


def set_limit(max_bytes: int | None) -> None:
    """Keep the cache under ``max_bytes`` (least recently used kernels go first); None: the default."""
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"set_limit: max_bytes must be an int >= 0 or None, got {max_bytes!r}")
    _state["limit"] = max_bytes
    if max_bytes is not None:
        with contextlib.suppress(OSError):
            _trim(directory(), keep=None)


# -- what is in it ------------------------------------------------------------------------------------------
def _entries(folder: Path) -> dict[str, list[Path]]:
    """Each cached kernel's files, by stem ``k_<key>`` (source, digest record, numba's machine code)."""
    found: dict[str, list[Path]] = {}
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        if path.name.startswith("k_") and path.suffix in (".py", ".sums", ".lock"):
            found.setdefault(path.stem, []).append(path)
    machine = folder / "__pycache__"
    if machine.is_dir():
        for path in machine.iterdir():
            stem = path.name.split(".", 1)[0]
            if stem.startswith("k_"):
                found.setdefault(stem, []).append(path)
    return found


def _size(paths) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def info() -> dict:
    """The folder, how many kernels it holds, their size in bytes and the size limit."""
    folder = directory()
    entries = _entries(folder)
    return {
        "directory": str(folder),
        "enabled": enabled(),
        "kernels": len(entries),
        "bytes": sum(_size(paths) for paths in entries.values()),
        "limit": limit(),
    }


def size() -> int:
    """The cache's size on disk in bytes."""
    return info()["bytes"]


def origin(fn) -> str:
    """How ``fn`` (a dispatcher ``compile_kernel`` gave) came: "compiled", "disk cache", ..."""
    return _origins.get(id(fn), "compiled (no disk cache)")


def stats() -> dict:
    """This process's counts: kernels loaded from disk, compiled by numba, files refused, and seconds."""
    return dict(_counts)


def clear() -> int:
    """Remove every kernel this project cached (only its own ``k_*`` files); returns how many."""
    entries = _entries(directory())
    for paths in entries.values():
        _remove(paths)
    return len(entries)


def _remove(paths) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _trim(folder: Path, keep: str | None) -> None:
    """Drop the least recently used kernels (by their digest record's time) until under the limit."""
    entries = _entries(folder)
    sizes = {stem: _size(paths) for stem, paths in entries.items()}
    total, cap = sum(sizes.values()), limit()
    if total <= cap:
        return

    def used(stem):
        try:
            return (folder / f"{stem}.sums").stat().st_mtime
        except OSError:
            return 0.0

    for stem in sorted(entries, key=used):
        if total <= cap:
            break
        if stem == keep:
            continue
        _remove(entries[stem])
        total -= sizes[stem]


# -- the key ------------------------------------------------------------------------------------------------
def _machine() -> list[str]:
    import llvmlite
    import llvmlite.binding as llvm
    import numba

    cpu = numba.config.CPU_NAME or llvm.get_host_cpu_name()
    features = numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
    from .. import __version__

    return [
        f"format {FORMAT}",
        f"autograd_mini {__version__}",
        f"numba {numba.__version__}",
        f"llvmlite {llvmlite.__version__}",
        f"numpy {np.__version__}",
        f"python {sys.version}",
        f"cpu {cpu} {features}",
        f"opt {numba.config.OPT}",
    ]


def _describe(name: str, value) -> str | None:
    """A stable description of a global the kernel calls or reads; None: nothing stable (no disk cache)."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return f"{name} array {array.dtype.str} {array.shape} {hashlib.sha256(array.tobytes()).hexdigest()}"
    if isinstance(value, (bool, int, float, str, np.generic)):
        return f"{name} {type(value).__name__} {value!r}"
    callee = getattr(value, "am_callee", None)
    if callee is not None:  # helpers.call_unlinked: a call by symbol of a compiled function
        described = _describe(name, callee)
        return None if described is None else f"{name} unlinked {value.am_symbol} {described}"
    py_func = getattr(value, "py_func", None)
    if py_func is not None:  # a numba dispatcher: the machine code inlines what its source says
        try:
            source = inspect.getsource(py_func)
        except (OSError, TypeError):
            return None
        options = sorted((k, repr(v)) for k, v in getattr(value, "targetoptions", {}).items())
        module = _file_digest(inspect.getsourcefile(py_func))  # (what it calls in its module, too)
        return f"{name} dispatcher {py_func.__module__}.{py_func.__qualname__} {options} {module} {source}"
    definition = getattr(value, "_defn", None)  # a numba intrinsic (helpers.py): its typer and code generator
    if definition is not None and type(value).__name__ == "_Intrinsic":
        try:
            source = inspect.getsource(definition)
        except (OSError, TypeError):
            return None
        module = _file_digest(inspect.getsourcefile(definition))
        return f"{name} intrinsic {definition.__module__}.{definition.__qualname__} {module} {source}"
    if isinstance(value, types.ModuleType) or any(
        value is t for t in (np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8)
    ):
        return f"{name} {getattr(value, '__name__', value)}"
    return None


_FILE_DIGESTS: dict = {}


def _file_digest(path) -> str:
    """The SHA-256 of a source file (memoised by path, size and modification time)."""
    if not path:
        return "no file"
    try:
        status = os.stat(path)
    except OSError:
        return "no file"
    key = (path, status.st_size, status.st_mtime_ns)
    found = _FILE_DIGESTS.get(key)
    if found is None:
        found = _FILE_DIGESTS[key] = _digest(Path(path)) or "unreadable"
    return found


def kernel_key(source: str, namespace: dict, signature, opt_level: int | None = None) -> str | None:
    """The SHA-256 naming a kernel's cache files (``opt_level``: numba_build.level's choice); None
    when a global has no stable description."""
    digest = hashlib.sha256()
    parts = _machine() + [numba_build.describe(opt_level), f"signature {signature}", source]
    for name in sorted(k for k in namespace if not k.startswith("__")):
        described = _describe(name, namespace[name])
        if described is None:
            return None
        parts.append(described)
    for part in parts:
        data = part.encode()
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


# -- files --------------------------------------------------------------------------------------------------
def _usable(folder: Path) -> str | None:
    """Why the folder cannot hold the cache (None: it can); created (owner only) when missing."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError as error:
        return f"cannot create {folder}: {error}"
    if hasattr(os, "getuid"):
        if status.st_uid != os.getuid():
            return f"{folder} belongs to another user (uid {status.st_uid})"
        if status.st_mode & 0o022:
            return f"{folder} is writable by other users (mode {oct(status.st_mode & 0o777)})"
    if not os.access(folder, os.W_OK):
        return f"{folder} is not writable"
    return None


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; an existing file of that name is left as it is."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # fails if another process wrote it first: theirs stays
        except FileExistsError:
            pass
        except OSError:  # no hard links here (some file systems): replace instead
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _write_replace(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _read_exact(path: Path, expected_size: int) -> bytes | None:
    """The file's bytes when it is a regular file of ``expected_size`` bytes (checked before reading)."""
    try:
        with open(path, "rb") as file:
            status = os.fstat(file.fileno())
            if not _regular(status) or status.st_size != expected_size:
                return None
            return file.read(expected_size + 1)
    except OSError:
        return None


def _regular(status) -> bool:
    import stat

    return stat.S_ISREG(status.st_mode)


def _digest(path: Path) -> str | None:
    try:
        with open(path, "rb") as file:
            if not _regular(os.fstat(file.fileno())):
                return None
            digest = hashlib.sha256()  # (hashlib.file_digest is Python 3.11+)
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return None


def _machine_files(cache_path: Path, stem: str) -> list[Path]:
    if not cache_path.is_dir():
        return []
    return sorted(p for p in cache_path.iterdir() if p.name.startswith(stem + ".") and not p.name.endswith(".tmp"))


def _recorded(sums: Path, key: str) -> dict | None:
    """The digests this project recorded for ``key``'s machine code (None: no valid record)."""
    try:
        with open(sums, "rb") as file:
            if os.fstat(file.fileno()).st_size > _MAX_SUMS_BYTES:
                return None
            record = json.loads(file.read(_MAX_SUMS_BYTES + 1))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != key or record.get("format") != FORMAT:
        return None
    files = record.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return files


def _verified(cache_path: Path, stem: str, key: str, sums: Path) -> bool:
    """Whether numba's files for ``stem`` are exactly the ones recorded (no files: trivially True)."""
    present = _machine_files(cache_path, stem)
    if not present:
        return True
    files = _recorded(sums, key)
    if files is None or set(files) != {p.name for p in present}:
        return False
    return all(_digest(p) == files[p.name] for p in present)


def _warn_once(reason: str) -> None:
    if reason not in _state["warned"]:
        _state["warned"].add(reason)
        warnings.warn(
            f"autograd_mini.compile_cache: {reason}; compiled kernels are not cached on disk",
            RuntimeWarning,
            stacklevel=4,
        )


# -- compiling ----------------------------------------------------------------------------------------------
def compile_kernel(numba, name: str, source: str, namespace: dict, argument_types: tuple, opt_level=None):
    """Compile the generated function ``name`` of ``source`` (globals ``namespace``) for
    ``argument_types`` with numba (as numba_build.py builds kernels; ``opt_level``: LLVM's level,
    None for numba's); returns ``(dispatcher, how)``, ``how`` one of "disk cache" (machine code
    loaded), "compiled" (and cached), "compiled (no disk cache)"."""
    start = time.perf_counter()
    signature = tuple(argument_types)
    key = kernel_key(source, namespace, signature, opt_level) if enabled() else None
    folder = directory()
    reason = None if key is not None else "off"
    if key is not None:
        reason = _usable(folder)
        if reason is not None:
            _warn_once(reason)
    if reason is not None:
        return _fallback(numba, name, source, namespace, signature, start, opt_level)

    with _locked(folder / f"k_{key}.lock"):  # another process compiling this kernel: wait, then load its work
        return _compile_cached(numba, name, source, namespace, signature, start, folder, key, opt_level)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` across processes (POSIX ``flock``; elsewhere none:
    the digest checks still refuse a half-finished neighbour's files)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover  (Windows)
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (closing releases the lock)


def _compile_cached(numba, name, source, namespace, signature, start, folder: Path, key: str, opt_level):
    """numba's compile with ``cache=True`` beside ``k_<key>.py``: the file checked (or written) first,
    numba's files verified before and recorded after."""
    stem = f"k_{key}"
    path, sums = folder / f"{stem}.py", folder / f"{stem}.sums"
    text = f"{HEADER}{key}\n{source}"
    data = text.encode()
    if path.exists() and _read_exact(path, len(data)) != data:  # a foreign, damaged or other-key file
        _counts["refused"] += 1
        _remove([path, sums, *_machine_files(folder / "__pycache__", stem)])
    if not path.exists():
        _write_new(path, data)
        if _read_exact(path, len(data)) != data:  # (lost a race to a file that is not ours)
            _counts["refused"] += 1
            return _fallback(numba, name, source, namespace, signature, start, opt_level)

    module = types.ModuleType(f"_autograd_mini_kernel_{key}")  # numba rebuilds a cached kernel's
    module.__file__ = str(path)  # environment by importing its module's name: found in sys.modules
    module.__dict__.update(namespace)
    sys.modules[module.__name__] = module
    exec(compile(text, str(path), "exec"), module.__dict__)  # the text generated here, never the file's
    fn = numba_build.dispatcher(numba, module.__dict__[name], cache=True)
    cache_path = Path(fn.stats.cache_path)
    if cache_path.resolve().parent != folder.resolve():  # NUMBA_CACHE_DIR sends numba's files elsewhere
        sys.modules.pop(module.__name__, None)
        _warn_once(f"numba caches machine code in {cache_path} (NUMBA_CACHE_DIR), outside {folder}")
        return _fallback(numba, name, source, namespace, signature, start, opt_level)
    if not _verified(cache_path, stem, key, sums):
        _counts["refused"] += 1
        _remove(_machine_files(cache_path, stem))
        with contextlib.suppress(FileNotFoundError):
            sums.unlink()
    try:
        with loading_cached_code():  # (a load needs numba's runtime only; a compile refreshes all)
            fn = numba_build.compile_with_fallback(numba, fn, signature, cache=True, opt_level=opt_level)
    except numba.core.errors.NumbaError:
        raise  # the loops do not compile: the caller keeps the replay (no second attempt)
    except Exception:  # the cache itself failed (a file, a save): compile in memory
        _remove(_machine_files(cache_path, stem))
        return _fallback(numba, name, source, namespace, signature, start, opt_level)
    seconds = time.perf_counter() - start
    if sum(fn.stats.cache_hits.values()):
        _counts["disk_hits"] += 1
        _counts["load_seconds"] += seconds
        with contextlib.suppress(OSError):
            os.utime(sums)  # recently used: the size limit drops others first
        _origins[id(fn)] = "disk cache"
        return fn, "disk cache"
    _counts["compiled"] += 1
    _counts["compile_seconds"] += seconds
    files = {p.name: _digest(p) for p in _machine_files(cache_path, stem)}
    if files and all(files.values()):
        record = {"format": FORMAT, "key": key, "files": files}
        with contextlib.suppress(OSError):
            _write_replace(sums, json.dumps(record, sort_keys=True).encode())
    with contextlib.suppress(OSError):
        _trim(folder, keep=stem)
    _origins[id(fn)] = "compiled"
    return fn, "compiled"


def _fallback(numba, name, source, namespace, signature, start, opt_level=None):
    exec(compile(source, f"<am.compile {name}>", "exec"), namespace)  # our own generated loops
    fn = numba_build.dispatcher(numba, namespace[name], cache=False)
    fn = numba_build.compile_with_fallback(numba, fn, signature, cache=False, opt_level=opt_level)
    _counts["compiled"] += 1
    _counts["compile_seconds"] += time.perf_counter() - start
    return fn, "compiled (no disk cache)"
