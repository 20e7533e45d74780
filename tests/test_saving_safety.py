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
