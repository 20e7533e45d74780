"""nn trainings as Ray Tune trials: TuneReportCallback, checkpoints that resume bit for bit, the examples'
--tune grids equal to their serial runs, a worker killed mid-sweep, and a cluster reached by address.

Ray runs locally and offline (no usage stats, no dashboard, a token from the environment rather than
~/.ray/auth_token); every test leaves Ray shut down and any head node it started stopped."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOKEN = "0123456789abcdef0123456789abcdef"  # token auth as Ray 2.60 defaults to, kept out of the home folder
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_USAGE_STATS_PROMPT_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": TOKEN,
    # Ray's own switch for single-machine clusters: every node address is 127.0.0.1 (read when ray is imported)
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}
# Ray reads these when it is imported (and caches the token): set them first, for this test process
os.environ.update(RAY_ENV)
RAY_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)

ray = pytest.importorskip("ray")
tune = pytest.importorskip("ray.tune")

import nn  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the trials below: workers need not import tests/


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def local_ray():
    """Ray on this machine as the examples start it without an address (the embedded default), with
    2 CPUs (two trials at a time); shared by the module's tests, shut down after."""
    ray.shutdown()
    assert load("_tune").start_ray(num_cpus=2)
    assert ray.cluster_resources()["CPU"] == 2
    yield ray
    ray.shutdown()


# ---- the callback alone (no Ray session) ------------------------------------------------------------


def test_callback_rejects_bad_arguments():
    with pytest.raises(ValueError, match="checkpoint_every"):
        nn.callbacks.TuneReportCallback(checkpoint_every=-1)
    with pytest.raises(ValueError, match="checkpoint_every"):
        nn.callbacks.TuneReportCallback(checkpoint_every=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        nn.callbacks.TuneReportCallback(filename="../model.keras")
    with pytest.raises(TypeError, match="metrics"):
        nn.callbacks.TuneReportCallback(metrics=3)


def test_callback_names_missing_metric():
    callback = nn.callbacks.TuneReportCallback({"acc": "val_accuracy"})
    with pytest.raises(KeyError, match=r"val_accuracy.*the logs have \['accuracy', 'loss'\]"):
        callback._reported({"loss": 0.5, "accuracy": np.float32(0.75)})
    reported = nn.callbacks.TuneReportCallback()._reported({"loss": np.float32(0.5)})
    assert reported == {"loss": 0.5} and type(reported["loss"]) is float


def test_checkpoint_schedule():
    callback = nn.callbacks.TuneReportCallback(checkpoint_every=2)
    callback.set_params({"epochs": 5, "verbose": 0, "steps": 1})
    assert [callback._checkpoint_due(e) for e in range(5)] == [False, True, False, True, True]  # and the last
    assert not nn.callbacks.TuneReportCallback()._checkpoint_due(0)


def test_restore_without_checkpoint_is_a_fresh_start():
    assert nn.callbacks.TuneReportCallback.restore() == (None, 0)  # outside a trial: nothing to resume


# ---- trials --------------------------------------------------------------------------------------------


def iris():
    (x, y), _ = nn.datasets.iris.load_data()
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32), y


