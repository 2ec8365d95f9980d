import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The unit tests use tiny models, for which one thread is fastest; it also keeps
# them quick when the machine is busy with something else.
torch.set_num_threads(1)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


# --doctest-modules would also collect every folder's conftest.py as a module: the
# test folders are not packages, so two of them both import as "conftest" and clash
# when one pytest call names several folders. They hold no docstring examples.
collect_ignore_glob = ["*/conftest.py"]
