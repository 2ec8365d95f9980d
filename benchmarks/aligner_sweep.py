"""How Stage-2 (InterestAligner) settings change what the noise score detects.

Injects noise into a dataset's training histories (leave-one-out split), trains the
Stage-1 backbone once, and fits an ``InterestAligner`` once per setting of ``--grid``
on the same backbone and semantic view. For each setting:

- detection ROC-AUC of the raw scores, of the scores standardised within each history
  (``user-z``), and of the ranking the standardised, item-centred cut uses
  (``SequenceDenoiser(standardize=True, center_items=True)``);
- the ROC-AUC of each of the score's three terms alone, ``cos(s^L, h_j)``,
  ``cos(h^L, s_j)`` and ``cos(h_j, s_j)`` (not for ``variant=collab_only``);
- what that cut removes at ``--removal-rate``: precision and recall against the
  injected positions, and the share of the genuine cold items (least popular 20%) and
  of the genuine warm items it removes;
- the Stage-2 training seconds.

A grid entry is ``default`` or comma-separated ``NAME=VALUE`` InterestAligner
parameters, e.g. ``temperature=0.2``, ``short_weight=2,long_weight=2`` or, for an
ablation of the method, ``variant=no_align`` (any ``InterestAligner`` variant). The figures
compare settings on one seed's noisy data: they show which settings find the injected
items better, not which train the better recommender (that takes
``benchmarks/denoising.py --align-param ...``).

``--semantic-mode prefix`` reads the semantic interests from the joined titles of
each history prefix (``SemanticEmbedder(mode="prefix")``, one language-model call per
distinct prefix, kept in ``--embedding-cache``) instead of from the item titles.
``--semantic-param NAME=VALUE`` (repeatable) sets any other ``SemanticEmbedder``
parameter, e.g. ``max_length=256`` (how many tokens of a joined history the language
model reads).

``--fit-on clean`` fits both stages on the clean training histories (the same
users, before the noise was injected) and scores the noisy ones: a ceiling for what
the scores can find once the models themselves have not learnt from the noise.

``--user-gates THETA ...`` cuts the scores again with
``SequenceDenoiser(user_gate=THETA)`` (the same standardised, item-centred cut, with
only the users whose ``cos(h^L, s^L)`` reaches THETA denoised), for every setting with
a semantic view (not ``variant=collab_only``), and reports, per gate, the share of
users it denoises, what the cut then removes and what the ungated cut removing as
many items removes; and the correlation, over users, of ``cos(h^L, s^L)`` with the
share of a user's history that was injected.

``--also-removal-rates R ...`` cuts each setting's scores again at each rate R (the
same standardised, item-centred cut) and reports, per rate, precision, recall and
the genuine cold and warm items removed, without training anything more.

``--stage1 PATH`` pickles the trained backbone there, or loads it if the file exists
(with the same dataset, noise and seed), so that several processes can share one
Stage 1 and split a grid between them.

Example
-------
python benchmarks/aligner_sweep.py --dataset beauty --backbone sasrec --max-epochs 10 \\
    --noise-mode insert --grid default temperature=0.2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from iadsr_sk._options import parse_assignments
from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.denoising._keep_rule import standardize_within_sequences
from iadsr_sk.semantic import SemanticEmbedder

from _shared import (
    add_stage1_options,
    command_line,
    cpu_threads,
    noisy_training,
    parse_params,
    removal_figures,
    score_terms,
    script_output,
    stage1_recommender,
    standardized_cut,
    write_results,
)

#: SemanticEmbedder parameters the sweep sets itself, and from what
RESERVED_SEMANTIC_PARAMS = {
    "mode": "--semantic-mode",
    "cache_dir": "--embedding-cache",
    "verbose": "always 1",
}


def parse_setting(entry: str) -> dict:
    """``"default"`` -> {}; ``"a=1,b=x"`` -> {"a": 1, "b": "x"} (values as
    ``iadsr_sk._options.parse_value``)."""
    if entry == "default":
        return {}
    return parse_assignments(
        entry.split(","),
        malformed=lambda _: f"grid entry {entry!r}: expected NAME=VALUE[,NAME=VALUE...]",
        not_a_number=lambda item: f"grid entry {entry!r}: {item!r} is not a number",
        repeated=lambda name: f"grid entry {entry!r}: {name} is set more than once",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beauty")
    parser.add_argument("--backbone", default="sasrec")
    add_stage1_options(parser, max_epochs_help="Stage-1 epoch cap")
    parser.add_argument("--align-epochs", type=int, default=10)
    parser.add_argument("--removal-rate", type=float, default=0.2)
    parser.add_argument(
        "--also-removal-rates",
        nargs="+",
        type=float,
        default=[],
        metavar="R",
        help="also cut each setting's scores at these removal rates",
    )
    parser.add_argument(
        "--user-gates",
        nargs="+",
        type=float,
        default=[],
        metavar="THETA",
        help="also cut with SequenceDenoiser(user_gate=THETA), for each THETA",
    )
    parser.add_argument("--grid", nargs="+", default=["default"])
    parser.add_argument(
        "--semantic-mode",
        default="item",
        choices=["item", "prefix"],
        help="how SemanticEmbedder forms the semantic interests",
    )
    parser.add_argument(
        "--semantic-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a SemanticEmbedder parameter (repeatable), e.g. max_length=256",
    )
    parser.add_argument(
        "--fit-on",
        default="noisy",
        choices=["noisy", "clean"],
        help="the training histories both stages are fitted on (scored: the noisy ones)",
    )
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument("--out", help="also write <out>.md and <out>.json")
    args = parser.parse_args(argv)
    try:
        settings = [(entry, parse_setting(entry)) for entry in args.grid]
    except ValueError as error:  # a malformed entry, or a value that is not a number
        parser.error(str(error))
    known = InterestAligner().get_params()
    for entry, params in settings:
        unknown = sorted(set(params) - set(known))
        if unknown:
            parser.error(
                f"grid entry {entry!r}: InterestAligner has no parameter {unknown}"
            )
        InterestAligner(**params)._validate_params()  # fail before any training
    checked = [("--removal-rate", "removal_rate", args.removal_rate)]
    checked += [
        ("--also-removal-rates", "removal_rate", rate) for rate in args.also_removal_rates
    ]
    checked += [("--user-gates", "user_gate", gate) for gate in args.user_gates]
    for option, name, value in checked:
        try:
            SequenceDenoiser(**{name: value})._validate_params()
        except ValueError as error:
            parser.error(f"{option} {value:g}: {error}")
    semantic_params = parse_params(
        parser,
        "--semantic-param",
        args.semantic_param,
        SemanticEmbedder,
        reserved=RESERVED_SEMANTIC_PARAMS,
    )
    command = command_line(__file__, argv)
    emit, lines, log = script_output("aligner_sweep")

    split, train, noise, cold = noisy_training(args)
    # the share of each user's (noisy) training history that was injected
    injected_share = np.bincount(
        train.positions()[0], weights=noise, minlength=len(train)
    ) / np.maximum(train.lengths, 1)
    log.info("stage 1, semantic view (%s mode)", args.semantic_mode)
    embedder = SemanticEmbedder(
        mode=args.semantic_mode,
        cache_dir=args.embedding_cache,
        verbose=1,
        **semantic_params,
    )
    view = embedder.fit(train).transform(train)  # the histories scored
    fit_on = split.train if args.fit_on == "clean" else train
    fit_view = view if fit_on is train else embedder.fit(fit_on).transform(fit_on)
    recommender = stage1_recommender(
        args, args.backbone, fit_on, (split.valid_input, split.valid_target), log
    )
    encoder = CollaborativeEncoder.from_recommender(recommender)
    interests = encoder.transform(view)  # scored
    fit_interests = interests if fit_on is train else encoder.transform(fit_view)
    best = recommender.history_[recommender.best_epoch_ - 1]

    emit(
        f"{args.dataset}, {args.backbone}, seed {args.seed}, {args.noise_rate:.0%} "
        f"{args.noise_sampling} "
        f"{'replacement' if args.noise_mode == 'replace' else 'inserted'} noise "
        f"({noise.sum()} of {noise.size} training positions); {args.align_epochs} "
        f"alignment epochs unless set; {args.semantic_mode} semantic mode"
        f"{''.join(f', {k}={v}' for k, v in semantic_params.items())}; both stages "
        f"fitted on the {args.fit_on} histories; the cut "
        f"removes {args.removal_rate:.0%} "
        "(standardised within each history, centred per item); Stage 1 trained "
        f"{recommender.n_epochs_} of at most {args.max_epochs} epochs, best epoch "
        f"{recommender.best_epoch_} (validation NDCG@10 "
        f"{best['valid_ndcg@10']:.4f})\n"
    )
    emit(
        "| setting | ROC-AUC raw | ROC-AUC user-z | ROC-AUC cut | ROC-AUC of the terms "
        "cos(s^L,h_j) / cos(h^L,s_j) / cos(h_j,s_j) | precision | recall "
        "| genuine cold removed | genuine warm removed | Stage-2 s |"
    )
    emit("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for entry, params in settings:
        log.info("stage 2: %s", entry)
        started = time.perf_counter()
        aligner = InterestAligner(
            **{"n_epochs": args.align_epochs, "random_state": args.seed, **params}
        ).fit(fit_interests)
        seconds = time.perf_counter() - started
        scores = aligner.transform(interests)
        denoiser = SequenceDenoiser(
            removal_rate=args.removal_rate, standardize=True, center_items=True
        ).fit(scores)
        dropped = ~denoiser.keep_mask(scores)
        raw = scores.scores.astype(np.float64)
        user_z = standardize_within_sequences(train, raw)
        terms = {}
        if "collab_only" not in aligner.terms_:  # its projections are never trained
            terms = {
                name: float(roc_auc_score(noise, -values.astype(np.float64)))
                for name, values in score_terms(aligner, interests, view).items()
            }
        row = {
            "setting": entry,
            "params": params,
            "roc_auc": float(roc_auc_score(noise, -raw)),
            "roc_auc_user_z": float(roc_auc_score(noise, -user_z)),
            # the ranking the cut uses (as the experiment's ``roc_auc_cut``)
            "roc_auc_cut": float(roc_auc_score(noise, -denoiser._values(scores))),
            "roc_auc_terms": terms,
            **removal_figures(dropped, noise, cold),
            "stage2_seconds": seconds,
        }
        row["by_removal_rate"] = [
            {
                "removal_rate": rate,
                **removal_figures(standardized_cut(scores, rate), noise, cold),
            }
            for rate in args.also_removal_rates
        ]
        similarity = np.asarray(scores.user_similarity, dtype=np.float64)
        if args.user_gates and not np.isnan(similarity).any():
            row["similarity_vs_injected_share"] = float(
                np.corrcoef(similarity, injected_share)[0, 1]
            )
            row["user_gates"] = []
            for gate in args.user_gates:
                removed = standardized_cut(scores, args.removal_rate, user_gate=gate)
                # the ungated cut that removes as much, for comparison
                same_size = standardized_cut(scores, float(removed.mean()))
                row["user_gates"].append(
                    {
                        "user_gate": gate,
                        "users_denoised": float((similarity >= gate).mean()),
                        **removal_figures(removed, noise, cold),
                        "ungated_same_size": removal_figures(same_size, noise, cold),
                    }
                )
        rows.append(row)
        emit(
            f"| {entry} | {row['roc_auc']:.3f} | {row['roc_auc_user_z']:.3f} | "
            f"{row['roc_auc_cut']:.3f} | "
            f"{' / '.join(f'{v:.3f}' for v in terms.values()) or '-'} | "
            f"{row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['cold_removed']:.3f} | {row['warm_removed']:.3f} | {seconds:.0f} |"
        )
    if args.also_removal_rates:
        emit(
            "\nThe same cut at other removal rates (the scores above, cut again; "
            "nothing retrained):\n"
        )
        emit(
            "| setting | removal rate | removed | precision | recall "
            "| genuine cold removed | genuine warm removed |"
        )
        emit("|---|---|---|---|---|---|---|")
        for row in rows:
            for cut in [
                {"removal_rate": args.removal_rate, **row},
                *row["by_removal_rate"],
            ]:
                emit(
                    f"| {row['setting']} | {cut['removal_rate']:g} | "
                    f"{cut['removed']:.3f} | {cut['precision']:.3f} | "
                    f"{cut['recall']:.3f} | {cut['cold_removed']:.3f} | "
                    f"{cut['warm_removed']:.3f} |"
                )
    gated_rows = [row for row in rows if "user_gates" in row]
    ungatable = [row["setting"] for row in rows if "user_gates" not in row]
    if args.user_gates and ungatable:
        emit(
            f"\nNo user gate for {', '.join(ungatable)}: without a semantic view "
            "there is no cos(h^L, s^L) to gate on."
        )
    if gated_rows:
        emit(
            "\nThe same cut with a user gate (only the users whose cos(h^L, s^L) "
            "reaches it are denoised; the cutoff stays the one learnt from every "
            "training position):\n"
        )
        emit(
            "| setting | user gate | users denoised | removed | precision | recall "
            "| genuine cold removed | genuine warm removed | ungated cut removing "
            "as much: precision / genuine cold removed |"
        )
        emit("|---|---|---|---|---|---|---|---|---|")
        for row in gated_rows:
            ungated = {"user_gate": -1.0, "users_denoised": 1.0, **row}
            for cut in [ungated, *row["user_gates"]]:
                same = cut.get("ungated_same_size")
                emit(
                    f"| {row['setting']} | {cut['user_gate']:g} | "
                    f"{cut['users_denoised']:.1%} | {cut['removed']:.3f} | "
                    f"{cut['precision']:.3f} | {cut['recall']:.3f} | "
                    f"{cut['cold_removed']:.3f} | {cut['warm_removed']:.3f} | "
                    + (
                        "- |"
                        if same is None
                        else f"{same['precision']:.3f} / {same['cold_removed']:.3f} |"
                    )
                )
        emit(
            "\nCorrelation over users of cos(h^L, s^L) with the injected share of "
            "the user's history: "
            + ", ".join(
                f"{row['setting']} {row['similarity_vs_injected_share']:.3f}"
                for row in gated_rows
            )
        )
    if args.out:
        stage1_record = {
            "epochs": recommender.n_epochs_,
            "best_epoch": recommender.best_epoch_,
            "valid_ndcg@10": best["valid_ndcg@10"],
        }
        write_results(
            args.out,
            command,
            cpu_threads(),
            lines,
            {
                "stage1": stage1_record,
                "semantic_mode": args.semantic_mode,
                "semantic_params": semantic_params,
                "fit_on": args.fit_on,
                "rows": rows,
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
