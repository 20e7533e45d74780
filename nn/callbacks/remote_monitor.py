"""Keras 3's ``RemoteMonitor``: post each epoch's logs to a server (Python's ``urllib``, no
``requests`` needed). The body is Keras': a form field ``field`` holding the logs as JSON, or
the JSON itself with ``send_as_json=True``; an unreachable server gives a warning, never an error."""

from __future__ import annotations

import json
import warnings

import numpy as np

from .callback import Callback


class RemoteMonitor(Callback):
    """``RemoteMonitor(root="http://localhost:9000", path="/publish/epoch/end/", field="data",
    headers=None, send_as_json=False)``: POST ``{"epoch": epoch, **logs}`` at each epoch end."""

    def __init__(
        self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None, send_as_json=False
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = 10.0

    def on_epoch_end(self, epoch, logs=None):
        """Send the epoch number and the logs (numpy scalars unwrapped)."""
        import urllib.error  # (imported here: urllib.request costs ``import nn`` 15 ms otherwise)
        import urllib.parse
        import urllib.request

        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
