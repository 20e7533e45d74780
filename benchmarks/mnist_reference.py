"""The seed MNIST MLP (``seed_model``, nn's) and its reference epochs: hand-written numpy and eager
PyTorch CPU, same work as ``nn`` (forward with inverted dropout, softmax cross-entropy, backward,
Keras RMSprop)."""

from __future__ import annotations

import numpy as np


def seed_model(nn, jit_compile=False):
    """784-512(relu)-Dropout(0.2)-512(relu)-Dropout(0.2)-10(softmax), RMSprop, categorical
    cross-entropy, seeded with ``nn.utils.set_random_seed(0)``: the model every MNIST benchmark times."""
    nn.utils.set_random_seed(0)
    model = nn.Sequential(
        [
            nn.Input((784,)),
            nn.Dense(512, activation="relu"),
            nn.Dropout(0.2),
            nn.Dense(512, activation="relu"),
            nn.Dropout(0.2),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", jit_compile=jit_compile)
    return model


def numpy_epoch(x, one_hot, batch=128, lr=1e-3, rho=0.9, eps=1e-7, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [(784, 512), (512, 512), (512, 10)]
    params = []
    for fan_in, fan_out in sizes:
        limit = np.sqrt(6 / (fan_in + fan_out))
        params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32), np.zeros(fan_out, np.float32)]
    velocity = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch):
        idx = order[start : start + batch]
        xb, yb = x[idx], one_hot[idx]
        w1, b1, w2, b2, w3, b3 = params
        h1 = xb @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        m1 = (rng.random(h1.shape, dtype=np.float32) >= 0.2).astype(np.float32) * (1 / 0.8)
        d1 = h1 * m1
        h2 = d1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        m2 = (rng.random(h2.shape, dtype=np.float32) >= 0.2).astype(np.float32) * (1 / 0.8)
        d2 = h2 * m2
        z = d2 @ w3
        z += b3
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        g3 = (p - yb) / len(xb)
        grads = [None] * 6
        grads[4], grads[5] = d2.T @ g3, g3.sum(0)
        g2 = (g3 @ w3.T) * m2 * (h2 > 0)
        grads[2], grads[3] = d1.T @ g2, g2.sum(0)
        g1 = (g2 @ w2.T) * m1 * (h1 > 0)
        grads[0], grads[1] = xb.T @ g1, g1.sum(0)
        for param, g, v, tmp in zip(params, grads, velocity, scratch):
            np.multiply(g, g, out=tmp)
            tmp *= 1 - rho
            v *= rho
            v += tmp
            np.add(v, eps, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            param -= tmp


def torch_epoch(torch, x, labels, batch=128):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(512, 512),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(512, 10),
    )
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    order = torch.randperm(len(xt))
    for start in range(0, len(xt), batch):
        idx = order[start : start + batch]
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
