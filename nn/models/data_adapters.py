"""Data for fit / evaluate / predict, as Keras takes it: numpy arrays (or Tensors, lists, nested
lists; a list of arrays per input), a Python generator of batches, or a ``PyDataset``.

``standardize_x`` applies the input rules in one place: numeric data cast to the input's
dtype, a rank-1 x becomes (n, 1), a list holding one array for a one-input model is that
array, and the per-sample shape is checked against the model's input.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings

import numpy as np

import autograd_mini as am

from ..utils import PyDataset, rng


def unpack_x_y_sample_weight(data):
    """Keras' rule: a tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; anything else is x."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"data must be (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)} elements")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of ``unpack_x_y_sample_weight``."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def is_generator(x) -> bool:
    """A Python generator or iterator of batches."""
    return inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def is_py_dataset(x) -> bool:
    """A ``PyDataset`` (or any object with ``__getitem__`` and ``__len__`` producing batches that is
    not array-like)."""
    return isinstance(x, PyDataset)


def is_torch_dataloader(x) -> bool:
    """A ``torch.utils.data.DataLoader`` (checked without importing torch)."""
    for cls in type(x).__mro__:
        if cls.__name__ == "DataLoader" and cls.__module__.startswith("torch.utils.data"):
            return True
    return False


def _array(value, what: str, name: str) -> np.ndarray:
    if isinstance(value, am.Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise ValueError(f"{what}: {name} must be array-like (ragged nested lists are not): {error}") from None
    if array.dtype == object:
        raise ValueError(f"{what}: {name} must be numeric, got Python objects of types {type(value).__name__}")
    return array


def _numeric(array: np.ndarray, what: str, name: str) -> None:
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{what}: {name} must be numeric, got dtype {array.dtype}")


def standardize_x(model, x, what: str):
    """x as the model takes it: one array, or a list of arrays (one per input)."""
    specs = model.input_specs()
    n_inputs = len(specs) if specs else 1
    if isinstance(x, dict):
        names = [getattr(t, "name", None) for t in getattr(model, "_inputs", [])]
        x = [x[n] for n in names] if names and all(n in x for n in names) else list(x.values())
    elif isinstance(x, (list, tuple)) and n_inputs == 1:
        if len(x) == 1 and (isinstance(x[0], (np.ndarray, am.Tensor, list, tuple))):
            x = x[0]
        x = [x]
    elif isinstance(x, (list, tuple)):
        if len(x) != n_inputs:
            raise ValueError(f"{what}: the model has {n_inputs} inputs, got a list of {len(x)} arrays")
        x = list(x)
    else:
        if n_inputs != 1:
            raise ValueError(f"{what}: the model has {n_inputs} inputs; give a list of {n_inputs} arrays")
        x = [x]
    out = []
    for i, value in enumerate(x):
        name = "x" if n_inputs == 1 else f"x[{i}]"
        array = _array(value, what, name)
        _numeric(array, what, name)
        shape, dtype = specs[i] if specs else (None, model.dtype)
        if array.ndim == 0:
            raise ValueError(f"{what}: {name} must have a batch axis, got a scalar")
        if array.ndim == 1 and (shape is None or len(shape) == 2):
            array = array[:, None]
        if array.dtype != dtype:
            array = array.astype(dtype)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{what}: {name} contains NaN or Inf ({int(np.sum(~np.isfinite(array)))} values)")
        if shape is not None and not _compatible(array.shape[1:], shape[1:]):
            expected = ", ".join("None" if d is None else str(d) for d in shape[1:])
            raise ValueError(
                f"{what}: the model expects inputs of shape (batch, {expected}) but {name} has shape {array.shape}"
            )
        out.append(array)
    return out[0] if n_inputs == 1 else out


def _compatible(got, expected) -> bool:
    return len(got) == len(expected) and all(e is None or g == e for g, e in zip(got, expected))


def standardize_y(model, y, what: str):
    """Targets as arrays: floats in the model's dtype, integer labels kept as integers."""
    if y is None:
        return None
    if isinstance(y, dict):
        return {k: standardize_y(model, v, what) for k, v in y.items()}
    if isinstance(y, (list, tuple)) and y and all(isinstance(v, (np.ndarray, am.Tensor)) for v in y):
        outputs = getattr(model, "_outputs", None)
        if outputs is not None and len(outputs) == len(y) > 1:
            return [standardize_y(model, v, what) for v in y]
    array = _array(y, what, "y")
    _numeric(array, what, "y")
    if array.ndim == 0:
        raise ValueError(f"{what}: y must have a batch axis (one target per sample), got the scalar {y!r}")
    if array.dtype.kind == "f":
        if array.dtype != model.dtype:
            array = array.astype(model.dtype)
        if not np.isfinite(array).all():
            raise ValueError(f"{what}: y contains NaN or Inf ({int(np.sum(~np.isfinite(array)))} values)")
    elif array.dtype.kind == "b":
        array = array.astype(model.dtype)
    return array


def _flat(value) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [value]


def num_samples(x, y, sample_weight, what: str) -> int:
    """The common first dimension; a clear error when they differ or there is no data."""
    sizes = {"x": {len(a) for a in _flat(x)}, "y": {len(a) for a in _flat(y)}}
    sizes["sample_weight"] = {len(a) for a in _flat(sample_weight)}
    if len(sizes["x"]) > 1:
        raise ValueError(f"{what}: the input arrays have different lengths: {sorted(sizes['x'])}")
    n = sizes["x"].pop()
    for name in ("y", "sample_weight"):
        for m in sizes[name]:
            if m != n:
                raise ValueError(f"{what}: x and {name} have different lengths: x has {n} samples, {name} has {m}")
    if n == 0:
        raise ValueError(f"{what}: x has 0 samples; there is nothing to {what.split()[0]} on")
    return n


def class_weight_to_sample_weight(y, class_weight) -> np.ndarray:
    """Keras' rule: each sample weighs ``class_weight[label]`` (label = argmax of a one-hot y)."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict class -> weight, got {type(class_weight).__name__}")
    if isinstance(y, (list, dict)):
        raise ValueError("class_weight is only supported for models with a single output")
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else np.round(y.reshape(len(y))).astype(int)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight: no weight for classes {missing}; got weights for {sorted(class_weight)}")
    table = {}
    for k, v in class_weight.items():
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)) or not math.isfinite(float(v)):
            raise ValueError(f"class_weight: the weight of class {k!r} must be a finite number, got {v!r}")
        table[int(k)] = float(v)
    return np.array([table[int(label)] for label in labels], dtype=np.float32)


def _take(value, index):
    if value is None:
        return None
    if isinstance(value, list):
        return [v[index] for v in value]
    if isinstance(value, dict):
        return {k: v[index] for k, v in value.items()}
    return value[index]


GATHER_BYTES = 256 << 10  # a shuffled epoch gathers up to this much data at a time, then slices it


class ArrayAdapter:
    """Batches of arrays; ``shuffle`` draws a fresh permutation each epoch from ``nn.utils.rng()``.

    A shuffled epoch gathers the rows of as many whole batches as fit in ``GATHER_BYTES`` with
    one fancy index (the whole epoch for small data; one batch at a time when a batch is larger)
    and hands out views of that copy: the same batches in the same order as a gather per batch,
    with one permutation drawn per epoch, at the epoch's first batch. Small batches save the
    per-batch gather's fixed cost; large ones gain nothing from a bigger copy."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, n=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = math.ceil(n / batch_size)
        row_bytes = sum(a.nbytes // max(len(a), 1) for a in _flat(x) + _flat(y) + _flat(sample_weight))
        per_gather = GATHER_BYTES // max(row_bytes, 1) // batch_size * batch_size
        self.gather_rows = max(per_gather, batch_size)  # a multiple of batch_size: batches never straddle

    def epoch_batches(self):
        """The batches of one pass over the data."""
        return self._epoch(_slices)

    def epoch_blocks(self):
        """``epoch_batches`` in runs: ``("stacked", (xs, ys, sws))`` for a run of full batches of
        one array x (and y, and sample weights; None where not given), each with a leading batch
        axis (``xs[i]`` is batch i's x, a view), and
        ``("batch", batch)`` for any other batch; the same batches in the same order, the same
        random draws."""
        return self._epoch(_blocks)

    def _epoch(self, split):
        """One pass over the data (shuffled: one permutation, gathered ``gather_rows`` at a
        time), cut into batches by ``split(x, y, sample_weight, batch_size)``."""
        x, y, sw, size, n = self.x, self.y, self.sample_weight, self.batch_size, self.n
        if not self.shuffle:
            yield from split(x, y, sw, size)
            return
        order = rng().permutation(n)
        step = self.gather_rows
        for start in range(0, n, step):
            rows = order[start : start + step]
            yield from split(_take(x, rows), _take(y, rows), _take(sw, rows), size)

    def on_epoch_end(self):
        """Nothing to do for arrays."""


def _blocks(x, y, sw, size):
    """``_slices`` with its full batches as one block (see ``ArrayAdapter.epoch_blocks``)."""
    n = len(_flat(x)[0])
    if not any(isinstance(a, (list, dict)) for a in (x, y, sw)) and (sw is None or y is not None):
        full = n - n % size
        if full:
            xs = x[:full].reshape(full // size, size, *x.shape[1:])
            ys = None if y is None else y[:full].reshape(full // size, size, *y.shape[1:])
            sws = None if sw is None else sw[:full].reshape(full // size, size, *sw.shape[1:])
            yield "stacked", (xs, ys, sws)
        if full < n:
            rest = (x[full:],) if y is None else (x[full:], y[full:])
            yield "batch", rest if sw is None else (*rest, sw[full:])
        return
    for batch in _slices(x, y, sw, size):
        yield "batch", batch


def _slices(x, y, sw, size):
    """Batches of ``size`` rows (the last one shorter) as views: one array's full batches come
    from iterating it reshaped to (batches, size, ...), which costs half of slicing each."""
    n = len(_flat(x)[0])
    if not isinstance(x, (list, dict)) and not isinstance(y, (list, dict)) and sw is None:
        full = n - n % size
        if full:
            xs = x[:full].reshape(full // size, size, *x.shape[1:])  # splitting an axis: always a view
            if y is None:
                yield from zip(xs)
            else:
                yield from zip(xs, y[:full].reshape(full // size, size, *y.shape[1:]))
        if full < n:
            yield (x[full:],) if y is None else (x[full:], y[full:])
        return
    for start in range(0, n, size):
        index = slice(start, start + size)
        yield pack_x_y_sample_weight(_take(x, index), _take(y, index), _take(sw, index))


class GeneratorAdapter:
    """Batches from a Python generator; every batch's x goes through ``standardize_x``."""

    def __init__(self, generator, model, what):
        self.generator, self.model, self.what = generator, model, what
        self.num_batches = None
        self.exhausted = False

    def epoch_batches(self):
        """Batches until the generator stops (an unbounded one needs steps)."""
        for batch in self.generator:
            yield standardize_batch(self.model, batch, self.what)
        self.exhausted = True

    def on_epoch_end(self):
        """Nothing to do for generators."""


class PyDatasetAdapter:
    """Batches by index from a ``PyDataset``; ``shuffle`` shuffles the batch order each epoch."""

    def __init__(self, dataset, model, shuffle, what):
        self.dataset, self.model, self.shuffle, self.what = dataset, model, shuffle, what
        self.num_batches = len(dataset)
        if self.num_batches == 0:
            raise ValueError(f"{what}: the PyDataset has 0 batches")

    def epoch_batches(self):
        """One pass over the dataset's batches."""
        indices = rng().permutation(self.num_batches) if self.shuffle else range(self.num_batches)
        for i in indices:
            yield standardize_batch(self.model, self.dataset[int(i)], self.what)

    def on_epoch_end(self):
        """The dataset's own ``on_epoch_end``."""
        self.dataset.on_epoch_end()


class TorchDataLoaderAdapter:
    """Batches from a ``torch.utils.data.DataLoader`` (Keras 3 accepts one on every backend): one
    pass over the loader per epoch, torch tensors converted to numpy."""

    def __init__(self, loader, model, what):
        self.loader, self.model, self.what = loader, model, what
        try:
            self.num_batches = len(loader)
        except TypeError:  # an iterable dataset without a length
            self.num_batches = None

    def epoch_batches(self):
        """One pass over the loader."""
        for batch in self.loader:
            yield standardize_batch(self.model, _to_numpy_structure(batch), self.what)

    def on_epoch_end(self):
        """Nothing to do (the loader reshuffles itself)."""


def _to_numpy_structure(value):
    if isinstance(value, (list, tuple)):
        return tuple(_to_numpy_structure(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_numpy_structure(v) for k, v in value.items()}
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return value


def standardize_batch(model, batch, what):
    """One batch from a generator, PyDataset or DataLoader, standardized like arrays."""
    x, y, sw = unpack_x_y_sample_weight(batch)
    xs = standardize_x(model, x, what)
    if not model.built:
        model._ensure_built(xs)
        xs = standardize_x(model, x, what)
    x = xs
    y = standardize_y(model, y, what)
    return pack_x_y_sample_weight(x, y, sw)


class EpochIterator:
    """Keras' epoch iterator: ``steps`` batches per epoch when given (continuing through the data,
    restarting it when used up), else one pass. A generator that runs out warns and stops.
    ``reset()`` starts the next epoch at the data's beginning (validation does, as Keras)."""

    def __init__(self, adapter, steps=None):
        self.adapter, self.steps = adapter, steps
        self.num_batches = steps if steps is not None else adapter.num_batches
        self._stream = None
        self.ran_out = False

    def reset(self) -> None:
        """The next pass starts from the first batch (arrays, PyDatasets and DataLoaders)."""
        if not isinstance(self.adapter, GeneratorAdapter):
            self._stream = None

    def __iter__(self):
        if self.steps is None:
            batches = self.adapter.epoch_batches()
            for first in batches:  # no per-batch bookkeeping: the rest is delegated
                yield first
                yield from batches
                break
            else:
                self._out_of_data()
            self.adapter.on_epoch_end()
            return
        for _ in range(self.steps):
            if self._stream is None:
                self._stream = iter(self.adapter.epoch_batches())
            try:
                batch = next(self._stream)
            except StopIteration:
                self._stream = None
                if isinstance(self.adapter, GeneratorAdapter):
                    self._out_of_data()
                    return
                self.adapter.on_epoch_end()
                self._stream = iter(self.adapter.epoch_batches())
                batch = next(self._stream)
            yield batch

    def blocks(self):
        """One pass as ``ArrayAdapter.epoch_blocks`` gives it (runs of full batches stacked), when
        the data are arrays and the epoch is one pass; else None (iterate the batches)."""
        if self.steps is not None or not isinstance(self.adapter, ArrayAdapter):
            return None
        return self._blocks()

    def _blocks(self):
        yield from self.adapter.epoch_blocks()
        self.adapter.on_epoch_end()

    def _out_of_data(self):
        self.ran_out = True
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
            "generate at least `steps_per_epoch * epochs` batches.",
            stacklevel=4,
        )


# ---- from the loops' arguments to batches ---------------------------------------------------------------------
def _positive_int(value, name: str, what: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what}: `{name}` must be a positive integer, got {name}={value!r}")
    return int(value)


def adapter(model, x, y, sample_weight, batch_size, steps, shuffle, class_weight, what):
    """The adapter for any of Keras' data forms, checked: arrays (standardized against the model,
    which is built from the data when its input shape is not declared), a generator, a
    ``PyDataset`` or a torch ``DataLoader`` (these yield whole batches: ``batch_size`` is ignored
    as Keras ignores it; ``y`` and ``sample_weight`` must not be given)."""
    if x is None:
        raise ValueError(f"{what}: x is None; give the input data")
    if is_py_dataset(x) or is_generator(x) or is_torch_dataloader(x):
        kind = "a PyDataset" if is_py_dataset(x) else "a DataLoader" if is_torch_dataloader(x) else "a generator"
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"{what}: `{name}` must not be given when x is {kind} (it yields whole batches)")
        if class_weight is not None:
            raise ValueError(f"{what}: `class_weight` is only supported for array data")
        if is_py_dataset(x):
            return PyDatasetAdapter(x, model, shuffle, what)
        if is_torch_dataloader(x):
            return TorchDataLoaderAdapter(x, model, what)
        return GeneratorAdapter(x, model, what)
    batch_size = _positive_int(batch_size, "batch_size", what)
    xs = standardize_x(model, x, what)
    if not model.built:  # build from the data, then standardize against the now-known input
        model._ensure_built(xs[:1] if not isinstance(xs, list) else [a[:1] for a in xs])
        xs = standardize_x(model, x, what)
    ys = standardize_y(model, y, what)
    sw = None
    if sample_weight is not None:
        if class_weight is not None:
            raise ValueError(f"{what}: give `class_weight` or `sample_weight`, not both")
        sw = standardize_sample_weight(model, sample_weight, what, ys)
    n = num_samples(xs, ys, sw, what)
    if class_weight is not None:
        sw = class_weight_to_sample_weight(ys, class_weight)
    if batch_size is None:
        batch_size = math.ceil(n / steps) if steps else 32
    return ArrayAdapter(xs, ys, sw, batch_size, shuffle, n)


def standardize_sample_weight(model, sample_weight, what: str, y=None):
    """Finite numbers, one per sample (or per sample and time step), in the model's dtype. A
    multi-output model may take one array per output, as Keras does: a dict by output name, or a
    list (tuple) of arrays when ``y`` is a list of as many; each is checked alone."""
    if isinstance(sample_weight, dict):
        return {k: _sample_weight(model, v, f"{what} (sample_weight[{k!r}])") for k, v in sample_weight.items()}
    per_output = isinstance(sample_weight, (list, tuple)) and isinstance(y, list) and len(y) > 1
    if per_output and len(sample_weight) == len(y) and all(np.ndim(v) >= 1 for v in sample_weight):
        return [_sample_weight(model, v, f"{what} (sample_weight[{k}])") for k, v in enumerate(sample_weight)]
    return _sample_weight(model, sample_weight, what)


def _sample_weight(model, sample_weight, what: str) -> np.ndarray:
    sw = np.asarray(sample_weight.data if isinstance(sample_weight, am.Tensor) else sample_weight)
    if sw.dtype.kind not in "fiub" or (sw.dtype.kind == "f" and not np.isfinite(sw).all()):
        raise ValueError(f"{what}: sample_weight must be finite numbers, got dtype {sw.dtype}")
    if sw.ndim == 0:
        raise ValueError(
            f"{what}: sample_weight must have one weight per sample (an array with a batch axis), got the "
            f"scalar {sample_weight!r}"
        )
    return sw.astype(model.dtype)


def epoch_iterator(model, x, y, sample_weight, batch_size, steps, shuffle, class_weight, what) -> EpochIterator:
    """``EpochIterator(adapter(...), steps)``."""
    return EpochIterator(adapter(model, x, y, sample_weight, batch_size, steps, shuffle, class_weight, what), steps)


def one_batch(model, x, y, sample_weight, class_weight, what):
    """``(x, y[, sample_weight])`` standardized, for ``train_on_batch`` and the like."""
    found = adapter(model, x, y, sample_weight, None, None, False, class_weight, what)
    if not isinstance(found, ArrayAdapter):
        raise ValueError(f"{what}: give arrays (one batch), not a generator, PyDataset or DataLoader")
    return pack_x_y_sample_weight(found.x, found.y, found.sample_weight)


class FitData:
    """``fit``'s data: ``train`` (an ``EpochIterator``) and ``validation`` (one, or None), from
    ``x``/``y``/... with Keras' rules: ``validation_split`` holds out the last fraction of the
    arrays before shuffling; ``validation_data`` is ``(x, y[, sample_weight])``, a generator,
    a PyDataset or a DataLoader."""

    def __init__(
        self,
        model,
        x,
        y,
        sample_weight,
        class_weight,
        batch_size,
        shuffle,
        steps_per_epoch,
        validation_split,
        validation_data,
        validation_batch_size,
        validation_steps,
    ):
        what = "fit"
        if (
            isinstance(validation_split, bool)
            or not isinstance(validation_split, numbers.Real)
            or not 0 <= validation_split < 1
        ):
            raise ValueError(f"fit: `validation_split` must be a number in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is None:
            if is_generator(x) or is_py_dataset(x) or is_torch_dataloader(x):
                raise ValueError(
                    "fit: `validation_split` is only supported for arrays, not generators, PyDatasets or DataLoaders"
                )
            x, y, sample_weight, validation_data = _split(model, x, y, sample_weight, validation_split)
        self.train = epoch_iterator(
            model, x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight, what
        )
        self.validation = None
        if validation_data is not None:
            self.validation = _validation(model, validation_data, validation_batch_size or batch_size, validation_steps)


def _split(model, x, y, sample_weight, validation_split):
    """Keras' rule: the last ``validation_split`` fraction of the arrays, before shuffling."""
    xs = standardize_x(model, x, "fit")
    ys = standardize_y(model, y, "fit")
    n = num_samples(xs, ys, None, "fit")
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"fit: the training data has {n} samples, not enough to split into training and validation sets "
            f"with validation_split={validation_split}; give more data or another validation_split"
        )
    sw_train = sw_val = None
    if sample_weight is not None:
        sample_weight = standardize_sample_weight(model, sample_weight, "fit", ys)
        sw_train, sw_val = _take(sample_weight, slice(0, split)), _take(sample_weight, slice(split, None))
    held = pack_x_y_sample_weight(_take(xs, slice(split, None)), _take(ys, slice(split, None)), sw_val)
    return _take(xs, slice(0, split)), _take(ys, slice(0, split)), sw_train, held


def _validation(model, validation_data, batch_size, steps) -> EpochIterator:
    what = "fit (validation_data)"
    if is_generator(validation_data) or is_py_dataset(validation_data) or is_torch_dataloader(validation_data):
        return epoch_iterator(model, validation_data, None, None, None, steps, False, None, what)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            f"fit: `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
            f"a generator, a PyDataset or a DataLoader; got {type(validation_data).__name__}"
        )
    x_val, y_val, sw_val = unpack_x_y_sample_weight(tuple(validation_data))
    if y_val is None:
        raise ValueError("fit: `validation_data` = (x_val, None) has no targets; give (x_val, y_val)")
    return epoch_iterator(model, x_val, y_val, sw_val, batch_size, steps, False, None, what)
