"""One denoising experiment on real data: split, (noise), denoise, retrain, evaluate.

This is what ``iadsr-sk run`` and the benchmark scripts execute. The protocol:

1. Leave-one-out split (last item = test, second to last = validation).
2. Optionally inject noise into the *training* histories only (known positions).
3. Fit the denoiser on the training histories: for IADSR, the semantic embedder, the
   collaborative encoder (Stage 1, early-stopped on the validation targets), the
   interest aligner (Stage 2) and the keep rule; or drop at random.
4. Train the recommender on the denoised training histories (early stopping on
   validation) and evaluate on the full catalog, with the raw or the denoised test
   histories as input.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .data._noise import inject_noise
from .data._sequences import Sequences
from .data._split import leave_one_out_split

__all__ = [
    "DENOISERS",
    "PRESETS",
    "DenoisingRun",
    "cold_item_mask",
    "make_recommender",
    "run_denoising",
]

logger = logging.getLogger("iadsr_sk")

#: CLI name -> InterestAligner variant (None: no aligner)
DENOISERS = {
    "none": None,
    "iadsr": "full",
    "collab-only": "collab_only",
    "no-long": "no_long",
    "no-short": "no_short",
    "no-align": "no_align",
    "no-rec": "no_rec",
    "random": None,
    # removes the injected items (needs noise_rate > 0): the ceiling of what any
    # denoiser can recover on that data
    "oracle": None,
}
REPORT_KEYS = ("hr@5", "hr@10", "hr@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10")


@dataclass
class DenoisingRun:
    """Settings of one experiment (see :func:`run_denoising`)."""

    model: str = "sasrec"
    denoiser: str = "iadsr"
    seed: int = 0
    max_len: int | None = None
    noise_rate: float = 0.0
    noise_mode: str = "replace"
    #: how injected items are drawn: "uniform" (mostly rare items) or "popularity"
    noise_sampling: str = "uniform"
    test_input: str = "raw"
    drop_rate: float | None = None
    #: candidate removal budgets chosen from on the validation split (``None`` in
    #: the grid: the threshold keep rule; ``0``: no denoising); see
    #: :func:`run_denoising`
    drop_rate_grid: tuple | None = None
    device: str = "cpu"
    embedder: str = "default"
    semantic_mode: str | None = None
    embedding_cache: str | None = None
    max_epochs: int | None = None
    align_epochs: int = 10
    threshold: float = 0.5
    preset: str = "default"
    retrain: bool = True
    verbose: int = 1
    recommender_params: dict = field(default_factory=dict)
    #: extra InterestAligner parameters (e.g. ``{"temperature": 0.5}``)
    aligner_params: dict = field(default_factory=dict)
    #: extra SequenceDenoiser parameters of a learned denoiser (e.g.
    #: ``{"standardize": True}``, with ``drop_rate`` or ``drop_rate_grid``)
    denoiser_params: dict = field(default_factory=dict)

    def resolved(self) -> DenoisingRun:
        """These settings with the preset's values where a field was left ``None``
        (``"faithful"``: the released scripts' history length 31, last-position
        training and prefix texts; ``"default"``: 50 items, all positions, item
        texts). Values set explicitly always win."""
        if self.preset not in PRESETS:
            raise ValueError(
                f"unknown preset {self.preset!r}; choose from {sorted(PRESETS)}"
            )
        settings = PRESETS[self.preset]
        return replace(
            self,
            max_len=self.max_len or settings.get("max_len", 50),
            semantic_mode=self.semantic_mode or settings.get("semantic_mode", "item"),
            recommender_params={
                **settings.get("recommender_params", {}),
                **self.recommender_params,
            },
        )


#: run-level settings of each preset (see DenoisingRun.resolved)
PRESETS = {
    "default": {},
    "faithful": {
        "max_len": 31,
        "semantic_mode": "prefix",
        "recommender_params": {"train_positions": "last"},
    },
}


def cold_item_mask(train: Sequences, share: float = 0.2) -> np.ndarray:
    """Boolean mask over the catalog: the least popular ``share`` of the items that
    occur in ``train`` (ties broken by item code).

    Parameters
    ----------
    train : Sequences
        The histories whose interaction counts rank the items.
    share : float, default=0.2
        Share of the items present in ``train`` that count as cold; their number is
        rounded to the nearest integer. Items absent from ``train`` are never cold.

    Returns
    -------
    ndarray of bool of shape (n_items,)
        Whether each item code of ``train``'s vocabulary is cold.
    """
    counts = np.bincount(train.codes, minlength=train.n_items)
    present = np.flatnonzero(counts > 0)
    order = present[np.lexsort((present, counts[present]))]
    cold = np.zeros(train.n_items, dtype=bool)
    cold[order[: round(share * present.size)]] = True
    return cold


def make_recommender(run: DenoisingRun):
    """The SequentialRecommender a run trains (both before and after denoising).

    Parameters
    ----------
    run : DenoisingRun
        The settings, resolved with their preset first (see
        :meth:`DenoisingRun.resolved`): ``model`` is the backbone, ``seed`` the
        ``random_state``; ``max_len``, ``device``, ``verbose`` and ``max_epochs``
        (when set) pass on as they are, and ``recommender_params`` override all of
        these.

    Returns
    -------
    SequentialRecommender
        Unfitted.
    """
    from .collaborative import SequentialRecommender

    run = run.resolved()
    params = dict(
        backbone=run.model,
        max_len=run.max_len,
        random_state=run.seed,
        device=run.device,
        verbose=run.verbose,
    )
    if run.max_epochs is not None:
        params["max_epochs"] = run.max_epochs
    params.update(run.recommender_params)
    return SequentialRecommender(**params)


def _metrics(model, inputs, targets) -> dict:
    result = model.evaluate(inputs, targets)
    return {k: result[k] for k in REPORT_KEYS}


def _stream_seed(seed: int, purpose: str) -> int:
    """A seed for one purpose of a run, independent of ``seed``'s own stream."""
    entropy = [seed, *purpose.encode()]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _check_drop_rate_grid(run: DenoisingRun) -> None:
    grid = run.drop_rate_grid
    if grid is None:
        return
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or not len(grid):
        raise ValueError(
            f"drop_rate_grid must be a non-empty sequence of rates, got {grid!r}"
        )
    if run.drop_rate is not None:
        raise ValueError("set drop_rate or drop_rate_grid, not both")
    if DENOISERS.get(run.denoiser) is None:
        raise ValueError(f"drop_rate_grid needs a learned denoiser, not {run.denoiser!r}")
    if not run.retrain:
        raise ValueError(
            "drop_rate_grid chooses by retraining the recommender; it needs retrain=True"
        )
    from sklearn.utils._param_validation import InvalidParameterError

    from .denoising import SequenceDenoiser

    for rate in grid:
        # checked now, with SequenceDenoiser's own constraint, not after training
        try:
            SequenceDenoiser(removal_rate=rate)._validate_params()
        except InvalidParameterError:
            raise ValueError(
                f"drop_rate_grid entries must be None (the keep rule), 0 (no "
                f"denoising) or rates in (0, 1); got {rate!r}"
            ) from None
    if len(set(grid)) != len(grid):
        raise ValueError(f"drop_rate_grid has repeated entries: {list(grid)}")


