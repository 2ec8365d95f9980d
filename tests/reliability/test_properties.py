"""Property tests (hypothesis) that complement the ones next to each module.

Already covered elsewhere, so not repeated here: the ``Sequences`` round trip,
``take`` / boolean masks / ``head`` / ``tail`` / ``padded`` and ``keep_mask`` as a
subsequence (``tests/core/test_sequences.py``); metrics equal to a brute-force
reference (``tests/core/test_metrics.py``); noise injection keeping clean positions
and its insert mode giving the original back (``tests/data/test_noise.py``); the keep
rule's threshold, ``min_length`` and ``keep_last`` (``tests/denoising/test_stage2.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_data import HISTORIES, collaborative_view, stage_one, tiny_aligner

from iadsr_sk.data import Sequences, UserKFold, inject_noise, leave_one_out_split
from iadsr_sk.denoising import NoiseScores, SequenceDenoiser
from iadsr_sk.metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k

histories = st.lists(
    st.lists(st.integers(-5, 30), min_size=1, max_size=10), min_size=1, max_size=15
)
string_histories = st.lists(
    st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=1, max_size=8),
    min_size=1,
    max_size=10,
)
SETTINGS = settings(max_examples=60, deadline=None)


def _stamped(rows):
    """Sequences whose timestamp encodes (row, position): 1000 * row + position."""
    times = [[1000.0 * i + j for j in range(len(r))] for i, r in enumerate(rows)]
    return Sequences.from_lists(rows, timestamps=times, user_ids=np.arange(len(rows)))


def _assert_rows_carry_their_data(out: Sequences, rows, source_rows):
    """Every remaining item keeps its own timestamp and its row's user id."""
    assert out.user_ids.tolist() == list(source_rows)
    for i, source in enumerate(source_rows):
        items = out[i].tolist()
        stamps = out.timestamps[out.offsets[i] : out.offsets[i + 1]]
        positions = (stamps - 1000.0 * source).astype(int).tolist()
        assert positions == sorted(positions)  # time order kept
        assert items == [rows[source][p] for p in positions]


# ------------------------------------------------------------------ Sequences
@SETTINGS
@given(string_histories)
def test_string_ids_round_trip(rows):
    seqs = Sequences.from_lists(rows)
    assert seqs.to_lists() == rows
    assert seqs.vocabulary.id_kind == "str"
    # the same histories in another order give an equal container row by row
    assert Sequences.from_lists(rows[::-1]) == seqs[::-1]


@SETTINGS
@given(histories, st.data())
def test_take_composes_and_keeps_user_ids_and_timestamps(rows, data):
    seqs = _stamped(rows)
    first = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=12)))
    first = first.astype(np.int64)
    second = np.array(
        data.draw(st.lists(st.integers(0, max(first.size - 1, 0)), max_size=8))
        if first.size
        else [],
        dtype=np.int64,
    )
    assert seqs.take(first).take(second) == seqs.take(first[second])
    _assert_rows_carry_their_data(seqs.take(first), rows, first.tolist())


@SETTINGS
@given(histories, st.data())
def test_keep_mask_head_tail_keep_user_ids_and_timestamps(rows, data):
    seqs = _stamped(rows)
    n = seqs.n_interactions
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    k = data.draw(st.integers(1, 6))
    everyone = list(range(len(rows)))
    for out in (seqs.keep_mask(mask), seqs.head(k), seqs.tail(k)):
        assert out.vocabulary is seqs.vocabulary and out.n_items == seqs.n_items
        _assert_rows_carry_their_data(out, rows, everyone)
    assert seqs.keep_mask(np.ones(n, dtype=bool)) == seqs
    # head and tail split every history exactly
    for i, row in enumerate(rows):
        cut = max(len(row) - k, 0)
        assert seqs.head(k)[i].tolist() + row[cut:] == row
        assert seqs.tail(k).lengths[i] == min(len(row), k)


# ------------------------------------------------------------------ splitters
@SETTINGS
@given(histories, st.integers(3, 5), st.one_of(st.none(), st.integers(1, 6)))
def test_leave_one_out_reconstructs_every_kept_history(rows, min_length, max_len):
    kept = [i for i, r in enumerate(rows) if len(r) >= min_length]
    if not kept:
        with pytest.raises(ValueError, match="no user has at least"):
            leave_one_out_split(rows, min_length=min_length)
        return
    split = leave_one_out_split(rows, min_length=min_length, max_len=max_len)
    decode = split.train.vocabulary.decode
    assert split.kept_rows.tolist() == kept
    assert split.n_dropped_users == len(rows) - len(kept)
    valid, test = decode(split.valid_target).tolist(), decode(split.test_target).tolist()
    for j, i in enumerate(kept):
        train = split.train[j].tolist()
        assert [*train, valid[j], test[j]] == rows[i]
        history = rows[i][:-1]  # test input: everything before the test item
        expected = history if max_len is None else history[-max_len:]
        assert split.test_input[j].tolist() == expected
        expected = train if max_len is None else train[-max_len:]
        assert split.valid_input[j].tolist() == expected


