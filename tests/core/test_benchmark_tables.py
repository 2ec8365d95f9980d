"""The denoising benchmark's tables: a column never hides which seeds it covers."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "denoising.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("denoising_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(seed, **runs):
    return {"seed": seed, **runs}


def test_run_column_over_every_seed(bench):
    records = [
        _record(0, random={"test": {"ndcg@10": 0.02}}),
        _record(1, random={"test": {"ndcg@10": 0.04}}),
    ]
    assert bench._run_column(records, "random", "ndcg@10") == "0.0300 ± 0.0100"


def test_run_column_names_the_seeds_it_covers(bench):
    records = [
        _record(0, **{"collab-only": {"cold_item_removal_rate": 0.25}}),
        _record(1),
        _record(2, **{"collab-only": {"cold_item_removal_rate": 0.35}}),
    ]
    text = bench._run_column(records, "collab-only", "cold_item_removal_rate")
    assert text == "0.3000 ± 0.0500 (seeds 0, 2)"
    assert bench._run_column(records[:2], "collab-only", "cold_item_removal_rate") == (
        "0.2500 (seed 0)"
    )


def test_run_column_without_the_run(bench):
    assert bench._run_column([_record(0), _record(1)], "random", "ndcg@10") == "-"
