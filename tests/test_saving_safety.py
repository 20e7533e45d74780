"""A file is only data: the random state it stores, the HDF5 objects it holds and the sizes its
config implies are checked before anything is read, allocated or changed."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import nn

h5py = pytest.importorskip("h5py")


def _model(dropout=0.25):
    model = nn.Sequential(
        [
            nn.Input((4,)),
            nn.layers.Dense(8, activation="relu"),
            nn.layers.Dropout(dropout),
            nn.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=nn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    gen = np.random.default_rng(1)
    return gen.normal(size=(32, 4)).astype("float32"), gen.integers(0, 3, 32)


def _rewrite_keras_member(path, name, transform):
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = transform(members[name])
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in members.items():
            archive.writestr(key, value)


# ---- the random state is data --------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["test", "seed", "MT19937", "Philox"])
def test_a_random_state_naming_any_algorithm_but_pcg64_is_refused(tmp_path, algorithm):
    path = tmp_path / "m.keras"
    _model().save(path)

    def craft(text):
        meta = json.loads(text)
        meta["nn_rng_state"]["bit_generator"] = algorithm
        return json.dumps(meta).encode()

    _rewrite_keras_member(path, "metadata.json", craft)
    before = nn.utils.get_rng_state()
    with pytest.raises(ValueError, match=r"m\.keras: metadata\.json: .*PCG64"):
        nn.models.load_model(path)
    assert nn.utils.get_rng_state() == before


@pytest.mark.parametrize(
    "field, value",
    [("has_uint32", True), ("uinteger", -1), ("uinteger", 2**32), ("extra", 1), ("state", {"state": 1, "inc": 2})],
)
def test_malformed_pcg64_states_are_refused(field, value):
    state = nn.utils.get_rng_state()
    state[field] = value
    with pytest.raises(ValueError, match="set_rng_state"):
        nn.utils.set_rng_state(state)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.npz"])
def test_loading_leaves_the_global_random_state_alone_and_fit_resumes_the_files(tmp_path, name):
    x, y = _data()
    nn.utils.set_random_seed(5)
    model = _model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / name)
    saved = nn.utils.get_rng_state()
    nn.utils.set_random_seed(99)
    before = nn.utils.get_rng_state()
    loaded = nn.models.load_model(tmp_path / name)
    assert nn.utils.get_rng_state() == before  # building drew initial weights; the stream is restored
    assert loaded._saved_rng_state == saved  # the file's state waits for the loaded model's fit
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert "_saved_rng_state" not in vars(loaded)


# ---- HDF5: only the file's own groups and datasets ------------------------------------------------
def _weights_file(tmp_path, name="w.weights.h5"):
    model = _model()
    path = tmp_path / name
    model.save_weights(path)
    return model, path


def _replace_kernel(path, make):
    """Replace the first Dense kernel by what ``make(h5, key, shape)`` creates."""
    with h5py.File(path, "a") as h5:
        key = "layers/dense/vars/0" if "layers" in h5 else None
        if key is None:
            layer = next(n.decode() for n in h5.attrs["layer_names"] if len(h5[n.decode()].attrs["weight_names"]))
            key = f"{layer}/{h5[layer].attrs['weight_names'][0].decode()}"
        shape = h5[key].shape
        del h5[key]
        make(h5, key, shape)


def _other_file(tmp_path, shape=(4, 8)):
    other = tmp_path / "secret.bin"
    other.write_bytes(np.full(shape, 7.0, "float32").tobytes())
    return other


def _external_storage(tmp_path):
    other = _other_file(tmp_path)
    return lambda h5, key, shape: h5.create_dataset(key, shape, "float32", external=[(str(other), 0, 128)])


def _external_link(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["k"] = np.full((4, 8), 7.0, "float32")
    return lambda h5, key, shape: h5.__setitem__(key, h5py.ExternalLink(str(other), "/k"))


def _virtual(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["k"] = np.full((4, 8), 7.0, "float32")

    def make(h5, key, shape):
        layout = h5py.VirtualLayout(shape=shape, dtype="float32")
        layout[...] = h5py.VirtualSource(str(other), "k", shape=shape)
        h5.create_virtual_dataset(key, layout)

    return make


def _soft_link(tmp_path):
    def make(h5, key, shape):
        h5.create_dataset("elsewhere", data=np.full(shape, 7.0, "float32"))
        h5[key] = h5py.SoftLink("/elsewhere")

    return make


def _soft_loop(tmp_path):
    return lambda h5, key, shape: h5.__setitem__(key, h5py.SoftLink("/" + key))


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
@pytest.mark.parametrize(
    "craft, message",
    [
        (_external_storage, "external storage"),
        (_external_link, "external link"),
        (_virtual, "virtual dataset"),
        (_soft_link, "soft link"),
        (_soft_loop, "soft link"),
    ],
)
def test_hdf5_objects_that_reach_other_files_or_loop_are_refused(tmp_path, name, craft, message):
    model, path = _weights_file(tmp_path, name)
    _replace_kernel(path, craft(tmp_path))
    before = model.get_weights()
    with pytest.raises(ValueError, match=rf"{name}: .*{message}"):
        model.load_weights(path)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_hdf5_with_more_objects_than_the_limit_is_refused_before_listing(tmp_path, monkeypatch):
    model, path = _weights_file(tmp_path)
    with h5py.File(path, "a") as h5:
        junk = h5.create_group("junk")
        for i in range(300):
            junk.create_group(str(i))
    monkeypatch.setattr(nn.saving.limits, "MAX_ENTRIES", 200)
    with pytest.raises(ValueError, match="MAX_ENTRIES"):
        model.load_weights(path)


def test_every_hdf5_file_nn_writes_has_metadata_checksums(tmp_path):
    model = _model()
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "w.weights.h5")
    for name in ("m.h5", "w.weights.h5"):
        head = (tmp_path / name).read_bytes()[:9]
        assert head[:8] == b"\x89HDF\r\n\x1a\n" and head[8] >= 2  # superblock v2+: checksummed metadata


# ---- sizes a config implies ----------------------------------------------------------------------
def _functional_config_file(tmp_path, edit):
    inputs = nn.Input((4,))
    hidden = nn.layers.Dense(8, name="wide")(inputs)
    model = nn.Model(inputs, nn.layers.Dense(2)(hidden))
    path = tmp_path / "f.keras"
    model.save(path)

    def craft(text):
        config = json.loads(text)
        edit(config)
        return json.dumps(config).encode()

    _rewrite_keras_member(path, "config.json", craft)
    return path


def _layer(config, name):
    return next(entry for entry in config["config"]["layers"] if entry["config"].get("name") == name)


def test_a_functional_config_with_a_huge_dense_is_refused_before_allocation(tmp_path):
    def edit(config):
        _layer(config, "wide")["config"]["units"] = 40_000
        for entry in config["config"]["layers"]:
            if entry["class_name"] == "InputLayer":
                entry["config"]["batch_shape"] = [None, 40_000]

    path = _functional_config_file(tmp_path, edit)
    with pytest.raises(ValueError, match=r"f\.keras: .*'wide'.*MAX_ARRAY_BYTES"):
        nn.models.load_model(path)


def test_a_huge_embedding_is_refused_before_allocation(tmp_path):
    model = nn.Sequential([nn.Input((3,)), nn.layers.Embedding(10, 4), nn.layers.Flatten(), nn.layers.Dense(1)])
    path = tmp_path / "e.keras"
    model.save(path)

    def craft(text):
        config = json.loads(text)
        entry = next(e for e in config["config"]["layers"] if e["class_name"] == "Embedding")
        entry["config"].update(input_dim=300_000, output_dim=10_000)
        return json.dumps(config).encode()

    _rewrite_keras_member(path, "config.json", craft)
    with pytest.raises(ValueError, match=r"e\.keras: .*embedding.*MAX_ARRAY_BYTES"):
        nn.models.load_model(path)


def test_the_total_a_config_implies_is_bounded(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    _model().save(path)
    monkeypatch.setattr(nn.saving.limits, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(ValueError, match=r"m\.keras: .*MAX_TOTAL_BYTES"):
        nn.models.load_model(path)


# ---- a refused part leaves the model as it was ---------------------------------------------------
def _trained():
    x, y = _data()
    nn.utils.set_random_seed(2)
    model = _model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return model


def _state(model):
    store = {}
    model.optimizer.save_own_variables(store)
    return [w.copy() for w in model.get_weights()], {k: np.array(v, copy=True) for k, v in store.items()}


def _assert_same(model, state):
    weights, store = _state(model)
    for a, b in zip(weights, state[0]):
        np.testing.assert_array_equal(a, b)
    assert store.keys() == state[1].keys()
    for key in store:
        np.testing.assert_array_equal(store[key], state[1][key])


@pytest.mark.parametrize("value", [np.nan, np.inf, -3.0, 2.5])
@pytest.mark.parametrize("name", ["w.weights.h5", "m.keras", "m.h5"])
def test_a_bad_iteration_count_is_refused_and_nothing_is_assigned(tmp_path, name, value):
    model = _trained()
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    target = tmp_path / "edited" / name
    target.parent.mkdir()
    if name.endswith(".keras"):
        with zipfile.ZipFile(path) as archive:
            (tmp_path / "inner.h5").write_bytes(archive.read("model.weights.h5"))
        inner = tmp_path / "inner.h5"
    else:
        inner = target
        target.write_bytes(path.read_bytes())
    with h5py.File(inner, "a") as h5:
        key = "optimizer/vars/0" if "optimizer" in h5 else None
        if key is None:
            group = h5["optimizer_weights"]
            key = f"optimizer_weights/{group.attrs['weight_names'][0].decode()}"
        del h5[key]
        h5[key] = np.float64(value)
    if name.endswith(".keras"):
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as dst:
            for info in src.infolist():
                data = inner.read_bytes() if info.filename == "model.weights.h5" else src.read(info)
                dst.writestr(info.filename, data)
    other = _trained()
    for w in other.weights:
        w.mutable_data()[...] = 0.5
    before = _state(other)
    with pytest.raises(ValueError, match=rf"{name}: .*optimizer variable 0"):
        if name.endswith(".weights.h5"):
            other.load_weights(target)
        else:
            nn.models.load_model(target)
    if name.endswith(".weights.h5"):
        _assert_same(other, before)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_values_that_do_not_fit_the_weights_dtype_are_refused(tmp_path, name):
    model, path = _weights_file(tmp_path, name)
    _replace_kernel(path, lambda h5, key, shape: h5.create_dataset(key, data=np.full(shape, 1e300)))
    before = model.get_weights()
    with pytest.raises(ValueError, match=rf"{name}: .*range of float32"):
        model.load_weights(path)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# ---- files on disk -------------------------------------------------------------------------------
SAVERS = {
    "m.keras": lambda m, p: m.save(p),
    "m.h5": lambda m, p: m.save(p),
    "w.weights.h5": lambda m, p: m.save_weights(p),
    "m.npz": lambda m, p: m.save(p),
}


@pytest.mark.parametrize("name", sorted(SAVERS))
def test_new_files_follow_the_umask_and_overwrites_keep_the_mode(tmp_path, name):
    import os

    path = tmp_path / name
    old = os.umask(0o027)
    try:
        SAVERS[name](_model(), path)
        assert path.stat().st_mode & 0o777 == 0o640
        path.chmod(0o604)
        SAVERS[name](_model(), path)
        assert path.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


@pytest.mark.parametrize("name", sorted(SAVERS))
def test_saving_through_a_symlink_writes_its_target(tmp_path, name):
    real = tmp_path / "real" / name
    real.parent.mkdir()
    SAVERS[name](_model(), real)
    before = real.read_bytes()
    link = tmp_path / name
    link.symlink_to(real)
    SAVERS[name](_model(), link)
    assert link.is_symlink() and real.read_bytes() != before
    assert sorted(p.name for p in real.parent.iterdir()) == [name]


def test_a_250_byte_name_works_and_stale_temporary_files_are_cleaned(tmp_path):
    import os
    import time

    from nn.saving import atomic

    name = "m" * (250 - len(".keras")) + ".keras"
    path = tmp_path / name
    model = _model()
    model.save(path)
    stale = tmp_path / f"{atomic._temp_prefix(path)}dead.tmp"
    stale.write_bytes(b"left by a killed save")
    other = tmp_path / f"{atomic._temp_prefix(tmp_path / 'other.keras')}dead.tmp"
    other.write_bytes(b"another target's")
    past = time.time() - 5
    os.utime(stale, (past, past))
    os.utime(other, (past, past))
    model.save(path)
    assert not stale.exists() and other.exists()
    assert nn.models.load_model(path).count_params() == model.count_params()


@pytest.mark.parametrize("depth", [50, 980, 5000])
def test_a_deeply_nested_config_value_is_one_named_error(tmp_path, depth):
    path = tmp_path / "m.keras"
    _model().save(path)

    def craft(text):
        config = json.loads(text)
        nested = "x"
        for _ in range(depth):
            nested = {"k": [nested]}
        config["config"]["layers"][1]["config"]["unknown"] = nested
        return json.dumps(config, check_circular=False).encode() if depth < 900 else _deep_json(text, depth)

    def _deep_json(text, depth):
        config = json.loads(text)
        config["config"]["layers"][1]["config"]["unknown"] = "@@"
        return json.dumps(config).replace('"@@"', '{"k": [' * depth + '"x"' + "]}" * depth).encode()

    _rewrite_keras_member(path, "config.json", craft)
    with pytest.raises(ValueError, match=r"m\.keras: "):
        nn.models.load_model(path)
