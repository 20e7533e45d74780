"""The one place where saving reads other parts of nn: layers, models, optimizers, random state.

Each function uses the Keras 3 API of those parts (``nn.layers.serialize``,
``optimizer.save_own_variables``, ``nn.utils.get_rng_state``, ...). Nothing here imports or calls anything named by a file: class names resolve only against nn's
own registries.
"""

from __future__ import annotations

import inspect

import numpy as np

from .errors import FileFormatError, file_error

# Keras' defaults for arguments nn does not take: a file may carry them, any other value is refused.
HARMLESS = {
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "reduction": "sum_over_batch_size",
    "quantization_config": None,
    "kernel_constraint": None,
    "bias_constraint": None,
    "beta_constraint": None,
    "gamma_constraint": None,
    "activity_regularizer": None,
    "lora_rank": None,
    "lora_alpha": None,
    "sparse": False,
    "ragged": False,
    "optional": False,
    "noise_shape": None,
    "trainable": True,
    "synchronized": False,
    "renorm": False,
    "renorm_clipping": None,
    "renorm_momentum": 0.99,
    "input_axes": None,
    "output_axes": None,
    "seed": None,
    "data_format": "channels_last",
}
ALWAYS_DROPPED = ("name", "registered_name", "module", "shared_object_id", "dtype")


# ---- generic construction from a config -----------------------------------------------------------
def accepted_arguments(cls) -> set[str] | None:
    """The keyword arguments ``cls(...)`` accepts (following ``**kwargs`` up the class chain);
    None when some ``**kwargs`` goes nowhere we can see (then everything is passed)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        var_kw = False
        for p in params:
            if p.kind is p.VAR_KEYWORD:
                var_kw = True
            elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                names.add(p.name)
        if not var_kw:
            return names
    return names


def construct(cls, config: dict, path, where: str):
    """``cls(**config)`` with the arguments nn does not take removed when they hold Keras'
    defaults; any other unknown argument, or a refusal by the constructor, is a ``ValueError``."""
    accepted = accepted_arguments(cls)
    kwargs = {}
    for key, value in config.items():
        if accepted is None or key in accepted:
            kwargs[key] = value
        elif key in ALWAYS_DROPPED or key in HARMLESS and HARMLESS[key] == value or value is None:
            continue
        else:
            raise file_error(path, where, f"{cls.__name__} does not support {key}={value!r}")
    if _own_from_config(cls):
        maker = cls.from_config
    else:
        maker = lambda c: cls(**c)
    try:
        return maker(kwargs)
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise file_error(path, where, f"{cls.__name__}({_short(kwargs)}) refused: {error}") from None


def _own_from_config(cls) -> bool:
    return any("from_config" in vars(k) for k in cls.__mro__[:-1] if k.__module__.startswith("nn."))


def _short(config: dict) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return text if len(text) < 300 else text[:300] + "..."


# ---- layers -------------------------------------------------------------------------------------
def layer_registry() -> dict:
    """nn's own layer classes by Keras class name (``nn.layers.LAYER_TYPES``)."""
    from .. import layers

    return dict(layers.LAYER_TYPES)


def layer_class_name(layer) -> str:
    """The Keras class name of ``layer``."""
    return type(layer).__name__


def layer_config(layer) -> dict:
    """``layer.get_config()`` (Keras' config of a layer), with ``dtype`` and ``trainable`` filled in."""
    config = dict(layer.get_config())
    config.setdefault("name", layer.name)
    config.setdefault("trainable", bool(layer.trainable))
    if "dtype" not in config:
        config["dtype"] = np.dtype(layer.dtype).name
    return config


def model_layers(model) -> list:
    """The model's layers as Keras lists them for Sequential (no InputLayer)."""
    from ..layers import InputLayer

    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def layer_weights(layer) -> list:
    """The layer's weights (``layer.weights``: Keras' order, trainable and non-trainable)."""
    return list(layer.weights)


def model_trainable_weights(model) -> list:
    """The model's trainable weights in Keras' order (the order of the optimizer's slots)."""
    return list(model.trainable_weights)


def assign(param, array: np.ndarray) -> None:
    """Write ``array`` into ``param`` in place (through ``mutable_data`` when the dtype matches)."""
    if param.shape == array.shape and param.dtype == array.dtype:
        param.mutable_data()[...] = array
    else:
        param.data = np.array(array, dtype=array.dtype, copy=True)


def model_dtype(model) -> str:
    """The model's float dtype name ('float32', 'float64')."""
    return np.dtype(model.dtype).name


