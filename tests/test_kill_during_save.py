"""Nothing lost: a saving process killed at random moments, and a full disk, leave a whole file."""

from __future__ import annotations

import errno
import os
import random
import signal
import time

import numpy as np
import pytest

import nn

pytest.importorskip("h5py")


def _models():
    models = []
    for value in (0.0, 1.0):
        model = nn.Sequential([nn.Input((64,)), nn.layers.Dense(512), nn.layers.Dense(64)])
        model.compile(optimizer="sgd", loss="mse")
        for p in model.parameters():
            p.data = np.full(p.shape, value, np.float32)
        models.append(model)
    return models


def _value(path, kind):
    """0.0 or 1.0: the model in the file, all of whose weights must agree."""
    if kind == "model":
        model = nn.models.load_model(path)
    else:
        model = nn.Sequential([nn.Input((64,)), nn.layers.Dense(512), nn.layers.Dense(64)])
        model.load_weights(path)
    values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
    assert values.tolist() in ([0.0], [1.0]), f"{path}: a mix of models: {values[:5]}"
    return values[0]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_killed_at_random_moments_the_file_is_always_old_or_new(tmp_path):
    """20 SIGKILLs at random moments of a process overwriting a file in a loop."""
    models = _models()
    gen = random.Random(0)
    targets = [("m.keras", "model"), ("m.h5", "model"), ("w.weights.h5", "weights"), ("m.npz", "model")]
    seen = set()
    for kill in range(20):
        name, kind = targets[kill % len(targets)]
        path = tmp_path / name
        save = (lambda m, p=path: m.save(p)) if kind == "model" else (lambda m, p=path: m.save_weights(p))
        if not path.exists():
            save(models[0])
        pid = os.fork()
        if pid == 0:  # the child overwrites the file until it is killed
            try:
                i = 0
                while True:
                    i += 1
                    save(models[i % 2])
            finally:
                os._exit(1)
        time.sleep(gen.uniform(0.005, 0.1))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.add(_value(path, kind))
    assert seen == {0.0, 1.0}  # the kills landed while both models were being written


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "w.weights.h5", "m.npz", "ckpt", "m.onnx"])
def test_full_disk_leaves_the_previous_file_intact(tmp_path, monkeypatch, name):
    old = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
    new = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
    save = {
        "w.weights.h5": lambda m, p: m.save_weights(p),
        "m.onnx": lambda m, p: nn.saving.export_model(m, p),
    }.get(name, lambda m, p: m.save(p))
    if name == "m.onnx":
        pytest.importorskip("onnx")
    path = tmp_path / name
    save(old, path)
    before = path.read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nn.saving.atomic.os, "fsync", full)
    with pytest.raises(OSError) as info:
        save(new, path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left behind


def test_full_disk_while_writing_the_zip(tmp_path, monkeypatch):
    import zipfile

    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3)])
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr

    def writestr(self, name, data, *args, **kwargs):
        if name == "model.weights.h5":
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(OSError):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]
