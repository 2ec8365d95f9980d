"""Full-ranking next-item metrics (HR@K, NDCG@K, MRR@K) and scikit-learn scorers.

Every metric ranks the target item against the **whole catalog** (no sampled
negatives). Ranks are 0-based: rank 0 means the target scored highest; the metrics
refuse ranks that are not whole numbers >= 0.

Tie policy
----------
``ties="pessimistic"`` (default): the target is ranked after every other item with the
same score, so a model that gives every item the same score gets the worst rank rather
than a perfect one. ``ties="optimistic"`` ranks it before them. Both are exact and
deterministic; sorting-based top-k evaluation (as in RecBole) falls somewhere between.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable

import numpy as np

__all__ = [
    "DEFAULT_KS",
    "evaluate_next_item",
    "hit_rate_at_k",
    "make_ranking_scorer",
    "mrr_at_k",
    "ndcg_at_k",
    "ranking_metrics",
    "target_ranks",
]

DEFAULT_KS = (5, 10, 20)
_METRICS = ("hr", "ndcg", "mrr")
_TIES = ("pessimistic", "optimistic")


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"K must be an integer, got {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"K must be >= 1, got {k}")
    return int(k)


def _target_codes(targets, n_rows: int) -> np.ndarray:
    """Targets as ``int64`` item codes, one per row; wrong shapes and types raise.

    The type rules of item ids: booleans, floats (even integral ones) and strings are
    refused rather than cast, so ``1.5`` or ``True`` never silently means item code 1.
    """
    if targets is None or np.ndim(targets) == 0:
        raise TypeError(
            f"targets must be a list or array of item codes, got {type(targets).__name__}"
        )
    values = np.asarray(targets)
    if values.shape != (n_rows,):
        raise ValueError(f"targets has shape {values.shape}, expected ({n_rows},)")
    kind = values.dtype.kind
    if not values.size:
        return np.zeros(0, dtype=np.int64)
    # numpy casts a list's True to 1 when the other values are integers: look at the
    # elements of a list (or an object array), not only at the dtype
    elements = targets if isinstance(targets, (list, tuple)) else ()
    if kind == "O":
        elements = values
    if kind == "b" or any(isinstance(value, (bool, np.bool_)) for value in elements):
        raise TypeError("targets must be integer item codes, got booleans")
    if kind == "O" and all(isinstance(value, numbers.Integral) for value in values):
        values = values.astype(np.int64)
        kind = "i"
    if kind in "fc":
        raise TypeError(
            f"targets must be integer item codes, got floats (dtype {values.dtype}); "
            "convert integral floats with .astype(int) first"
        )
    if kind in "US":
        raise TypeError(
            "targets must be integer item codes, got strings; turn item ids into "
            "codes with the model's vocabulary_.encode(...)"
        )
    if kind not in "iu":
        raise TypeError(f"targets must be integer item codes, got dtype {values.dtype}")
    if kind == "u" and values.max() > np.iinfo(np.int64).max:
        raise ValueError(f"target codes must fit in int64, got {values.max()}")
    return values.astype(np.int64, copy=False)


def _recode_targets(targets, n_rows: int, source, vocabulary, *, what: str = ""):
    """Target codes of the vocabulary ``source`` (checked as :func:`_target_codes`
    does, and within ``source``) as codes of ``vocabulary``, through their item ids;
    a target ``vocabulary`` lacks raises :class:`KeyError`. ``what`` prefixes the
    messages (e.g. ``"eval_set "``)."""
    try:
        codes = _target_codes(targets, n_rows)
    except (TypeError, ValueError) as error:
        if not what:
            raise
        raise type(error)(f"{what}{error}") from None
    if codes.size and (codes.min() < 0 or codes.max() >= source.n_items):
        raise ValueError(
            f"{what}target codes must lie in [0, {source.n_items}) (the inputs' vocabulary)"
        )
    return vocabulary.encode(source.decode(codes), what=f"{what}target item ids")


def _check_ranks(ranks) -> np.ndarray:
    """0-based ranks as an array; anything but whole numbers >= 0 raises."""
    ranks = np.asarray(ranks)
    if ranks.dtype.kind == "f" and ranks.size:
        if not np.isfinite(ranks).all():
            raise ValueError("ranks contain NaN or inf")
        fractional = ranks[ranks != np.round(ranks)]
        if fractional.size:
            raise ValueError(
                f"ranks must be whole numbers, got {fractional.size} that are not "
                f"(e.g. {fractional.flat[0].item()!r})"
            )
    elif ranks.dtype.kind not in "iuf":
        raise TypeError(f"ranks must be integers, got dtype {ranks.dtype}")
    if ranks.size and ranks.min() < 0:
        raise ValueError(
            f"ranks are 0-based and must be >= 0, got {ranks.min().item()!r} (rank 0 = the "
            "target scored highest)"
        )
    return ranks


def _to_numpy(scores) -> np.ndarray:
    if hasattr(scores, "detach"):  # torch tensor, without importing torch here
        scores = scores.detach().float().cpu().numpy()
    return np.asarray(scores)


def target_ranks(
    scores,
    targets,
    *,
    exclude=None,
    ties: str = "pessimistic",
) -> np.ndarray:
    """0-based rank of each target among all items.

    Parameters
    ----------
    scores : array-like of shape (n_rows, n_items)
        Higher = more likely next item. A torch tensor is accepted.
    targets : array-like of int of shape (n_rows,)
        Item code of each row's target.
    exclude : array-like of bool of shape (n_rows, n_items), optional
        Items to leave out of the ranking (e.g. already seen). The target itself is
        never excluded.
    ties : {"pessimistic", "optimistic"}, default="pessimistic"
        Where the target ranks among items with its score: after them
        (``"pessimistic"``) or before them. See the module notes.

    Returns
    -------
    ranks : ndarray of int64 of shape (n_rows,)
    """
    if ties not in _TIES:
        raise ValueError(f"ties must be one of {_TIES}, got {ties!r}")
    scores = _to_numpy(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-d (rows, items), got shape {scores.shape}")
    n_rows, n_items = scores.shape
    targets = _target_codes(targets, n_rows)
    if targets.size and (targets.min() < 0 or targets.max() >= n_items):
        raise ValueError(f"target codes must lie in [0, {n_items})")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    rows = np.arange(n_rows)
    target_scores = scores[rows, targets][:, None]
    above = scores > target_scores
    if ties == "pessimistic":
        above |= scores == target_scores
        above[rows, targets] = False
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=bool)
        if exclude.shape != scores.shape:
            raise ValueError("exclude must have the shape of scores")
        above &= ~exclude
        above[rows, targets] = False
    return above.sum(axis=1).astype(np.int64)


def hit_rate_at_k(ranks, k: int) -> float:
    """Share of rows whose target ranks in the top ``k``.

    Parameters
    ----------
    ranks : array-like of int of shape (n_rows,)
        0-based rank of each row's target (as from :func:`target_ranks`); whole
        numbers >= 0, floats only if integral.
    k : int
        Cutoff; >= 1.

    Returns
    -------
    float
        HR@K in ``[0, 1]``; NaN when ``ranks`` is empty.
    """
    k = _check_k(k)
    ranks = _check_ranks(ranks)
    return float(np.mean(ranks < k)) if ranks.size else float("nan")


def ndcg_at_k(ranks, k: int) -> float:
    """Mean of ``1 / log2(rank + 2)`` over rows whose target ranks in the top ``k``.

    Rows whose target ranks lower count as 0 in the mean (one relevant item per row,
    so the ideal DCG is 1).

    Parameters
    ----------
    ranks : array-like of int of shape (n_rows,)
        0-based rank of each row's target (as from :func:`target_ranks`); whole
        numbers >= 0, floats only if integral.
    k : int
        Cutoff; >= 1.

    Returns
    -------
    float
        NDCG@K in ``[0, 1]``; NaN when ``ranks`` is empty.
    """
    k = _check_k(k)
    ranks = _check_ranks(ranks)
    if not ranks.size:
        return float("nan")
    gain = np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)
    return float(gain.mean())


def mrr_at_k(ranks, k: int) -> float:
    """Mean reciprocal rank, counting 0 beyond the top ``k``.

    Parameters
    ----------
    ranks : array-like of int of shape (n_rows,)
        0-based rank of each row's target (as from :func:`target_ranks`); whole
        numbers >= 0, floats only if integral.
    k : int
        Cutoff; >= 1.

    Returns
    -------
    float
        MRR@K (mean of ``1 / (rank + 1)``) in ``[0, 1]``; NaN when ``ranks`` is
        empty.
    """
    k = _check_k(k)
    ranks = _check_ranks(ranks)
    if not ranks.size:
        return float("nan")
    return float(np.where(ranks < k, 1.0 / (ranks + 1.0), 0.0).mean())


_FUNCS = {"hr": hit_rate_at_k, "ndcg": ndcg_at_k, "mrr": mrr_at_k}


def ranking_metrics(
    ranks, ks: Iterable[int] = DEFAULT_KS, metrics: Iterable[str] = _METRICS
) -> dict[str, float]:
    """``{"hr@5": ..., "ndcg@10": ..., ...}`` from 0-based target ranks.

    Parameters
    ----------
    ranks : array-like of int of shape (n_rows,)
        0-based rank of each row's target (as from :func:`target_ranks`); whole
        numbers >= 0, floats only if integral.
    ks : iterable of int, default=(5, 10, 20)
        Cutoffs ``K`` of the metrics, each >= 1.
    metrics : iterable of {"hr", "ndcg", "mrr"}, default=("hr", "ndcg", "mrr")
        Metrics to compute, each at every ``K`` of ``ks`` (see
        :func:`hit_rate_at_k`, :func:`ndcg_at_k` and :func:`mrr_at_k`).

    Returns
    -------
    dict of str to float
        ``"<metric>@<K>"`` -> value, metric by metric in the order of ``metrics``
        and, within each, ``K`` in the order of ``ks``.
    """
    out = {}
    ks = [_check_k(k) for k in ks]
    for name in metrics:
        if name not in _FUNCS:
            raise ValueError(f"unknown metric {name!r}; choose from {sorted(_FUNCS)}")
        for k in ks:
            out[f"{name}@{k}"] = _FUNCS[name](ranks, k)
    return out


def evaluate_next_item(
    score_fn: Callable,
    inputs,
    targets,
    *,
    ks: Iterable[int] = DEFAULT_KS,
    metrics: Iterable[str] = _METRICS,
    batch_size: int = 1024,
    exclude_seen: bool = False,
    ties: str = "pessimistic",
    return_ranks: bool = False,
    verbose: int = 0,
):
    """Score next-item predictions batch by batch, never holding all users x items.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(batch) -> (len(batch), n_items)`` scores, where ``batch`` is a
        :class:`~iadsr_sk.data.Sequences` of histories (a recommender's
        ``score_next``).
    inputs : Sequences
        The histories (non-empty).
    targets : array-like of int of shape (n_rows,)
        Item code of each history's next item.
    ks : iterable of int, default=(5, 10, 20)
        Cutoffs ``K`` of the metrics.
    metrics : iterable of {"hr", "ndcg", "mrr"}, default=("hr", "ndcg", "mrr")
        Metrics to compute, each at every ``K`` of ``ks``.
    batch_size : int, default=1024
        Histories per call of ``score_fn``; bounds the scores held at once to
        ``batch_size x n_items``.
    exclude_seen : bool, default=False
        Leave out items already in the history (except the target).
    ties : {"pessimistic", "optimistic"}, default="pessimistic"
        Tie policy of the ranks, as in :func:`target_ranks`.
    return_ranks : bool, default=False
        Also return the rank of every target.
    verbose : int, default=0
        1 or more: a progress bar over the batches (on stderr).

    Returns
    -------
    metrics : dict
        ``{"hr@5": ..., "hr@10": ..., ..., "mrr@20": ...}``: every metric at every
        ``K``.
    ranks : ndarray of int64 of shape (n_rows,)
        0-based rank of each target (only with ``return_ranks=True``; the result is
        then the tuple ``(metrics, ranks)``).
    """
    ks = [_check_k(k) for k in ks]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError("batch_size must be an integer")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if np.ndim(targets) == 1 and np.shape(targets)[0] != len(inputs):
        raise ValueError(f"{np.shape(targets)[0]} targets for {len(inputs)} histories")
    targets = _target_codes(targets, len(inputs))
    ranks = np.empty(len(inputs), dtype=np.int64)
    starts = range(0, len(inputs), batch_size)
    if verbose and len(starts) > 1:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="evaluating", unit="batch", leave=False)
    for start in starts:
        stop = min(start + batch_size, len(inputs))
        batch = inputs.take(np.arange(start, stop))
        scores = _to_numpy(score_fn(batch))
        exclude = None
        if exclude_seen:
            exclude = np.zeros(scores.shape, dtype=bool)
            rows, _ = batch.positions()
            exclude[rows, batch.codes] = True
        ranks[start:stop] = target_ranks(
            scores, targets[start:stop], exclude=exclude, ties=ties
        )
    result = ranking_metrics(ranks, ks, metrics)
    return (result, ranks) if return_ranks else result


def _next_item_scorer(estimator):
    """``(score_fn, final model)``; a Pipeline's history passes through its transformers.

    In a ``Pipeline`` ending in a recommender (e.g. the IADSR denoising steps followed
    by a sequential recommender), the held-out *inputs* are transformed (denoised) and
    the final step scores them; the held-out target never passes through a
    transformer.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        model = steps[-1][1]
        head = estimator[:-1]
        if getattr(model, "score_next", None) is None:
            raise TypeError(
                f"the last step {type(model).__name__} has no score_next method"
            )
        return (lambda batch: model.score_next(head.transform(batch))), model
    if getattr(estimator, "score_next", None) is None:
        raise TypeError(f"{type(estimator).__name__} has no score_next method")
    return estimator.score_next, estimator