def new_sequential(name, input_shape, dtype, layers):
    """A Sequential of ``layers`` after ``Input(input_shape[1:], dtype)``, built."""
    from ..layers import Input
    from .object_registration import resolve_class

    Sequential = resolve_class("Sequential", "keras")
    model = Sequential(name=name) if name else Sequential()
    if input_shape is not None:
        model.add(Input(tuple(input_shape[1:]), dtype=dtype))
    for layer in layers:
        model.add(layer)
    if not model.built and input_shape is not None:
        model.build(tuple(input_shape))
    return model


# ---- optimizers ---------------------------------------------------------------------------------
KERAS_OPTIMIZER_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def optimizer_registry() -> dict:
    """nn's optimizer classes by Keras class name."""
    from .. import optimizers

    base = optimizers.Optimizer
    return {
        name: obj
        for name, obj in vars(optimizers).items()
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base
    }


def schedule_registry() -> dict:
    """nn's learning-rate schedules by Keras class name."""
    from ..optimizers import schedules

    base = schedules.LearningRateSchedule
    return {
        name: obj
        for name, obj in vars(schedules).items()
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base and not name.startswith("_")
    }


def serialize_optimizer(optimizer) -> dict:
    """Keras' form of an optimizer: its ``get_config()`` (every hyperparameter, a schedule in its
    serialized form), with Keras' defaults for the keys nn does not use."""
    from .object_registration import GLOBAL_CUSTOM_NAMES

    registered = GLOBAL_CUSTOM_NAMES.get(type(optimizer))
    if registered is None and type(optimizer).__name__ not in optimizer_registry():
        raise ValueError(
            f"save: the optimizer {type(optimizer).__name__} is not one of nn's optimizers; register it with "
            "nn.saving.register_keras_serializable"
        )
    config = dict(optimizer.get_config())
    for key, value in KERAS_OPTIMIZER_DEFAULTS.items():
        config.setdefault(key, value)
    return {
        "module": "keras.optimizers" if registered is None else type(optimizer).__module__,
        "class_name": type(optimizer).__name__,
        "config": _jsonable(config),
        "registered_name": registered,
    }


def deserialize_optimizer(entry, path, where="compile_config.optimizer"):
    """An nn optimizer from Keras' form, or from a name ('adam')."""
    from .. import optimizers

    if isinstance(entry, str):
        try:
            return optimizers.get(entry)
        except ValueError as error:
            raise file_error(path, where, str(error)) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise file_error(path, where, f"expected an optimizer name or {{'class_name', 'config'}}, got {entry!r}")
    registry = optimizer_registry()
    cls = registry.get(entry["class_name"])
    if cls is None or entry.get("registered_name") not in (None, entry["class_name"]):
        from .object_registration import resolve_class

        if resolve_class(entry["class_name"], entry.get("module"), entry.get("registered_name")) is None:
            raise file_error(path, where, f"unknown optimizer {entry['class_name']!r}; nn has {sorted(registry)}")
        return _deserialize_object(entry, path, where)  # a registered or custom_objects optimizer
    config = dict(entry.get("config") or {})
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        sched_registry = schedule_registry()
        sched_cls = sched_registry.get(lr.get("class_name"))
        if sched_cls is None:
            raise file_error(
                path, where, f"unknown learning-rate schedule {lr.get('class_name')!r}; nn has {sorted(sched_registry)}"
            )
        config["learning_rate"] = construct(sched_cls, dict(lr.get("config") or {}), path, where + ".learning_rate")
    return construct(cls, config, path, where)


def _ensure_built(optimizer, trainable) -> None:
    if not optimizer.built:
        optimizer.build(trainable)


def optimizer_variables(optimizer, trainable) -> list[np.ndarray]:
    """The optimizer's variables in Keras' order (``save_own_variables``): iteration, learning
    rate (a constant rate only), then the slots."""
    _ensure_built(optimizer, trainable)
    store: dict = {}
    optimizer.save_own_variables(store)
    return [np.asarray(store[str(i)]) for i in range(len(store))]


def expected_optimizer_shapes(optimizer, trainable) -> list[tuple]:
    """The shapes ``optimizer_variables`` gives for this optimizer and these weights."""
    return [np.shape(v) for v in optimizer_variables(optimizer, trainable)]


