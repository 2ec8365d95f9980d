"""Fixtures of the experiment-level tests."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark(name)``: the script ``benchmarks/<name>.py`` as a module."""

    def load(name):
        # the scripts import their shared helpers (benchmarks/_shared.py) by path
        if str(BENCHMARKS) not in sys.path:
            sys.path.append(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(
            f"{name}_bench", BENCHMARKS / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def logs(tmp_path):
    path = tmp_path / "logs.txt"
    rng = np.random.default_rng(0)
    lines = []
    for u in range(60):
        # a cycle through 15 items with a random item now and then
        items = [(u + t) % 15 for t in range(8)]
        items[rng.integers(1, 7)] = int(rng.integers(15))
        lines.append(" ".join([f"u{u}"] + [f"i{i}" for i in items]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