def _retrain(run: DenoisingRun, denoised: Sequences, eval_set):
    """A fresh recommender trained on ``denoised``; returns it and its fit seconds."""
    model = make_recommender(run)
    started = time.perf_counter()
    model.fit(denoised, eval_set=eval_set)
    return model, time.perf_counter() - started


def _check_aligner_params(run: DenoisingRun) -> None:
    """Refuse, before any training, InterestAligner parameters that are unknown or
    invalid (the runs of a benchmark share them, so a run without an aligner, such as
    ``denoiser="random"``, accepts and ignores them)."""
    from .denoising import InterestAligner

    params = run.aligner_params
    if not params:
        return
    unknown = sorted(set(params) - set(InterestAligner().get_params()))
    if unknown:
        raise ValueError(
            f"aligner_params: unknown InterestAligner parameter"
            f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
        )
    try:
        InterestAligner(**params)._validate_params()
    except (TypeError, ValueError) as error:
        raise ValueError(f"aligner_params: {error}") from None


def _check_denoiser_params(run: DenoisingRun) -> None:
    """Refuse, before any training, SequenceDenoiser parameters that do not apply."""
    from .denoising import SequenceDenoiser

    params = run.denoiser_params
    if not params:
        return
    if DENOISERS.get(run.denoiser) is None:
        raise ValueError(
            f"denoiser_params apply to a learned denoiser's SequenceDenoiser, not to "
            f"denoiser={run.denoiser!r}"
        )
    clash = sorted({"threshold", "removal_rate"} & set(params))
    if clash:
        raise ValueError(
            f"denoiser_params may not set {clash}: the run sets them (use threshold, "
            "drop_rate or drop_rate_grid)"
        )
    rates = run.drop_rate_grid if run.drop_rate_grid is not None else (run.drop_rate,)
    for rate in rates:
        try:
            denoiser = SequenceDenoiser(removal_rate=rate, **params)
        except TypeError as error:
            raise ValueError(f"denoiser_params: {error}") from None
        denoiser._validate_params()
        denoiser._check_budget_options()
    if DENOISERS[run.denoiser] == "collab_only" and params.get("user_gate", -1) > -1:
        raise ValueError(
            "denoiser_params: user_gate compares the collaborative and the semantic "
            f"long-term interests, and denoiser={run.denoiser!r} has no semantic view"
        )


