"""``jax.jit`` references doing the same work as ``nn``: the seed MNIST MLP epoch and the
lectures' batch-1 SGD step of the 1-10(sigmoid)-1 network. Each builder compiles its step
once (the time is returned, so the benchmark can print it) and returns a function that runs
the loop; the arrays stay on jax's CPU device between steps, as a jax user's loop would."""

from __future__ import annotations

import time

import numpy as np


def _glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def mnist_epoch(jax, x, one_hot, batch=128, lr=1e-3, rho=0.9, eps=1e-7, rate=0.2, seed=0):
    """(run_one_epoch, compile_seconds): 784-512-D-512-D-10, inverted dropout, softmax CE, Keras RMSprop."""
    jnp = jax.numpy
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in [(784, 512), (512, 512), (512, 10)]:
        params += [jnp.asarray(_glorot(rng, fan_in, fan_out)), jnp.zeros(fan_out, jnp.float32)]
    velocity = [jnp.zeros_like(p) for p in params]

    def loss_fn(params, xb, yb, key):
        w1, b1, w2, b2, w3, b3 = params
        k1, k2 = jax.random.split(key)
        h = jax.nn.relu(xb @ w1 + b1)
        h = h * (jax.random.uniform(k1, h.shape) >= rate) / (1 - rate)
        h = jax.nn.relu(h @ w2 + b2)
        h = h * (jax.random.uniform(k2, h.shape) >= rate) / (1 - rate)
        z = h @ w3 + b3
        return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(z), axis=-1))

    @jax.jit
    def step(params, velocity, xb, yb, key):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb, key)
        velocity = [rho * v + (1 - rho) * g * g for v, g in zip(velocity, grads)]
        params = [p - lr * g / (jnp.sqrt(v) + eps) for p, g, v in zip(params, grads, velocity)]
        return params, velocity, loss

    xj, yj = jnp.asarray(x), jnp.asarray(one_hot)
    n = len(x)
    key = jax.random.PRNGKey(seed)
    start = time.perf_counter()
    tail = n % batch or batch  # the last partial batch is a second signature, compiled up front too
    for size in {batch, tail}:
        out = step(params, velocity, xj[:size], yj[:size], key)
        jax.block_until_ready(out)
    compile_seconds = time.perf_counter() - start
    state = {"params": params, "velocity": velocity, "key": key}

    def run():
        order = jnp.asarray(np.random.default_rng(seed).permutation(n))
        xs, ys = xj[order], yj[order]
        p, v, k = state["params"], state["velocity"], state["key"]
        for i in range(0, n, batch):
            k, sub = jax.random.split(k)
            p, v, loss = step(p, v, xs[i : i + batch], ys[i : i + batch], sub)
        jax.block_until_ready(p)
        state.update(params=p, velocity=v, key=k)

    return run, compile_seconds


def batch1_loop(jax, x, y, epochs, lr=0.008, seed=0):
    """(run, compile_seconds): 1-10(sigmoid)-1, MSE, plain SGD, one sample per step, shuffled per epoch."""
    jnp = jax.numpy
    rng = np.random.default_rng(seed)
    params = [
        jnp.asarray(_glorot(rng, 1, 10)),
        jnp.zeros(10, jnp.float32),
        jnp.asarray(_glorot(rng, 10, 1)),
        jnp.zeros(1, jnp.float32),
    ]

    def loss_fn(params, xb, yb):
        w1, b1, w2, b2 = params
        out = jax.nn.sigmoid(xb @ w1 + b1) @ w2 + b2
        return jnp.mean((out - yb) ** 2)

    @jax.jit
    def step(params, xs, ys, i):  # the sample is sliced inside the jit: one dispatch per step
        xb = jax.lax.dynamic_slice_in_dim(xs, i, 1)
        yb = jax.lax.dynamic_slice_in_dim(ys, i, 1)
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        return [p - lr * g for p, g in zip(params, grads)], loss

    xj, yj = jnp.asarray(x), jnp.asarray(y)
    start = time.perf_counter()
    jax.block_until_ready(step(params, xj, yj, 0))
    compile_seconds = time.perf_counter() - start
    n = len(x)
    state = {"params": params}

    def run():
        p = state["params"]
        for _ in range(epochs):
            order = np.random.default_rng(seed).permutation(n)
            xs, ys = xj[order], yj[order]
            for i in range(n):
                p, loss = step(p, xs, ys, i)
        jax.block_until_ready(p)
        state["params"] = p

    return run, compile_seconds
