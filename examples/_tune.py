"""Ray Tune plumbing shared by the examples' ``--tune`` runs: the options, starting Ray (embedded on this
machine, or a cluster by address), and one grid as one Tune experiment.

Ray comes with the ``tune`` extra (``pip install 'autograd_mini[tune]'``); nothing here is imported by a
serial run."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

# Ray must not reach for the network: no usage statistics, no dashboard, no metrics exporter.
OFFLINE_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_USAGE_STATS_PROMPT_ENABLED": "0",
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
}


def add_options(parser):
    """``--tune``, ``--address`` and ``--storage`` on an example's parser."""
    parser.add_argument(
        "--tune", action="store_true", help="run the grid as a Ray Tune experiment (pip install 'autograd_mini[tune]')"
    )
    parser.add_argument(
        "--address",
        default=None,
        help="Ray cluster to run on: ray://host:10001 (Ray Client, needs ray[client]) or host:6379 on a node of it; "
        "default $RAY_ADDRESS, else Ray started here on all cores",
    )
    parser.add_argument("--storage", default=None, help="folder for Tune's results (default: OUT/ray_results)")
    return parser


def quiet_environment() -> None:
    """Set the offline defaults (an explicit setting in the environment wins)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to Ray: to ``address`` (or ``$RAY_ADDRESS``) when given, else start it on this machine with
    ``num_cpus`` (default: every core) and no dashboard. Returns True when this call started the
    connection (the caller then ``ray.shutdown()``s it), False when Ray was already up.

    On a cluster, the workers import the ``autograd_mini`` and ``nn`` installed on the nodes
    (``pip install 'autograd_mini[tune]'`` there); the example's own functions travel with the trials."""
    quiet_environment()
    address = address or os.environ.get("RAY_ADDRESS")
    if not address and "ray" not in sys.modules:
        # Ray's single-machine switch (read when ray is imported): every address is 127.0.0.1, nothing
        # listens on the network interfaces
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    else:
        ray.init(
            num_cpus=num_cpus or os.cpu_count(),
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": blas_threads()}},
        )
    return True


def blas_threads() -> str:
    """The BLAS thread count of a serial run here: ``$OMP_NUM_THREADS``, else every core. Ray would run
    each 1-CPU trial with one thread, and float32 matrix products (OpenBLAS) can round differently with
    another thread count, so the trials get this one: their numbers are then the serial run's."""
    return os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count())


def run_grid(trainable, param_space: dict, *, name: str, storage=None, max_failures: int = 0, **shared):
    """Run ``trainable`` over ``param_space`` (``tune.grid_search`` values) as one Tune experiment and
    return the ``ResultGrid``; ``shared`` objects (the data) go to every trial through Ray's object
    store (``tune.with_parameters``). Raises if a trial failed for good."""
    from ray import tune
    from ray.cloudpickle import register_pickle_by_value

    module = sys.modules.get(trainable.__module__)
    if module is not None and trainable.__module__ not in ("__main__",) and not _installed(module):
        register_pickle_by_value(module)  # an example's module: workers need not find it on their path
    if shared:
        trainable = tune.with_parameters(trainable, **shared)
    storage = Path(storage or "autograd_mini_output/ray_results").resolve()
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(storage),
            verbose=1,
            failure_config=tune.FailureConfig(max_failures=max_failures),
        ),
        tune_config=tune.TuneConfig(reuse_actors=True),  # small trials: one worker process imports nn once
    )
    results = tuner.fit()
    if results.errors:
        raise RuntimeError(f"{len(results.errors)} trial(s) of {name} failed: {results.errors[0]}")
    return results


def by_config(results, key: str) -> dict:
    """``{config[key]: last reported metrics}`` of every trial."""
    return {result.config[key]: result.metrics for result in results}


def _installed(module) -> bool:
    path = getattr(module, "__file__", None) or ""
    return "site-packages" in path or "dist-packages" in path
