import logging

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score

from iadsr_sk.baselines import MarkovChain, MostPopular
from iadsr_sk.data import Sequences, UserKFold, leave_one_out_split, next_item_pairs


def test_leave_one_out_parts():
    seqs = Sequences.from_lists([[1, 2, 3, 4, 5], [6, 7, 8], [1, 2]])
    split = leave_one_out_split(seqs, max_len=2)
    assert split.n_dropped_users == 1
    assert split.kept_rows.tolist() == [0, 1]
    assert split.train.to_lists() == [[1, 2, 3], [6]]
    assert split.valid_input.to_lists() == [[2, 3], [6]]
    assert seqs.vocabulary.decode(split.valid_target).tolist() == [4, 7]
    assert split.test_input.to_lists() == [[3, 4], [6, 7]]
    assert seqs.vocabulary.decode(split.test_target).tolist() == [5, 8]


def test_short_users_are_reported(caplog):
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        leave_one_out_split([[1, 2, 3], [4], [5, 6]])
    assert "2 of 3 users have fewer than 3 items" in caplog.text
    with pytest.raises(ValueError, match="no user has at least 3 items"):
        leave_one_out_split([[1, 2], [3]])
    with pytest.raises(ValueError, match="min_length must be >= 3"):
        leave_one_out_split([[1, 2, 3]], min_length=2)


def test_next_item_pairs_skip_single_items(caplog):
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        inputs, _targets = next_item_pairs([[1, 2, 3], [4]])
    assert inputs.to_lists() == [[1, 2]]
    assert "1 sequences with fewer than 2 items" in caplog.text
    with pytest.raises(ValueError, match="fewer than 2 items"):
        next_item_pairs([[1], [2]])


def _toy(n_users=120, seed=0):
    rng = np.random.default_rng(seed)
    # a cycle through 20 items with random starts: Markov should be near perfect
    rows = []
    for _ in range(n_users):
        start = int(rng.integers(0, 20))
        rows.append([(start + t) % 20 for t in range(int(rng.integers(3, 10)))])
    return Sequences.from_lists(rows)


def test_floor_models_and_cv():
    seqs = _toy()
    split = leave_one_out_split(seqs)
    markov = MarkovChain().fit(split.train)
    pop = MostPopular().fit(split.train)
    m = markov.evaluate(split.test_input, split.test_target, ks=(1, 10))
    p = pop.evaluate(split.test_input, split.test_target, ks=(1, 10))
    assert m["hr@1"] == 1.0
    assert m["ndcg@10"] > p["ndcg@10"]
    scores = cross_val_score(MarkovChain(), seqs, cv=UserKFold(3, random_state=0))
    assert scores.shape == (3,) and (scores > 0.9).all()
    search = GridSearchCV(
        MarkovChain(),
        {"popularity_backoff": [True, False]},
        cv=UserKFold(3, random_state=0),
    ).fit(seqs)
    assert search.best_score_ > 0.9


def test_predict_and_recommend_speak_user_ids():
    seqs = Sequences.from_lists([["a", "b", "c"], ["a", "b", "c"], ["b", "c", "a"]])
    model = MarkovChain().fit(seqs)
    assert model.predict([["a"], ["b"]], k=1).tolist() == [["b"], ["c"]]
    assert model.recommend([["c"]], k=3).shape == (1, 3)
    with pytest.raises(KeyError, match="unknown item id"):
        model.predict([["z"]])
    for k in (0, -2):
        with pytest.raises(ValueError, match="k must be >= 1"):
            model.predict([["a"]], k=k)
    with pytest.raises(ValueError, match="larger than the catalog"):
        model.predict([["a"]], k=4)
    with pytest.raises(ValueError, match="empty"):
        model.predict([["a"], []])


def test_most_popular_matches_counts():
    model = MostPopular().fit([[1, 2, 2], [2, 3], [3, 2]])
    assert model.predict([[1]], k=3).tolist() == [[2, 3, 1]]
