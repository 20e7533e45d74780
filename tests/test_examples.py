"""Every example in --quick mode, asserting the lecture's own figures."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chain_rule(tmp_path, capsys):
    result = load("chain_rule").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "3 -12" in out and "[-4, -4, 3]" in out
    assert result["graph"].endswith(".svg") and Path(result["graph"]).stat().st_size > 0


def test_sigmoid_neuron(tmp_path, capsys):
    load("sigmoid_neuron").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "dx = [0.3932238664829637, -0.5898357997244456]" in out
    assert "dw = [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]" in out


def test_one_neuron_per_layer(capsys):
    result = load("one_neuron_per_layer").main([])
    lecture = {"w_o": 0.314477715, "b_o": 0.2253995, "w_h": 0.201867625, "b_h": 0.101867625}
    for name, value in lecture.items():
        assert result["lecture"][name] == pytest.approx(value, abs=1e-9)  # the slide prints 9 decimals
        assert abs(result["exact"][name] - value) < 5e-4  # the rounding's effect, explained in the output
    assert "rounds" in capsys.readouterr().out


TABLES = {
    "iris_softmax": [
        "i: 0, TrainAcc:0.333333, TrainLoss: 2.066978 ,TestAcc:0.266667, TestLoss: 1.880856",
        "i: 50, TrainAcc:0.933333, TrainLoss: 0.205636 ,TestAcc:0.966667, TestLoss: 0.251937",
    ],
    "iris_mlp": [
        "i: 0, TrainAcc:0.433333, TrainLoss: 2.205641 ,TestAcc:0.400000, TestLoss: 1.721138",
        "i: 50, TrainAcc:0.958333, TrainLoss: 0.092934 ,TestAcc:1.000000, TestLoss: 0.084885",
    ],
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_iris_low_level_tables_match_the_lecture(name, tmp_path, capsys):
    load(name).main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    for line in TABLES[name]:
        assert line in out
    assert (tmp_path / name / "curves.png").exists()


def test_iris_sequential(tmp_path, capsys):
    model, history = load("iris_sequential").main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Total params: 91" in out
    assert history.history["val_accuracy"][-1] >= 0.9


def test_loss_functions(tmp_path):
    result = load("loss_functions").main(["--out", str(tmp_path)])
    # the lecture prints 0.046666666666666666; float64 arithmetic gives the neighbouring double
    assert result["mse"] == pytest.approx(0.046666666666666666, rel=1e-15)
    assert result["x_entropy"] == 0.01005033585350145
    assert (tmp_path / "loss_functions" / "cross_entropy.png").exists()


def test_mnist_mlp_one_epoch(tmp_path, mnist_dir, capsys):
    accuracy = load("mnist_mlp").main(["--quick", "--data", str(mnist_dir), "--out", str(tmp_path)])
    assert accuracy >= 0.96


def test_main_job(tmp_path, capsys):
    out_dir = load("main").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "[df/dx, df/dy, df/dz] = [-4, -4, 3]" in out
    assert "i: 50, TrainAcc:0.933333, TrainLoss: 0.205636 ,TestAcc:0.966667, TestLoss: 0.251937" in out
    assert "Total params: 91" in out
    for name in (
        "chain_rule.svg",
        "chain_rule.png",
        "sigmoid_neuron.svg",
        "iris_softmax_curves.png",
        "iris_sequential_history.png",
        "iris_mlp_loss_graph.svg",
    ):
        assert (out_dir / name).stat().st_size > 0


def test_perceptron(capsys):
    result = load("perceptron").main(["--quick"])
    assert result["AND"] == {"converged": True, "outputs": [0, 0, 0, 1]}
    assert result["OR"] == {"converged": True, "outputs": [0, 1, 1, 1]}
    assert result["XOR"]["converged"] is False
    assert result["xor_by_hand"] == [0, 1, 1, 0]
    assert result["xor_mlp"] == [0, 1, 1, 0]


def test_four_pixel_camera(tmp_path, capsys):
    result = load("four_pixel_camera").main(["--quick", "--out", str(tmp_path)])
    np.testing.assert_allclose(result["hand_set"], [0.17831734, 0.17831734, 0.17831734, 0.465048], atol=5e-8)
    assert result["params"] == 116 and "Total params: 116" in capsys.readouterr().out
    assert result["hand_set_accuracy"] == 1.0
    assert result["trained_accuracy"] >= 0.95
    assert (tmp_path / "four_pixel_camera" / "predictions.png").exists()


def test_approximate_square_distance(tmp_path, capsys):
    history = load("approximate_square_distance").main(["--quick", "--out", str(tmp_path)])
    val = history.history["val_loss"]
    assert len(val) == 10 and val[-1] < val[0] / 20 and val[-1] < 0.15  # the full 50 epochs reach 0.012
    assert (tmp_path / "approximate_square_distance" / "fit_and_error.png").exists()


def test_approximate_x_squared(tmp_path, capsys):
    result = load("approximate_x_squared").main(["--quick", "--out", str(tmp_path)])
    np.testing.assert_allclose(result["linear"], result["best_constant"], atol=0.05)  # a line cannot bend
    assert result["best_constant"] == pytest.approx(110 / 3)
    errors = np.abs(result["relu"] - np.array([4.0, -4.0, 11.0, 20.0, 8.0, -5.0]) ** 2)
    assert errors.max() < 20  # targets reach 2500; the full run stays within 12
    assert result["tanh_mse"] < 0.5 and result["tanh_outside"][2] < 12  # tanh saturates outside [-3, 3]
    assert (tmp_path / "approximate_x_squared" / "x_squared.png").exists()


def test_optimizers(tmp_path, capsys):
    results = load("optimizers").main(["--quick", "--out", str(tmp_path)])
    assert len(results) == 8
    for name, result in results.items():
        assert result["loss"][-1] < result["loss"][0], name
    assert results["momentum 0.9"]["loss"][-1] < results["SGD"]["loss"][-1]  # same start, same batches
    assert results["Adam"]["test_accuracy"] >= 0.9
    assert (tmp_path / "optimizers" / "loss_curves.png").exists()


def test_depth_sweep(tmp_path, mnist_dir, capsys):
    result = load("depth_sweep").main(["--quick", "--data", str(mnist_dir), "--out", str(tmp_path)])
    accuracies = result["accuracies"]
    assert accuracies[1] > accuracies[8]  # SGD 0.01 for one epoch: the deep stack has barely started
    sigmoid, tanh = result["norms"]["sigmoid"], result["norms"]["tanh"]
    assert sigmoid[0] < 1e-3 * sigmoid[-2]  # vanishing towards the input
    assert 0.1 < tanh[0] / tanh[-2] < 10  # level at Glorot initialization
    assert (tmp_path / "depth_sweep" / "depth_sweep.png").exists()


def test_mnist_sequential_save_load_identical(tmp_path, mnist_dir, capsys):
    result = load("mnist_sequential").main(["--quick", "--data", str(mnist_dir), "--out", str(tmp_path)])
    assert result["params"] == 101_770
    assert result["scores"][1] >= 0.93  # 1 epoch; the full 5 epochs reach 0.977 (lecture: about 0.973)
    assert result["from_weights"] == result["scores"] == result["from_model"]  # bit for bit
    assert "identical" in capsys.readouterr().out
    assert (tmp_path / "mnist_sequential" / "predictions.png").exists()