def resumable_trial(config):
    """Seed from the config, resume from Tune's checkpoint if there is one, train to config["epochs"].
    With config["kill_file"], the trial writes its pid there at the end of epoch config["kill_epoch"]
    (once per sweep) and waits to be killed from outside."""
    config = {**config, **config.get("case", {})}
    x, y = iris()
    nn.utils.set_random_seed(config["seed"])
    model, initial_epoch = nn.callbacks.TuneReportCallback.restore()
    if model is None:
        model = nn.Sequential([nn.Input((4,)), nn.Dense(16, activation="relu"), nn.Dense(3, activation="softmax")])
        model.compile(optimizer=nn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [nn.callbacks.TuneReportCallback(checkpoint_every=1)]
    if config.get("kill_file"):
        callbacks.append(WaitToBeKilled(config["kill_file"], config["kill_epoch"]))
    model.fit(x, y, batch_size=16, epochs=config["epochs"], initial_epoch=initial_epoch, verbose=0, callbacks=callbacks)
    weights = model.get_weights()
    tune.report(
        {
            "resumed_at": initial_epoch,
            "weights": [w.tolist() for w in weights],
            "dtypes": [str(w.dtype) for w in weights],
            "pid": os.getpid(),
        }
    )


class WaitToBeKilled(nn.callbacks.Callback):
    def __init__(self, path, epoch):
        super().__init__()
        self.path, self.epoch = path, epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch and not os.path.exists(self.path):
            with open(self.path + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.replace(self.path + ".tmp", self.path)
            time.sleep(60)  # the test kills this process; the sleep never ends
            raise RuntimeError("the test did not kill the trial's worker")


def final_weights(result):
    return [np.asarray(w, dtype=d) for w, d in zip(result.metrics["weights"], result.metrics["dtypes"])]


def killer(path, results, pids, stop):
    """Once the trial has written its pid, wait until Tune's driver has recorded its 3rd result (the
    epoch-3 checkpoint is then the trial's latest), and SIGKILL the worker process."""
    while not stop.is_set():
        if os.path.exists(path) and recorded(results, iteration=3):
            pid = int(Path(path).read_text())
            pids.append(pid)
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


def recorded(results, iteration) -> bool:
    """Whether the killed trial's result.json (written by Tune's driver) has reached ``iteration``."""
    import json

    for file in Path(results).glob("*/*/result.json"):
        for line in file.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line being written
            if row.get("config", {}).get("case", {}).get("kill_file") and row.get("training_iteration", 0) >= iteration:
                return True
    return False


def test_killed_worker_resumes_from_its_checkpoint_bit_for_bit(local_ray, tmp_path):
    """A 4-trial sweep; the worker of one trial (seed 1) is SIGKILLed after its 3rd epoch's checkpoint was
    recorded. Tune restarts it (max_failures=1) from that checkpoint in a new process, and its final
    weights equal those of its uninterrupted twin (seed 1 too) in the same sweep."""
    kill_file = str(tmp_path / "kill.pid")
    cases = [
        {"i": 0, "seed": 1, "kill_file": kill_file, "kill_epoch": 2},
        {"i": 1, "seed": 1, "kill_file": None},
        {"i": 2, "seed": 0, "kill_file": None},
        {"i": 3, "seed": 2, "kill_file": None},
    ]
    pids, stop = [], threading.Event()
    thread = threading.Thread(target=killer, args=(kill_file, tmp_path / "results", pids, stop), daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        results = tune.Tuner(
            resumable_trial,
            param_space={"case": tune.grid_search(cases), "epochs": 6},
            tune_config=tune.TuneConfig(reuse_actors=False),
            run_config=tune.RunConfig(
                name="killed",
                storage_path=str(tmp_path / "results"),
                failure_config=tune.FailureConfig(max_failures=1),
                verbose=0,
            ),
        ).fit()
    finally:
        stop.set()
        thread.join()
    print(f"4-trial sweep with one worker killed: {time.perf_counter() - started:.1f} s")
    assert len(pids) == 1, "the worker was not killed"
    assert not results.errors
    by_case = {r.config["case"]["i"]: r for r in results}
    assert sorted(by_case) == [0, 1, 2, 3]
    killed, twin = by_case[0], by_case[1]
    assert killed.metrics["resumed_at"] == 3  # epochs 0-2 done and checkpointed before the kill
    assert killed.metrics["pid"] != pids[0]  # finished in a new worker process
    assert all(by_case[c].metrics["resumed_at"] == 0 for c in (1, 2, 3))
    for a, b in zip(final_weights(killed), final_weights(twin)):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(final_weights(killed)[0], final_weights(by_case[2])[0])  # seeds do differ

    model, epoch = nn.callbacks.TuneReportCallback.restore(killed.checkpoint)  # the last epoch's
    assert epoch == 6
    for a, b in zip(model.get_weights(), final_weights(twin)):
        np.testing.assert_array_equal(a, b)


def test_optimizers_tune_grid_equals_serial_run(local_ray, tmp_path, capsys):
    optimizers = load("optimizers")
    serial = optimizers.run(epochs=3)
    tuned = optimizers.run_tune(epochs=3, storage=tmp_path / "results")
    assert list(tuned) == list(serial)
    for name in serial:
        assert tuned[name]["loss"] == serial[name]["loss"], name  # bit for bit: each trial seeds itself
        assert tuned[name]["test_accuracy"] == serial[name]["test_accuracy"], name
    assert ray.is_initialized()  # run_tune left the caller's Ray running


@pytest.mark.slow
def test_depth_sweep_tune_prints_the_serial_table(local_ray, tmp_path, mnist_dir, capsys):
    depth_sweep = load("depth_sweep")
    data = depth_sweep.load(mnist_dir, limit=2_000)
    serial = depth_sweep.sweep(data, (1, 3), epochs=1)
    serial_out = capsys.readouterr().out
    tuned = depth_sweep.tune_sweep(data, (1, 3), epochs=1, storage=tmp_path / "results")
    assert tuned == serial
    assert serial_out in capsys.readouterr().out


@pytest.mark.slow
def test_optuna_example(local_ray, tmp_path, capsys):
    result = load("tune_optuna").main(["--quick", "--out", str(tmp_path)])
    assert len(result["results"]) == 4
    assert result["test_accuracy"] > 0.5
    assert "best: lr" in capsys.readouterr().out


# ---- a cluster by address ------------------------------------------------------------------------------


@pytest.mark.slow  # about 30 s idle, 50 s on the loaded 2-core machine: starting a head node is the cost
def test_sweep_on_a_head_node_reached_by_address(tmp_path):
    """`ray start --head` on loopback in a subprocess, then the optimizers example with --address ray://...:
    the same numbers as the serial run, and Ray disconnected and the head stopped at the end."""
    ray.shutdown()  # the module's local Ray (if any) must not answer instead of the head
    with head_node() as address:
        optimizers = load("optimizers")
        serial = optimizers.run(epochs=2)
        tuned = optimizers.run_tune(epochs=2, address=address, storage=tmp_path / "results")
        assert not ray.is_initialized()  # run_tune connected, so it disconnected
        for name in serial:
            assert tuned[name]["loss"] == serial[name]["loss"], name
            assert tuned[name]["test_accuracy"] == serial[name]["test_accuracy"], name


@contextlib.contextmanager
def head_node():
    """A one-node Ray cluster on 127.0.0.1 (`ray start --head`) and a Ray Client server for it; yields the
    ray:// address. Ray Client's default proxy starts a server per client with PR_SET_PDEATHSIG tied to
    the proxy's request thread, and this sandbox (gVisor) kills that child as soon as the thread ends, so the
    test serves ray:// with Ray's single-server mode (`ray.util.client.server --mode=legacy`) instead.
    At the end the processes of this head (found by its temp folder and ports, and their children) are
    stopped by pid: never `ray stop`, which would stop every Ray on the machine."""
    temp = tempfile.mkdtemp(prefix="rayh", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    gcs, proxy, client = free_port(), free_port(), free_port()
    env = {**os.environ, **RAY_ENV}
    start = [RAY_CLI, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={gcs}"]
    start += [f"--ray-client-server-port={proxy}", "--num-cpus=2", "--include-dashboard=false"]
    start += ["--disable-usage-stats", f"--temp-dir={temp}"]
    server = None
    try:
        subprocess.run(start, env=env, check=True, capture_output=True, timeout=180)
        server = subprocess.Popen(
            [sys.executable, "-m", "ray.util.client.server", f"--address=127.0.0.1:{gcs}", "--host=127.0.0.1"]
            + [f"--port={client}", "--mode=legacy"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(client, timeout=60)
        yield f"ray://127.0.0.1:{client}"
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        stop_processes(head_pids(temp, (gcs, proxy, client)))
        shutil.rmtree(temp, ignore_errors=True)


RAY_CLI = str(Path(sys.executable).with_name("ray"))


def head_pids(temp, ports) -> set[int]:
    """The pids of the head started with temp folder ``temp`` and ``ports``, with their children."""
    marks = [temp] + [f"--port={port}" for port in ports]
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(mark in command for mark in marks):
            found.add(int(entry.name))
    for pid in list(found):
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found.update(int(c) for c in children.read_text().split())
    return found


def stop_processes(pids, grace=10.0):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def alive(pid) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for_port(port, timeout):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
