"""Floor recommenders every learned model must beat: popularity and item transitions."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._recommender import BaseRecommender
from .data._sequences import Sequences

__all__ = ["MarkovChain", "MostPopular"]


def _item_counts(seqs: Sequences) -> np.ndarray:
    return np.bincount(seqs.codes, minlength=seqs.n_items).astype(np.float64)


class MostPopular(BaseRecommender):
    """Recommend the items with the most training interactions.

    Attributes
    ----------
    vocabulary_ : ItemVocabulary
        The catalog (from the training sequences).
    item_counts_ : ndarray of shape (n_items,)
        Training interactions per item.
    n_items_ : int
        Number of items in the catalog.

    Examples
    --------
    >>> from iadsr_sk.baselines import MostPopular
    >>> model = MostPopular().fit([[1, 2, 3], [2, 3], [3]])
    >>> model.predict([[1]], k=2).tolist()
    [[3, 2]]
    """

    def fit(self, X, y=None):
        """Count the training interactions of every item.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Training histories; their items make the catalog.
        y : None
            Ignored.

        Returns
        -------
        self : MostPopular
        """
        seqs = self._validate_fit_input(X)
        self.vocabulary_ = seqs.vocabulary
        self.item_counts_ = _item_counts(seqs)
        self.n_items_ = seqs.n_items
        return self

    def _score_codes(self, seqs: Sequences) -> np.ndarray:
        return np.broadcast_to(self.item_counts_, (len(seqs), self.n_items_))


class MarkovChain(BaseRecommender):
    """First-order item-to-item transitions, with popularity as tie-breaker.

    The score of item ``j`` after a history ending in item ``i`` is the number of
    training transitions ``i -> j``, plus ``popularity(j) / (max popularity + 1)``
    (always below 1) so that items never seen after ``i`` fall back to popularity
    order instead of tying.

    Parameters
    ----------
    popularity_backoff : bool, default=True
        Break ties (and rank unseen transitions) by popularity.

    Attributes
    ----------
    vocabulary_ : ItemVocabulary
        The catalog (from the training sequences).
    transitions_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        ``transitions_[i, j]`` = training transitions from ``i`` to ``j``.
    item_counts_ : ndarray of shape (n_items,)
        Training interactions per item.
    n_items_ : int
        Number of items in the catalog.
    """

    _parameter_constraints: dict = {"popularity_backoff": ["boolean"]}

    def __init__(self, popularity_backoff: bool = True):
        self.popularity_backoff = popularity_backoff

    def fit(self, X, y=None):
        """Count the item-to-item transitions and the item interactions.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Training histories; their items make the catalog, and each pair of
            consecutive items in one history is a transition.
        y : None
            Ignored.

        Returns
        -------
        self : MarkovChain
        """
        self._validate_params()
        seqs = self._validate_fit_input(X)
        self.vocabulary_ = seqs.vocabulary
        n = seqs.n_items
        # consecutive pairs inside one sequence: drop each row's last position
        _, within = seqs.positions()
        lengths = np.repeat(seqs.lengths, seqs.lengths)
        src = np.flatnonzero(within < lengths - 1)
        self.transitions_ = sp.csr_matrix(
            (np.ones(src.size), (seqs.codes[src], seqs.codes[src + 1])), shape=(n, n)
        )
        self.transitions_.sum_duplicates()
        self.item_counts_ = _item_counts(seqs)
        self.n_items_ = n
        return self

    def _score_codes(self, seqs: Sequences) -> np.ndarray:
        last = seqs.last_codes()
        scores = self.transitions_[last].toarray()
        if self.popularity_backoff:
            scores += self.item_counts_ / (self.item_counts_.max() + 1.0)
        return scores
