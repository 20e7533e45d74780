"""``Optimizer``: Keras 3's optimizer base (``keras.optimizers.Optimizer``) on numpy arrays.

Keras style: ``model.compile(optimizer=Adam(1e-3))``, ``opt.apply_gradients(zip(grads, vars))``,
``opt.apply(grads, vars)``. PyTorch style: ``opt = Adam(model.parameters(), learning_rate=1e-3)``,
``loss.backward(); opt.step(); opt.zero_grad()``. A first positional argument that is an iterable
of Tensors is the parameter list; otherwise it is the learning rate (``SGD(0.01)``).

One step, in Keras' order (``BaseOptimizer.apply``): drop missing gradients, divide by
``loss_scale_factor``, then either accumulate (``gradient_accumulation_steps``: every n-th call
applies the mean of the n gradients; ``iterations`` counts applied steps) or: clip
(``clipnorm`` per tensor, ``global_clipnorm``, ``clipvalue``), decoupled weight decay
``p -= p * weight_decay * lr``, the optimizer's rule; then the EMA of the weights
(``use_ema``), overwritten into the weights every ``ema_overwrite_frequency`` steps.

A step is all-or-nothing: every gradient is checked (shape, dtype) before the first write, and
the arithmetic after it cannot fail on checked inputs. Parameters are written through
``Tensor.mutable_data()`` (copy-on-write: a live graph keeps the old values). Slot buffers and
one scratch buffer per parameter are preallocated. Each elementwise rule is written once
(``nn.optimizers.rules``): numpy evaluates it on whole arrays, numba compiles it into a loop
kernel for large variables (``nn.optimizers.fused``); the step's scalars are cast to each
variable's dtype, as Keras does (float32 stays float32).

A step that would leave a non-finite weight is undone (nn's rule; Keras writes NaN): a
``FiniteGuard`` per set of variables copies what the step writes (weights, slots, extra state)
before it and checks the weights after it, a few array copies and one dot product per step.

End of training with EMA: the trainer calls ``optimizer.finalize_variable_values(
model.trainable_weights)`` in ``on_train_end`` order, as Keras' ``fit`` does, to swap the
averages in.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import warnings

import numpy as np

import autograd_mini as am

from ..utils import unique_name
from . import fused as fused_module
from . import rules as rules_module
from . import schedules as schedules_module
from .finite_guard import FiniteGuard
from .finite_guard import all_finite as _all_finite

Tensor = am.Tensor

_LR_ERROR = (
    "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
    "(that takes in the current iteration value and returns the corresponding learning rate value). "
    "Received instead: learning_rate={!r}"
)


def _check_learning_rate(value):
    """A float (ints and numpy floats accepted), a LearningRateSchedule or a callable; not negative."""
    if isinstance(value, schedules_module.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(_LR_ERROR.format(value))
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Argument `learning_rate` must be a finite number >= 0. Received: learning_rate={value}")
    return value


def _as_param_list(candidate, owner_name: str):
    """The parameter list when ``candidate`` is an iterable of Tensors (PyTorch style), else None."""
    if isinstance(candidate, am.Tensor):
        raise TypeError(
            f"{owner_name}: params argument given to the optimizer should be an iterable of Tensors, "
            f"but got a single {type(candidate).__name__}; pass [tensor]"
        )
    if (
        candidate is None
        or isinstance(candidate, (str, bytes, numbers.Number, dict))
        or callable(candidate)
        or not hasattr(candidate, "__iter__")
    ):
        return None
    unbuilt = getattr(candidate, "unbuilt", None)
    if unbuilt:
        path, layer = unbuilt[0]
        owner = type(getattr(candidate, "owner", None)).__name__
        others = f" (and {len(unbuilt) - 1} more: {[p for p, _ in unbuilt[1:]]})" if len(unbuilt) > 1 else ""
        raise ValueError(
            f"{owner_name}: layer {path!r} ({type(layer).__name__} '{layer.name}') of {owner} is not built yet, so "
            f"its weights do not exist and this optimizer would never train them{others}. Call the model once "
            f"on a batch (model(x)) before creating the optimizer, or declare the layer's input shape "
            f"(e.g. input_dim=... / input_shape=(...)) so that it is built at construction"
        )
    params = list(candidate)
    if not params:
        raise ValueError(f"{owner_name}: optimizer got an empty parameter list")
    for p in params:
        if isinstance(p, dict):
            raise TypeError(f"{owner_name}: parameter groups (dicts) are not supported; pass a flat list of Parameters")
        if not isinstance(p, am.Tensor):
            raise TypeError(
                f"{owner_name}: expected an iterable of Tensors/Parameters, got an element {type(p).__name__}"
            )
    return params


class Optimizer:
    """Keras 3's optimizer base. Subclasses define ``build_slots()`` (``add_optimizer_variables``)
    and either ``update_rule(learning_rate)`` (an elementwise rule of ``nn.optimizers.rules``,
    run by numpy or a numba kernel) or ``update_step(i, variable, gradient, learning_rate, scratch)``
    on numpy arrays."""

    _default_name = "optimizer"

    def __init_subclass__(cls, **kwargs):
        """Wrap each subclass' ``__init__`` so a PyTorch-style parameter list may come first."""
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__dict__["__init__"]

        @functools.wraps(init)
        def __init__(self, *args, params=None, **kw):
            given = params
            if "lr" in kw:  # TF 2.x's deprecated alias (the lectures' SGD(lr=0.1)); Keras 3 refuses it
                _lr_alias(cls.__name__, kw)
            if getattr(self, "_init_depth", 0) == 0 and params is None and args:
                found = _as_param_list(args[0], cls.__name__)
                if found is not None:
                    given = args[0]
                    params, args = found, args[1:]
            elif params is not None:
                params = _as_param_list(params, cls.__name__)
                if params is None:
                    raise TypeError(f"{cls.__name__}: params must be an iterable of Tensors")
            self._init_depth = getattr(self, "_init_depth", 0) + 1
            try:
                init(self, *args, **kw)
            finally:
                self._init_depth -= 1
            if params is not None:
                self.build(params)
                owner = getattr(given, "owner", None)
                if owner is not None:  # step() reports gradients of this module that no optimizer applies
                    self._owners.append(owner)

        cls.__init__ = __init__

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        for arg, value in (("weight_decay", weight_decay), ("loss_scale_factor", loss_scale_factor)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise ValueError(f"Argument `{arg}` must be a float or None. Received: {arg}={value!r}")
        self.name = name if name is not None else unique_name(self._default_name)
        self.weight_decay, self.clipnorm = weight_decay, clipnorm
        self.clipvalue, self.global_clipnorm = clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate = _check_learning_rate(learning_rate)
        self._iterations = 0
        self.built = False
        self._vars: list = []
        self._index: dict[int, int] = {}
        self._scratch: list[np.ndarray] = []
        self._groups: list[tuple[tuple[str, ...], tuple[float, ...]]] = []
        self._slots: dict[str, list[np.ndarray]] = {}
        self._extra_variables: list[np.ndarray] = []
        self._exclude_ids: set[int] = set()
        self._exclude_pattern = None
        self._owners: list = []  # modules whose parameters() built this optimizer (PyTorch style)
        self._guards: dict[tuple, FiniteGuard] = {}  # variable indices -> the undo of a step on them
        self._warned_skip = False
        self._slot_rows: dict = {}  # slot names -> per variable, its slots in that order (``_update``)
        self._cast_memo = None  # (scalars, dtype, cast): the last step's cast scalars (``_update``)

    # ---- step count and learning rate --------------------------------------------------------
    @property
    def iterations(self) -> int:
        """Applied steps (with gradient accumulation: calls // gradient_accumulation_steps)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"iterations must be an int >= 0, got {value!r}")
        self._iterations = int(value) * (self.gradient_accumulation_steps or 1)

    @property
    def learning_rate(self) -> float:
        """The current rate: a schedule's value at the raw step count, a callable's ``()``, or the float."""
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        value = _check_learning_rate(value)
        if not callable(value) and isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                "to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        self._learning_rate = value

    @property
    def current_learning_rate(self) -> float:
        """Alias of ``learning_rate`` (the value used by the next step)."""
        return self.learning_rate

    # ---- variables -----------------------------------------------------------------------------
    def build(self, var_list) -> None:
        """Create the slot variables for ``var_list`` (Keras: once; later calls do nothing)."""
        if self.built:
            return
        var_list = list(var_list)
        self._check_tensors(var_list)
        self._add_vars(var_list)
        if self.use_ema:
            self.add_optimizer_variables("average")
        if self.gradient_accumulation_steps:
            self.add_optimizer_variables("gradient_accumulator")
        self.build_slots()
        self.built = True

    def build_slots(self) -> None:
        """Subclasses: create their slot variables with ``add_optimizer_variables``."""

    def _check_tensors(self, var_list) -> None:
        for p in var_list:
            if not isinstance(p, am.Tensor) or p.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}: variables must be float Tensors/Parameters, got "
                    f"{type(p).__name__}{'' if not isinstance(p, am.Tensor) else ' of dtype ' + str(p.dtype)}"
                )

    def _add_vars(self, var_list) -> list[int]:
        new = []
        for p in var_list:
            if id(p) in self._index:
                continue
            self._index[id(p)] = len(self._vars)
            self._vars.append(p)
            self._scratch.append(np.empty_like(p.data))
            new.append(len(self._vars) - 1)
        self._guards.clear()  # (their slots change)
        self._slot_rows.clear()
        for names, fills in self._groups:  # an extension: every slot gets the new variables
            for name, fill in zip(names, fills):
                self._slots[name].extend(np.full_like(self._vars[i].data, fill) for i in new)
        return new

    def add_params(self, params) -> None:
        """PyTorch style: track more parameters (builds on the first call)."""
        params = list(params)
        self._check_tensors(params)
        if not self.built:
            self.build(params)
        else:
            self._add_vars(params)

    def add_optimizer_variables(self, names, initial_values=0.0) -> None:
        """One slot per variable for each name (Keras' order: per variable, the names in turn)."""
        names = (names,) if isinstance(names, str) else tuple(names)
        fills = (initial_values,) * len(names) if isinstance(initial_values, numbers.Real) else tuple(initial_values)
        self._groups.append((names, fills))
        self._guards.clear()
        self._slot_rows.clear()
        for name, fill in zip(names, fills):
            self._slots[name] = [np.full_like(p.data, fill) for p in self._vars]

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras' order: iterations, learning_rate (unless a schedule/callable), then the slots
        (EMA averages, gradient accumulators, the optimizer's own), per variable within each group."""
        out = [np.array(self._iterations, dtype=np.int64)]
        if not callable(self._learning_rate):
            out.append(np.array(self._learning_rate, dtype=np.float64))  # float64: a resume is exact
        for names, _ in self._groups:
            for i in range(len(self._vars)):
                out.extend(self._slots[name][i] for name in names)
        return out + list(self._extra_variables)

    @property
    def trainable_variables(self) -> list:
        """The variables this optimizer updates, in the order it was built with."""
        return list(self._vars)

    def variable_index(self, variable) -> int:
        """The position of ``variable`` in ``trainable_variables`` (KeyError when not tracked)."""
        return self._index[id(variable)]

    def slot(self, name: str, variable) -> np.ndarray:
        """The slot array ``name`` ("momentum", "velocity", "average", ...) of ``variable``, the one
        ``variables`` lists (updated in place by each step)."""
        return self._slots[name][self.variable_index(variable)]

    def save_own_variables(self, store) -> None:
        """Write ``variables`` into ``store`` under keys "0", "1", ... (copies)."""
        for i, value in enumerate(self.variables):
            store[str(i)] = np.array(value, copy=True)

    def load_own_variables(self, store) -> None:
        """Read ``variables`` back; a count mismatch warns and loads nothing (Keras); shapes are checked first."""
        variables = self.variables
        if len(store.keys()) != len(variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(variables)} "
                f"variables whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        values = [np.asarray(store[str(i)]) for i in range(len(variables))]
        for i, (variable, value) in enumerate(zip(variables, values)):
            if variable.shape != value.shape:
                raise ValueError(
                    f"load_own_variables: optimizer variable {i} has shape {variable.shape}, "
                    f"the stored value has shape {value.shape}"
                )
        self._iterations = int(values[0])
        start = 1
        if not callable(self._learning_rate):
            self._learning_rate = float(values[1])
            start = 2
        for variable, value in zip(variables[start:], values[start:]):
            np.copyto(variable, value, casting="unsafe")

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """No weight decay for these variables, or for variables whose name matches one of ``var_names``."""
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return not (pattern is not None and pattern.search(variable.name or "") is not None)

    # ---- stepping ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """PyTorch style: clear every tracked parameter's ``.grad`` (or set it to zeros)."""
        for p in self._vars:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = am.Tensor(np.zeros_like(p.data))

    def step(self) -> None:
        """PyTorch style: one step from each trainable parameter's ``.grad`` (none: no-op)."""
        pairs = [
            (i, p, p.grad) for i, p in enumerate(self._vars) if p.grad is not None and getattr(p, "trainable", True)
        ]
        if pairs:
            self._apply(pairs)
        if self._owners:
            self._report_untracked()

    def _report_untracked(self) -> None:
        """After the first ``step()``: warn (once) about parameters of the module(s) this optimizer
        was given that have a gradient but are not tracked (created after the optimizer, say)."""
        owners, self._owners = self._owners, []
        untracked = [
            name
            for owner in owners
            for name, p in owner.named_parameters()
            if p.grad is not None and id(p) not in self._index
        ]
        if untracked:
            more = f" and {len(untracked) - 4} more" if len(untracked) > 4 else ""
            warnings.warn(
                f"{type(self).__name__}.step(): {len(untracked)} parameter(s) with a gradient are not tracked by "
                f"this optimizer and were not updated: {', '.join(untracked[:4])}{more}. They were created after the optimizer "
                f"(a layer built on its first call); create the optimizer after calling the model once, or call "
                f"optimizer.add_params(model.parameters())",
                UserWarning,
                stacklevel=3,
            )

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras style: ``[(gradient, variable), ...]``; returns ``iterations``."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"apply_gradients: expected (gradient, variable) pairs, got {pair!r}")
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self.iterations

    def apply(self, grads, trainable_variables=None) -> None:
        """Keras style: one step with ``grads`` for ``trainable_variables`` (default: the built list).
        Builds on first use; a ``None`` gradient skips its variable (with Keras' warning)."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list "
                    "of variables. Call `optimizer.build(trainable_variables)` first."
                )
            if len(grads) != len(self._vars):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match "
                    f"`optimizer.variables` one-to-one. Received a list of {len(grads)} gradients, but the "
                    f"optimizer is tracking {len(self._vars)} trainable variables."
                )
            trainable_variables = self._vars
        else:
            trainable_variables = list(trainable_variables)
            if len(trainable_variables) != len(grads):
                raise ValueError(
                    f"apply: got {len(grads)} gradients for {len(trainable_variables)} variables; "
                    "they must match one-to-one"
                )
            if not self.built:
                self.build(trainable_variables)
            for v in trainable_variables:
                if id(v) not in self._index:
                    raise ValueError(
                        f"Unknown variable: {v!r}. This optimizer can only be called for the variables it was "
                        "originally built with. When working with a new set of variables, you should recreate "
                        "a new optimizer instance."
                    )
        pairs, missing = [], []
        for g, v in zip(grads, trainable_variables):
            if g is None:
                missing.append(v.name)
            else:
                pairs.append((self._index[id(v)], v, g))
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
        self._apply(pairs)

    def _check_gradients(self, pairs) -> tuple:
        """``(indices, variables, gradient arrays in the variables' dtypes)`` of the (index, variable,
        gradient) ``pairs``; raises before any write."""
        checked = []
        for i, v, g in pairs:
            array = g.data if isinstance(g, Tensor) else np.asarray(g)
            dtype, data = array.dtype, v.data
            if dtype is not data.dtype and dtype.kind not in "fiu":
                raise TypeError(
                    f"{type(self).__name__}: the gradient for variable {v.name or i} has dtype {dtype}; "
                    f"expected a real number dtype (the variable's is {v.dtype})"
                )
            if array.shape != data.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {array.shape} for variable {v.name or i} "
                    f"of shape {v.shape}"
                )
            if dtype is not data.dtype and dtype != data.dtype:
                array = array.astype(data.dtype)
            checked.append((i, v, array))
        return tuple(zip(*checked))

    def _apply(self, pairs) -> None:
        indices, variables, grads = self._check_gradients(pairs)
        lr = self.learning_rate
        if not math.isfinite(lr):
            raise ValueError(f"{type(self).__name__}: the learning rate is {lr} at step {self._iterations}")
        datas = [v.mutable_data() for v in variables]  # copy-on-write; values unchanged
        guard = self._guards.get(indices)
        if guard is None or not guard.fits(datas, len(self._extra_variables)):
            guard = self._new_guard(indices, datas)
        # -- from here on nothing can fail on checked inputs: the step is all-or-nothing --
        guard.save()
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        n = self.gradient_accumulation_steps
        if n:
            accumulators = [self._slots["gradient_accumulator"][i] for i in indices]
            if (self._iterations + 1) % n == 0:
                grads = [(g + acc) / n for g, acc in zip(grads, accumulators)]
                self._update(indices, variables, datas, grads, lr)
                for acc in accumulators:
                    acc.fill(0)
            else:
                for g, acc in zip(grads, accumulators):
                    acc += g
        else:
            self._update(indices, variables, datas, grads, lr)
        constrained = False
        for v in variables:  # Keras applies each variable's constraint after its update
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                np.copyto(v.mutable_data(), np.asarray(constraint(v.data), dtype=v.dtype))
                constrained = True
        if not guard.finite([v.data for v in variables] if constrained else datas):
            # never write a non-finite weight: the step is undone (nn's rule; Keras writes NaN)
            bad = [v for v in variables if not _finite(v.data)]
            guard.restore([v.mutable_data() for v in variables])
            self.skip_step(f"it would make {_names(bad)} non-finite")
            return
        if self.use_ema:
            self._update_ema()
        self._iterations += 1

    def _new_guard(self, indices, datas) -> FiniteGuard:
        """The ``FiniteGuard`` of steps on variables ``indices`` (arrays ``datas``): it copies their
        arrays, their slots and the optimizer's extra state (Nadam's product, Adafactor's factors).
        Kept per set of variables until the slots change (``_add_vars``, ``add_optimizer_variables``)."""
        slots = [self._slots[name][i] for i in indices for names, _ in self._groups for name in names]
        if len(self._guards) >= 8:  # steps on many different subsets of the variables: keep a few
            self._guards.clear()
        guard = self._guards[indices] = FiniteGuard(datas, slots, self._extra_variables)
        return guard

    def skip_step(self, why: str) -> None:
        """Record a step that was not applied (weights and slots keep the last finite step; the step
        count does not advance) and warn once per optimizer, naming the step."""
        if not self._warned_skip:
            self._warned_skip = True
            warnings.warn(
                f"{type(self).__name__} '{self.name}': step {self.iterations + 1} was skipped because {why}; the "
                f"weights are those of the last finite step (nn never writes a non-finite weight; learning rate "
                f"too high? am.detect_anomaly() finds the op). Further skipped steps are not reported.",
                RuntimeWarning,
                stacklevel=4,
            )

    def _update(self, indices, variables, datas, grads, lr) -> None:
        grads = self._clip_gradients(grads)
        if self.weight_decay is not None:
            scale = (self.weight_decay * lr,)
            for v, data in zip(variables, datas):
                if self._use_weight_decay(v):
                    fused_module.apply(rules_module.weight_decay, data, (), fused_module.cast(scale, data.dtype))
        self.before_update_step(lr)
        own = "update_step" in self.__dict__ or type(self).update_step is not Optimizer.update_step  # (_step_rule)
        found = None if own else self.update_rule(lr)
        if found is None:  # the optimizer's own numpy step (Lamb, Adafactor, a subclass' update_step)
            for i, data, g in zip(indices, datas, grads):
                self.update_step(i, data, g, lr, self._scratch[i])
            return
        rule, names, scalars = found
        rows = self._slot_rows.get(names) if names else ()
        if rows is None:  # per variable, its slots in the rule's order (kept until the slots change)
            rows = self._slot_rows[names] = [tuple(self._slots[n][i] for n in names) for i in range(len(self._vars))]
        minimum, loop = fused_module.MIN_FUSED_SIZE, fused_module.loop_update
        last, cast, memo = None, (), self._cast_memo
        for i, data, g in zip(indices, datas, grads):
            dtype = data.dtype
            if dtype is not last:  # the scalars cast to the variables' dtype, once per step
                last = dtype
                if memo is not None and memo[1] is dtype and memo[0] == scalars and 0.0 not in scalars:
                    cast = memo[2]  # the last step's (SGD's rate; no zero, whose sign == ignores)
                else:
                    cast = fused_module.cast(scalars, dtype)
                    memo = self._cast_memo = (scalars, dtype, cast)
            if g.dtype is not dtype and g.dtype != dtype:  # (a numpy float64 clipnorm promoted it) Keras' cast
                g = g.astype(dtype)
            arrays = rows[i] if rows else ()
            if data.size < minimum or not loop(rule, data, g, arrays, cast):
                out = rule(data, g, *arrays, *cast)  # (rules.update, inlined: the small variables' path)
                if out[0] is not data:
                    np.copyto(data, out[0])
                if arrays:
                    for slot, value in zip(arrays, out[1:]):
                        if value is not slot:
                            np.copyto(slot, value)

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            out = []
            for g in grads:
                norm = math.sqrt(float(np.sum(np.square(g))))
                out.append(g * self.clipnorm / max(norm, self.clipnorm))
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
            if not math.isfinite(norm):  # Keras: a non-finite norm makes every gradient NaN
                return [g * np.nan for g in grads]
            scale = self.global_clipnorm * min(1.0 / norm if norm else math.inf, 1.0 / self.global_clipnorm)
            return [g * scale for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _update_ema(self) -> None:
        momentum = self.ema_momentum if self.iterations != 0 else 0.0
        scalars = (momentum, 1 - momentum)
        averages = self._slots["average"]
        for i, p in enumerate(self._vars):
            if not getattr(p, "trainable", True):
                continue
            avg = averages[i]
            fused_module.apply(rules_module.ema, avg, (p.data,), fused_module.cast(scalars, avg.dtype))
        freq = self.ema_overwrite_frequency
        if freq and (self.iterations + 1) % freq == 0:
            self._overwrite_with_average(self._vars)

    def _overwrite_with_average(self, var_list) -> None:
        for p in var_list:
            if id(p) not in self._index:
                raise ValueError(
                    f"finalize_variable_values: variable {p.name!r} is not tracked by this optimizer; "
                    "check that the optimizer was called on your model"
                )
        for p in var_list:
            if getattr(p, "trainable", True):
                np.copyto(p.mutable_data(), self._slots["average"][self._index[id(p)]])

    def finalize_variable_values(self, var_list) -> None:
        """With ``use_ema``: overwrite the variables with their moving averages (Keras' ``fit`` calls
        this at the end of training, before ``on_train_end``); else nothing."""
        if self.use_ema and self.built:
            self._overwrite_with_average(list(var_list))

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (unchanged when no factor)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def before_update_step(self, learning_rate: float) -> None:
        """Subclasses: once per applied step, before the per-variable updates (Nadam's u product)."""

    def update_rule(self, learning_rate):
        """The elementwise rule of this step: ``(rule, slot_names, scalars)``, or None (the
        optimizer's own ``update_step`` runs instead: Lamb, Adafactor, Muon, ScheduleFreeAdamW).

        ``rule`` is a pure function ``rule(p, g, *slots, *scalars) -> (p, *slots)`` (see
        ``nn.optimizers.rules``: numpy evaluates it on whole arrays, numba compiles it into a loop
        kernel, and both give the same bits); ``slot_names`` are the slots it updates, in its
        argument order (``slot(name, variable)``); ``scalars`` are this step's numbers (bias
        corrections, ``1 - beta``, the rate...), computed once per step, cast to each variable's
        dtype before use. Called after ``before_update_step`` of the same step."""
        return None

    def _step_rule(self, learning_rate):
        """``update_rule(learning_rate)``, or None when a subclass or the instance defines its own
        ``update_step`` (that rule is honoured, numpy only)."""
        if "update_step" in self.__dict__ or type(self).update_step is not Optimizer.update_step:
            return None
        return self.update_rule(learning_rate)

    def update_step(self, i: int, variable: np.ndarray, gradient: np.ndarray, learning_rate: float, scratch=None):
        """Update ``variable`` (writable array of variable ``i``) in place with numpy: the
        optimizer's ``update_rule`` on whole arrays. Subclasses without an elementwise rule
        override this (``scratch``: a buffer of the variable's shape and dtype)."""
        found = self.update_rule(learning_rate)
        if found is None:
            raise NotImplementedError(f"{type(self).__name__}: define update_rule() or update_step()")
        rule, names, scalars = found
        dtype = variable.dtype
        gradient = np.asarray(gradient)
        if gradient.dtype != dtype:
            gradient = gradient.astype(dtype)
        slots = [self._slots[name][i] for name in names]
        rules_module.update(rule, variable, gradient, slots, fused_module.cast(scalars, dtype))

    def fused_update(self, i: int, lr) -> tuple | None:
        """The compiled (numba) update of variable ``i`` at this step: ``(kernel, arrays, scalars)``,
        or None when none applies (numba missing or off, dtype not float32/float64, the variable's
        array or a slot not C-contiguous and writable, a rule without a kernel (Lamb, a subclass'
        own ``update_step``), FTRL with an exponent other than 0.5, 1, 2).

        Call it after ``before_update_step(lr)`` of the same step and after weight decay, with the
        ``lr`` that ``update_step`` would get (the learning rate), where ``update_step`` would run:

            p = variable.mutable_data()            # C-contiguous, checked by fused_update
            kernel(p.reshape(-1), g.reshape(-1), *[a.reshape(-1) for a in arrays], scalars)

        ``g`` is the gradient array in ``p``'s dtype and shape (any layout, read only). ``arrays``
        are the variable's slots (same shape and dtype as ``p``), updated in place with ``p``;
        ``scalars`` is the tuple of the step's scalars as numpy scalars of ``p``'s dtype, so the
        result equals ``update_step(i, p, g, lr, scratch)`` bit for bit (the same rule, compiled).
        The kernel accepts exactly these types (it raises TypeError on others)."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < len(self._vars):
            raise IndexError(f"fused_update: variable index must be an int in [0, {len(self._vars)}), got {i!r}")
        return fused_module.fused_update(self, int(i), self._vars[i].data, lr)

    def fused_rule(self, i: int, lr):
        """``(kernel_name, slot_arrays, scalars)`` of variable ``i`` at this step (the name of its
        rule in ``nn.optimizers.rules``), or None: no elementwise rule for this optimizer."""
        found = self._step_rule(lr)
        if found is None:
            return None
        rule, names, scalars = found
        return rule.__name__, tuple(self._slots[name][i] for name in names), scalars

    # ---- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras' keys; a schedule's learning rate as its ``serialize`` dict."""
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """``cls(**config)``, a serialized schedule deserialized first."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate:g}>"


def _finite(array: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        return _all_finite(array)


def _names(variables) -> str:
    names = [getattr(v, "name", None) or "a variable" for v in variables[:3]]
    more = f" and {len(variables) - 3} more" if len(variables) > 3 else ""
    return ", ".join(repr(n) for n in names) + more


def _lr_alias(name: str, kw: dict) -> None:
    """Accept ``lr=`` as ``learning_rate=`` with a DeprecationWarning, as TF 2.x's Keras did."""
    import warnings

    if "learning_rate" in kw:
        raise ValueError(f"{name}: give learning_rate or its deprecated alias lr, not both")
    warnings.warn(
        f"{name}: `lr` is deprecated, use `learning_rate` (nn accepts it as TF 2.x did; Keras 3 refuses it)",
        DeprecationWarning,
        stacklevel=4,
    )
    kw["learning_rate"] = kw.pop("lr")
