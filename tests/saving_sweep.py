"""Byte-flip and truncation sweeps over every file format nn reads (SQLite's habit: damage every
byte and watch what the reader does).

``python tests/saving_sweep.py FORMAT [--flips N] [--seed S] [--all]`` writes one healthy file of
FORMAT, then loads damaged copies: N one-byte flips at positions drawn with a fixed seed (every
byte with ``--all``) and truncations to a spread of lengths. Each load runs in this process; the
result of each variant is printed as one line ``<variant> <outcome>`` where outcome is ``ok``
(loaded), ``refused`` (a ``ValueError`` naming the file) or ``escaped:<type>``. The parent
(``run_sweep``) runs the worker in a subprocess and restarts it after the last printed variant
if the process dies, recording ``crash`` for the variant that killed it: a segfault is counted,
never fatal to the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

FORMATS = ("keras", "weights.h5", "h5", "npz_model", "npz_weights", "checkpoint", "backup")
KERAS_FORMATS = ("keras_written.keras", "keras_written.weights.h5", "keras_written.h5")
"""Files written by installed Keras 3 (no HDF5 checksums: nn reads them, but damage is parsed)."""


def _model():
    import nn

    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(4, activation="relu"), nn.layers.Dense(2)])
    model.compile(optimizer=nn.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _keras_written(fmt: str, folder: Path) -> Path:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    path = folder / fmt.replace("keras_written", "k")
    if fmt.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    return path


def _healthy(fmt: str, folder: Path) -> Path:
    import numpy as np

    if fmt.startswith("keras_written"):
        return _keras_written(fmt, folder)

    model = _model()
    x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
    model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0)
    if fmt == "backup":
        import nn

        callback = nn.callbacks.BackupAndRestore(folder / "backup", delete_checkpoint=False)
        callback.set_model(model)
        callback.on_epoch_end(0)
        return folder / "backup" / "latest.backup.npz"
    names = {
        "keras": "m.keras",
        "weights.h5": "w.weights.h5",
        "h5": "m.h5",
        "npz_model": "m.npz",
        "npz_weights": "w.npz",
        "checkpoint": "ckpt",
    }
    path = folder / names[fmt]
    if fmt in ("weights.h5", "npz_weights"):
        model.save_weights(path)
    else:
        model.save(path)
    return path


def _load(fmt: str, path: Path) -> None:
    import nn

    if fmt in ("weights.h5", "npz_weights", "keras_written.weights.h5"):
        _model().load_weights(path)
    elif fmt == "backup":
        callback = nn.callbacks.BackupAndRestore(path.parent, delete_checkpoint=False)
        callback.set_model(_model())
        callback.on_train_begin()
    else:
        nn.models.load_model(path)


def variants(size: int, flips: int | None, seed: int) -> list[str]:
    """'f<pos>' flips (every byte when ``flips`` is None) and 't<len>' truncations."""
    import numpy as np

    if flips is None or flips >= size:
        positions = range(size)
    else:
        positions = sorted(np.random.default_rng(seed).choice(size, flips, replace=False).tolist())
    cuts = sorted({0, 1, 7, 8, 16, 64, size // 3, size // 2, size - 64, size - 8, size - 1} & set(range(size)))
    return [f"f{p}" for p in positions] + [f"t{c}" for c in cuts]


def _damage(data: bytes, variant: str) -> bytes:
    n = int(variant[1:])
    if variant[0] == "t":
        return data[:n]
    return data[:n] + bytes([data[n] ^ 0xFF]) + data[n + 1 :]


def worker(fmt: str, flips: int | None, seed: int, start: int) -> None:
    """Load every variant from index ``start`` on, printing one line per variant."""
    import nn

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        healthy = _healthy(fmt, folder)
        data = healthy.read_bytes()
        todo = variants(len(data), flips, seed)
        print(f"size {len(data)} variants {len(todo)}", flush=True)
        for variant in todo[start:]:
            print(f"{variant} start", flush=True)
            healthy.write_bytes(_damage(data, variant))
            try:
                _load(fmt, healthy)
                outcome = "ok"
            except nn.saving.FileFormatError as error:
                outcome = "refused" if str(healthy) in str(error) else "escaped:unnamed"
            except ValueError as error:
                outcome = "refused" if str(healthy) in str(error) else "escaped:ValueError"
            except BaseException as error:
                outcome = f"escaped:{type(error).__name__}"
            print(f"{variant} {outcome}", flush=True)


def run_sweep(fmt: str, flips: int | None = 100, seed: int = 0, env=None, timeout: float = 600) -> dict:
    """Run the worker in subprocesses (restarting after a crash); {variant: outcome}."""
    results: dict[str, str] = {}
    total = None
    start = 0
    while total is None or start < total:
        command = [sys.executable, __file__, fmt, "--seed", str(seed), "--start", str(start)]
        command += ["--all"] if flips is None else ["--flips", str(flips)]
        limit = None if flips is None else timeout  # (every byte of a 15 kB file: longer than any fixed bound)
        proc = subprocess.run(command, capture_output=True, text=True, env=env or os.environ, timeout=limit)
        current = None
        for line in proc.stdout.splitlines():
            parts = line.split()
            if parts[0] == "size":
                total = int(parts[3])
            elif parts[1] == "start":
                current = parts[0]
            else:
                results[parts[0]] = parts[1]
                current = None
        if total is None:
            raise RuntimeError(f"sweep worker for {fmt} failed: {proc.stderr[-2000:]}")
        if current is not None:  # the process died on this variant
            results[current] = f"crash:{proc.returncode}"
        start = len(results)
        if proc.returncode == 0 and current is None:
            break
    return results


def summary(results: dict) -> dict:
    """Counts of each outcome."""
    counts: dict[str, int] = {}
    for outcome in results.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("format", choices=FORMATS + KERAS_FORMATS)
    parser.add_argument("--flips", type=int, default=100)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="run the whole sweep (subprocesses) and print counts")
    args = parser.parse_args()
    if args.report:
        out = run_sweep(args.format, None if args.all else args.flips, args.seed)
        print(args.format, len(out), summary(out))
        for variant, outcome in out.items():
            if outcome not in ("ok", "refused"):
                print("  ", variant, outcome)
    else:
        worker(args.format, None if args.all else args.flips, args.seed, args.start)