def _random_drop_rate(run: DenoisingRun) -> float:
    """The drop rate of ``denoiser="random"`` (``drop_rate``, by default 0.1)."""
    return 0.1 if run.drop_rate is None else run.drop_rate


def _settings(run: DenoisingRun) -> dict:
    """The settings that tell a run's results apart from another's, for its results:
    the recommender's epoch cap and, where the denoiser uses them, its removal budget
    (``drop_rate``, ``drop_rate_grid``), keep-rule ``threshold``, Stage-2
    ``align_epochs`` and semantic view (``semantic_mode``, ``embedder``)."""
    settings: dict = {"max_epochs": run.max_epochs}
    variant = DENOISERS[run.denoiser]
    if run.denoiser == "random":
        settings["drop_rate"] = _random_drop_rate(run)
    if variant is None:
        return settings
    grid = run.drop_rate_grid
    settings["drop_rate"] = run.drop_rate
    if grid is not None:
        settings["drop_rate_grid"] = list(grid)
    if run.drop_rate is None and (grid is None or None in grid):  # the keep rule
        settings["threshold"] = run.threshold
    settings["align_epochs"] = run.align_epochs
    if variant != "collab_only":
        settings["semantic_mode"] = run.semantic_mode
        settings["embedder"] = str(run.embedder)
    return settings


def _fit_seconds(model) -> float:
    """Seconds ``model.fit`` spent in its epochs (training and validation)."""
    return float(sum(h["seconds"] + h.get("valid_seconds", 0.0) for h in model.history_))


def _budget_name(rate) -> str:
    """How logs and tables name a ``drop_rate_grid`` entry."""
    if rate is None:
        return "keep rule"
    return "none (no denoising)" if rate == 0 else f"{rate:g}"


def format_share(share: float) -> str:
    """A share as a percentage that never shows a nonzero share as 0:
    ``0.2 -> "20.0%"``, ``0.00013 -> "0.013%"``, ``0 -> "0.0%"``."""
    percent = 100 * float(share)
    if percent == 0 or percent >= 0.1:
        return f"{percent:.1f}%"
    return f"{percent:.2g}%" if percent >= 1e-4 else "<0.0001%"


def _share_of(mask: np.ndarray) -> float | None:
    """The share of ``True`` in ``mask``; ``None`` (undefined) when it is empty."""
    return float(mask.mean()) if mask.size else None


def _share_text(share: float | None) -> str:
    """:func:`format_share`, or ``"n/a"`` for an undefined share."""
    return "n/a" if share is None else format_share(share)