def checked_optimizer_arrays(optimizer, trainable, arrays, path, where) -> list[np.ndarray]:
    """``arrays`` converted to the dtypes of the optimizer's own variables, every value checked to
    fit (a NaN step count or an overflowing slot is refused before anything is assigned); the
    iteration count must be a non-negative integer and a constant learning rate finite."""
    from . import limits

    current = optimizer_variables(optimizer, trainable)
    out = []
    for i, (array, like) in enumerate(zip(arrays, current)):
        target = np.int64 if i == 0 else np.asarray(like).dtype
        value = limits.convert(path, f"{where}: optimizer variable {i}", array, target)
        if i == 0 and np.any(value < 0):
            raise file_error(path, f"{where}: optimizer variable 0", "holds a negative iteration count")
        if i == 1 and not callable(getattr(optimizer, "_learning_rate", None)) and not np.all(np.isfinite(value)):
            raise file_error(path, f"{where}: optimizer variable 1", "holds a non-finite learning rate")
        out.append(value.astype(np.asarray(like).dtype) if i == 0 else value)
    return out


def set_optimizer_variables(optimizer, trainable, arrays: list[np.ndarray]) -> None:
    """Restore what ``optimizer_variables`` gave (shapes already checked by the caller)."""
    _ensure_built(optimizer, trainable)
    optimizer.load_own_variables({str(i): a for i, a in enumerate(arrays)})


# ---- random state -------------------------------------------------------------------------------
def get_rng_state():
    """The state of the generator behind fit's shuffling, dropout and initializers (JSON-able)."""
    from .. import utils

    return utils.get_rng_state()


def checked_rng_state(state, path, where):
    """A saved random state validated as data (``nn.utils.random_state.check_rng_state``), or None."""
    if state is None:
        return None
    from ..utils.random_state import check_rng_state

    try:
        return check_rng_state(state)
    except ValueError as error:
        raise file_error(path, where, f"nn_rng_state is not a random state: {error}") from None


def attach_rng_state(model, state) -> None:
    """Keep a loaded model's saved random state on the model: loading leaves the global stream
    alone (Keras' ``load_model`` does too); the model's next ``fit`` continues from it."""
    if state is not None:
        model._saved_rng_state = state


# ---- compile --------------------------------------------------------------------------------------
def _loss_entry(loss):
    """A loss as Keras serializes it: names stay names, nn's loss functions their names, loss
    objects (nn's or registered) and registered functions their ``serialize_keras_object`` form."""
    from .. import losses

    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):
        return [_loss_entry(x) for x in loss]
    if isinstance(loss, dict):
        if "class_name" in loss:  # already Keras' serialized form
            return _jsonable(loss)
        return {k: _loss_entry(v) for k, v in loss.items()}
    name = getattr(loss, "__name__", None)
    if name and not isinstance(loss, type) and getattr(losses, name, None) is loss:
        return name  # a built-in loss function: Keras saves its registered name
    from .object_registration import GLOBAL_CUSTOM_NAMES
    from .serialization_lib import serialize_keras_object

    if isinstance(loss, losses.Loss) or GLOBAL_CUSTOM_NAMES.get(loss) is not None:
        return serialize_keras_object(loss)
    raise ValueError(
        f"save: the loss {loss!r} is a Python function that nn cannot find again by name; use a name "
        f"('mse'), an nn.losses.Loss, or register it with nn.saving.register_keras_serializable"
    )


def _metric_entry(metric):
    """A metric as Keras serializes it: a name stays a name, an object (any name it was given)
    or a function its ``serialize_keras_object`` form."""
    if metric is None or isinstance(metric, str):
        return metric
    if isinstance(metric, (list, tuple)):
        return [_metric_entry(m) for m in metric]
    if isinstance(metric, dict):
        if "class_name" in metric:
            return _jsonable(metric)
        return {k: _metric_entry(v) for k, v in metric.items()}
    from .serialization_lib import serialize_keras_object

    try:
        return serialize_keras_object(metric)
    except (TypeError, ValueError) as error:
        raise ValueError(f"save: the metric {metric!r} cannot be saved: {error}") from None


def serialize_compile_arguments(config: dict, optimizer) -> dict:
    """Keras' ``compile_config`` from the arguments ``compile`` was given (``model._compile_config``)."""
    return _jsonable(
        {
            "optimizer": serialize_optimizer(optimizer),
            "loss": _loss_entry(config.get("loss")),
            "loss_weights": config.get("loss_weights"),
            "metrics": _metric_entry(config.get("metrics")),
            "weighted_metrics": _metric_entry(config.get("weighted_metrics")),
            "run_eagerly": bool(config.get("run_eagerly", False)),
            "steps_per_execution": int(config.get("steps_per_execution", 1)),
            "jit_compile": config.get("jit_compile", "auto"),
            "auto_scale_loss": bool(config.get("auto_scale_loss", True)),
        }
    )


