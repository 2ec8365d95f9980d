"""Inject synthetic noise into sequences, with a mask of where it went."""

from __future__ import annotations

import numbers

import numpy as np

from ._sequences import Sequences, as_sequences

__all__ = ["inject_noise"]

_MODES = ("replace", "insert")
_SAMPLINGS = ("uniform", "popularity")


def _draw_items(
    rng: np.random.Generator, weights: np.ndarray, n: int, exclude: np.ndarray | None
) -> np.ndarray:
    """Draw ``n`` codes with probability proportional to integer ``weights``.

    With ``exclude`` (one code per draw) each draw is taken from the distribution with
    that code removed, exactly and without rejection: draw a point on the cumulative
    weight line with the excluded code's interval cut out, then step over the gap.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(weights)  # item k owns [ends[k] - weights[k], ends[k])
    total = int(ends[-1])
    if exclude is None:
        points = rng.integers(0, total, size=n)
    else:
        gap = weights[exclude]
        points = rng.integers(0, total - gap, size=n)
        starts = ends[exclude] - gap
        points = points + np.where(points >= starts, gap, 0)
    return np.searchsorted(ends, points, side="right").astype(np.int64)


def _generator(random_state) -> np.random.Generator:
    """The generator of a ``random_state``: None, an int >= 0, a Generator or a
    RandomState (which gives the seed); anything else raises naming it.

    :func:`numpy.random.default_rng` alone would take ``True`` as the seed 1 and answer
    other values with errors that do not name ``random_state``.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(
        random_state, numbers.Integral
    ):
        raise TypeError(
            "random_state must be None, an integer >= 0, a numpy.random.Generator or a "
            f"RandomState, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be an integer >= 0, got {random_state!r}")
    return np.random.default_rng(random_state)


def inject_noise(
    sequences,
    rate: float,
    *,
    mode: str = "replace",
    sampling: str = "uniform",
    random_state=None,
) -> tuple[Sequences, np.ndarray]:
    """Corrupt sequences with random items, for evaluating denoisers.

    Parameters
    ----------
    sequences : Sequences or list of lists of item ids
        The clean sequences (not modified).
    rate : float in [0, 1)
        Probability, per interaction, of a noise event.
    mode : {"replace", "insert"}, default="replace"
        ``"replace"``: each interaction is independently replaced with probability
        ``rate`` by a random item different from the original; lengths are unchanged.
        ``"insert"``: after each interaction, independently with probability ``rate``, a
        random item is inserted; sequences grow.
    sampling : {"uniform", "popularity"}, default="uniform"
        Noise items are drawn uniformly over the vocabulary, or proportionally to their
        number of interactions in ``sequences`` (items nobody interacted with are then
        never drawn).
    random_state : int >= 0, numpy.random.Generator, RandomState or None, default=None
        Seed of :func:`numpy.random.default_rng` (a ``RandomState`` gives the seed).

    Returns
    -------
    noisy : Sequences
        The corrupted sequences, with the same vocabulary, catalog and user ids. An
        inserted item takes the timestamp of the item before it.
    noise_mask : ndarray of bool of shape (noisy.n_interactions,)
        True at the injected interactions (aligned with ``noisy.codes``).

    Raises
    ------
    ValueError
        ``rate`` outside [0, 1), an unknown ``mode`` or ``sampling``, a negative
        ``random_state``, or replacement being impossible (fewer than two items can
        be drawn).
    TypeError
        A ``random_state`` that is not None, an integer, a Generator or a RandomState.

    Notes
    -----
    In ``"replace"`` mode every item of a short sequence may be replaced, leaving it
    with no genuine item; this is allowed (it happens with probability
    ``rate ** length``). In ``"insert"`` mode noise only ever follows a genuine item,
    so the first item of every sequence is genuine and removing the masked items
    gives back the original sequences exactly.

    Examples
    --------
    >>> noisy, mask = inject_noise([[1, 2, 3, 4]], 0.5, mode="insert", random_state=0)
    >>> noisy.keep_mask(~mask).to_lists()
    [[1, 2, 3, 4]]
    """
    if (
        isinstance(rate, (bool, np.bool_))
        or not isinstance(rate, numbers.Real)
        or not 0 <= rate < 1
    ):
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if sampling not in _SAMPLINGS:
        raise ValueError(f"sampling must be one of {_SAMPLINGS}, got {sampling!r}")
    rng = _generator(random_state)
    seqs = as_sequences(sequences, allow_empty=True, what="sequences")
    n_items = seqs.n_items
    if sampling == "uniform":
        weights = np.ones(n_items, dtype=np.int64)
    else:
        weights = np.bincount(seqs.codes, minlength=n_items).astype(np.int64)
    n = seqs.n_interactions
    hit = rng.random(n) < rate

    if mode == "replace":
        if hit.any() and np.count_nonzero(weights) < 2:
            raise ValueError(
                "replace mode needs at least two items to draw from "
                f"(sampling={sampling!r} has {np.count_nonzero(weights)})"
            )
        codes = seqs.codes.copy()
        codes[hit] = _draw_items(rng, weights, int(hit.sum()), exclude=codes[hit])
        timestamps = None if seqs.timestamps is None else seqs.timestamps.copy()
        return seqs.with_codes(seqs.offsets.copy(), codes, timestamps=timestamps), hit

    # insert: original position i moves right by the number of insertions before it
    n_inserted = int(hit.sum())
    inserted_before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hit, out=inserted_before[1:])
    new_pos = np.arange(n, dtype=np.int64) + inserted_before[:-1]
    noise_pos = new_pos[hit] + 1
    codes = np.empty(n + n_inserted, dtype=np.int64)
    codes[new_pos] = seqs.codes
    codes[noise_pos] = _draw_items(rng, weights, n_inserted, exclude=None)
    noise_mask = np.zeros(codes.size, dtype=bool)
    noise_mask[noise_pos] = True
    # a row's insertions all follow one of its own items, so offsets shift by the
    # insertions before the row starts
    offsets = seqs.offsets + inserted_before[seqs.offsets]
    timestamps = None
    if seqs.timestamps is not None:
        timestamps = np.empty(codes.size, dtype=np.float64)
        timestamps[new_pos] = seqs.timestamps
        timestamps[noise_pos] = seqs.timestamps[hit]
    return seqs.with_codes(offsets, codes, timestamps=timestamps), noise_mask
