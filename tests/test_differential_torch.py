"""Differential test against PyTorch: seeded random graphs over every public op, float64.

Each graph is a small program (ops drawn from the table below, operands drawn from earlier
values, so nodes are reused) with ``detach``, ``no_grad`` and ``retain_grad`` mixed in. The
same program runs on autograd_mini and on torch; first- to third-order gradients (through
``create_graph``), retained gradients, and ``am.grad``/``am.jacobian``/``am.hessian`` against
``torch.func`` must agree. Operands are kept in each op's domain by composing with smooth maps
(log(x*x + 1), ...), identically in both libraries.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mini as am
from autograd_mini.ops.formula import Elementwise

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = [(2, 3), (3,), (1, 3), (2, 1), ()]  # all broadcast to (2, 3)
FULL = (2, 3)
RTOL, ATOL = 1e-6, 1e-9


def _axis(rng, ndim):
    return None if ndim == 0 or rng.random() < 0.3 else int(rng.choice([0, -1]))


def _t_reduce(fn, x, axis):
    if axis is None:
        return fn(x.reshape(-1), 0, True).reshape([1] * x.ndim)
    return fn(x, axis, True)


# name -> (arity, am implementation, torch implementation); p: the instruction's random parameters
UNARY = {
    "neg": (lambda x, p: -x, lambda x, p: -x),
    "exp": (lambda x, p: am.exp(am.tanh(x)), lambda x, p: torch.exp(torch.tanh(x))),
    "log": (lambda x, p: am.log(x * x + 1), lambda x, p: torch.log(x * x + 1)),
    "sqrt": (lambda x, p: am.sqrt(x * x + 1), lambda x, p: torch.sqrt(x * x + 1)),
    "abs": (lambda x, p: am.abs(x), torch.abs and (lambda x, p: torch.abs(x))),
    "sin": (lambda x, p: am.sin(x), lambda x, p: torch.sin(x)),
    "cos": (lambda x, p: am.cos(x), lambda x, p: torch.cos(x)),
    "tanh": (lambda x, p: am.tanh(x), lambda x, p: torch.tanh(x)),
    "sigmoid": (lambda x, p: am.sigmoid(x), lambda x, p: torch.sigmoid(x)),
    "relu": (lambda x, p: am.relu(x), lambda x, p: torch.relu(x)),
    "softplus": (lambda x, p: am.softplus(x), lambda x, p: F.softplus(x)),
    "elu": (lambda x, p: am.elu(x, 0.7), lambda x, p: F.elu(x, 0.7)),
    "leaky_relu": (lambda x, p: am.leaky_relu(x, 0.1), lambda x, p: F.leaky_relu(x, 0.1)),
    "softmax": (lambda x, p: am.softmax(x), lambda x, p: torch.softmax(x, -1)),
    "log_softmax": (lambda x, p: am.log_softmax(x), lambda x, p: torch.log_softmax(x, -1)),
    "sum": (lambda x, p: am.sum(x, p["axis"], keepdims=True), lambda x, p: _t_reduce(torch.sum, x, p["axis"])),
    "mean": (lambda x, p: am.mean(x, p["axis"], keepdims=True), lambda x, p: _t_reduce(torch.mean, x, p["axis"])),
    "max": (lambda x, p: am.max(x, p["axis"], keepdims=True), lambda x, p: _t_reduce(torch.amax, x, p["axis"])),
    "min": (lambda x, p: am.min(x, p["axis"], keepdims=True), lambda x, p: _t_reduce(torch.amin, x, p["axis"])),
    "logsumexp": (
        lambda x, p: am.logsumexp(x, p["axis"], keepdims=True),
        lambda x, p: _t_reduce(torch.logsumexp, x, p["axis"]),
    ),
    "clip": (lambda x, p: am.clip(x, -0.5, 0.8), lambda x, p: torch.clamp(x, -0.5, 0.8)),
    "pow_int": (lambda x, p: x ** p["k"], lambda x, p: x ** p["k"]),
    "pow_half": (lambda x, p: (x * x + 1) ** 0.5, lambda x, p: (x * x + 1) ** 0.5),
    "getitem": (
        lambda x, p: am.broadcast_to(x, FULL)[:, [0, 2, 2]],
        lambda x, p: torch.broadcast_to(x, FULL)[:, [0, 2, 2]],
    ),
    "reshape_transpose": (
        lambda x, p: am.transpose(am.reshape(am.broadcast_to(x, FULL), (3, 2))),
        lambda x, p: torch.broadcast_to(x, FULL).reshape(3, 2).T,
    ),
    "swap_expand_squeeze": (
        lambda x, p: am.squeeze(am.swapaxes(am.expand_dims(am.broadcast_to(x, FULL), 0), 0, 1), 1),
        lambda x, p: torch.broadcast_to(x, FULL).unsqueeze(0).transpose(0, 1).squeeze(1),
    ),
    "cast": (lambda x, p: am.cast(x, np.float64) * 1.5, lambda x, p: x.to(torch.float64) * 1.5),
    "square": (lambda x, p: x.square(), lambda x, p: x.square()),
}


def _am_matmul(a, b, c):
    if a.shape == (3,) and b.shape == (3,):
        return (a @ b) * 0.5  # vector . vector
    full = [am.broadcast_to(t, FULL) for t in (a, b, c)]
    return am.matmul(full[0], full[1].T) @ full[2] * 0.3


def _t_matmul(a, b, c):
    if tuple(a.shape) == (3,) and tuple(b.shape) == (3,):
        return (a @ b) * 0.5
    full = [torch.broadcast_to(t, FULL) for t in (a, b, c)]
    return torch.matmul(full[0], full[1].T) @ full[2] * 0.3


NARY = {
    "add": (2, lambda a, b, p: a + b, lambda a, b, p: a + b),
    "sub": (2, lambda a, b, p: a - b, lambda a, b, p: a - b),
    "mul": (2, lambda a, b, p: a * b, lambda a, b, p: a * b),
    "div": (2, lambda a, b, p: a / (b * b + 1), lambda a, b, p: a / (b * b + 1)),
    "pow": (2, lambda a, b, p: (a * a + 1) ** am.tanh(b), lambda a, b, p: (a * a + 1) ** torch.tanh(b)),
    "maximum": (2, lambda a, b, p: am.maximum(a, b), lambda a, b, p: torch.maximum(a, b)),
    "minimum": (2, lambda a, b, p: am.minimum(a, b), lambda a, b, p: torch.minimum(a, b)),
    "where": (
        2,
        lambda a, b, p: am.where(p["mask"], a, b),
        lambda a, b, p: torch.where(torch.tensor(p["mask"]), a, b),
    ),
    "matmul": (3, lambda a, b, c, p: _am_matmul(a, b, c), lambda a, b, c, p: _t_matmul(a, b, c)),
    "concatenate": (
        2,
        lambda a, b, p: am.concatenate([am.broadcast_to(a, FULL), am.broadcast_to(b, FULL)], axis=0)[1:3],
        lambda a, b, p: torch.cat([torch.broadcast_to(a, FULL), torch.broadcast_to(b, FULL)], 0)[1:3],
    ),
    "stack": (
        2,
        lambda a, b, p: am.stack([am.broadcast_to(a, FULL), am.broadcast_to(b, FULL)], axis=1).mean(axis=1),
        lambda a, b, p: torch.stack([torch.broadcast_to(a, FULL), torch.broadcast_to(b, FULL)], 1).mean(1),
    ),
}
# an elementwise op that torch.nn.functional has under the same name needs no row here: it is derived
for _name in Elementwise.registry:
    if _name not in UNARY and hasattr(F, _name):
        UNARY[_name] = (lambda x, p, n=_name: getattr(am, n)(x), lambda x, p, n=_name: getattr(F, n)(x))
COVERED = set(UNARY) | set(NARY) | {"broadcast_to", "transpose", "reshape", "expand_dims", "squeeze", "swapaxes"}


def make_program(rng, n_leaves=3, n_ops=6, special=True):
    """Instructions over values 0..n_leaves-1 (leaves; the last one a constant)."""
    program = []
    names = list(UNARY) + list(NARY)
    for _ in range(n_ops):
        name = str(rng.choice(names))
        n_values = n_leaves + len(program)
        p = {"axis": None, "k": int(rng.integers(0, 4)), "mask": rng.random(FULL) < 0.5}
        arity = 1 if name in UNARY else NARY[name][0]
        # prefer recent values (deeper graphs) but reuse earlier ones too
        args = [int(min(n_values - 1, rng.integers(0, n_values) + rng.integers(0, 2))) for _ in range(arity)]
        if arity > 1 and rng.random() < 0.3:
            args[1] = args[0]  # x op x (and, with detach, x op x.detach())
        mode = str(rng.choice(["plain"] * 8 + ["detach", "no_grad", "retain"])) if special else "plain"
        program.append((name, args, p, mode))
    return program


def run(program, leaves, lib, rng_axis):
    """Execute ``program``; returns the values (am Tensors or torch tensors)."""
    values = list(leaves)
    for name, args, p, mode in program:
        operands = [values[i] for i in args]
        if mode == "detach":
            operands = [operands[0].detach(), *operands[1:]]
        if name in ("sum", "mean", "max", "min", "logsumexp"):
            p = dict(p, axis=rng_axis(name, len(values), operands[0].ndim))
        impl = (UNARY[name][0 if lib == "am" else 1]) if name in UNARY else NARY[name][1 if lib == "am" else 2]
        if mode == "no_grad":
            with am.no_grad() if lib == "am" else torch.no_grad():
                out = impl(*operands, p)
                if lib != "am":
                    out = out.clone()  # torch: a view made under no_grad may still require grad
        else:
            out = impl(*operands, p)
        if mode == "retain" and out.requires_grad:
            out.retain_grad()
        values.append(out)
    return values


def _axis_chooser(seed):
    def choose(name, position, ndim):
        if ndim == 0:
            return None
        r = np.random.default_rng([seed, position])
        return _axis(r, ndim)

    return choose


def _leaves(rng, n):
    shapes = [SHAPES[int(i)] for i in rng.integers(0, len(SHAPES), size=n)]
    return [rng.uniform(-1.5, 1.5, size=s) for s in shapes]


def _np(t):
    if t is None:
        return None
    if isinstance(t, am.Tensor):
        return t.data
    return t.detach().numpy(force=True)


def _close(ours, theirs, what):
    ours, theirs = _np(ours), _np(theirs)
    if theirs is None:
        assert ours is None or not np.any(ours), what
        return
    if ours is None:
        ours = np.zeros_like(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def _higher(out_am, out_t, leaves_am, leaves_t, weights, seed):
    """Orders 1..3 through create_graph; each order contracts the gradients with fixed weights."""
    s_am, s_t = out_am, out_t
    for order in (1, 2, 3):
        req_am, req_t = s_am.requires_grad, s_t.requires_grad
        if not req_am or not req_t:
            # the rest is zero on at least one side: then it must be zero on the other too
            if req_t and not req_am:
                gs = torch.autograd.grad(s_t, leaves_t, allow_unused=True)
                for g in gs:
                    _close(None, g, f"seed {seed}: order {order}, torch nonzero")
            return
        g_am = am.gradients(s_am, leaves_am, create_graph=True)
        g_t = torch.autograd.grad(s_t, leaves_t, create_graph=True, allow_unused=True)
        for i, (a, b) in enumerate(zip(g_am, g_t)):
            _close(a, b, f"seed {seed}: order {order}, leaf {i}")
        s_am = sum(((g * w).sum() for g, w in zip(g_am, weights[order])), am.tensor(0.0))
        s_t = sum(
            ((g * torch.tensor(w)).sum() for g, w in zip(g_t, weights[order]) if g is not None),
            torch.tensor(0.0, dtype=torch.float64),
        )


@pytest.mark.parametrize("block", range(8))
def test_random_graphs_match_torch_to_third_order(block):
    for seed in range(block * 30, block * 30 + 30):
        rng = np.random.default_rng(seed)
        program = make_program(rng, n_ops=int(rng.integers(2, 8)))
        data = _leaves(rng, 3)
        weights = {k: [rng.standard_normal(d.shape) for d in data] for k in (1, 2, 3)}
        chooser = _axis_chooser(seed)
        leaves_am = [am.tensor(d, requires_grad=i < 2) for i, d in enumerate(data)]
        leaves_t = [torch.tensor(d, requires_grad=i < 2) for i, d in enumerate(data)]
        vals_am = run(program, leaves_am, "am", chooser)
        vals_t = run(program, leaves_t, "torch", chooser)
        for k, (a, b) in enumerate(zip(vals_am, vals_t)):
            _close(a, b, f"seed {seed}: forward value {k}")
        w_out = rng.standard_normal(np.shape(vals_am[-1].data))
        out_am = (vals_am[-1] * w_out).sum()
        out_t = (vals_t[-1] * torch.tensor(w_out)).sum()
        assert out_am.requires_grad == out_t.requires_grad, f"seed {seed}"
        if not out_am.requires_grad:
            continue
        # first order through .backward(): leaves' .grad and retained .grad
        out_am.backward(retain_graph=True)
        out_t.backward(retain_graph=True)
        for k, (a, b) in enumerate(zip(vals_am, vals_t)):
            if b.requires_grad and (b.is_leaf or b.retains_grad):
                _close(a.grad, b.grad, f"seed {seed}: .grad of value {k}")
        out_am.backward(retain_graph=True)  # accumulation, leaves and retained non-leaves
        out_t.backward(retain_graph=True)
        for k, (a, b) in enumerate(zip(vals_am, vals_t)):
            if b.requires_grad and (b.is_leaf or b.retains_grad):
                _close(a.grad, b.grad, f"seed {seed}: accumulated .grad of value {k}")
        _higher(out_am, out_t, leaves_am[:2], leaves_t[:2], weights, seed)


@pytest.mark.parametrize("seed", range(40))
def test_functional_transforms_match_torch_func(seed):
    rng = np.random.default_rng(1000 + seed)
    program = make_program(rng, n_ops=int(rng.integers(2, 6)), special=rng.random() < 0.5)
    program = [(n, a, p, "plain" if m == "retain" else m) for n, a, p, m in program]
    data = _leaves(rng, 3)
    w_out = rng.standard_normal(FULL)
    chooser = _axis_chooser(1000 + seed)
    consts_am = [am.tensor(d) for d in data[1:]]
    consts_t = [torch.tensor(d) for d in data[1:]]

    def f_am(x):
        return (am.broadcast_to(run(program, [x, *consts_am], "am", chooser)[-1], FULL) * w_out).sum()

    def f_t(x):
        return (
            torch.broadcast_to(run(program, [x, *consts_t], "torch", chooser)[-1], FULL) * torch.tensor(w_out)
        ).sum()

    def v_am(x):
        return am.reshape(am.broadcast_to(run(program, [x, *consts_am], "am", chooser)[-1], FULL), (6,))

    def v_t(x):
        return torch.broadcast_to(run(program, [x, *consts_t], "torch", chooser)[-1], FULL).reshape(6)

    x = data[0]
    xt = torch.tensor(x)
    _close(am.grad(f_am)(x), torch.func.grad(f_t)(xt), f"seed {seed}: grad")
    _close(am.jacobian(v_am)(x), torch.func.jacrev(v_t)(xt), f"seed {seed}: jacobian")
    _close(am.hessian(f_am)(x), torch.func.hessian(f_t)(xt), f"seed {seed}: hessian")


def test_every_public_op_is_covered():
    missing = set(am.ops.__all__) - COVERED
    assert not missing, f"ops without a differential test: {sorted(missing)}"