def make_ranking_scorer(
    metric: str = "ndcg", k: int = 10, *, exclude_seen: bool = False, **kwargs
):
    """A scikit-learn scorer: each held-out sequence's last item predicted from the rest.

    Use with ``GridSearchCV(scoring=make_ranking_scorer("hr", 20),
    cv=UserKFold(random_state=0))``.
    The estimator must provide ``score_next`` (every recommender here does), or be a
    ``Pipeline`` ending in one: then only the history before the held-out item passes
    through the pipeline's transformers (e.g. the denoiser), never the target.

    Parameters
    ----------
    metric : {"hr", "ndcg", "mrr"}, default="ndcg"
        The metric the scorer returns.
    k : int, default=10
        Its cutoff ``K``.
    exclude_seen : bool, default=False
        Leave out items already in the history (except the target).
    **kwargs
        More keyword arguments of :func:`evaluate_next_item`: ``batch_size``,
        ``ties`` or ``verbose``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, named ``"{metric}@{k}"``; ``y`` is
        ignored.
    """
    if metric not in _FUNCS:
        raise ValueError(f"unknown metric {metric!r}; choose from {sorted(_FUNCS)}")
    k = _check_k(k)

    def scorer(estimator, X, y=None):
        from .data._sequences import Sequences
        from .data._split import next_item_pairs

        score_fn, model = _next_item_scorer(estimator)
        try:
            inputs, targets = next_item_pairs(X, model)
            result = evaluate_next_item(
                score_fn,
                inputs,
                targets,
                ks=[k],
                metrics=[metric],
                exclude_seen=exclude_seen,
                **kwargs,
            )
        except KeyError as error:
            if isinstance(X, Sequences) or not error.args:
                raise
            # plain lists carry no item vocabulary: each fitted step knows only the
            # items of the lists it saw (a recommender after a denoiser: what is left)
            raise KeyError(
                f"{error.args[0]}. The sequences are plain lists, so each fitted step "
                "knows only the items of the lists it was fitted on (a recommender "
                "after a denoiser, only the items left after denoising); pass a "
                "Sequences, e.g. as_sequences(X) before any split, so that every step "
                "and every fold shares one item vocabulary"
            ) from error
        return result[f"{metric}@{k}"]

    scorer.__name__ = f"{metric}@{k}"
    return scorer
