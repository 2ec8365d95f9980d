"""The deterministic keep rule that turns noise scores into denoised sequences."""

from __future__ import annotations

import numbers

import numpy as np

from ..data._sequences import Sequences

__all__ = ["keep_mask_from_scores"]


def _check_scores(
    seqs: Sequences, scores, *, what: str = "noise scores", have: str = "have"
) -> np.ndarray:
    """``scores`` as ``float64``, one per interaction of ``seqs``, or a clear error
    naming them as ``what`` (``have``: the verb that agrees with it).

    Strings, booleans and objects are refused rather than cast to numbers, and a 2-d
    array is refused even when it holds one score per interaction.
    """
    scores = np.asarray(scores)
    if scores.dtype.kind not in "iuf":
        raise TypeError(f"{what} must be real numbers, got dtype {scores.dtype}")
    if scores.shape != seqs.codes.shape:
        raise ValueError(
            f"{what} {have} shape {scores.shape}, expected one score per "
            f"interaction ({seqs.n_interactions},)"
        )
    return scores.astype(np.float64, copy=False)


def _check_temperature(temperature, what: str = "temperature") -> None:
    """Refuse a temperature that is not a finite number > 0 (a negative one would
    reverse the keep rule, 0 or NaN break it)."""
    if (
        isinstance(temperature, (bool, np.bool_))
        or not isinstance(temperature, numbers.Real)
        or not 0 < temperature < np.inf
    ):
        raise ValueError(f"{what} must be a finite number > 0, got {temperature!r}")


def keep_mask_from_scores(
    seqs: Sequences,
    scores: np.ndarray,
    *,
    temperature: float = 1.0,
    threshold: float = 0.5,
    min_length: int = 1,
    user_similarity: np.ndarray | None = None,
    user_gate: float = -1.0,
    keep_last: bool = False,
) -> np.ndarray:
    """Keep-mask (one bool per interaction of ``seqs``) from per-position scores.

    Position ``j`` is kept iff ``sigmoid(scores[j] / temperature) > threshold``.
    Then, per sequence:

    - users whose ``user_similarity`` (``cos(h^L, s^L)``) is below ``user_gate`` are
      not denoised at all;
    - with ``keep_last``, the most recent item is always kept;
    - at least ``min(min_length, length)`` items are kept: the highest-scoring ones
      (ties: the more recent first).

    Vectorised over all interactions; no loop over users.
    """
    scores = _check_scores(seqs, scores)
    if np.isnan(scores).any():
        raise ValueError("noise scores contain NaN")
    _check_temperature(temperature)
    prob = 1.0 / (1.0 + np.exp(-scores / temperature))
    keep = prob > threshold
    rows, within = seqs.positions()
    lengths = seqs.lengths
    if user_similarity is not None:
        user_similarity = np.asarray(user_similarity)
        if user_similarity.shape != (len(seqs),):
            raise ValueError(
                f"{user_similarity.size} user similarities for {len(seqs)} sequences"
            )
        gated_out = user_similarity < user_gate  # (n_sequences,)
        keep |= gated_out[rows]
    if keep_last:
        keep |= within == lengths[rows] - 1
    if min_length > 0:
        # rank positions inside each row by score, best first (ties: most recent first)
        order = np.lexsort((-within, -scores, rows))
        rank = np.empty_like(order)
        starts = np.repeat(seqs.offsets[:-1], lengths)
        rank[order] = np.arange(order.size) - starts
        keep |= rank < min_length
    return keep


def standardize_within_sequences(seqs: Sequences, scores: np.ndarray) -> np.ndarray:
    """Scores standardised within each sequence: minus the sequence's mean, divided
    by its standard deviation (a sequence whose scores are all equal, e.g. of one
    item, gets zeros). Vectorised over all interactions."""
    scores = _check_scores(seqs, scores)
    rows, _ = seqs.positions()
    counts = np.maximum(seqs.lengths, 1).astype(np.float64)
    mean = np.bincount(rows, scores, minlength=len(seqs)) / counts
    centred = scores - mean[rows]
    std = np.sqrt(np.bincount(rows, centred**2, minlength=len(seqs)) / counts)[rows]
    # a constant sequence: 0 rather than 0/0 (its items are all equally typical)
    flat = std <= 1e-12 * np.maximum(np.abs(mean[rows]), 1.0)
    return np.where(flat, 0.0, centred / np.where(flat, 1.0, std))


def item_score_means(seqs: Sequences, scores: np.ndarray) -> np.ndarray:
    """Mean score of every item of the vocabulary over its positions in ``seqs``
    (shape ``(n_items,)``); items without positions get the mean over all positions."""
    scores = _check_scores(seqs, scores)
    counts = np.bincount(seqs.codes, minlength=seqs.n_items)
    sums = np.bincount(seqs.codes, weights=scores, minlength=seqs.n_items)
    means = np.full(seqs.n_items, scores.mean())
    seen = counts > 0
    means[seen] = sums[seen] / counts[seen]
    return means