def _removal_audit(keep: np.ndarray, noise_mask, cold: np.ndarray) -> dict:
    """What a keep-mask over the training positions removed: the removed share, the
    removal rates of genuine cold and warm items and, where noise was injected, the
    precision and recall of the removals as noise detection.

    A rate without a denominator is ``None``: the cold-item rate when there are no
    genuine cold items, the precision when nothing was removed.
    """
    genuine = np.ones_like(keep) if noise_mask is None else ~noise_mask
    audit = {
        "removed_fraction": float(1 - keep.mean()),
        "cold_item_removal_rate": _share_of(~keep[genuine & cold]),
        "warm_item_removal_rate": _share_of(~keep[genuine & ~cold]),
    }
    if noise_mask is not None and noise_mask.any():
        dropped = ~keep
        audit["noise_detection"] = {
            "precision": _share_of(noise_mask[dropped]),
            "recall": float(dropped[noise_mask].mean()),
        }
    return audit


def _search_drop_rate(
    run: DenoisingRun, scores, train: Sequences, split, eval_set, stage1, audit
):
    """Choose the removal budget of ``run.drop_rate_grid`` with the best validation
    NDCG@10 (ties: the earlier candidate).

    A budget of 0 removes nothing: its recommender is ``stage1``, the Stage-1
    recommender, which was trained on these same histories with the same settings,
    so it is not trained again. ``audit(keep)`` describes each candidate's removals
    (see ``_removal_audit``). Returns the chosen fitted denoiser, its
    (recommender, fit seconds) and one record per candidate. Test metrics are
    recorded for every candidate but never used to choose.
    """
    from .denoising import SequenceDenoiser

    search, best = [], None
    for rate in run.drop_rate_grid:
        denoiser = SequenceDenoiser(
            threshold=run.threshold, removal_rate=rate, **run.denoiser_params
        ).fit(scores)
        keep = denoiser.keep_mask(scores)
        removals = audit(keep)
        removed = removals.pop("removed_fraction")
        retrain = bool(rate is None or rate > 0)
        logger.info(
            "budget %s: removed %d of %d training items (%s; cold %s); %s",
            _budget_name(rate),
            int((~keep).sum()),
            keep.size,
            format_share(removed),
            _share_text(removals["cold_item_removal_rate"]),
            f"training {run.model}" if retrain else "the Stage-1 recommender",
        )
        if retrain:
            trained = _retrain(run, train.keep_mask(keep), eval_set)
        else:  # its fit time: the Stage-1 epochs, validation included
            trained = (stage1, _fit_seconds(stage1))
        valid = _metrics(trained[0], split.valid_input, split.valid_target)
        search.append(
            {
                "drop_rate": rate,
                "removed_fraction": removed,
                "retrained": retrain,
                **removals,
                "valid": valid,
                "test": _metrics(trained[0], split.test_input, split.test_target),
            }
        )
        if best is None or valid["ndcg@10"] > best[0]:
            best = (valid["ndcg@10"], denoiser, trained)
    logger.info(
        "chose budget %s (validation NDCG@10 %.4f)",
        _budget_name(best[1].removal_rate),
        best[0],
    )
    return best[1], best[2], search


