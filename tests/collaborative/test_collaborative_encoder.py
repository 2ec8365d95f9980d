"""CollaborativeEncoder: short-term states aligned with codes, long-term max-pool."""

import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from iadsr_sk.collaborative import (
    CollaborativeEncoder,
    CollaborativeInterests,
    SequentialRecommender,
)
from iadsr_sk.data import Sequences

MAX_LEN = 4


@pytest.fixture(scope="module", params=["sasrec", "gru4rec"])
def encoder(request):
    rng = np.random.default_rng(0)
    histories = [list(rng.integers(1, 15, size=int(rng.integers(2, 9)))) for _ in range(30)]
    histories.append(list(range(1, 15)))  # every item appears
    return CollaborativeEncoder(
        request.param,
        max_len=MAX_LEN,
        hidden_size=8,
        n_heads=2,
        max_epochs=2,
        random_state=0,
    ).fit(histories)


@dataclass
class FakeSemanticInterests:
    """Stands in for the semantic step's output: anything with ``.sequences``."""

    sequences: object
    payload: str = "semantic"


def test_shapes_and_fitted_attributes(encoder):
    histories = [[1, 2, 3], [4, 5], [6]]
    interests = encoder.transform(histories)
    assert isinstance(interests, CollaborativeInterests)
    assert len(interests) == 3 and interests.hidden_size == 8
    assert interests.short_term.shape == (6, 8) and interests.short_term.dtype == np.float32
    assert interests.long_term.shape == (3, 8) and interests.long_term.dtype == np.float32
    assert interests.semantic is None
    assert interests.encoder is encoder and interests.source is histories
    assert "n_interactions=6" in repr(interests)
    assert interests.sequences.to_lists() == histories
    assert encoder.hidden_size_ == 8
    assert encoder.item_embeddings_.shape == (14, 8)
    weights = encoder.module_.item_embedding.weight.detach().numpy()[1:]
    np.testing.assert_array_equal(encoder.item_embeddings_, weights)
    assert isinstance(encoder.recommender_, SequentialRecommender)


def test_long_term_is_max_over_real_positions_only(encoder):
    short = [[3, 1]]
    with_long_neighbour = [[3, 1], [1, 2, 3, 4, 5, 6, 7]]
    alone = encoder.transform(short)
    batched = encoder.transform(with_long_neighbour)
    np.testing.assert_allclose(batched.long_term[0], alone.long_term[0], atol=1e-6)
    np.testing.assert_allclose(alone.long_term[0], alone.short_term.max(axis=0))
    for row in range(2):
        np.testing.assert_array_equal(
            batched.long_term[row], batched.short_term_of(row).max(axis=0)
        )


def test_short_term_of_takes_list_indices_and_refuses_others(encoder):
    interests = encoder.transform([[3, 1], [1, 2, 3]])
    np.testing.assert_array_equal(interests.short_term_of(-1), interests.short_term[2:])
    np.testing.assert_array_equal(interests.short_term_of(-2), interests.short_term[:2])
    for row in (2, -3):
        with pytest.raises(IndexError, match=f"row {row} is out of range for 2"):
            interests.short_term_of(row)
    with pytest.raises(TypeError):
        interests.short_term_of(1.0)


def test_short_term_aligned_with_codes_beyond_max_len(encoder):
    history = [5, 3, 9, 1, 2, 7, 7, 4, 11, 6]  # longer than max_len = 4
    interests = encoder.transform([[2, 2], history])
    states = interests.short_term_of(1)
    assert states.shape == (len(history), 8)
    # position j = the state after the prefix history[: j + 1], read from at most
    # max_len items: what the recommender's next-item scores use
    prefixes = Sequences.from_lists(
        [history[: j + 1] for j in range(len(history))],
        vocabulary=encoder.vocabulary_,
    )
    with torch.inference_mode():
        expected = np.empty_like(states)
        for rows, last in encoder.recommender_._last_states_batches(prefixes):
            expected[rows] = last.numpy()
    np.testing.assert_allclose(states, expected, atol=1e-5)
    scores = encoder.score_next([history])
    logits = expected[-1] @ encoder.item_embeddings_.T
    np.testing.assert_allclose(scores[0], logits, rtol=1e-4, atol=1e-4)


def test_semantic_input_passes_through(encoder):
    upstream = FakeSemanticInterests(sequences=[[1, 2], [3, 4, 5]])
    interests = encoder.transform(upstream)
    assert interests.semantic is upstream
    assert interests.sequences.to_lists() == [[1, 2], [3, 4, 5]]
    again = encoder.transform(interests)  # a CollaborativeInterests keeps its semantic
    assert again.semantic is upstream and again.source is interests.source
    refit = clone(encoder).set_params(max_epochs=1).fit(upstream)
    assert refit.vocabulary_.n_items == 5


def test_delegates_to_recommender(encoder):
    np.testing.assert_array_equal(
        encoder.predict([[1, 2]], k=3), encoder.recommender_.predict([[1, 2]], k=3)
    )
    assert np.isfinite(encoder.score([[1, 2, 3], [4, 5, 6]]))


def test_pipeline_and_pickle(encoder):
    pipe = Pipeline([("collaborative", clone(encoder).set_params(max_epochs=1))])
    out = pipe.fit_transform([[1, 2, 3], [3, 2, 1]])
    assert out.short_term.shape == (6, 8)
    loaded = pickle.loads(pickle.dumps(encoder))
    a, b = loaded.transform([[1, 2, 3]]), encoder.transform([[1, 2, 3]])
    np.testing.assert_array_equal(a.short_term, b.short_term)


def test_from_recommender(encoder):
    again = CollaborativeEncoder.from_recommender(encoder.recommender_)
    assert again.recommender_ is encoder.recommender_
    assert again.get_params()["max_len"] == MAX_LEN
    np.testing.assert_array_equal(
        again.transform([[1, 2]]).long_term, encoder.transform([[1, 2]]).long_term
    )


def test_from_recommender_follows_a_refit_of_the_recommender():
    tiny = dict(hidden_size=8, max_len=MAX_LEN, max_epochs=1, validation=None)
    recommender = SequentialRecommender("gru4rec", random_state=0, **tiny)
    recommender.fit([[1, 2, 3, 4], [2, 3, 4, 5]] * 5)
    encoder = CollaborativeEncoder.from_recommender(recommender)
    recommender.fit([[101, 102, 103], [103, 104, 105]] * 5)  # another catalog
    assert encoder.vocabulary_ is recommender.vocabulary_
    assert encoder.transform([[101, 102]]).short_term.shape == (2, 8)
    with pytest.raises(KeyError, match="not seen in fit"):
        encoder.transform([[1, 2]])
    weights = recommender.module_.item_embedding.weight.detach()[1:].numpy()
    np.testing.assert_array_equal(encoder.item_embeddings_, weights)
    assert encoder.item_embeddings_.shape == (5, 8) and encoder.hidden_size_ == 8


def test_from_recommender_needs_a_sequential_recommender():
    from iadsr_sk.baselines import MostPopular

    with pytest.raises(
        TypeError, match=r"needs a fitted SequentialRecommender.*MostPopular"
    ):
        CollaborativeEncoder.from_recommender(MostPopular().fit([[1, 2, 3]]))


def test_bad_input(encoder):
    with pytest.raises(KeyError):
        encoder.transform([[1, 99]])
    with pytest.raises(ValueError, match="empty"):
        encoder.transform([[1], []])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        CollaborativeEncoder().transform([[1]])
