"""Progress output: Keras-style lines, nothing truncated at the end of an epoch, a live bar
on terminals, a notebook bar in Jupyter, and a silent import."""

import io
import subprocess
import sys
import types

import numpy as np
import pytest

import nn
from nn import progress
from nn.progress import EpochProgress, format_logs

LOGS = {"loss": 0.123456, "accuracy": 0.875, "val_loss": 0.25, "val_accuracy": 0.8125, "tiny": 2e-6}


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_format_is_keras_like():
    assert format_logs(LOGS) == (
        "loss: 0.1235 - accuracy: 0.8750 - val_loss: 0.2500 - val_accuracy: 0.8125 - tiny: 2.0000e-06"
    )


def test_verbose_2_prints_one_complete_line_per_epoch():
    out = io.StringIO()
    bar = EpochProgress("Epoch 1/3", 5, 2, stream=out)
    for _ in range(5):
        bar.update({"loss": 1.0})
    bar.close(LOGS)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Epoch 1/3 - 5/5 - ") and lines[0].endswith(format_logs(LOGS))


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_terminal_bar_never_cuts_the_final_line(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    out = FakeTerminal()
    bar = EpochProgress("Epoch 2/3", 50, 1, stream=out)
    for step in range(50):
        bar.update({"loss": 1.0 / (step + 1), "accuracy": 0.5})
    bar.close(LOGS)
    text = out.getvalue()
    running = [chunk for chunk in text.split("\r")[1:-1] if chunk.strip()]
    assert running and all(len(chunk) <= columns - 1 for chunk in running)  # live updates never wrap
    final = text.split("\r")[-1]
    assert final.startswith("50/50") and final.rstrip("\n").endswith(format_logs(LOGS))
    assert text.startswith("Epoch 2/3\n")


def test_verbose_1_on_a_file_prints_the_final_line_only():
    out = io.StringIO()
    bar = EpochProgress("Epoch 1/1", 3, 1, stream=out)
    for _ in range(3):
        bar.update({"loss": 1.0})
    bar.close(LOGS)
    assert out.getvalue().count("\n") == 1 and "val_accuracy: 0.8125" in out.getvalue()


def test_verbose_0_is_silent(capsys):
    bar = EpochProgress("Epoch 1/1", 3, 0)
    bar.update({"loss": 1.0})
    bar.close(LOGS)
    assert capsys.readouterr().out == ""


def fake_notebook(monkeypatch):
    class ZMQInteractiveShell:
        pass

    shell = ZMQInteractiveShell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def test_notebook_uses_tqdm_notebook_when_ipywidgets_is_there(monkeypatch):
    fake_notebook(monkeypatch)
    calls = []

    class FakeBar:
        def __init__(self, **kwargs):
            calls.append(("init", kwargs["total"]))

        def update(self, n):
            calls.append(("update", n))

        def set_postfix_str(self, text, refresh=True):
            calls.append(("postfix", text))

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "tqdm.notebook", types.SimpleNamespace(tqdm=FakeBar))
    monkeypatch.setattr(progress, "_has_ipywidgets", lambda: True)
    assert progress.in_notebook()
    bar = EpochProgress("Epoch 1/1", 2, 1)
    bar.update({"loss": 1.0})
    bar.close(LOGS)
    assert calls[0] == ("init", 2) and ("postfix", format_logs(LOGS)) in calls and calls[-1] == ("close",)


def test_notebook_without_ipywidgets_leaves_one_plain_line_per_epoch(monkeypatch, capsys):
    fake_notebook(monkeypatch)
    monkeypatch.setattr(progress, "_has_ipywidgets", lambda: False)
    monkeypatch.setattr(progress, "_display_handle", lambda title: None)  # no display: printed at the end
    bar = EpochProgress("Epoch 1/1", 2, 1)
    bar.update({"loss": 1.0})
    bar.close(LOGS)
    out = capsys.readouterr().out
    assert "\r" not in out and out.startswith("Epoch 1/1 - 2/2 - ") and out.rstrip("\n").endswith(format_logs(LOGS))


NOTEBOOK_CELLS = [
    "import sys, os\nsys.path.insert(0, os.environ['REPO'])\nimport numpy as np\nimport nn\nimport nn.progress",
    "nn.utils.set_random_seed(0)\nmodel = nn.Sequential([nn.Input((3,)), nn.Dense(1)])\n"
    "model.compile(optimizer='sgd', loss='mse')\n"
    "history = model.fit(np.ones((8, 3), 'float32'), np.ones((8, 1), 'float32'), epochs=2, batch_size=4)",
]


@pytest.mark.parametrize("widgets", [False, True])
def test_fit_in_a_notebook_leaves_a_text_log_that_survives_export(widgets, tmp_path, monkeypatch):
    """Run fit in a real kernel (nbclient), then read the saved outputs as nbconvert would."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from pathlib import Path

    cells = list(NOTEBOOK_CELLS)
    if widgets:  # a stand-in for tqdm.notebook: a widget that leaves nothing readable behind
        cells.insert(
            1,
            "import types\nclass Bar:\n    def __init__(self, **k): pass\n    def update(self, n): pass\n"
            "    def set_postfix_str(self, *a, **k): pass\n    def close(self): pass\n"
            "sys.modules['tqdm.notebook'] = types.SimpleNamespace(tqdm=Bar)\n"
            "nn.progress._has_ipywidgets = lambda: True",
        )
    else:
        cells.insert(1, "nn.progress._has_ipywidgets = lambda: False")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    monkeypatch.setenv("REPO", str(Path(__file__).resolve().parents[1]))
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    text = ""
    for output in notebook.cells[-1].outputs:  # what an HTML export shows: streams and text/plain
        text += output.get("text", "") + output.get("data", {}).get("text/plain", "") + "\n"
    lines = [line for line in text.splitlines() if line.startswith("Epoch")]
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"], text
    assert all(" - 2/2 - " in line and "loss: " in line for line in lines)
    assert "\r" not in text


def test_terminal_ipython_is_not_a_notebook(monkeypatch):
    class TerminalInteractiveShell:
        pass

    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=TerminalInteractiveShell))
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert not progress.in_notebook()


@pytest.mark.parametrize("package", ["autograd_mini", "nn"])
def test_import_prints_nothing(package):
    done = subprocess.run([sys.executable, "-W", "always", "-c", f"import {package}"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_fit_verbose_2_shows_every_metric_and_validation(capsys):
    nn.utils.clear_session()
    nn.utils.set_random_seed(0)
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="relu"), nn.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model.fit(x, y, epochs=2, batch_size=8, verbose=2, validation_data=(x, y))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 2
    for line in lines:
        for key in ("loss:", "accuracy:", "val_loss:", "val_accuracy:"):
            assert key in line
