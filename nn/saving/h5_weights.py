"""Keras 3's weights layout in HDF5 (``model.weights.h5`` inside ``.keras``; ``x.weights.h5``).

::

    layers/<snake class name>[_<n>]/vars    attrs name=<layer name>; datasets "0", "1", ... (Keras' weight order)
    optimizer/vars                          attrs name=<optimizer name>; "0" iteration, "1" learning rate, slots
    vars                                    attrs name=<model name>
    layers/<...>/seed_generator/vars        a seeded layer's SeedGenerator state: "0" = [seed, counter]

The seed generator's group sits where Keras' ``saving_lib`` would put the layer's
``seed_generator`` attribute; Keras 3.15 itself writes no such group (its ``SeedGenerator`` is not
saveable) and ignores it when loading, and nn leaves the generator at its seed when it is absent
(as Keras does). Layer groups are named from the class name with a counter, in ``model.layers`` order, as
Keras' ``saving_lib`` names them (``dense``, ``dense_1``, ...). Reading checks every
dataset's declared shape and dtype against the model (and the limits) before reading any
data, and returns the arrays; the caller assigns them only when everything matched.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import adapters, h5_safety, limits
from .errors import file_error
from .keras_config import is_nested_model, snake_case


def _child_paths(prefix: str, model) -> list[tuple[str, object]]:
    used: dict[str, int] = {}
    out = []
    for layer in model.layers:
        name = snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append((f"{prefix}layers/{name}", layer))
    return out


def layer_paths(model) -> list[tuple[str, object]]:
    """(group path, layer) for each layer holding weights, named as Keras' ``saving_lib`` names
    them; a nested Sequential or Functional model is walked into (with a stack), its layers under
    ``layers/<model group>/layers/<layer group>`` (Keras 3's layout)."""
    out = []
    stack = list(reversed(_child_paths("", model)))
    while stack:
        group_path, layer = stack.pop()
        if is_nested_model(layer):
            stack.extend(reversed(_child_paths(f"{group_path}/", layer)))
        else:
            out.append((group_path, layer))
    return out


def nested_model_paths(model) -> list[tuple[str, object]]:
    """(group path, model) for each nested model (Keras writes an empty ``vars`` group for it)."""
    out = []
    stack = list(reversed(_child_paths("", model)))
    while stack:
        group_path, layer = stack.pop()
        if is_nested_model(layer):
            out.append((group_path, layer))
            stack.extend(reversed(_child_paths(f"{group_path}/", layer)))
    return out


def _write_vars(group, name: str, arrays) -> None:
    vars_group = group.create_group("vars")
    vars_group.attrs["name"] = name
    items = arrays.items() if isinstance(arrays, dict) else ((str(i), a) for i, a in enumerate(arrays))
    for key, array in items:
        vars_group.create_dataset(key, data=np.asarray(array))


def _own_store(layer) -> bool:
    """True when ``layer`` saves something else than its weights (overrides ``save_own_variables``)."""
    from ..layers.saving_methods import LayerSavingMethods

    return (
        isinstance(layer, LayerSavingMethods)
        and type(layer).save_own_variables is not LayerSavingMethods.save_own_variables
    )


def _layer_store(layer) -> dict:
    """What the layer saves: ``layer.save_own_variables(store)`` (Keras' rule); a nested model
    its weights in order."""
    from ..layers.saving_methods import LayerSavingMethods

    store: dict = {}
    if isinstance(layer, LayerSavingMethods):
        layer.save_own_variables(store)
    else:
        store = {str(i): w.data for i, w in enumerate(adapters.layer_weights(layer))}
    return store


def seed_generator(layer):
    """The layer's ``seed_generator`` when it is a ``nn.random.SeedGenerator``, else None."""
    from ..random import SeedGenerator

    generator = getattr(layer, "seed_generator", None)
    return generator if isinstance(generator, SeedGenerator) else None


class SeedState:
    """A seeded layer's generator, to get the state ``[seed, counter]`` read from the file."""

    def __init__(self, generator):
        self.generator = generator


def _seed_dataset(h5, group_path, layer, path, what):
    """The dataset holding ``layer``'s seed generator state, checked; None when there is none."""
    if seed_generator(layer) is None:
        return None
    key = f"{group_path}/seed_generator/vars/0"
    dataset = _dataset(h5, key, path, what)
    if dataset is not None and (tuple(dataset.shape) != (2,) or dataset.dtype.kind not in "fiu"):
        raise file_error(
            path, f"{what}: {key}", f"holds shape {dataset.shape} dtype {dataset.dtype}, expected 2 numbers"
        )
    return dataset


class OwnVariables:
    """A layer that loads its own store (``load_own_variables``), read and size-checked first."""

    def __init__(self, layer, store):
        self.layer, self.store = layer, store


def write(h5, model, include_optimizer: bool = True) -> None:
    """Write ``model``'s weights (and its optimizer's variables) into the open h5py file ``h5``."""
    h5.create_group("layers")
    for path, layer in nested_model_paths(model):
        _write_vars(h5.require_group(path), layer.name, [])
    for path, layer in layer_paths(model):
        group = h5.require_group(path)
        _write_vars(group, layer.name, _layer_store(layer))
        generator = seed_generator(layer)
        if generator is not None:
            _write_vars(group.create_group("seed_generator"), generator.name, [generator.get_state()])
    optimizer = model.optimizer
    if include_optimizer and optimizer is not None:
        trainable = adapters.model_trainable_weights(model)
        group = h5.create_group("optimizer")
        _write_vars(
            group,
            optimizer.name,
            adapters.optimizer_variables(optimizer, trainable),
        )
    _write_vars(h5, model.name, [])


def _dataset(h5, key: str, path, what: str):
    import h5py

    item = h5.get(key)
    if not isinstance(item, h5py.Dataset):
        return None
    if item.dtype.kind not in "fiub":
        raise file_error(path, f"{what}: {key}", f"holds dtype {item.dtype}, expected numbers")
    limits.check_array(path, f"{what}: {key}", item.shape, item.dtype)
    return item


def _vars_count(h5, key: str) -> int:
    import h5py

    group = h5.get(key)
    if not isinstance(group, h5py.Group):
        return 0
    return sum(1 for name in group if name.isdigit())


def read_layers(h5, model, path, what: str, skip_mismatch: bool = False) -> list[tuple[object, np.ndarray]]:
    """[(parameter, array)] for every weight of ``model``; every shape checked, nothing assigned."""
    import h5py

    layers_group = h5.get("layers")
    if not isinstance(layers_group, h5py.Group):
        raise file_error(path, what, "has no 'layers' group: not a Keras 3 weights file")
    expected = layer_paths(model)
    expected_names = {p.split("/")[1] for p, _ in expected}
    extra = sorted(
        name for name in layers_group if name not in expected_names and _vars_count(layers_group, f"{name}/vars")
    )
    if extra and not skip_mismatch:
        raise file_error(path, what, f"holds weights for layers {extra} that the model does not have")
    pairs = []
    total = 0
    for group_path, layer in expected:
        seed_dataset = _seed_dataset(h5, group_path, layer, path, what)
        if seed_dataset is not None:
            pairs.append((SeedState(seed_generator(layer)), seed_dataset))
        if _own_store(layer):
            store, size = _read_store(h5, f"{group_path}/vars", path, what)
            total += size
            pairs.append((OwnVariables(layer, store), None))
            continue
        weights = adapters.layer_weights(layer)
        found = _vars_count(h5, f"{group_path}/vars")
        if found != len(weights):
            if skip_mismatch:
                warnings.warn(
                    f"{path}: skipping layer '{layer.name}': {found} weights in the file, {len(weights)} in the model",
                    stacklevel=3,
                )
                continue
            raise file_error(
                path,
                f"{what}: {group_path}",
                f"holds {found} weights but layer '{layer.name}' ({type(layer).__name__}) has {len(weights)}",
            )
        layer_pairs = []
        for i, param in enumerate(weights):
            dataset = _dataset(h5, f"{group_path}/vars/{i}", path, what)
            kinds = "fiu" if np.dtype(param.dtype).kind == "f" else "iu"  # (Keras stores some counts as ints)
            if dataset is None or tuple(dataset.shape) != tuple(param.shape) or dataset.dtype.kind not in kinds:
                got = "nothing" if dataset is None else f"shape {dataset.shape} dtype {dataset.dtype}"
                if skip_mismatch:
                    warnings.warn(f"{path}: skipping layer '{layer.name}': {got}", stacklevel=3)
                    layer_pairs = None
                    break
                raise file_error(
                    path,
                    f"{what}: {group_path}/vars/{i}",
                    f"weight {param.name} of layer '{layer.name}' has shape {tuple(param.shape)} "
                    f"in the model, the file holds {got}",
                )
            total += dataset.size * dataset.dtype.itemsize
            layer_pairs.append((param, dataset))
        if layer_pairs:
            pairs += layer_pairs
    limits.check_total(path, total)
    out = []
    for param, dataset in pairs:
        if isinstance(param, OwnVariables):
            param.store = {k: read_dataset(d, d.dtype, path, what) for k, d in param.store.items()}
            out.append((param, None))
        elif isinstance(param, SeedState):
            state = read_dataset(dataset, np.float64, path, what)
            try:
                state = param.generator.checked_state(state)
            except ValueError as error:
                raise file_error(path, f"{what}: {dataset.name}", str(error)) from None
            out.append((param, state))
        else:
            out.append((param, read_dataset(dataset, param.dtype, path, what)))
    return out


def read_dataset(dataset, dtype, path, what):
    try:
        array = np.asarray(dataset[()])
    except Exception as error:  # h5py raises OSError, ValueError, RuntimeError... on damaged data
        raise file_error(
            path, f"{what}: {dataset.name}", f"could not be read (truncated or corrupt?): {error}"
        ) from None
    return limits.convert(path, f"{what}: {dataset.name}", array, dtype)


def read_optimizer(h5, model, path, what: str) -> list[np.ndarray] | None:
    """The optimizer's variables when the file holds them and they fit the model's optimizer;
    None (with a warning, as Keras does) when they do not fit."""
    optimizer = model.optimizer
    count = _vars_count(h5, "optimizer/vars")
    if optimizer is None or count == 0:
        return None
    trainable = adapters.model_trainable_weights(model)
    shapes = adapters.expected_optimizer_shapes(optimizer, trainable)
    datasets = [_dataset(h5, f"optimizer/vars/{i}", path, what) for i in range(count)]
    got = [None if d is None else tuple(d.shape) for d in datasets]
    if got != [tuple(s) for s in shapes]:
        warnings.warn(
            f"{path}: the optimizer's variables in the file ({len(got)}) do not fit the model's optimizer "
            f"({len(shapes)} variables); it starts fresh",
            stacklevel=3,
        )
        return None
    arrays = [read_dataset(d, d.dtype, path, what) for d in datasets]
    return adapters.checked_optimizer_arrays(optimizer, trainable, arrays, path, what)


def _read_store(h5, key, path, what):
    """Every dataset of a layer's ``vars`` group (checked against the limits), and their size."""
    import h5py

    group = h5.get(key)
    store, size = {}, 0
    if isinstance(group, h5py.Group):
        for name in group:
            dataset = _dataset(h5, f"{key}/{name}", path, what)
            if dataset is not None:
                size += dataset.size * dataset.dtype.itemsize
                store[name] = dataset
    return store, size


def assign_all(model, pairs, optimizer_arrays=None) -> None:
    """Assign checked arrays (after every check passed); a layer with its own
    ``load_own_variables`` gets its store."""
    for param, array in pairs:
        if isinstance(param, OwnVariables):
            param.layer.load_own_variables(param.store)
            continue
        if isinstance(param, SeedState):
            param.generator.set_state(array)
            continue
        adapters.assign(param, array)
    if optimizer_arrays is not None:
        adapters.set_optimizer_variables(model.optimizer, adapters.model_trainable_weights(model), optimizer_arrays)


def open_h5(source, path, what: str):
    """``h5py.File(source, "r")`` with a corrupt or foreign file turned into a ``ValueError``."""
    import h5py

    try:
        h5 = h5py.File(source, "r")
    except Exception as error:  # h5py raises OSError, ValueError, RuntimeError... on damaged files
        raise file_error(path, what, f"is not a readable HDF5 file (truncated or corrupt?): {error}") from None
    try:
        h5_safety.check_file(h5, path, what)
    except BaseException:
        h5.close()
        raise
    return h5


def save_weights(model, filepath, include_optimizer: bool = True) -> None:
    """Write Keras 3's ``.weights.h5`` file (atomically)."""
    from .atomic import atomic_write

    with h5_safety.file_image() as (h5, image):
        write(h5, model, include_optimizer)
    with atomic_write(filepath, "wb") as handle:
        handle.write(image[0])


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Read a Keras 3 ``.weights.h5`` file into ``model`` (all checked first)."""
    with open_h5(filepath, filepath, "weights") as h5:
        try:
            pairs = read_layers(h5, model, filepath, "weights", skip_mismatch)
            optimizer_arrays = read_optimizer(h5, model, filepath, "weights")
        except (OSError, KeyError) as error:
            raise file_error(filepath, "weights", f"could not be read (truncated or corrupt?): {error}") from None
    assign_all(model, pairs, optimizer_arrays)
