"""Random dropping at a given rate: the sanity floor every denoiser must beat."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._base import seed_from_random_state
from .._output import FixedOutputMixin
from .._persistence import VersionedPickleMixin
from ..data._sequences import Sequences, as_sequences
from ._keep_rule import keep_mask_from_scores

__all__ = ["RandomDropper"]


class RandomDropper(
    FixedOutputMixin, VersionedPickleMixin, TransformerMixin, BaseEstimator
):
    """Drop each item independently with probability ``rate``.

    The same guarantees as :class:`SequenceDenoiser`: the number and order of
    sequences never change, outputs are subsequences, and every sequence keeps at
    least ``min_length`` items. Use it with ``rate`` set to a denoiser's
    ``removed_fraction_`` to compare against chance at a matched rate.

    Parameters
    ----------
    rate : float in [0, 1), default=0.1
        Probability that an item is dropped, drawn independently for each position.
    min_length : int, default=1
        Fewest items a sequence keeps (all of a shorter one); when the draws drop
        more, dropped items picked at random are kept instead.
    random_state : int, RandomState or None, default=None
        With an int, ``transform`` of the same input gives the same output on every
        call. A ``RandomState`` is drawn from at every call (``fit`` included), so
        two droppers given ``RandomState(0)`` give the same outputs in the same
        order of calls; ``None`` draws fresh randomness each time. The draws run
        over the positions of the whole input, so which items of a history are
        dropped depends on the histories before it in the same call: transform all
        the histories you compare in one call.

    Attributes
    ----------
    removed_fraction_ : float
        Share of the ``fit`` input's interactions that ``transform`` drops.
    """

    _transform_returns = "the thinned histories, in the input's own type"

    _parameter_constraints: dict = {
        "rate": [Interval(numbers.Real, 0, 1, closed="left")],
        "min_length": [Interval(numbers.Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, rate: float = 0.1, min_length: int = 1, random_state=None):
        self.rate = rate
        self.min_length = min_length
        self.random_state = random_state

    def _keep(self, seqs: Sequences) -> np.ndarray:
        if isinstance(self.random_state, numbers.Integral):
            rng = np.random.default_rng(self.random_state)
        elif self.random_state is None:
            rng = np.random.default_rng()
        else:  # a RandomState: draw this call's seed from it
            rng = np.random.default_rng(seed_from_random_state(self.random_state))
        draws = rng.random(seqs.n_interactions)
        # scores > 0 keep, so that the shared keep rule applies min_length the same way
        scores = np.where(draws >= self.rate, 1.0, -1.0) + 1e-3 * draws
        return keep_mask_from_scores(seqs, scores, min_length=self.min_length)

    def fit(self, X, y=None):
        """Record the share of ``X``'s interactions that dropping at ``rate`` removes.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Training histories.
        y : None
            Ignored.

        Returns
        -------
        self : RandomDropper
        """
        self._validate_params()
        seqs = as_sequences(X, what="X")
        self.removed_fraction_ = float(1.0 - self._keep(seqs).mean())
        return self

    def transform(self, X):
        """Drop items of ``X`` at random (any histories, not only those of ``fit``).

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Histories to thin out.

        Returns
        -------
        Sequences or list of lists
            The kept items of every history, in order, of the type of ``X``.
        """
        check_is_fitted(self, "removed_fraction_")
        seqs = as_sequences(X, what="X")
        out = seqs.keep_mask(self._keep(seqs))
        return out if isinstance(X, Sequences) else out.to_lists()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = not isinstance(self.random_state, numbers.Integral)
        return tags
