"""The loop form of ``apply_if_finite`` (``jit_compile=True``): when the loss is finite, each
variable's fused optimizer kernel (``Optimizer.fused_update``) runs inside the compiled step, and
the step count advances afterwards. As in the eager step (``FiniteGuard``), an update that would
leave a non-finite weight is undone inside the kernel (from copies of the variables and their
slots, which the guarded update loop, ``rules.guarded_loop``, takes as it reads them) and the
optimizer warns once (``skip_step``). Only for plain optimizers: clipping, EMA, weight decay,
gradient accumulation, loss scaling, constraints or a ``before_update_step`` keep the Python step.

Importing this module registers the rule (``am.lowering.register_effect``); the trainer imports
it when it first captures a step, so ``import nn`` does not load the lowering package.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am
import autograd_mini.lowering

from . import fused, kernels, rules
from .optimizer import Optimizer
from .step import apply_if_finite


def _plain(optimizer, variables) -> bool:
    return not (
        type(optimizer).before_update_step is not Optimizer.before_update_step
        or optimizer.clipnorm
        or optimizer.clipvalue
        or optimizer.global_clipnorm
        or optimizer.use_ema
        or optimizer.gradient_accumulation_steps
        or optimizer.loss_scale_factor is not None
        or optimizer.weight_decay is not None
        or not optimizer.built
        or {id(v) for v in optimizer.trainable_variables} != {id(p) for p in variables}
        or any(getattr(p, "constraint", None) is not None or not getattr(p, "trainable", True) for p in variables)
    )


def _lower_update(L, args, kwargs, step) -> None:
    optimizer, variables, loss = args
    if not _plain(optimizer, variables) or not isinstance(loss, am.lowering.Var):
        raise am.lowering.NotLowerable("an optimizer step that needs its Python form")
    indices = [optimizer.variable_index(p) for p in variables]
    lr = optimizer.learning_rate
    plans = [optimizer.fused_update(i, lr) for i in indices]
    if any(plan is None for plan in plans):
        raise am.lowering.NotLowerable("an optimizer without a fused kernel for these variables")
    grads = [step.leaf_grad(p) for p in variables]
    datas = [step.write(p) for p in variables]
    rule, names, _ = optimizer.update_rule(lr)  # (fused_update found it: not overridden)
    dtypes = [p.data.dtype for p in variables]
    slots = [[optimizer.slot(name, p) for name in names] for p in variables]
    # the undo of a step that would leave a non-finite weight: copies of each variable and its
    # slots, taken inside the kernel before the update (buffers kept from step to step)
    keeps = [tuple(np.empty(p.data.size, p.data.dtype) for _ in range(1 + len(names))) for p in variables]

    def runtime():  # each step: the rule's slot arrays and scalars (fused_update's checks, kept lean)
        rate = optimizer.learning_rate
        if not math.isfinite(rate):
            return None  # the numpy replay raises the eager error
        found = optimizer.update_rule(rate)
        if found is None or found[0] is not rule or found[1] != names:
            return None
        scalars, values, typed = found[2], [], {}
        append = values.append
        try:
            for arrays, dtype in zip(slots, dtypes):
                for array in arrays:
                    flags = array.flags
                    if not (flags.c_contiguous and flags.writeable) or array.dtype != dtype:
                        return None
                    append(array.reshape(-1))
                cast = typed.get(dtype)
                if cast is None:
                    cast = typed[dtype] = fused.cast(scalars, dtype)
                append(cast)
            for keep in keeps:
                values.extend(keep)
        except fused.NotExact:
            return None
        if not rules.loopable(rule, cast):
            return None
        return tuple(values)

    name = step.runtime(runtime)
    flag = L.alloc((1,), np.float64, fill=0)
    grad_buffers = [L.buffer(grad) for grad in grads]  # (before the branch: a scalar gradient gets a buffer)
    L.line(f"if math.isfinite({loss.at('0')}):")
    position, saved = 0, []
    # the runtime tuple: per variable its slots and its scalars' tuple, then the copies
    first_copy = len(variables) * (len(names) + 1)
    oks = []
    for k, (plan, grad, data) in enumerate(zip(plans, grad_buffers, datas)):
        guarded = kernels.kernel(rule.__name__, dtypes[k], guarded=True)
        if guarded is None:
            raise am.lowering.NotLowerable("no guarded optimizer kernel")
        key = f"optimizer_kernel_{k}"
        # (called by symbol, not linked: LLVM would optimize the loop again in every kernel)
        L.globals[key] = am.lowering.call_by_symbol(guarded, f"nn_optimizer_guard_{rule.__name__}_{dtypes[k]}")
        arrays = [data.name] + [f"{name}[{position + j}]" for j in range(len(plan[1]))]
        copies = [f"{name}[{first_copy + k * (len(names) + 1) + j}]" for j in range(len(arrays))]
        saved.append(list(zip(arrays, copies)))
        ok = L.fresh("ok")
        L.line(
            f"{ok} = {key}({', '.join([data.name, grad, *arrays[1:], *copies, f'{name}[{position + len(plan[1])}]'])})",
            1,
        )
        oks.append(ok)
        position += len(plan[1]) + 1
    bad = L.fresh("bad")
    L.line(f"{bad} = -1", 1)
    for k, ok in reversed(list(enumerate(oks))):  # (the first non-finite variable is reported)
        L.line(f"if not {ok}:", 1)
        L.line(f"{bad} = {k}", 2)
    L.line(f"if {bad} < 0:", 1)
    L.line(f"{flag.name} = 1.0", 2)
    L.line("else:  # nn's rule: never write a non-finite weight; the step is undone", 1)
    for pairs in saved:
        for array, copy in pairs:
            _copy(L, array, copy, 2)
    L.line(f"{flag.name} = 2.0 + {bad}", 2)
    count = _count_step(optimizer, variables)
    step.after(count, flag, many=_count_steps(optimizer, count))


def _copy(L, target: str, source: str, depth: int) -> None:
    """``target[:] = source`` for flat arrays of one size, as the ``copy_`` intrinsic (one memcpy;
    numba compiles a slice assignment, or the loop written out, far more slowly)."""
    L.line(f"{L.helper('copy_')}({target}, {source})", depth)


def _count_step(optimizer, variables):
    """After each call: one more step when the kernel applied it (plain optimizers only: no
    gradient accumulation, so the raw count is the step count); a step the kernel skipped (the
    loss not finite, or an update that would leave a non-finite weight, undone) warns once, as
    the eager step does (``Optimizer.skip_step``)."""

    def count(flag) -> None:
        value = flag[0]
        if value == 1.0:
            optimizer._iterations += 1
        elif value == 0.0:
            optimizer.skip_step("the loss is not finite")
        else:
            name = getattr(variables[int(value) - 2], "name", None) or "a variable"
            optimizer.skip_step(f"it would make {name!r} non-finite")

    return count


def _count_steps(optimizer, count):
    """``count`` for each of N steps' flags (``flags[s]``, step s's): all applied, N more steps at
    once; else step by step, so that each skipped step warns as it would alone."""

    def many(flags) -> None:
        if bool((flags == 1.0).all()):
            optimizer._iterations += len(flags)
        else:
            for flag in flags:
                count(flag)

    return many


am.lowering.register_effect(apply_if_finite, _lower_update)