def compile_config(model) -> dict | None:
    """Keras' ``compile_config`` of a compiled model (``model.get_compile_config()``), or None."""
    return model.get_compile_config()


def _deserialize_loss(entry, path):
    from .. import losses

    where = "compile_config.loss"
    if entry is None or isinstance(entry, str):
        try:
            if entry is not None:
                losses.get(entry)  # checked here; compile gets the name, as Keras' compile_from_config does
            return entry
        except ValueError as error:
            raise file_error(path, where, str(error)) from None
    if isinstance(entry, list):
        return [_deserialize_loss(e, path) for e in entry]
    if isinstance(entry, dict) and "class_name" not in entry:
        return {k: _deserialize_loss(v, path) for k, v in entry.items()}
    if not isinstance(entry, dict):
        raise file_error(path, where, f"expected a loss name or {{'class_name', 'config'}}, got {entry!r}")
    cls = vars(losses).get(entry["class_name"])
    if not (isinstance(cls, type) and issubclass(cls, losses.Loss)) or entry.get("registered_name") not in (
        None,
        entry["class_name"],
    ):
        return _deserialize_object(entry, path, where)
    config = {k: v for k, v in dict(entry.get("config") or {}).items() if k != "name"}
    return construct(cls, config, path, where)


def _deserialize_object(entry, path, where):
    """A registered or ``custom_objects`` object (``serialization_lib``), as a file error if unknown."""
    from .serialization_lib import deserialize_keras_object

    try:
        return deserialize_keras_object(entry)
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise file_error(path, where, str(error)) from None


def _deserialize_metrics(entry, path, where):
    """Metric names stay names; Keras' serialized metric objects become nn metric objects (with
    the name they were given); lists and dicts (per output) keep their shape."""
    if entry is None or isinstance(entry, str):
        return entry
    if isinstance(entry, list):
        return [_deserialize_metrics(m, path, where) for m in entry]
    if isinstance(entry, dict) and "class_name" not in entry:
        return {k: _deserialize_metrics(v, path, where) for k, v in entry.items()}
    if isinstance(entry, dict):
        return _deserialize_object(entry, path, where)
    raise file_error(path, where, f"expected metric names or serialized metrics, got {entry!r:.200}")


def compile_from_config(model, config: dict, path) -> None:
    """``model.compile(...)`` from Keras' ``compile_config`` with every argument it holds
    (checked and rebuilt before compiling); a config without a loss leaves the model uncompiled."""
    if not isinstance(config, dict):
        raise file_error(path, "compile_config", f"expected a dict, got {type(config).__name__}")
    optimizer = deserialize_optimizer(config.get("optimizer", "rmsprop"), path)
    loss = _deserialize_loss(config.get("loss"), path)
    if loss is None:
        return
    kwargs = {"optimizer": optimizer, "loss": loss}
    kwargs["metrics"] = _deserialize_metrics(config.get("metrics"), path, "compile_config.metrics")
    kwargs["weighted_metrics"] = _deserialize_metrics(
        config.get("weighted_metrics"), path, "compile_config.weighted_metrics"
    )
    loss_weights = config.get("loss_weights")
    if loss_weights is not None:
        kwargs["loss_weights"] = loss_weights
    for key, kind in (("run_eagerly", bool), ("steps_per_execution", int), ("auto_scale_loss", bool)):
        value = config.get(key)
        if value is not None:
            if not isinstance(value, kind) or kind is int and isinstance(value, bool):
                raise file_error(path, f"compile_config.{key}", f"expected a {kind.__name__}, got {value!r:.100}")
            kwargs[key] = value
    if config.get("jit_compile") is not None:
        if config["jit_compile"] not in (True, False, "auto"):
            raise file_error(
                path,
                "compile_config.jit_compile",
                f"expected True, False or 'auto', got {config['jit_compile']!r:.100}",
            )
        kwargs["jit_compile"] = config["jit_compile"]
    try:
        model.compile(**kwargs)
    except (TypeError, ValueError) as error:
        raise file_error(path, "compile_config", f"model.compile refused it: {error}") from None


def _jsonable(value):
    """Plain JSON types (numpy scalars become Python numbers, tuples lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return value.name
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    get_config = getattr(value, "get_config", None)
    if get_config is not None:
        return {"class_name": type(value).__name__, "config": _jsonable(get_config())}
    raise ValueError(f"save: cannot store {value!r} ({type(value).__name__}) in a config")


jsonable = _jsonable
