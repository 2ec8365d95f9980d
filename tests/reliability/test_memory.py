"""No allocation grows with n_users x n_items in evaluation or denoising.

Scores over the full catalog are made one batch of users at a time: the largest score
block is ``(batch, n_items)``. torch's CPU allocator is invisible to ``tracemalloc``,
so torch blocks are checked by recording shapes, numpy ones by measuring the peak.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from reliability_data import TINY, tiny_aligner

from iadsr_sk import metrics
from iadsr_sk.baselines import MarkovChain
from iadsr_sk.collaborative import CollaborativeEncoder, SequentialRecommender
from iadsr_sk.denoising import SequenceDenoiser
from iadsr_sk.nn.gru4rec import GRU4Rec
from iadsr_sk.semantic import SemanticEmbedder


def _record_shapes(monkeypatch, owner, name, shape_of):
    """Wrap ``owner.name`` to collect ``shape_of(args, result)`` of every call."""
    original = getattr(owner, name)
    shapes = []

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        shapes.append(shape_of(args, result))
        return result

    monkeypatch.setattr(owner, name, recording)
    return shapes


def _cycling_histories(n_users, n_items, length, seed=0):
    """Histories stepping through the catalog; every item occurs if n_users >= n_items."""
    starts = np.random.default_rng(seed).permutation(max(n_users, n_items))[:n_users]
    starts %= n_items
    return [[int((s + 3 * j) % n_items) for j in range(length)] for s in starts]


def test_evaluation_scores_one_batch_of_users_at_a_time(monkeypatch):
    n_users, n_items = 3000, 2000
    histories = _cycling_histories(n_users, n_items, 4)
    model = MarkovChain().fit(histories)
    assert model.n_items_ == n_items
    model.score_batch_size = 64
    blocks = _record_shapes(
        monkeypatch, metrics, "target_ranks", lambda args, _: np.shape(args[0])
    )
    inputs = [h[:-1] for h in histories]
    targets = model.vocabulary_.encode([h[-1] for h in histories])
    tracemalloc.start()
    try:
        result = model.evaluate(inputs, targets, ks=(10,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["hr@10"] == 1.0  # the cycle is learnt: the metrics are real
    assert max(rows for rows, _ in blocks) == 64
    assert {cols for _, cols in blocks} == {n_items}
    assert len(blocks) == -(-n_users // 64)
    full_matrix = n_users * n_items * 8  # float64 scores of every user at once
    assert peak < full_matrix / 8, f"peak {peak / 2**20:.1f} MiB"


def test_neural_scores_are_batched_by_users_and_forward_passes(monkeypatch):
    histories = _cycling_histories(160, 40, 5)
    model = SequentialRecommender("gru4rec", **{**TINY, "batch_size": 64}).fit(histories)
    model.score_batch_size = 32
    model.inference_batch_size = 8
    score_blocks = _record_shapes(
        monkeypatch, SequentialRecommender, "_score_codes", lambda _, out: out.shape
    )
    logits_blocks = _record_shapes(
        monkeypatch, SequentialRecommender, "_item_logits", lambda _, out: tuple(out.shape)
    )
    inputs = [h[:-1] for h in histories]
    model.evaluate(inputs, model.vocabulary_.encode([h[-1] for h in histories]))
    assert max(rows for rows, _ in score_blocks) == 32
    assert max(rows for rows, _ in logits_blocks) == 8
    assert {cols for _, cols in logits_blocks} == {40}


def test_denoising_never_scores_users_against_the_catalog(monkeypatch):
    n_items, n_new_users = 4000, 3000
    # training covers the whole catalog; denoising then reads many new users
    train = [[(8 * u + j) % n_items for j in range(8)] for u in range(n_items // 8 + 1)]
    rng = np.random.default_rng(0)
    vectors = {item: rng.normal(size=4) for item in range(n_items)}
    embedder = SemanticEmbedder(model="precomputed", embeddings=vectors).fit(train)
    encoder = CollaborativeEncoder("gru4rec", **TINY).fit(train)
    aligner = tiny_aligner().fit(encoder.transform(embedder.transform(train)))
    denoiser = SequenceDenoiser()
    new_users = _cycling_histories(n_new_users, n_items, 8, seed=1)

    logits = _record_shapes(
        monkeypatch, SequentialRecommender, "_item_logits", lambda _, out: tuple(out.shape)
    )
    forward = _record_shapes(
        monkeypatch, GRU4Rec, "forward", lambda args, _: tuple(args[1].shape)
    )
    tracemalloc.start()
    try:
        view = encoder.transform(embedder.transform(new_users))
        denoised = denoiser.fit_transform(aligner.transform(view))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(denoised) == n_new_users
    assert logits == []  # no (users, n_items) score block at all
    assert max(rows for rows, _ in forward) <= SequentialRecommender.inference_batch_size
    full_matrix = n_new_users * n_items * 4  # float32 users x items
    assert peak < full_matrix / 10, f"peak {peak / 2**20:.1f} MiB"


def test_item_vectors_are_not_copied_once_per_interaction():
    """Item mode: no (n_interactions x embedding_dim) array is built on the way from
    the embedder through the aligner's fit and scores; a wide language model's
    vectors (4096-d in the paper) would otherwise be copied once per interaction."""
    n_items, width = 200, 512
    histories = _cycling_histories(2000, n_items, 10)  # 20,000 interactions
    rng = np.random.default_rng(0)
    vectors = {item: rng.normal(size=width) for item in range(n_items)}
    embedder = SemanticEmbedder(model="precomputed", embeddings=vectors).fit(histories)
    encoder = CollaborativeEncoder("gru4rec", **TINY).fit(histories)
    tracemalloc.start()
    try:
        view = embedder.transform(histories)
        interests = encoder.transform(view)
        aligner = tiny_aligner().fit(interests)
        scores = aligner.transform(interests)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_interaction = 20_000 * width * 4  # float32, 41 MB
    assert peak < per_interaction / 4, f"peak {peak / 2**20:.1f} MiB"
    # the same scores as from the per-interaction vectors, built on request
    np.testing.assert_array_equal(
        view.short_term, embedder.item_embeddings_[view.sequences.codes]
    )
    np.testing.assert_allclose(
        aligner.transform(interests).scores, scores.scores, rtol=1e-6, atol=1e-6
    )
