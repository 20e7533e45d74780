"""Keras 3's ``.keras`` file: a zip of ``config.json``, ``metadata.json`` and ``model.weights.h5``.

``config.json`` is the model's Keras config with its ``compile_config`` (optimizer with every
hyperparameter and schedule, loss, metrics); ``model.weights.h5`` holds the weights and the
optimizer's variables (step count and slots) in Keras' layout; ``metadata.json`` adds, for
nn, the state of the random generator that ``fit`` draws from (``nn_rng_state``), so
training resumes bit for bit. Keras ignores the extra key; nn reads files Keras wrote.

Reading opens only these three members, checks their declared sizes against
``nn.saving.limits`` before reading, and treats every byte as data.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

from . import adapters, h5_safety, h5_weights, keras_config, limits
from .atomic import atomic_path
from .errors import FileFormatError, file_error

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
NN_FORMAT_VERSION = 1


def save_model(model, filepath, include_optimizer: bool = True) -> None:
    """Write ``model`` to a ``.keras`` zip (atomically: the old file stays whole until the new one is)."""
    from .. import __version__

    config = keras_config.model_config(model)
    compiled = adapters.compile_config(model) if include_optimizer else None
    if compiled is not None:
        config["compile_config"] = compiled
    metadata = {
        "keras_version": "3.0.0",
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "nn_version": __version__,
        "nn_format_version": NN_FORMAT_VERSION,
        "nn_rng_state": adapters.get_rng_state(),
    }
    with h5_safety.file_image() as (h5, image):
        h5_weights.write(h5, model, include_optimizer and compiled is not None)
    config_text = json.dumps(config)
    metadata_text = json.dumps(metadata)
    with atomic_path(filepath) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, metadata_text)
        archive.writestr(CONFIG, config_text)
        archive.writestr(WEIGHTS, image[0])


def _read_json(archive, name, path):
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise file_error(path, None, f"has no {name}: not a .keras file") from None
    limits.check_text_size(path, name, info.file_size)
    try:
        text = archive.read(info)
    except Exception as error:
        raise file_error(path, name, f"could not be read (truncated or corrupt?): {error}") from None
    if len(text) > limits.MAX_CONFIG_BYTES:
        raise file_error(path, name, "is larger than declared")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise file_error(path, name, f"is not valid JSON: {error}") from None


def _member_bytes(archive, info):
    """The whole member in memory, its CRC checked by zipfile as the read ends: a damaged byte
    anywhere in the weights is refused, not read as a different weight."""
    return io.BytesIO(archive.read(info))


def open_archive(filepath):
    """The zip, or a ``ValueError`` naming the file."""
    try:
        archive = zipfile.ZipFile(filepath, "r")
    except Exception as error:  # zipfile raises BadZipFile, NotImplementedError, OSError, ...
        raise file_error(filepath, None, f"is not a readable .keras zip (truncated or corrupt?): {error}") from None
    if len(archive.infolist()) > limits.MAX_ENTRIES:
        archive.close()
        raise file_error(filepath, None, f"holds more than {limits.MAX_ENTRIES} entries")
    return archive


def load_model(filepath, compile: bool = True):
    """A model rebuilt from a ``.keras`` file (nn's or Keras'), compiled with its optimizer's state."""
    with open_archive(filepath) as archive:
        config = _read_json(archive, CONFIG, filepath)
        metadata = _read_json(archive, METADATA, filepath) if METADATA in archive.namelist() else {}
        if not isinstance(metadata, dict):
            raise file_error(filepath, METADATA, "must be a JSON object")
        model = keras_config.model_from_config(config, filepath)
        compiled = config.get("compile_config") if isinstance(config, dict) else None
        if compile and compiled:
            adapters.compile_from_config(model, compiled, filepath)
        try:
            info = archive.getinfo(WEIGHTS)
        except KeyError:
            raise file_error(filepath, None, f"has no {WEIGHTS}") from None
        limits.check_total(filepath, info.file_size)
        try:
            with h5_weights.open_h5(_member_bytes(archive, info), filepath, WEIGHTS) as h5:
                pairs = h5_weights.read_layers(h5, model, filepath, WEIGHTS)
                optimizer_arrays = h5_weights.read_optimizer(h5, model, filepath, WEIGHTS)
        except FileFormatError:
            raise
        except Exception as error:  # zipfile and h5py raise many types on damaged members
            raise file_error(filepath, WEIGHTS, f"could not be read (truncated or corrupt?): {error}") from None
    rng_state = adapters.checked_rng_state(metadata.get("nn_rng_state"), filepath, METADATA)
    h5_weights.assign_all(model, pairs, optimizer_arrays)
    adapters.attach_rng_state(model, rng_state)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load only the weights (and optimizer state) of a ``.keras`` file into ``model``."""
    with open_archive(filepath) as archive:
        try:
            info = archive.getinfo(WEIGHTS)
        except KeyError:
            raise file_error(filepath, None, f"has no {WEIGHTS}") from None
        limits.check_total(filepath, info.file_size)
        try:
            with h5_weights.open_h5(_member_bytes(archive, info), filepath, WEIGHTS) as h5:
                pairs = h5_weights.read_layers(h5, model, filepath, WEIGHTS, skip_mismatch)
                optimizer_arrays = h5_weights.read_optimizer(h5, model, filepath, WEIGHTS)
        except FileFormatError:
            raise
        except Exception as error:  # zipfile and h5py raise many types on damaged members
            raise file_error(filepath, WEIGHTS, f"could not be read (truncated or corrupt?): {error}") from None
    h5_weights.assign_all(model, pairs, optimizer_arrays)
