"""Optimizers with Keras' update rules and defaults, updating parameter arrays in place.

Use them Keras-style (``model.compile(optimizer=Adam(...))`` or ``"adam"``) or PyTorch-style
(``opt = Adam(model.parameters()); loss.backward(); opt.step()``). State buffers and one
scratch buffer per parameter are allocated once; each step reuses them (``out=``), so a
step allocates nothing per parameter. float32 parameters stay float32.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am


class Optimizer:
    """Base class. ``learning_rate`` may be a float or a schedule of the step count."""

    name = "optimizer"

    def __init__(
        self,
        params=None,
        learning_rate=0.001,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        weight_decay=None,
        lr=None,
    ):
        if isinstance(params, (int, float)):  # Keras' positional learning_rate
            params, learning_rate = None, params
        self.learning_rate = learning_rate if lr is None else lr
        if not (callable(self.learning_rate) or float(self.learning_rate) > 0):
            raise ValueError(f"{type(self).__name__}: learning_rate must be positive, got {self.learning_rate!r}")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.weight_decay = weight_decay
        self.iterations = 0
        self._params: list = []
        self._state: dict[int, dict] = {}
        if params is not None:
            self.add_params(params)

    # ---- parameters -------------------------------------------------------------------------
    def add_params(self, params) -> None:
        for p in params:
            if not isinstance(p, am.Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameters must be Tensors with requires_grad=True, got {type(p).__name__}"
                )
            if id(p) not in self._state:
                self._params.append(p)
                self._state[id(p)] = {"scratch": np.empty_like(p.data)}

    def _slot(self, p, name, fill=0.0):
        state = self._state[id(p)]
        if name not in state:
            state[name] = np.full_like(p.data, fill)
        return state[name]

    @property
    def current_learning_rate(self) -> float:
        lr = self.learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    # ---- the step -----------------------------------------------------------------------------
    def zero_grad(self) -> None:
        for p in self._params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        lr = self.current_learning_rate
        pairs = [(p, p.grad.data) for p in self._params if p.grad is not None and getattr(p, "trainable", True)]
        if self.global_clipnorm is not None:
            total = np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for _, g in pairs))
            if total > self.global_clipnorm:
                pairs = [(p, g * (self.global_clipnorm / total)) for p, g in pairs]
        for p, g in pairs:
            if g.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {g.shape} for parameter "
                    f"{p.name or ''} of shape {p.shape}"
                )
            if self.clipnorm is not None:
                norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                if norm > self.clipnorm:
                    g = g * (self.clipnorm / norm)
            if self.clipvalue is not None:
                g = np.clip(g, -self.clipvalue, self.clipvalue)
            if g.dtype != p.dtype:
                g = g.astype(p.dtype)
            data = p.data
            if self.weight_decay:
                data -= data * (self.weight_decay * lr)
            self.update(data, g, lr, self._state[id(p)]["scratch"], p)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras-style: ``[(gradient, variable), ...]``."""
        for g, v in grads_and_vars:
            self.add_params([v])
            v.grad = g if isinstance(g, am.Tensor) else am.tensor(g, dtype=v.dtype)
        self.step()

    def update(self, p: np.ndarray, g: np.ndarray, lr: float, tmp: np.ndarray, param) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr if not callable(lr) else type(lr).__name__}


class SGD(Optimizer):
    """v = momentum v - lr g;  p += v  (nesterov: p += momentum v - lr g);  momentum 0: p -= lr g"""

    name = "sgd"

    def __init__(self, params=None, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, p, g, lr, tmp, param):
        np.multiply(g, lr, out=tmp)
        if not self.momentum:
            p -= tmp
            return
        v = self._slot(param, "momentum")
        v *= self.momentum
        v -= tmp
        if self.nesterov:
            p -= tmp
            np.multiply(v, self.momentum, out=tmp)
        else:
            np.copyto(tmp, v)
        p += tmp


class Adagrad(Optimizer):
    """a += g^2;  p -= lr g / sqrt(a + eps)"""

    name = "adagrad"

    def __init__(self, params=None, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def update(self, p, g, lr, tmp, param):
        a = self._slot(param, "accumulator", self.initial_accumulator_value)
        np.multiply(g, g, out=tmp)
        a += tmp
        np.add(a, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        p -= tmp


class RMSprop(Optimizer):
    """v = rho v + (1 - rho) g^2;  p -= lr g / sqrt(v + eps)  (centered: v - mean_g^2; momentum)"""

    name = "rmsprop"

    def __init__(self, params=None, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def update(self, p, g, lr, tmp, param):
        v = self._slot(param, "velocity")
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v *= self.rho
        v += tmp
        if self.centered:
            mg = self._slot(param, "average_gradient")
            mg *= self.rho
            mg += (1 - self.rho) * g
            np.multiply(mg, mg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(v, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum:
            m = self._slot(param, "momentum")
            m *= self.momentum
            m += tmp
            p -= m
        else:
            p -= tmp


class Adadelta(Optimizer):
    """a = rho a + (1-rho) g^2;  d = -sqrt(s + eps) g / sqrt(a + eps);  s = rho s + (1-rho) d^2;  p += lr d"""

    name = "adadelta"

    def __init__(self, params=None, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def update(self, p, g, lr, tmp, param):
        a = self._slot(param, "accumulated_grad")
        s = self._slot(param, "accumulated_delta_var")
        a *= self.rho
        a += (1 - self.rho) * g * g
        delta = -np.sqrt(s + self.epsilon) * g / np.sqrt(a + self.epsilon)
        s *= self.rho
        s += (1 - self.rho) * delta * delta
        np.multiply(delta, lr, out=tmp)
        p += tmp


class Adam(Optimizer):
    """m += (1-b1)(g - m);  v += (1-b2)(g^2 - v);  p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)"""

    name = "adam"

    def __init__(
        self, params=None, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs
    ):
        super().__init__(params, learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def update(self, p, g, lr, tmp, param):
        t = self.iterations + 1
        m = self._slot(param, "momentum")
        v = self._slot(param, "velocity")
        np.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if self.amsgrad:
            v_hat = self._slot(param, "velocity_hat")
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        alpha = lr * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: p -= lr * weight_decay * p before the Adam step."""

    name = "adamw"

    def __init__(self, params=None, learning_rate=0.001, weight_decay=0.004, **kwargs):
        super().__init__(params, learning_rate, weight_decay=weight_decay, **kwargs)


_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adadelta": Adadelta, "adam": Adam, "adamw": AdamW}


def get(identifier) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam', ...) with Keras defaults, or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; expected one of {sorted(_BY_NAME)} or an Optimizer")
