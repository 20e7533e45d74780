"""TensorBoard (events read back with tensorboard's own reader) and RemoteMonitor (posted to
a local HTTP server on 127.0.0.1)."""

import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import nn


def _model():
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(1)])
    model.compile(optimizer=nn.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    rng = np.random.RandomState(0)
    return model, rng.random_sample((16, 3)).astype("float32"), rng.random_sample((16, 1)).astype("float32")


def test_tensorboard_writes_scalars_tensorboard_reads(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    model, x, y = _model()
    callback = nn.callbacks.TensorBoard(log_dir=tmp_path, update_freq=2)
    history = model.fit(x, y, batch_size=4, epochs=3, validation_split=0.25, callbacks=[callback], verbose=0)
    train = accumulator.EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    tags = train.Tags()["scalars"]
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "batch_loss"} <= set(tags)
    losses = [event.value for event in train.Scalars("epoch_loss")]
    np.testing.assert_allclose(losses, history.history["loss"], rtol=1e-6)
    assert [event.step for event in train.Scalars("epoch_loss")] == [0, 1, 2]
    assert [event.step for event in train.Scalars("batch_loss")] == [2, 4, 6, 8]  # 3 batches an epoch: every 2nd of 9
    validation = accumulator.EventAccumulator(str(tmp_path / "validation"))
    validation.Reload()
    np.testing.assert_allclose(
        [event.value for event in validation.Scalars("epoch_loss")], history.history["val_loss"], rtol=1e-6
    )
    assert "evaluation_loss_vs_iterations" in validation.Tags()["scalars"]
    with pytest.raises(ValueError, match="histogram_freq"):
        nn.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1)


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_each_epoch(server):
    model, x, y = _model()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[nn.callbacks.RemoteMonitor(root=server)])
    assert len(_Recorder.received) == 2
    path, content_type, body = _Recorder.received[1]
    assert path == "/publish/epoch/end/" and content_type == "application/x-www-form-urlencoded"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent["epoch"] == 1 and sent["loss"] == pytest.approx(history.history["loss"][1])
    model.fit(
        x, y, epochs=1, verbose=0, callbacks=[nn.callbacks.RemoteMonitor(root=server, path="/j", send_as_json=True)]
    )
    path, content_type, body = _Recorder.received[-1]
    assert path == "/j" and content_type == "application/json" and json.loads(body)["epoch"] == 0


def test_remote_monitor_warns_when_unreachable():
    model, x, y = _model()
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[nn.callbacks.RemoteMonitor(root="http://127.0.0.1:9")])
