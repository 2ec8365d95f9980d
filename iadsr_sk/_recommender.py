"""What every next-item recommender here shares: predict, recommend, score."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._persistence import VersionedPickleMixin
from .data._sequences import Sequences, as_sequences
from .data._split import next_item_pairs
from .metrics import _recode_targets, evaluate_next_item

__all__ = ["BaseRecommender"]


def _check_top_k(k, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n_items:
        raise ValueError(f"k={k} is larger than the catalog ({n_items} items)")
    return int(k)


class BaseRecommender(VersionedPickleMixin, BaseEstimator):
    """Base class of next-item recommenders.

    Subclasses implement ``fit`` (setting ``vocabulary_``) and ``_score_codes``, which
    scores every catalog item as the next item of each history in a
    :class:`~iadsr_sk.data.Sequences` batch already encoded with ``vocabulary_``.

    ``score`` is NDCG@10 of predicting each sequence's last item from the items
    before it (full ranking, pessimistic ties); ``score_batch_size`` bounds the memory
    of that evaluation.
    """

    score_batch_size = 1024

    def _validate_fit_input(self, X) -> Sequences:
        return as_sequences(X, what="X")

    def _validate_histories(self, X) -> Sequences:
        check_is_fitted(self, "vocabulary_")
        return as_sequences(X, vocabulary=self.vocabulary_, what="X")

    def _score_codes(self, seqs: Sequences) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def score_next(self, X) -> np.ndarray:
        """Score of every catalog item as the next item after each history.

        Parameters
        ----------
        X : Sequences or list of item-id lists

        Returns
        -------
        scores : ndarray of shape (n_sequences, n_items)
            Columns follow ``vocabulary_.ids``. Call it on batches for large catalogs.
        """
        seqs = self._validate_histories(X)
        return np.asarray(self._score_codes(seqs), dtype=np.float32)

    def predict(self, X, k: int = 10) -> np.ndarray:
        """Top-``k`` next items of each history, best first, as the user's item ids.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Histories of items in ``vocabulary_`` (an unknown item raises
            :class:`KeyError` naming it).
        k : int, default=10
            Items per history, from 1 to the catalog size.

        Returns
        -------
        items : ndarray of shape (n_sequences, k)
        """
        seqs = self._validate_histories(X)
        k = _check_top_k(k, self.vocabulary_.n_items)
        out = np.empty((len(seqs), k), dtype=np.int64)
        for start in range(0, len(seqs), self.score_batch_size):
            rows = np.arange(start, min(start + self.score_batch_size, len(seqs)))
            scores = np.asarray(self._score_codes(seqs.take(rows)), dtype=np.float32)
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            order = np.argsort(
                -np.take_along_axis(scores, top, axis=1), axis=1, kind="stable"
            )
            out[rows] = np.take_along_axis(top, order, axis=1)
        return self.vocabulary_.decode(out)

    def recommend(self, histories, k: int = 10) -> np.ndarray:
        """Top-``k`` next items for arbitrary histories (new users included).

        The same as :meth:`predict`.

        Parameters
        ----------
        histories : Sequences or list of item-id lists
            Histories of items in ``vocabulary_``, of users seen in ``fit`` or not.
        k : int, default=10
            Items per history, from 1 to the catalog size.

        Returns
        -------
        items : ndarray of shape (n_sequences, k)
            Item ids, best first.
        """
        return self.predict(histories, k=k)

    def score(self, X, y=None) -> float:
        """NDCG@10 of predicting each sequence's last item from the rest.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Held-out histories of items in ``vocabulary_``. Sequences with fewer than
            two items are skipped (see :func:`~iadsr_sk.data.next_item_pairs`).
        y : None
            Ignored.

        Returns
        -------
        score : float
            Full ranking, pessimistic ties.
        """
        check_is_fitted(self, "vocabulary_")
        inputs, targets = next_item_pairs(X, self)
        result = evaluate_next_item(
            self._score_codes,
            inputs,
            targets,
            ks=[10],
            metrics=["ndcg"],
            batch_size=self.score_batch_size,
        )
        return result["ndcg@10"]

    def evaluate(self, inputs, targets, *, ks=(5, 10, 20), exclude_seen=False) -> dict:
        """Full-ranking HR/NDCG/MRR@K of ``targets`` (item codes) given ``inputs``.

        ``targets`` are integer item codes: of ``inputs.vocabulary`` when ``inputs``
        is a :class:`~iadsr_sk.data.Sequences` (e.g. ``split.test_target`` with
        ``split.test_input``, whatever the model was fitted on), else of
        ``vocabulary_`` (``vocabulary_.encode(ids)`` turns item ids into codes).
        Floats, booleans and strings raise :class:`TypeError`, codes outside the
        vocabulary :class:`ValueError`, and a target item the model has never seen
        :class:`KeyError`.

        Parameters
        ----------
        inputs : Sequences or list of item-id lists
            The histories, of items in ``vocabulary_``.
        targets : array-like of int of shape (n_sequences,)
            Item code of each history's next item (see above for which vocabulary).
        ks : iterable of int, default=(5, 10, 20)
            Cutoffs ``K``.
        exclude_seen : bool, default=False
            Leave out items already in the history (except the target).

        Returns
        -------
        metrics : dict
            ``{"hr@5": ..., "ndcg@5": ..., "mrr@5": ..., ...}``, every metric at every
            ``K`` (see :func:`~iadsr_sk.metrics.evaluate_next_item`).
        """
        seqs = self._validate_histories(inputs)
        if isinstance(inputs, Sequences) and inputs.vocabulary is not seqs.vocabulary:
            # the inputs were re-encoded with the model's vocabulary: so are the targets
            targets = _recode_targets(
                targets, len(inputs), inputs.vocabulary, self.vocabulary_
            )
        return evaluate_next_item(
            self._score_codes,
            seqs,
            targets,
            ks=ks,
            batch_size=self.score_batch_size,
            exclude_seen=exclude_seen,
            verbose=getattr(self, "verbose", 0),
        )