def run_denoising(
    seqs: Sequences, run: DenoisingRun, *, stage1_cache: dict | None = None
) -> dict:
    """Run one experiment; returns the results dictionary (the CLI's JSON).

    With ``run.retrain`` false, the denoised histories are audited (removal rates,
    detection) but no recommender is retrained on them.

    With ``run.drop_rate_grid`` (a learned denoiser), the whole method is fitted once
    and the removal budget is chosen on the validation split: for every candidate
    (``None``: the threshold keep rule; ``0``: no denoising, whose recommender is
    the Stage-1 one) a recommender is trained on the histories it leaves and the
    best validation NDCG@10 wins (ties: the earlier candidate). The
    results then add ``"chosen_drop_rate"`` and ``"budget_search"`` (per candidate:
    removed share, genuine cold- and warm-item removal rates, with injected noise the
    removals' precision and recall, and validation and test metrics; test figures
    are never used to choose).

    Parameters
    ----------
    seqs : Sequences
        Every user's whole history, oldest item first. It is split leave-one-out
        (see :func:`~iadsr_sk.data.leave_one_out_split`; users with fewer than 3
        items are left out), and noise, if any, goes into the training part only.
    run : DenoisingRun
        The settings, resolved with their preset first (see
        :meth:`DenoisingRun.resolved`). Settings that are unknown, invalid or
        contradictory (e.g. ``denoiser="oracle"`` without noise, or
        ``aligner_params`` setting what the run sets) raise :class:`ValueError`
        before any training.
    stage1_cache : dict, optional
        A dictionary shared by several runs on the same ``seqs`` (e.g. the full
        method and its ablations), filled in place. The Stage-1 recommender of a
        learned denoiser is stored under the settings it depends on (``model``,
        ``seed``, the noise settings, ``max_len``, ``max_epochs`` and
        ``recommender_params``, the preset's included), so it is trained once and
        reused. The data is not part of that key. By default nothing is shared.

    Returns
    -------
    dict
        JSON-ready results (see :func:`json_ready`): the run's settings (``model``,
        ``seed``, ``max_len``, ``preset``, the noise settings, ``test_input`` and
        the denoiser's own, such as ``drop_rate`` or ``threshold``); the data's
        sizes (``n_users``, ``n_items``, ``n_interactions``, of ``seqs`` as given);
        what the denoiser removed from the training histories
        (``removed_fraction``, ``cold_item_removal_rate`` and
        ``warm_item_removal_rate`` of genuine items, cold being the least popular
        20% of the clean training histories' items, see :func:`cold_item_mask`;
        with injected noise, ``n_noise_items`` and ``noise_detection``); timings
        (``denoise_seconds``, ``total_seconds``). With ``run.retrain``, the
        retrained recommender's ``"valid"`` and ``"test"`` metrics (``"test"`` on
        the raw or the denoised test inputs, as ``run.test_input`` says) and its
        fit details. A learned denoiser adds the Stage-1 recommender's
        ``"baseline_valid"`` and ``"baseline_test"`` metrics and, with
        ``run.retrain``, both ``"test_raw"`` and ``"test_denoised"``.
    """
    from .collaborative import CollaborativeEncoder
    from .denoising import InterestAligner, RandomDropper, SequenceDenoiser
    from .denoising._keep_rule import keep_mask_from_scores

    run = run.resolved()
    if run.denoiser not in DENOISERS:
        raise ValueError(
            f"unknown denoiser {run.denoiser!r}; choose from {sorted(DENOISERS)}"
        )
    if run.test_input not in ("raw", "denoised"):
        raise ValueError(f"test_input must be 'raw' or 'denoised', got {run.test_input!r}")
    if run.test_input == "denoised" and DENOISERS[run.denoiser] is None:
        raise ValueError(
            f"test_input='denoised' needs a learned denoiser, not {run.denoiser!r}"
        )
    _check_drop_rate_grid(run)
    if run.denoiser == "oracle":
        if not run.noise_rate > 0:
            raise ValueError(
                "denoiser='oracle' removes the injected items; it needs noise_rate > 0"
            )
        if run.drop_rate is not None:
            raise ValueError(
                "denoiser='oracle' removes exactly the injected items; drop_rate does "
                "not apply"
            )
    managed = {"variant", "n_epochs", "device", "random_state", "verbose"}
    clash = sorted(managed & set(run.aligner_params))
    if clash:
        raise ValueError(
            f"aligner_params may not set {clash}: the run sets them (use "
            "denoiser, align_epochs, device, seed and verbose)"
        )
    _check_aligner_params(run)
    _check_denoiser_params(run)
    started = time.perf_counter()
    split = leave_one_out_split(seqs, max_len=run.max_len)
    train = split.train
    noise_mask = None
    if run.noise_rate > 0:
        train, noise_mask = inject_noise(
            train,
            run.noise_rate,
            mode=run.noise_mode,
            sampling=run.noise_sampling,
            random_state=run.seed,
        )
        if noise_mask.any():
            logger.info(
                "injected %d noisy items (%.1f%% of training positions)",
                int(noise_mask.sum()),
                100 * noise_mask.mean(),
            )
        else:
            logger.warning(
                "the noise rate %g injected no items into the %d training positions: "
                "no noise detection to report (n_noise_items is 0); a higher rate or "
                "more data injects some",
                run.noise_rate,
                noise_mask.size,
            )
    # cold: the least popular items of the clean training histories, per position
    cold = cold_item_mask(split.train)[train.codes]
    eval_set = (split.valid_input, split.valid_target)
    result: dict = {"denoiser": None if run.denoiser == "none" else run.denoiser}
    keep = np.ones(train.n_interactions, dtype=bool)
    scores = None
    trained = None  # (recommender, seconds) once one is trained on the denoised data
    pipeline_steps = None
    denoise_seconds = 0.0
    variant = DENOISERS[run.denoiser]
    if run.denoiser == "oracle":
        # every injected item goes, except that a history made only of injected items
        # keeps its most recent one (a recommender cannot learn from an empty history;
        # the same min_length=1 rule as every other denoiser)
        keep = keep_mask_from_scores(train, np.where(noise_mask, -1.0, 1.0))
    elif run.denoiser == "random":
        # the drops draw from their own stream: with run.seed itself they would
        # repeat inject_noise's draws and remove exactly the injected items
        dropper = RandomDropper(
            rate=_random_drop_rate(run), random_state=_stream_seed(run.seed, "drops")
        )
        keep = dropper.fit(train)._keep(train)
    elif variant is not None:
        t0 = time.perf_counter()
        semantic = None
        upstream = train
        if variant != "collab_only":
            from .semantic import SemanticEmbedder

            semantic = SemanticEmbedder(
                model=run.embedder,
                mode=run.semantic_mode,
                cache_dir=run.embedding_cache,
                device=run.device,
                verbose=run.verbose,
            )
            logger.info(
                "stage 1, semantic view (%s, %s mode)", run.embedder, run.semantic_mode
            )
            upstream = semantic.fit(train).transform(train)
        key = (
            run.model,
            run.seed,
            run.noise_rate,
            run.noise_mode,
            run.noise_sampling,
            run.max_len,
            run.max_epochs,
            repr(sorted(run.recommender_params.items())),
        )
        cache = {} if stage1_cache is None else stage1_cache
        if key not in cache:
            logger.info("stage 1, collaborative view (%s)", run.model)
            cache[key] = make_recommender(run).fit(train, eval_set=eval_set)
        else:
            logger.info("stage 1, collaborative view (%s, trained before)", run.model)
        encoder = CollaborativeEncoder.from_recommender(cache[key])
        # the Stage-1 recommender trained on the raw (noisy) histories: the baseline
        result["baseline_test"] = _metrics(
            encoder.recommender_, split.test_input, split.test_target
        )
        result["baseline_valid"] = _metrics(
            encoder.recommender_, split.valid_input, split.valid_target
        )
        interests = encoder.transform(upstream)
        logger.info("stage 2, aligning interests (%s)", variant)
        aligner = InterestAligner(
            variant=variant,
            n_epochs=run.align_epochs,
            device=run.device,
            random_state=run.seed,
            verbose=run.verbose,
            **run.aligner_params,
        ).fit(interests)
        scores = aligner.transform(interests)
        if run.drop_rate_grid is not None:
            # the budget is chosen on the validation split: one retrained
            # recommender per candidate; the chosen one is kept, not trained again
            searching = time.perf_counter()
            denoiser, trained, result["budget_search"] = _search_drop_rate(
                run,
                scores,
                train,
                split,
                eval_set,
                cache[key],
                lambda keep: _removal_audit(keep, noise_mask, cold),
            )
            result["chosen_drop_rate"] = denoiser.removal_rate
            # the search's retraining is not part of the method's own time
            result["budget_search_seconds"] = round(time.perf_counter() - searching, 3)
            t0 += result["budget_search_seconds"]
        else:
            # with drop_rate: remove the lowest-scoring share of the training
            # positions instead of thresholding (e.g. to compare which items two
            # denoisers remove when both remove as much); the learned cutoff also
            # applies to test inputs
            denoiser = SequenceDenoiser(
                threshold=run.threshold, removal_rate=run.drop_rate, **run.denoiser_params
            ).fit(scores)
        keep = denoiser.keep_mask(scores)
        pipeline_steps = (semantic, encoder, aligner, denoiser)
        denoise_seconds = time.perf_counter() - t0
        result["align_sequences_per_second"] = float(
            np.mean([h["sequences_per_second"] for h in aligner.history_])
        )
    denoised = train.keep_mask(keep)
    result.update(_removal_audit(keep, noise_mask, cold))
    if noise_mask is not None and noise_mask.any():
        from sklearn.metrics import roc_auc_score

        detection = result["noise_detection"]
        rescaled = scores is not None and (denoiser.standardize or denoiser.center_items)
        if scores is not None and noise_mask.all():  # one class: no ROC-AUC
            detection["roc_auc"] = None
            if rescaled:
                detection["roc_auc_cut"] = None
        elif scores is not None:
            detection["roc_auc"] = float(roc_auc_score(noise_mask, -scores.scores))
            # both rescalings need a removal budget: the ranking that budget cut
            if rescaled:
                cut = denoiser._values(scores)
                detection["roc_auc_cut"] = float(roc_auc_score(noise_mask, -cut))
    logger.info(
        "removed %d of %d training items (%s; cold %s, warm %s)",
        int((~keep).sum()),
        keep.size,
        format_share(result["removed_fraction"]),
        _share_text(result["cold_item_removal_rate"]),
        _share_text(result["warm_item_removal_rate"]),
    )

    result.update(
        {
            "n_users": len(seqs),
            "n_items": seqs.n_items,
            "n_interactions": seqs.n_interactions,
            "model": run.model,
            "seed": run.seed,
            "max_len": run.max_len,
            "preset": run.preset,
            "noise_rate": run.noise_rate,
            "noise_mode": run.noise_mode,
            "noise_sampling": run.noise_sampling,
            "test_input": run.test_input,
            **_settings(run),
            "denoise_seconds": round(denoise_seconds, 3),
        }
    )
    if noise_mask is not None:
        result["n_noise_items"] = int(noise_mask.sum())
    for key in ("aligner_params", "denoiser_params"):
        if getattr(run, key):
            result[key] = dict(getattr(run, key))
    if not run.retrain:
        result["total_seconds"] = round(time.perf_counter() - started, 3)
        return json_ready(result)
    if trained is None:
        logger.info("training %s on the %s histories", run.model, run.denoiser)
        trained = _retrain(run, denoised, eval_set)
    model, fit_seconds = trained
    raw_test = _metrics(model, split.test_input, split.test_target)
    denoised_test = None
    if pipeline_steps is not None:
        semantic, encoder, aligner, denoiser = pipeline_steps
        test_input = split.test_input
        upstream = test_input if semantic is None else semantic.transform(test_input)
        test_scores = aligner.transform(encoder.transform(upstream))
        test_input = test_input.keep_mask(denoiser.keep_mask(test_scores))
        denoised_test = _metrics(model, test_input, split.test_target)
        result["test_raw"] = raw_test
        result["test_denoised"] = denoised_test
    result.update(
        {
            "valid": _metrics(model, split.valid_input, split.valid_target),
            "test": denoised_test if run.test_input == "denoised" else raw_test,
            "fit_seconds": round(fit_seconds, 3),
            "total_seconds": round(time.perf_counter() - started, 3),
            "device": str(model.device_),
            "epochs": int(model.n_epochs_),
            "n_train_sequences": int(model.n_train_sequences_),
            "seconds_per_epoch": round(float(model.seconds_per_epoch_), 3),
        }
    )
    return json_ready(result)


def json_ready(value):
    """``value`` with numpy scalars and arrays as Python values, tuples as lists and
    every non-finite float (NaN, infinity: not JSON) as ``None``, so that
    ``json.dumps(value, allow_nan=False)`` writes it."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
