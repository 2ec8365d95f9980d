import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from iadsr_sk.data import Sequences
from iadsr_sk.metrics import (
    evaluate_next_item,
    hit_rate_at_k,
    make_ranking_scorer,
    mrr_at_k,
    ndcg_at_k,
    ranking_metrics,
    target_ranks,
)


def brute_force(scores, targets, k, ties, exclude=None):
    """Reference: walk every row, sort items explicitly, place the target among ties."""
    hr = ndcg = mrr = 0.0
    for row, target in enumerate(targets):
        others = [
            j
            for j in range(scores.shape[1])
            if j != target and not (exclude is not None and exclude[row, j])
        ]
        better = [j for j in others if scores[row, j] > scores[row, target]]
        tied = [j for j in others if scores[row, j] == scores[row, target]]
        rank = len(better) + (len(tied) if ties == "pessimistic" else 0)
        if rank < k:
            hr += 1
            ndcg += 1 / math.log2(rank + 2)
            mrr += 1 / (rank + 1)
    n = len(targets)
    return hr / n, ndcg / n, mrr / n


score_matrices = st.integers(1, 6).flatmap(
    lambda n_rows: st.integers(2, 12).flatmap(
        lambda n_items: st.tuples(
            # small integer scores -> many ties
            hnp.arrays(np.float32, (n_rows, n_items), elements=st.integers(-3, 3)),
            hnp.arrays(np.int64, (n_rows,), elements=st.integers(0, n_items - 1)),
            hnp.arrays(bool, (n_rows, n_items)),
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(
    score_matrices,
    st.integers(1, 15),
    st.sampled_from(["pessimistic", "optimistic"]),
    st.booleans(),
)
def test_metrics_equal_brute_force(data, k, ties, use_exclude):
    scores, targets, exclude = data
    exclude = exclude if use_exclude else None
    ranks = target_ranks(scores, targets, exclude=exclude, ties=ties)
    hr, ndcg, mrr = brute_force(scores, targets, k, ties, exclude)
    assert hit_rate_at_k(ranks, k) == pytest.approx(hr)
    assert ndcg_at_k(ranks, k) == pytest.approx(ndcg)
    assert mrr_at_k(ranks, k) == pytest.approx(mrr)


def test_constant_scores_are_ranked_last_by_default():
    scores = np.zeros((3, 100))
    ranks = target_ranks(scores, [0, 5, 99])
    assert ranks.tolist() == [99, 99, 99]
    assert hit_rate_at_k(ranks, 20) == 0.0
    assert target_ranks(scores, [0, 5, 99], ties="optimistic").tolist() == [0, 0, 0]


def test_known_values():
    ranks = np.array([0, 1, 9, 10])
    metrics = ranking_metrics(ranks, ks=[10])
    assert metrics["hr@10"] == 0.75
    assert metrics["ndcg@10"] == pytest.approx(
        (1 + 1 / math.log2(3) + 1 / math.log2(11)) / 4
    )
    assert metrics["mrr@10"] == pytest.approx((1 + 0.5 + 0.1) / 4)


@pytest.mark.parametrize("k", [0, -1])
def test_k_must_be_positive(k):
    with pytest.raises(ValueError, match="K must be >= 1"):
        hit_rate_at_k([0, 1], k)
    with pytest.raises(ValueError, match="K must be >= 1"):
        ranking_metrics([0], ks=[k])


def test_k_must_be_integer():
    with pytest.raises(TypeError, match="K must be an integer"):
        ndcg_at_k([0], 2.5)


def test_nan_scores_rejected():
    with pytest.raises(ValueError, match="NaN"):
        target_ranks(np.array([[np.nan, 1.0]]), [0])


def test_target_out_of_range():
    with pytest.raises(ValueError, match="target codes"):
        target_ranks(np.zeros((1, 3)), [3])


def test_evaluate_batches_match_one_batch_and_exclude_seen():
    rng = np.random.default_rng(0)
    seqs = Sequences.from_lists(
        [rng.integers(0, 30, rng.integers(1, 8)).tolist() for _ in range(50)]
    )
    n = seqs.n_items
    table = rng.normal(size=(len(seqs), n)).astype(np.float32)
    targets = rng.integers(0, n, len(seqs))
    calls = []

    def score_fn(batch):
        calls.append(len(batch))
        # batches are consecutive rows of the input
        start = sum(calls[:-1])
        return table[start : start + len(batch)]

    one = evaluate_next_item(score_fn, seqs, targets, batch_size=1000)
    calls.clear()
    many = evaluate_next_item(score_fn, seqs, targets, batch_size=7)
    assert calls == [7] * 7 + [1]
    assert one == pytest.approx(many)

    calls.clear()
    _result, ranks = evaluate_next_item(
        score_fn, seqs, targets, batch_size=7, exclude_seen=True, return_ranks=True
    )
    exclude = np.zeros_like(table, dtype=bool)
    rows, _ = seqs.positions()
    exclude[rows, seqs.codes] = True
    np.testing.assert_array_equal(ranks, target_ranks(table, targets, exclude=exclude))


def test_scorer_uses_last_item_of_each_sequence():
    class Oracle:
        vocabulary_ = None

        def score_next(self, batch):
            # always ranks code 0 first
            out = np.zeros((len(batch), batch.n_items), dtype=np.float32)
            out[:, 0] = 1
            return out

    seqs = Sequences.from_lists([[1, 2, 0], [2, 0], [0, 1, 2]])
    est = Oracle()
    est.vocabulary_ = seqs.vocabulary
    assert make_ranking_scorer("hr", 1)(est, seqs) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="unknown metric"):
        make_ranking_scorer("auc")


def test_evaluation_progress_bar_only_when_verbose(capsys):
    from iadsr_sk.data import Sequences
    from iadsr_sk.metrics import evaluate_next_item

    seqs = Sequences.from_lists([[1, 2], [2, 3], [3, 1]] * 4)
    scores = lambda batch: np.ones((len(batch), seqs.n_items))  # noqa: E731
    targets = np.zeros(len(seqs), dtype=np.int64)
    quiet = evaluate_next_item(scores, seqs, targets, batch_size=5)
    assert capsys.readouterr().err == ""
    loud = evaluate_next_item(scores, seqs, targets, batch_size=5, verbose=1)
    assert "evaluating" in capsys.readouterr().err
    assert quiet == loud
