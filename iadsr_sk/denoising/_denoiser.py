"""SequenceDenoiser: the last step of IADSR, noise scores -> denoised sequences."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._output import FixedOutputMixin
from .._persistence import VersionedPickleMixin
from ..data._sequences import Sequences
from ._keep_rule import (
    _check_scores,
    _check_temperature,
    item_score_means,
    keep_mask_from_scores,
    standardize_within_sequences,
)

__all__ = ["NoiseScores", "SequenceDenoiser"]


@dataclass
class NoiseScores:
    """Per-position noise scores of some sequences (the InterestAligner's output).

    Returned by :meth:`InterestAligner.transform` and read by
    :class:`SequenceDenoiser`; each parameter becomes the attribute of the same name.

    Parameters
    ----------
    sequences : Sequences
        The scored sequences.
    scores : ndarray of shape (n_interactions,)
        One score per position, aligned with ``sequences.codes``.
    user_similarity : ndarray of shape (n_sequences,)
        One long-term similarity per sequence, for the user gate.
    temperature : float, default=1.0
        The Gumbel-Sigmoid temperature of the scores (positive).
    source : object, default=None
        What the user passed to the pipeline.

    Attributes
    ----------
    sequences : Sequences
        The sequences that were scored.
    scores : ndarray of shape (n_interactions,)
        Fit score of every position, aligned with ``sequences.codes`` (range [-3, 3]
        for the full method; high = fits the user's interests).
    user_similarity : ndarray of shape (n_sequences,)
        ``cos(h^L, s^L)`` per sequence, for the optional user gate (``NaN`` where the
        semantic view is absent).
    temperature : float
        The Gumbel-Sigmoid temperature the scores were trained with.
    source : object
        What the user passed to the pipeline (a ``Sequences`` or a list of lists), so
        that the denoised output has the input's type.
    """

    sequences: Sequences
    scores: np.ndarray
    user_similarity: np.ndarray
    temperature: float = 1.0
    source: Any = field(default=None, repr=False)


def _scores_of(X) -> NoiseScores:
    if not isinstance(X, NoiseScores):
        raise TypeError(
            "SequenceDenoiser expects the output of InterestAligner.transform "
            f"(NoiseScores); got {type(X).__name__}. Use it as the step after an "
            "InterestAligner in a Pipeline, or call aligner.transform(...) first."
        )
    if not isinstance(X.sequences, Sequences):
        raise TypeError(
            f"NoiseScores.sequences must be a Sequences, got {type(X.sequences).__name__}"
        )
    _check_scores(X.sequences, X.scores, what="NoiseScores.scores", have="has")
    n_sequences = len(X.sequences)
    if n_sequences == 0:
        raise ValueError("NoiseScores hold no sequences (empty input)")
    similarity = np.asarray(X.user_similarity)
    if similarity.shape != (n_sequences,):
        raise ValueError(
            f"NoiseScores.user_similarity has shape {similarity.shape}, expected one "
            f"value per sequence ({n_sequences},)"
        )
    _check_temperature(X.temperature, "NoiseScores.temperature")
    return X


class SequenceDenoiser(
    FixedOutputMixin, VersionedPickleMixin, TransformerMixin, BaseEstimator
):
    """Drop the positions that both views say do not fit the user.

    The keep rule is deterministic: keep item ``j`` iff
    ``sigmoid(score_j / temperature) > threshold`` (the default ``0.5`` means
    ``score_j > 0``). Nothing is lost: the number of sequences and their order never
    change, each output is a subsequence of its input, and each keeps at least
    ``min_length`` items (its highest-scoring ones).

    Parameters
    ----------
    threshold : float in (0, 1), default=0.5
        Keep probability above which an item stays.
    min_length : int, default=1
        Items every sequence keeps at least (all of a shorter one).
    user_gate : float in [-1, 1], default=-1.0
        Denoise a user only if ``cos(h^L, s^L) >= user_gate``; ``-1`` denoises all.
    keep_last : bool, default=False
        Always keep each sequence's most recent item.
    removal_rate : float in [0, 1) or None, default=None
        Instead of ``threshold``: ``fit`` sets the score cutoff at this quantile of
        the training positions' scores, so that about this share of the training
        items is removed; ``transform`` applies the same cutoff to any sequences
        (``threshold`` is then not used). ``0`` removes nothing (e.g. as one point
        of a grid). The cutoff is learnt from every training position, so with a
        ``user_gate`` the users it leaves out keep all their items and less than
        this share is removed. Scores have no fixed scale across
        datasets and training lengths, so a removal budget is often the easier
        knob to tune (e.g. with ``GridSearchCV`` over ``denoise__removal_rate``).
    standardize : bool, default=False
        With ``removal_rate``: standardise the scores within each sequence (minus
        its mean, divided by its standard deviation) before the cutoff, so that an
        item is judged by how unusual it is for *its* user rather than for all
        users: a user whose items all score low loses no more than one whose items
        all score high. Needs ``removal_rate`` (standardised scores average 0 in
        every sequence, so the threshold rule would remove about half of each).
    center_items : bool, default=False
        With ``removal_rate``: subtract from each score the mean score of the same
        item over the training positions (after ``standardize``, if set), so that an
        occurrence is judged against the item's other occurrences rather than against
        all items. This takes out what the score says about the item itself: a cold
        item whose collaborative vector is poorly trained scores low wherever it
        appears, and would otherwise be removed wherever it appears. The price is
        the signal that rarity itself carries (uniformly drawn noise items are mostly
        rare). Items absent from the training positions are centred by the mean over
        all training positions. ``transform`` needs sequences over the item
        vocabulary seen in ``fit``. Needs ``removal_rate``.

    Attributes
    ----------
    n_sequences_seen_ : int
        Sequences seen in ``fit``.
    score_cutoff_ : float or None
        With ``removal_rate``: items whose score is at or below it are removed.
    removed_fraction_ : float
        Share of the training interactions that ``fit_transform`` / ``fit`` dropped.
    item_score_mean_ : ndarray of shape (n_items,) or None
        With ``center_items``: the mean score of every item of the vocabulary over
        the training positions (the overall mean for items absent from them).
    vocabulary_ : ItemVocabulary or None
        With ``center_items``: the items ``item_score_mean_`` follows.

    See Also
    --------
    InterestAligner : Computes the noise scores this step thresholds.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from iadsr_sk import SemanticEmbedder, CollaborativeEncoder
    >>> from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
    >>> pipe = Pipeline([
    ...     ("semantic", SemanticEmbedder()),
    ...     ("collaborative", CollaborativeEncoder()),
    ...     ("align", InterestAligner()),
    ...     ("denoise", SequenceDenoiser(threshold=0.5)),
    ... ])  # doctest: +SKIP
    >>> denoised = pipe.fit(train).transform(train)  # doctest: +SKIP
    """

    _transform_returns = "the denoised histories, in the input's own type"

    _parameter_constraints: dict = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "min_length": [Interval(numbers.Integral, 0, None, closed="left")],
        "user_gate": [Interval(numbers.Real, -1, 1, closed="both")],
        "keep_last": ["boolean"],
        "removal_rate": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "standardize": ["boolean"],
        "center_items": ["boolean"],
    }

    def __init__(
        self,
        threshold: float = 0.5,
        min_length: int = 1,
        user_gate: float = -1.0,
        keep_last: bool = False,
        removal_rate: float | None = None,
        standardize: bool = False,
        center_items: bool = False,
    ):
        self.threshold = threshold
        self.min_length = min_length
        self.user_gate = user_gate
        self.keep_last = keep_last
        self.removal_rate = removal_rate
        self.standardize = standardize
        self.center_items = center_items

    def fit(self, X, y=None):
        """Record the training sequences' removal rate; with ``removal_rate``, learn
        the score cutoff that removes that share of the training items (and, with
        ``center_items``, each item's mean score first).

        Parameters
        ----------
        X : NoiseScores
            The output of ``InterestAligner.transform`` on the training sequences.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceDenoiser
        """
        self._validate_params()
        self._check_budget_options()
        scores = _scores_of(X)
        self.score_cutoff_ = None
        self.item_score_mean_ = None
        self.vocabulary_ = None
        if self.removal_rate is not None:
            values = self._standardized(scores)
            if values.size == 0:
                raise ValueError("removal_rate needs scored training positions")
            if self.center_items:  # the item means of the values the cutoff sees
                self.item_score_mean_ = item_score_means(scores.sequences, values)
                self.vocabulary_ = scores.sequences.vocabulary
                values = self._centred(scores, values)
            # 0 removes nothing: the 0-quantile (the lowest score) would remove the
            # lowest-scoring items, since only scores above the cutoff are kept
            self.score_cutoff_ = (
                -np.inf
                if self.removal_rate == 0
                else float(np.quantile(values, self.removal_rate))
            )
        self.n_sequences_seen_ = len(scores.sequences)
        self.removed_fraction_ = float(1.0 - self.keep_mask(scores).mean())
        return self

    def keep_mask(self, X) -> np.ndarray:
        """One bool per interaction of ``X.sequences`` (aligned with its codes): keep?

        Parameters
        ----------
        X : NoiseScores
            The output of ``InterestAligner.transform``. With ``removal_rate``, the
            denoiser must be fitted first.

        Returns
        -------
        mask : ndarray of bool of shape (n_interactions,)
            ``True`` where the item stays.
        """
        self._check_budget_options()
        scores = _scores_of(X)
        values, threshold = scores.scores, self.threshold
        if self.removal_rate is not None:
            if getattr(self, "score_cutoff_", None) is None:
                raise NotFittedError(
                    "removal_rate needs the score cutoff that fit learns; fit this "
                    "SequenceDenoiser (with removal_rate set) first"
                )
            # keep iff score > cutoff: shift the scores so that the rule's 0.5 says so
            values = self._values(scores) - self.score_cutoff_
            threshold = 0.5
        similarity = scores.user_similarity
        if self.user_gate > -1 and np.isnan(similarity).any():
            raise ValueError(
                "user_gate needs the semantic view (cos(h^L, s^L)); these scores have none"
            )
        return keep_mask_from_scores(
            scores.sequences,
            values,
            temperature=scores.temperature,
            threshold=threshold,
            min_length=self.min_length,
            user_similarity=similarity if self.user_gate > -1 else None,
            user_gate=self.user_gate,
            keep_last=self.keep_last,
        )

    def _check_budget_options(self) -> None:
        """Refuse the rescalings that only a removal budget gives a meaning to."""
        for name, why in (
            ("standardize", "standardised scores average 0 in every sequence"),
            ("center_items", "centred scores average 0 for every item"),
        ):
            if getattr(self, name) and self.removal_rate is None:
                raise ValueError(
                    f"{name}=True needs removal_rate: {why}, so the threshold rule "
                    "would remove about half of them; set removal_rate (e.g. 0.1)"
                )

    def _standardized(self, scores) -> np.ndarray:
        values = np.asarray(scores.scores, dtype=np.float64)
        # the keep rule orders +-inf like any score, but a quantile cutoff, a
        # per-sequence standardisation and item means turn them into NaN
        if np.isnan(values).any():
            raise ValueError("noise scores contain NaN")
        if np.isinf(values).any():
            raise ValueError(
                f"noise scores contain inf ({int(np.isinf(values).sum())} of "
                f"{values.size}); removal_rate needs finite scores"
            )
        if self.standardize:
            return standardize_within_sequences(scores.sequences, values)
        return values

    def _values(self, scores) -> np.ndarray:
        """The scores the removal budget cuts: raw or standardised per sequence,
        then (with ``center_items``) minus each item's training mean."""
        return self._centred(scores, self._standardized(scores))

    def _centred(self, scores, values: np.ndarray) -> np.ndarray:
        if not self.center_items:
            return values
        if getattr(self, "item_score_mean_", None) is None:
            raise NotFittedError(
                "center_items needs the item means that fit learns; fit this "
                "SequenceDenoiser (with center_items=True) first"
            )
        vocabulary = scores.sequences.vocabulary
        if vocabulary is not self.vocabulary_ and vocabulary != self.vocabulary_:
            raise ValueError(
                "center_items: these sequences use another item vocabulary than "
                "the one seen in fit, so their items have no training mean; "
                "score sequences encoded by the fitted pipeline"
            )
        return values - self.item_score_mean_[scores.sequences.codes]

    def keep_masks(self, X) -> list[np.ndarray]:
        """Keep-mask of each sequence, as a list of boolean arrays.

        Parameters
        ----------
        X : NoiseScores
            The output of ``InterestAligner.transform``.

        Returns
        -------
        masks : list of ndarray of bool
            One array per sequence, of its length: :meth:`keep_mask` split by
            sequence.
        """
        scores = _scores_of(X)
        return np.split(self.keep_mask(scores), scores.sequences.offsets[1:-1])

    def noise_scores(self, X) -> list[np.ndarray]:
        """Fit score of each position, one array per sequence (high = fits).

        Parameters
        ----------
        X : NoiseScores
            The output of ``InterestAligner.transform``.

        Returns
        -------
        scores : list of ndarray
            One array per sequence, of its length: ``X.scores`` split by sequence
            (before any standardisation or centring).
        """
        scores = _scores_of(X)
        return np.split(np.asarray(scores.scores), scores.sequences.offsets[1:-1])

    def transform(self, X):
        """Denoised sequences, of the type the pipeline was given.

        A :class:`~iadsr_sk.data.Sequences` in gives a ``Sequences`` out (same user ids,
        catalog and vocabulary); a list of item-id lists gives lists.

        Parameters
        ----------
        X : NoiseScores
            The output of ``InterestAligner.transform`` on the sequences to denoise.

        Returns
        -------
        Sequences or list of lists
            The kept items of every sequence, in order: a ``Sequences`` when
            ``X.source`` is one (or ``None``), else lists of item ids.
        """
        check_is_fitted(self, "n_sequences_seen_")
        scores = _scores_of(X)
        denoised = scores.sequences.keep_mask(self.keep_mask(scores))
        if scores.source is not None and not isinstance(scores.source, Sequences):
            return denoised.to_lists()
        return denoised
