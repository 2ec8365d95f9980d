"""Leave-one-out evaluation protocol and cross-validation over users."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold

from ._sequences import Sequences, _check_count, as_sequences

__all__ = ["LeaveOneOutSplit", "UserKFold", "leave_one_out_split", "next_item_pairs"]

logger = logging.getLogger("iadsr_sk")


@dataclass
class LeaveOneOutSplit:
    """The three parts of a leave-one-out split.

    Returned by :func:`leave_one_out_split`; each parameter becomes the attribute of
    the same name, described under Attributes.

    Parameters
    ----------
    train : Sequences
        The training histories.
    valid_input : Sequences
        Validation inputs.
    valid_target : ndarray of int
        Validation targets (item codes), one per user.
    test_input : Sequences
        Test inputs.
    test_target : ndarray of int
        Test targets (item codes), one per user.
    kept_rows : ndarray of int
        Rows of the original sequences that took part.
    n_dropped_users : int
        Number of users left out for being too short.

    Attributes
    ----------
    train : Sequences
        Every kept user's history without its last two items: what models learn from.
    valid_input, valid_target : Sequences, ndarray of int
        Input = ``train``; target = each user's second-to-last item (code).
    test_input, test_target : Sequences, ndarray of int
        Input = the history without its last item; target = the last item (code).
    kept_rows : ndarray of int
        Rows of the original sequences that took part.
    n_dropped_users : int
        Users with fewer than ``min_length`` items, left out of all three parts.
    """

    train: Sequences
    valid_input: Sequences
    valid_target: np.ndarray
    test_input: Sequences
    test_target: np.ndarray
    kept_rows: np.ndarray
    n_dropped_users: int

    @property
    def n_users(self) -> int:
        return len(self.train)


def leave_one_out_split(
    sequences, *, max_len: int | None = None, min_length: int = 3
) -> LeaveOneOutSplit:
    """Split each user's history: last item = test, second to last = validation.

    Parameters
    ----------
    sequences : Sequences or list of item-id lists
        One history per user, oldest item first.
    max_len : int, optional
        Truncate the validation and test *inputs* to their most recent ``max_len``
        items. Training histories stay whole: recommenders window them themselves.
    min_length : int, default=3
        Users with fewer items cannot give a training item, a validation target and a
        test target. **Rule:** they are left out of all three parts; their number is
        logged at WARNING and stored as ``n_dropped_users``. Must be >= 3.

    Returns
    -------
    LeaveOneOutSplit
    """
    if isinstance(min_length, bool) or not isinstance(min_length, (int, np.integer)):
        raise TypeError("min_length must be an integer")
    if min_length < 3:
        raise ValueError(
            f"min_length must be >= 3 (one training item, a validation and a test "
            f"target), got {min_length}"
        )
    if max_len is not None:
        _check_count(max_len, "max_len", 1, or_none=True)
    seqs = as_sequences(sequences, what="sequences")
    kept = np.flatnonzero(seqs.lengths >= min_length)
    n_dropped = len(seqs) - kept.size
    if n_dropped:
        logger.warning(
            "%d of %d users have fewer than %d items and are left out of the "
            "leave-one-out split",
            n_dropped,
            len(seqs),
            min_length,
        )
    if kept.size == 0:
        raise ValueError(
            f"no user has at least {min_length} items: leave-one-out needs a training "
            "item, a validation target and a test target per user"
        )
    seqs = seqs.take(kept)
    test_input = seqs.head(1)
    train = seqs.head(2)
    valid_target = test_input.last_codes()
    test_target = seqs.last_codes()
    valid_input = train
    if max_len is not None:
        valid_input = train.tail(max_len)
        test_input = test_input.tail(max_len)
    return LeaveOneOutSplit(
        train=train,
        valid_input=valid_input,
        valid_target=valid_target,
        test_input=test_input,
        test_target=test_target,
        kept_rows=kept,
        n_dropped_users=int(n_dropped),
    )


def next_item_pairs(X, estimator=None) -> tuple[Sequences, np.ndarray]:
    """Inputs (all but the last item) and targets (last item) of each sequence.

    This is how ``score`` and the scorers evaluate a held-out user. Sequences with
    fewer than two items cannot be scored; **rule:** they are skipped with a WARNING
    naming how many, and a :class:`ValueError` is raised if none is left.
    ``estimator``'s fitted ``vocabulary_`` (if any) encodes ``X``.

    Parameters
    ----------
    X : Sequences or list of item-id lists
        Held-out histories, oldest item first.
    estimator : estimator, optional
        A fitted recommender whose ``vocabulary_`` encodes ``X`` (unknown item ids
        then raise :class:`KeyError`). Without one, or if it has no ``vocabulary_``,
        ``X`` is taken with its own vocabulary (see :func:`as_sequences`).

    Returns
    -------
    inputs : Sequences
        Every usable sequence without its last item.
    targets : ndarray of int64 of shape (n_usable,)
        Code of each usable sequence's last item, in the vocabulary of ``inputs``.
    """
    vocabulary = getattr(estimator, "vocabulary_", None)
    seqs = as_sequences(X, vocabulary=vocabulary, what="X")
    usable = seqs.lengths >= 2
    if not usable.all():
        n_short = int((~usable).sum())
        if not usable.any():
            raise ValueError(
                "every sequence has fewer than 2 items: scoring needs a history and a "
                "next item"
            )
        logger.warning("%d sequences with fewer than 2 items were not scored", n_short)
        seqs = seqs.take(np.flatnonzero(usable))
    return seqs.head(1), seqs.last_codes()


class UserKFold(KFold):
    """K folds over users, for ``GridSearchCV(cv=UserKFold(...))``.

    Each fold holds out whole users. A recommender's ``score`` on the held-out
    sequences predicts each sequence's last item from the items before it (see
    :func:`next_item_pairs`), so no held-out interaction is seen in training.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2; each user is held out in exactly one of them.
    shuffle : bool, default=True
        Users are shuffled before they are cut into folds (unlike scikit-learn's
        ``KFold``, whose default is ``False``): histories are often stored in an
        order that means something, such as sign-up time or activity.
    random_state : int, RandomState instance or None, default=None
        With ``shuffle=True`` and ``None``, every call of :meth:`split` draws new
        folds, as scikit-learn's ``KFold`` does. Pass an integer to score several
        models (in separate ``cross_val_score`` or ``GridSearchCV`` calls) on the
        same users.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = True, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
