"""Corrupt, truncated, foreign and huge-declared files: one clear ValueError, bounded work, model untouched."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import nn
from nn.saving import limits

h5py = pytest.importorskip("h5py")


def _model():
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(5, activation="relu"), nn.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _rewrite_config(src, dst, edit):
    """Copy a .keras zip with its config.json changed by ``edit(config)``."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            new.writestr(info.filename, data)


def _dense_config(config, i):
    return [e for e in config["config"]["layers"] if e["class_name"] != "InputLayer"][i]["config"]


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.npz", "ckpt"])
def test_truncated_and_garbage_files_give_a_value_error_naming_the_file(tmp_path, name):
    path = tmp_path / name
    _model().save(path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 20):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=str(path.name)):
            nn.models.load_model(path)
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="not a model or weights file"):
        nn.models.load_model(path)


def test_npy_named_npz_and_foreign_zip_and_foreign_hdf5(tmp_path):
    npy = tmp_path / "w.npz"
    with open(npy, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(ValueError, match="single .npy"):
        nn.models.load_model(npy)
    with pytest.raises(ValueError, match="single .npy"):
        _model().load_weights(npy)
    foreign_zip = tmp_path / "f.keras"
    with zipfile.ZipFile(foreign_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="f.keras"):
        nn.models.load_model(foreign_zip)
    foreign_h5 = tmp_path / "f.h5"
    with h5py.File(foreign_h5, "w") as h5:
        h5["data"] = np.arange(5)
    with pytest.raises(ValueError, match="f.h5"):
        nn.models.load_model(foreign_h5)
    with pytest.raises(ValueError, match="f.h5"):
        _model().load_weights(foreign_h5)


def test_huge_declared_npy_is_refused_before_allocation(tmp_path):
    """A small .npz whose header declares a 4 TiB array (the old 251 MiB allocation bug)."""
    model = _model()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2**40,)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("layers.0.0.npy.tmp", b"")  # an unexpected member is ignored
    src = path.read_bytes()
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(io.BytesIO(src)) as old, zipfile.ZipFile(bad, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "layers.0.0.npy":
                data = header.getvalue() + b"\x00" * 256 * 1024
            new.writestr(info.filename, data)
    tracemalloc.start()
    with pytest.raises(ValueError, match="MAX_ARRAY_BYTES"):
        model.load_weights(bad)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * 2**20


def test_npy_whose_declared_size_disagrees_with_its_data(tmp_path):
    model = _model()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (4, 5)})
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(bad, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "layers.0.0.npy":
                data = header.getvalue() + b"\x00" * 8
            new.writestr(info.filename, data)
    with pytest.raises(ValueError, match="declares"):
        model.load_weights(bad)


def test_object_arrays_are_never_unpickled(tmp_path):
    model = _model()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(bad, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "layers.0.0.npy":
                buffer = io.BytesIO()
                np.save(buffer, np.array([print], dtype=object), allow_pickle=True)
                data = buffer.getvalue()
            new.writestr(info.filename, data)
    with pytest.raises(ValueError, match="Python objects"):
        model.load_weights(bad)


def test_config_with_huge_units_is_a_value_error_not_a_memory_error(tmp_path):
    src = tmp_path / "m.keras"
    _model().save(src)
    for units in (10**12, 2**30):
        bad = tmp_path / f"u{units}.keras"
        _rewrite_config(src, bad, lambda c, u=units: _dense_config(c, 0).update(units=u))
        with pytest.raises(ValueError, match="MAX_"):
            nn.models.load_model(bad)


def test_config_faults_name_the_layer(tmp_path):
    src = tmp_path / "m.keras"
    _model().save(src)
    cases = {
        "no_units": (lambda c: _dense_config(c, 1).pop("units"), "layer 2.*units"),
        "unknown_class": (
            lambda c: c["config"]["layers"][1].update(class_name="Conv2D"),
            "unknown layer type 'Conv2D'",
        ),
        "bad_json_type": (lambda c: c["config"].update(layers="oops"), "'layers' must be a list"),
        "unknown_model": (lambda c: c.update(class_name="os.system"), "unknown model type"),
        "unknown_optimizer": (
            lambda c: c["compile_config"]["optimizer"].update(class_name="Evil"),
            "unknown optimizer 'Evil'",
        ),
        "unsupported_arg": (
            lambda c: _dense_config(c, 0).update(kernel_constraint={"class_name": "Evil"}),
            "kernel_constraint",
        ),
    }
    for name, (edit, message) in cases.items():
        bad = tmp_path / f"{name}.keras"
        _rewrite_config(src, bad, edit)
        with pytest.raises(ValueError, match=message):
            nn.models.load_model(bad)


def test_config_json_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    _model().save(path)
    monkeypatch.setattr(limits, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match="MAX_CONFIG_BYTES"):
        nn.models.load_model(path)


def test_array_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "w.weights.h5"
    model = _model()
    model.save_weights(path)
    monkeypatch.setattr(limits, "MAX_ARRAY_BYTES", 16)
    with pytest.raises(ValueError, match="MAX_ARRAY_BYTES"):
        model.load_weights(path)


def test_hdf5_declaring_a_huge_dataset_is_refused_before_reading(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = _model()
    model.save_weights(path)
    with h5py.File(path, "a") as h5:
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars"].create_dataset("0", shape=(2**20, 2**20), dtype="f4")  # 4 TiB declared, no data
    assert path.stat().st_size < 1_000_000
    before = model.get_weights()
    tracemalloc.start()
    with pytest.raises(ValueError, match="MAX_ARRAY_BYTES"):
        model.load_weights(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * 2**20
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_wrong_shapes_in_weights_leave_the_model_untouched(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = _model()
    model.save_weights(path)
    with h5py.File(path, "a") as h5:
        h5["layers/dense_1/vars/1"][...] = 7.0  # a valid change in a later layer
        del h5["layers/dense_1/vars/0"]
        h5["layers/dense_1/vars"].create_dataset("0", data=np.zeros((5, 3), "f4"))  # wrong shape
    other = _model()
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"dense_1/vars/0.*shape \(5, 2\)"):
        other.load_weights(path)
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_refused_load_model_does_not_touch_the_random_state(tmp_path):
    src = tmp_path / "m.keras"
    _model().save(src)
    bad = tmp_path / "bad.keras"
    _rewrite_config(src, bad, lambda c: _dense_config(c, 1).pop("units"))
    state = nn.utils.rng().bit_generator.state
    with pytest.raises(ValueError):
        nn.models.load_model(bad)
    assert nn.utils.rng().bit_generator.state == state
