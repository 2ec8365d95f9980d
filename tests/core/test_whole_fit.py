"""The throughput benchmark's whole fit trains both stages as the method does: Stage 1
until its own early stopping, then Stage 2 for its default number of epochs, and
reports the parts of its wall time."""

import numpy as np

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


def test_whole_fit_runs_stage1_to_its_stopping_rule_then_stage2(load_benchmark):
    throughput = load_benchmark("align_throughput")
    rng = np.random.default_rng(0)
    train = Sequences.from_lists(
        [[f"i{k}" for k in rng.integers(0, 12, size=n)] for n in rng.integers(2, 9, 40)]
    )
    view = semantic_view(train, rng)
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


def test_whole_fit_follows_early_stopping(load_benchmark):
    throughput = load_benchmark("align_throughput")
    rng = np.random.default_rng(1)
    train = Sequences.from_lists(
        [[f"i{k}" for k in rng.integers(0, 12, size=n)] for n in rng.integers(3, 9, 40)]
    )
    view = semantic_view(train, rng)
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
