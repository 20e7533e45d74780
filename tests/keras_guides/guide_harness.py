"""Runs a guide program on nn and on Keras 3 and compares the figures it returns."""

import numpy as np
import pytest


def namespaces(keras_too: bool):
    import nn
    from nn import ops

    nn.backend.clear_session()
    out = [("nn", nn, ops)]
    if keras_too:
        keras = pytest.importorskip("keras")
        keras.backend.clear_session()
        out.append(("keras", keras, keras.ops))
    return out


def compare(ours: dict, theirs: dict, rtol=1e-5, atol=1e-6):
    """Every figure both runs returned: equal (numbers within rtol, anything else exactly)."""
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        if isinstance(a, (str, bool, type(None))) or (isinstance(a, (list, tuple, dict)) and _plain(a)):
            assert a == b, key
        else:
            np.testing.assert_allclose(_arr(a), _arr(b), rtol=rtol, atol=atol, err_msg=key)


def _plain(value) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(isinstance(v, (str, int, bool, type(None), tuple)) for v in items)


def _arr(x):
    if isinstance(x, (list, tuple)):
        return np.asarray([_arr(v) for v in x], dtype=np.float64)
    return np.asarray(x, dtype=np.float64)


def run_on_nn(prog):
    """Run ``prog(keras, ops)`` on nn (the default test run: fast, no Keras needed)."""
    (_, nn, ops), *_ = namespaces(keras_too=False)
    return prog(nn, ops)


def run_and_compare(prog, rtol=1e-5, atol=1e-6, keras_environment_failure=None):
    """Run ``prog`` on nn and on installed Keras 3 and compare the figures. A program whose Keras
    run fails in this environment for a reason outside nn (``keras_environment_failure``, a
    substring of the error) is xfailed after nn's run succeeded."""
    (_, nn, ops), (_, keras, kops) = namespaces(keras_too=True)
    ours = prog(nn, ops)
    try:
        theirs = prog(keras, kops)
    except Exception as error:
        if keras_environment_failure and keras_environment_failure in str(error):
            pytest.xfail(f"Keras itself fails here: {str(error).splitlines()[0]}")
        raise
    compare(ours, theirs, rtol=rtol, atol=atol)
    return ours


def set_weights_from(model, seed=0, scale=0.3):
    """Every weight drawn from RandomState(seed) in ``model.weights`` order, so nn and Keras
    start from the same numbers (moving variances set to 1)."""
    rng = np.random.RandomState(seed)
    arrays = []
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.name:
            arrays.append(np.ones(shape, "float32"))
        else:
            arrays.append((rng.standard_normal(shape) * scale).astype("float32"))
    model.set_weights(arrays)
