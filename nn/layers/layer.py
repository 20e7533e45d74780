"""``Layer``: Keras 3's layer base (weights, build, call, config, losses) on autograd_mini.

A layer is built from its input shape: on the first call, or at construction when the input
size is given (``Dense(8, input_dim=4)``, ``Dense(8, input_shape=(4,))``), so its weights exist
before any call (``nn.optimizers.Adam(layer.parameters())`` holds them). Called on
``KerasTensor`` inputs it records the call symbolically (``nn.symbolic``).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

import autograd_mini as am

from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..module import LossTerms, Module, Parameter, losses_rule, note_loss_term
from ..symbolic import symbolic_call
from ..utils import snake_case, unique_name
from .keras_tensor import KerasTensor
from .saving_methods import LayerSavingMethods

_FLOAT_DTYPES = ("float16", "float32", "float64")
ALLOCATION_GUARDS: list = []  # callables (layer, name, shape, dtype) run before add_weight allocates (nn.saving's limits)


def standardize_dtype(dtype, where: str) -> np.dtype:
    """A float numpy dtype from None ('float32'), a name, a numpy dtype or Keras' DTypePolicy config."""
    if dtype is None:
        return np.dtype(np.float32)
    if isinstance(dtype, dict):  # Keras 3 serializes the dtype policy as a nested config
        dtype = dtype.get("config", {}).get("name", dtype)
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.name not in _FLOAT_DTYPES:
        raise ValueError(f"{where}: dtype must be one of {list(_FLOAT_DTYPES)}, got {dtype!r}")
    return result


def _is_symbolic(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, KerasTensor):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _first_shape(inputs) -> tuple:
    if isinstance(inputs, (list, tuple)):
        return [tuple(t.shape) for t in inputs]
    return tuple(inputs.shape)


_CONCRETE = (am.Tensor, np.ndarray)


