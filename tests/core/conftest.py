"""Fixtures of the experiment-level tests."""

import numpy as np
import pytest


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
