"""The throughput benchmark: its whole fit trains both stages as the method does (Stage 1
until its own early stopping, then Stage 2 for its default number of epochs) and
reports the parts of its wall time; its rows divide each speed by the released loop's
speeds measured just before and just after."""

import itertools
import json

import numpy as np
import pytest

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.data import Sequences
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.semantic import SemanticInterests


def semantic_view(train, rng):
    """Random item vectors as the semantic view of ``train`` ("item" mode)."""
    vectors = rng.standard_normal((train.n_items, 5)).astype(np.float32)
    rows = np.split(train.codes, np.cumsum(train.lengths)[:-1])
    long_term = np.stack([vectors[codes].mean(axis=0) for codes in rows])
    return SemanticInterests(train, None, long_term, vectors, "item")


@pytest.fixture
def histories():
    """40 histories of 2-8 items over 12 items, and their semantic view."""
    rng = np.random.default_rng(0)
    train = Sequences.from_lists(
        [[f"i{k}" for k in rng.integers(0, 12, size=n)] for n in rng.integers(2, 9, 40)]
    )
    return train, semantic_view(train, rng)


def test_whole_fit_runs_stage1_to_its_stopping_rule_then_stage2(load_benchmark, histories):
    throughput = load_benchmark("align_throughput")
    train, view = histories
    recommender = SequentialRecommender(
        max_len=8, hidden_size=8, max_epochs=4, patience=None, batch_size=64
    )

    fit = throughput.whole_fit(recommender, view, train, batch_size=16)

    assert fit["stage1_epochs"] == 4  # its own max_epochs, not one
    assert fit["stage2_epochs"] == InterestAligner().n_epochs
    assert recommender.batch_size == 64  # the given recommender is left as it was
    assert not hasattr(recommender, "history_")
    parts = fit["stage1_seconds"] + fit["encode_seconds"] + fit["stage2_seconds"]
    assert 0 < parts <= fit["seconds"]
    assert min(fit["stage1_seconds"], fit["stage2_seconds"]) > 0
    assert fit["stage1_windows"] > 0 and fit["stage2_windows"] > 0


def test_whole_fit_follows_early_stopping(load_benchmark, histories):
    throughput = load_benchmark("align_throughput")
    train, view = histories
    recommender = SequentialRecommender(
        max_len=8, hidden_size=8, max_epochs=50, patience=1, random_state=0
    )
    fit = throughput.whole_fit(recommender, view, train, batch_size=16)
    stopped = (
        SequentialRecommender(**{**recommender.get_params(), "batch_size": 16})
        .fit(train)
        .history_
    )
    assert fit["stage1_epochs"] == len(stopped) < 50


def test_rows_divide_by_the_released_loop_around_them(
    load_benchmark, tmp_path, monkeypatch
):
    rng = np.random.default_rng(2)
    folder = tmp_path / "data" / "amazon-beauty"
    folder.mkdir(parents=True)
    asins = [f"B{k:03d}" for k in range(20)]
    sequences = {
        f"user{u}": [int(k) + 1 for k in rng.integers(0, 20, size=rng.integers(3, 9))]
        for u in range(50)
    }
    (folder / "sequences.json").write_text(json.dumps(sequences))
    (folder / "titles.json").write_text(json.dumps({a: f"shade {a}" for a in asins}))
    (folder / "id_map.json").write_text(json.dumps({a: k + 1 for k, a in enumerate(asins)}))
    monkeypatch.setenv("IADSR_DATA", str(tmp_path / "data"))
    out = tmp_path / "throughput"
    throughput = load_benchmark("align_throughput")
    args = ["--dataset", "beauty", "--settings", "faithful", "--batch-sizes", "16"]
    args += ["--epochs", "1", "--released-steps", "2", "--backbone-alone", "--whole-fit"]
    args += ["--embedding-cache", str(tmp_path / "cache"), "--out", str(out)]
    assert throughput.main(args) == 0

    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [r["trained"] for r in rows] == ["Stage 2", "sasrec alone", "whole fit"]
    for previous, row in itertools.pairwise(rows):
        assert row["released_before"] == previous["released_after"]
    # training histories (the last two items held out) with a target
    n_users = sum(len(items) - 2 >= 2 for items in sequences.values())
    assert f"{n_users} training users" in out.with_suffix(".md").read_text()
    for row in rows:
        reference = (row["released_before"] + row["released_after"]) / 2
        assert row["x_released"] == pytest.approx(row["sequences_per_second"] / reference)
    assert rows[0]["sequences_per_second"] == pytest.approx(
        n_users / rows[0]["epoch_seconds"]
    )
    whole = rows[2]
    epochs = whole["stage1_epochs"] + whole["stage2_epochs"]
    # Stage 1 stops on its own rule: at most 100 epochs, at least patience (10) + 1
    assert whole["stage2_epochs"] == 10 and 11 <= whole["stage1_epochs"] <= 100
    assert whole["sequences_per_second"] == pytest.approx(
        n_users * epochs / whole["seconds"]
    )
    # one target per window in this setting; Stage 1 holds its validation items out
    targets = whole["stage1_targets"] * whole["stage1_epochs"]
    targets += whole["stage2_windows"] * whole["stage2_epochs"]
    assert whole["targets_per_second"] * whole["seconds"] == pytest.approx(targets)
    assert 0 < whole["stage1_targets"] <= whole["stage1_windows"]
    table = out.with_suffix(".md").read_text()
    assert "| faithful | whole fit (" in table and table.count("| faithful |") == 3
