import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs a fixed set of examples (derandomize) so a red run always reproduces;
# local runs explore new examples each time.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def mnist_dir():
    path = Path(os.environ.get("AUTOGRAD_MINI_TEST_MNIST", SHARED_DATA / "mnist"))
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST IDX files not found in {path}")
    return path


@pytest.fixture(scope="module")
def own_kernel_cache(tmp_path_factory):
    """A module's own empty kernel cache folder (``AUTOGRAD_MINI_CACHE_DIR``), the previous value
    restored after it: use with ``pytestmark = pytest.mark.usefixtures("own_kernel_cache")``."""
    previous = os.environ.get("AUTOGRAD_MINI_CACHE_DIR")
    os.environ["AUTOGRAD_MINI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        del os.environ["AUTOGRAD_MINI_CACHE_DIR"]
    else:
        os.environ["AUTOGRAD_MINI_CACHE_DIR"] = previous