class Layer(LayerSavingMethods, Module):
    """Keras 3's ``keras.layers.Layer``.

    Subclasses write ``build(input_shape)`` (create weights with ``add_weight``), ``call(inputs,
    training=None)`` and ``get_config()``. ``__call__`` converts arrays to Tensors, builds on the
    first call, runs ``call`` inside ``am.name_scope(self.name)`` and records the activity
    regularization of the outputs (divided by the batch size, as Keras does).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            cls.__init__ = _build_after_init(init)
        call = cls.__dict__.get("call")
        if call is not None:
            cls._call_takes_training, cls._call_takes_mask = call_accepts(call)

    _call_takes_training = True
    _call_takes_mask = True

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None, **kwargs):
        input_dim = kwargs.pop("input_dim", None)
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        super().__init__()
        self.training = False  # Keras: inference unless training=True is passed (or fit runs)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = standardize_dtype(dtype, type(self).__name__)
        self.autocast = autocast
        self.built = False
        self._trainable = bool(trainable)
        self._weights: list[Parameter] = []
        self._losses: list = []
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self.input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            if isinstance(input_shape, (int, np.integer)):
                input_shape = (input_shape,)
            self.input_shape = (batch_size,) + tuple(input_shape)
        else:
            self.input_shape = None
        self.output_shape = None

    # -- what subclasses write ------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""

    def call(self, inputs, training=None):
        """The layer's computation on Tensors."""
        raise NotImplementedError(f"{type(self).__name__}.call is not implemented")

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (default: unchanged, as Keras' elementwise layers)."""
        return input_shape

    def get_config(self) -> dict:
        """Keras 3's base keys: name, trainable, dtype (a DTypePolicy config)."""
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {
                "module": "keras",
                "class_name": "DTypePolicy",
                "config": {"name": self.dtype.name},
                "registered_name": None,
            },
        }
        if self.activity_regularizer is not None and type(self).get_config is Layer.get_config:
            config["activity_regularizer"] = regularizers_module.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        """The layer ``cls(**config)`` (Keras' default)."""
        return cls(**config)

    # -- machinery --------------------------------------------------------------------------------
    def _awaits_build(self) -> bool:
        """Not built and with a ``build`` of its own: its weights appear on the first call."""
        return not self.built and type(self).build is not Layer.build

    def build_for(self, input_shape):
        """Build once for ``input_shape``; return (and remember) the output shape."""
        if isinstance(input_shape, list):
            input_shape = [tuple(s) for s in input_shape]
        else:
            input_shape = tuple(input_shape)
        if not self.built:
            self.input_shape = input_shape
            self.build(input_shape)
            self.built = True
        self.output_shape = self.compute_output_shape(input_shape)
        return self.output_shape

    def _convert(self, x):
        if isinstance(x, am.Tensor):
            return x
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (am.Tensor, np.ndarray)):
            return [self._convert(item) for item in x]
        array = np.asarray(x)
        if array.dtype.kind in "fiub" and array.dtype != self.dtype and self._casts_inputs:
            array = array.astype(self.dtype)
        return am.as_tensor(array)

    _casts_inputs = True  # Embedding keeps its integer indices

    def __call__(self, *args, **kwargs):
        """Run the layer: build on first call, then ``call`` in ``am.name_scope(self.name)``."""
        first = args[0] if args else None
        if type(first) not in _CONCRETE and (_is_symbolic(args) or _is_symbolic(kwargs)):
            return symbolic_call(self, args, kwargs)
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{type(self).__name__}: missing the inputs (first positional argument)")
            args = (kwargs.pop("inputs"),)
        inputs = self._convert(args[0])
        training = kwargs.pop("training", None)
        if training is None:
            training = self.training
        if not self.built:
            shape = _first_shape(inputs)
            if isinstance(shape, list):
                self.build_for([(None,) + s[1:] for s in shape])
            else:
                self.build_for((None,) + shape[1:] if shape else shape)
        if self._losses:
            self._losses = []
        if self._call_takes_training:
            kwargs["training"] = training
        if not self._call_takes_mask and kwargs.get("mask", 0) is None:
            del kwargs["mask"]  # Keras passes mask only to a call that accepts it
        with am.name_scope(self.name):
            outputs = self.call(inputs, *args[1:], **kwargs)
        if self.activity_regularizer is not None:
            for out in outputs if isinstance(outputs, (list, tuple)) else (outputs,):
                loss = self.activity_regularizer(out)
                if out.ndim > 0 and out.shape[0]:
                    loss = loss / out.shape[0]
                self._losses.append(loss)
            LossTerms.possible = True
        return outputs

    def forward(self, *args, **kwargs):
        """PyTorch-style alias of ``__call__``."""
        return self(*args, **kwargs)

    # -- the functional graph ---------------------------------------------------------------------
    @property
    def input(self):
        """The KerasTensor(s) this layer was first called on (Keras' ``layer.input``)."""
        return self._node_tensors("input")

    @property
    def output(self):
        """The KerasTensor(s) the first call of this layer returned (Keras' ``layer.output``)."""
        if "_output" in self.__dict__:
            return self.__dict__["_output"]
        return self._node_tensors("output")

    @output.setter
    def output(self, value) -> None:
        self.__dict__["_output"] = value  # InputLayer keeps its placeholder here

    def _node_tensors(self, which: str):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"Layer '{self.name}' has no defined {which}: it was never called on a KerasTensor (keras.Input)"
            )
        node = nodes[0]
        if which == "output":
            return node.outputs
        if not node.inputs:  # an InputLayer: its own placeholder
            return node.outputs
        return node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)

    # -- weights ----------------------------------------------------------------------------------
    def add_weight(
        self,
        *args,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ) -> Parameter:
        """Create a weight with Keras 3's signature ``add_weight(shape, initializer, dtype, *,
        trainable, regularizer, constraint, name, ...)``; the Variable's ``name`` is ``name``
        ('kernel'), its ``path`` '<layer>/<name>'. It is listed in ``self.weights`` and kept as
        ``self.<name>``. nn's own layers also use the form ``add_weight(name, shape, initializer)``
        (a string first). Default initializer: 'glorot_uniform' ('zeros' when ``shape`` is ()).
        """
        if args and isinstance(args[0], str):  # nn's (and Keras 2's) add_weight(name, shape, initializer, ...)
            if name is not None:
                raise ValueError(f"{self.name}.add_weight: name given twice ({args[0]!r} and name={name!r})")
            name, args = args[0], args[1:]
        if len(args) > 3:
            raise TypeError(
                f"add_weight() takes at most 3 positional arguments (shape, initializer, dtype), got {len(args)}"
            )
        given = {"shape": shape, "initializer": initializer, "dtype": dtype}
        for key, value in zip(("shape", "initializer", "dtype"), args):
            if given[key] is not None:
                raise ValueError(
                    f"{self.name}.add_weight: `{key}` was passed both positionally and as a keyword argument"
                )
            given[key] = value
        shape, initializer, dtype = given["shape"], given["initializer"], given["dtype"]
        if shape is None:
            shape = ()
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        shape = tuple(shape)
        if any(not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
            raise ValueError(f"{self.name}.add_weight: shape must be non-negative ints, got {shape!r}")
        if name is None:
            name = f"variable_{len(self._weights)}" if self._weights else "variable"
        dtype = self.dtype if dtype is None else standardize_dtype(dtype, f"{self.name}.add_weight")
        if initializer is None:
            initializer = "zeros" if shape == () else "glorot_uniform"
        init = initializers_module.get(initializer)
        for guard in ALLOCATION_GUARDS:
            guard(self, name, shape, dtype)
        data = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        if data.shape != shape:
            data = np.broadcast_to(data, shape).copy()
        param = Parameter(
            data,
            name=name,
            trainable=bool(trainable) and self._trainable,
            regularizer=regularizers_module.get(regularizer),
            constraint=_get_constraint(constraint),
        )
        param.requires_grad = bool(trainable) and self._trainable
        param._path = f"{self.name}/{name}"
        if trainable:
            self.__dict__.setdefault("_created_trainable", set()).add(id(param))
        self._weights.append(param)
        if not hasattr(type(self), name) and name.isidentifier():
            object.__setattr__(self, name, param)
        return param

    def _children(self):
        seen = set()
        for p in self._ordered_own_weights():
            seen.add(id(p))
            yield p.name or "weight", p
        for key, value in super()._children():
            if id(value) not in seen:
                yield key, value

    def _ordered_own_weights(self) -> list:
        own = self._weights
        return [p for p in own if p.trainable] + [p for p in own if not p.trainable]

    def _sublayers(self) -> list:
        if type(self).__dict__.get("_LEAF", False):  # nn's own layers hold none: no scan on every step
            return []
        return [v for _, v in Module._children(self) if isinstance(v, Module)]

    @property
    def trainable(self) -> bool:
        """False freezes the layer: its weights leave ``trainable_weights`` and get no gradient."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Keras 3's rule: the flag goes to every weight created trainable, and to every
        sublayer and nested model (a frozen BatchNormalization then runs in inference mode)."""
        self._trainable = bool(value)
        created = self.__dict__.get("_created_trainable", set())
        for p in self._weights:
            if id(p) in created:
                p.trainable = self._trainable
            p.requires_grad = bool(p.trainable)
        for layer in self._sublayers():
            if hasattr(layer, "trainable"):
                layer.trainable = value

    @property
    def weights(self) -> list[Parameter]:
        """All weights: this layer's (trainable, then non-trainable), then its sublayers'."""
        return self.parameters()

    @property
    def trainable_weights(self) -> list[Parameter]:
        """``weights`` whose variable is trainable (none when ``trainable`` is False), in ``weights`` order."""
        if not self._trainable:
            return []
        return [p for p in self.weights if getattr(p, "trainable", True)]

    @property
    def non_trainable_weights(self) -> list[Parameter]:
        """The other weights (moving statistics; all of them when the layer is frozen)."""
        if not self._trainable:
            return self.weights
        return [p for p in self.weights if not getattr(p, "trainable", True)]

    @property
    def trainable_variables(self) -> list[Parameter]:
        """Keras' alias of ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Parameter]:
        """Keras' alias of ``non_trainable_weights``."""
        return self.non_trainable_weights

    @property
    def variables(self) -> list[Parameter]:
        """Keras' alias of ``weights``."""
        return self.weights

    def count_params(self) -> int:
        """The number of scalars in all weights (Keras: raises if the layer is not built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "Call it on inputs, or give input_shape= / input_dim= at construction."
            )
        return int(sum(p.size for p in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' arrays, in ``weights`` order."""
        return [p.data.copy() for p in self.weights]

    def set_weights(self, weights) -> None:
        """Assign arrays to the weights (``weights`` order); every shape is checked before any
        is written, and writes go through ``Parameter.mutable_data()`` (copy-on-write)."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"set_weights: layer '{self.name}' has {len(params)} weights "
                f"({', '.join(str(p.path) for p in params)}), got a list of {len(weights)}"
            )
        arrays = []
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"set_weights: '{p.path}' has shape {p.shape}, got an array of shape {w.shape}")
            if w.dtype.kind not in "fiub":
                raise ValueError(f"set_weights: '{p.name}' needs numbers, got an array of dtype {w.dtype}")
            arrays.append(w)
        for p, w in zip(params, arrays):
            p.mutable_data()[...] = w

    # -- losses -------------------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar loss Tensor (cleared at the start of the next call)."""
        note_loss_term()
        self._losses.append(loss)

    @property
    @losses_rule
    def losses(self) -> list:
        """Activity and ``add_loss`` losses of the last call, then the weight regularization
        penalties of the trainable weights (Keras 3's order)."""
        subs = self._sublayers()  # one scan of the attributes: this runs on every training step
        out = list(self._losses)
        for layer in subs:
            if isinstance(layer, Layer):
                out += layer._losses
        return out + self._weight_penalties(subs)

    def regularization_losses(self) -> list:
        """The penalties ``regularizer(weight)`` of the trainable weights."""
        return self._weight_penalties(self._sublayers())

    def _weight_penalties(self, subs) -> list:
        """``regularization_losses`` given the sublayers: own weights (trainable first, as
        ``trainable_weights`` orders them), then each sublayer's."""
        if not self._trainable:
            return []
        out = [p.regularizer(p) for p in self._weights if p.trainable and getattr(p, "regularizer", None) is not None]
        for layer in subs:
            if isinstance(layer, Layer):
                out += layer.regularization_losses()
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def _get_constraint(constraint):
    if constraint is None:
        return None
    from .. import constraints

    return constraints.get(constraint)


def _build_after_init(init):
    """Wrap a subclass ``__init__``: when the outermost ``__init__`` returns and the input shape
    was given, build the weights right away (Keras builds such layers eagerly)."""

    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        depth = self.__dict__.get("_init_depth", 0)
        self.__dict__["_init_depth"] = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            self.__dict__["_init_depth"] = depth
        if depth == 0:
            del self.__dict__["_init_depth"]
            shape = self.__dict__.get("input_shape")
            if shape is not None and not self.__dict__.get("built", True):
                self.build_for(shape)

    return wrapped


def call_accepts(call) -> tuple[bool, bool]:
    """Whether ``call`` accepts ``training`` and ``mask`` (by name or through ``**kwargs``)."""
    params = inspect.signature(call).parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return ("training" in params or var_kw), ("mask" in params or var_kw)