@SETTINGS
@given(st.integers(2, 40), st.integers(2, 6), st.integers(0, 1000), st.booleans())
def test_user_k_fold_partitions_users(n_users, n_splits, seed, shuffle):
    if n_splits > n_users:
        n_splits = n_users
    seqs = Sequences.from_lists([[u, u + 1] for u in range(n_users)])
    cv = UserKFold(n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
    held_out = []
    for train, test in cv.split(seqs):
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).tolist() == list(range(n_users))
        assert len(seqs[train]) + len(seqs[test]) == n_users
        held_out.extend(test.tolist())
    assert sorted(held_out) == list(range(n_users))  # each user held out exactly once


# -------------------------------------------------------------------- metrics
ranks = st.lists(st.integers(0, 50), min_size=1, max_size=40).map(np.array)


@SETTINGS
@given(ranks, st.integers(1, 60), st.integers(0, 20))
def test_metrics_bounded_ordered_and_monotone_in_k(rank_values, k, more):
    hr, ndcg, mrr = (f(rank_values, k) for f in (hit_rate_at_k, ndcg_at_k, mrr_at_k))
    assert 0.0 <= mrr <= ndcg <= hr <= 1.0
    for metric in (hit_rate_at_k, ndcg_at_k, mrr_at_k):
        assert metric(rank_values, k) <= metric(rank_values, k + more)
    if k > rank_values.max():
        assert hr == 1.0


# ---------------------------------------------------------------------- noise
@SETTINGS
@given(
    st.floats(0.0, 0.9), st.integers(0, 2**32 - 1), st.sampled_from(["replace", "insert"])
)
def test_noise_count_follows_the_rate(rate, seed, mode):
    # rule: every interaction independently gets a noise event with probability
    # ``rate`` (no rounding to an exact count); the count stays within 6 standard
    # deviations of rate * n
    rows = [[(u * 7 + j) % 40 for j in range(20)] for u in range(50)]
    noisy, mask = inject_noise(rows, rate, mode=mode, random_state=seed)
    n = 1000
    spread = 6 * math.sqrt(n * rate * (1 - rate)) + 1
    assert abs(int(mask.sum()) - rate * n) <= spread
    original = Sequences.from_lists(rows)
    assert noisy.vocabulary == original.vocabulary  # noise comes from the catalog
    if mode == "insert":
        assert noisy.lengths.tolist() == [
            20 + int(m.sum()) for m in np.split(mask, noisy.offsets[1:-1])
        ]


# ------------------------------------------------------------------ denoising
@pytest.fixture(scope="module")
def fitted_denoising():
    stages = stage_one()
    return stages, tiny_aligner().fit(collaborative_view(stages=stages))


@SETTINGS
@given(
    st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=8), min_size=1, max_size=10),
    st.data(),
    st.floats(0.05, 0.95),
    st.integers(0, 3),
    st.floats(-1.0, 1.0),
)
def test_denoiser_loses_reorders_or_invents_nothing(
    rows, data, threshold, min_length, user_gate
):
    seqs = Sequences.from_lists(rows, user_ids=np.arange(len(rows)) * 10)
    n = seqs.n_interactions
    scores = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    similarity = np.array(
        data.draw(st.lists(st.floats(-1, 1), min_size=len(rows), max_size=len(rows)))
    )
    noise = NoiseScores(seqs, scores, similarity, source=seqs)
    denoiser = SequenceDenoiser(
        threshold=threshold, min_length=min_length, user_gate=user_gate
    ).fit(noise)
    out = denoiser.transform(noise)
    assert len(out) == len(rows)
    assert out.user_ids.tolist() == seqs.user_ids.tolist()
    assert out.vocabulary is seqs.vocabulary
    for original, kept, gated in zip(
        rows, out.to_lists(), similarity < user_gate, strict=True
    ):
        assert len(kept) >= min(min_length, len(original))
        walk = iter(original)
        assert all(item in walk for item in kept)  # a subsequence: in order, no new item
        if gated:  # users below the gate are left alone
            assert kept == original
    # deterministic: the same scores give the same output
    assert denoiser.transform(noise) == out


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_noise_scores_of_a_user_do_not_depend_on_the_batch(fitted_denoising, data):
    stages, aligner = fitted_denoising
    rows = data.draw(st.lists(st.sampled_from(range(len(HISTORIES))), min_size=1))
    whole = aligner.transform(collaborative_view(HISTORIES, stages))
    part = aligner.transform(collaborative_view([HISTORIES[r] for r in rows], stages))
    offsets = whole.sequences.offsets
    expected = np.concatenate([whole.scores[offsets[r] : offsets[r + 1]] for r in rows])
    np.testing.assert_allclose(part.scores, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(part.user_similarity, whole.user_similarity[rows], atol=1e-5)
    # inference is deterministic: scoring again gives the same numbers
    again = aligner.transform(collaborative_view(HISTORIES, stages))
    np.testing.assert_array_equal(again.scores, whole.scores)
