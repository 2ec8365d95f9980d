"""Denoise with one backbone's IADSR scores, then train other recommenders on the result.

The method's Stage 1 need not be the recommender trained on the denoised histories:
as a ``Pipeline``, any ``CollaborativeEncoder`` backbone can clean the data that any
``SequentialRecommender`` then learns from. This script injects noise into a dataset's
training histories (leave-one-out split), fits both stages with the
``--stage1-backbone`` (default SASRec), removes ``--removal-rate`` of the training
positions with the standardised, item-centred cut
(``SequenceDenoiser(removal_rate=..., standardize=True, center_items=True)``), and
trains each of ``--backbones`` twice, on the noisy histories and on the cut ones,
with the same seed and epoch cap. Reported per backbone: test and validation
NDCG@10 and HR@10 of both (raw test inputs); and what the cut removes (precision
and recall against the injected positions, the genuine cold and warm items).

The Stage-1 backbone's own run on the noisy histories is the Stage-1 recommender
itself (the same seed and cap give the same training). ``--stage1 PATH`` shares the
Stage-1 recommender with ``benchmarks/aligner_sweep.py`` (the same file format and
key).

Example
-------
python benchmarks/cross_backbone.py --dataset beauty --seed 0 --max-epochs 10 \\
    --backbones sasrec gru4rec caser
"""

from __future__ import annotations

import argparse

from sklearn.metrics import roc_auc_score

from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.experiment import DenoisingRun, make_recommender
from iadsr_sk.nn import BACKBONES
from iadsr_sk.semantic import SemanticEmbedder

from _shared import (
    add_stage1_options,
    command_line,
    cpu_threads,
    noisy_training,
    removal_figures,
    script_output,
    stage1_recommender,
    standardized_cut,
    write_results,
)

METRICS = ("ndcg@10", "hr@10")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beauty")
    parser.add_argument("--stage1-backbone", default="sasrec")
    parser.add_argument("--backbones", nargs="+", default=["sasrec", "gru4rec", "caser"])
    add_stage1_options(parser, max_epochs_help="epoch cap, all models")
    parser.add_argument("--align-epochs", type=int, default=10)
    parser.add_argument("--removal-rate", type=float, default=0.2)
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument("--out", help="also write <out>.md and <out>.json")
    args = parser.parse_args(argv)
    known = sorted(BACKBONES)
    for name in [args.stage1_backbone, *args.backbones]:
        if name not in known:
            parser.error(f"unknown backbone {name!r}; choose from {', '.join(known)}")
    try:
        SequenceDenoiser(removal_rate=args.removal_rate)._validate_params()
    except ValueError as error:
        parser.error(f"--removal-rate {args.removal_rate:g}: {error}")
    if not 0 < args.noise_rate < 1:
        parser.error(f"--noise-rate must be in (0, 1), got {args.noise_rate:g}")
    for option, value in (
        ("--max-epochs", args.max_epochs),
        ("--align-epochs", args.align_epochs),
    ):
        if value < 1:
            parser.error(f"{option} must be >= 1, got {value}")
    command = command_line(__file__, argv)
    emit, lines, log = script_output("cross_backbone")

    split, train, noise, cold = noisy_training(args)
    eval_set = (split.valid_input, split.valid_target)
    view = SemanticEmbedder(cache_dir=args.embedding_cache).fit(train).transform(train)
    stage1 = stage1_recommender(args, args.stage1_backbone, train, eval_set, log)
    interests = CollaborativeEncoder.from_recommender(stage1).transform(view)
    log.info("stage 2 (%d epochs)", args.align_epochs)
    aligner = InterestAligner(n_epochs=args.align_epochs, random_state=args.seed)
    scores = aligner.fit(interests).transform(interests)
    removed = standardized_cut(scores, args.removal_rate)
    audit = removal_figures(removed, noise, cold)
    audit["roc_auc"] = float(roc_auc_score(noise, -scores.scores))
    denoised = train.keep_mask(~removed)

    def evaluate(model) -> dict:
        return {
            split_name: {
                k: float(v)
                for k, v in model.evaluate(inputs, targets).items()
                if k in METRICS
            }
            for split_name, inputs, targets in (
                ("test", split.test_input, split.test_target),
                ("valid", split.valid_input, split.valid_target),
            )
        }

    rows = []
    for backbone in args.backbones:
        run = DenoisingRun(
            model=backbone, seed=args.seed, max_epochs=args.max_epochs, verbose=0
        )
        if backbone == args.stage1_backbone:
            noisy = stage1  # the same seed and cap: the same training
        else:
            log.info("%s on the noisy histories", backbone)
            noisy = make_recommender(run).fit(train, eval_set=eval_set)
        log.info("%s on the cut histories", backbone)
        cut = make_recommender(run).fit(denoised, eval_set=eval_set)
        rows.append({"backbone": backbone, "noisy": evaluate(noisy), "cut": evaluate(cut)})

    emit(
        f"{args.dataset}, seed {args.seed}, {args.noise_rate:.0%} {args.noise_sampling} "
        f"{'replacement' if args.noise_mode == 'replace' else 'inserted'} noise "
        f"({noise.sum()} of {noise.size} training positions); scores from "
        f"{args.stage1_backbone} (Stage 1 capped at {args.max_epochs} epochs, "
        f"{args.align_epochs} alignment epochs); every model capped at "
        f"{args.max_epochs} epochs, early-stopped on validation\n"
    )
    emit(
        f"The cut removes {audit['removed']:.1%} of the training positions: precision "
        f"{audit['precision']:.3f}, recall {audit['recall']:.3f} (raw-score ROC-AUC "
        f"{audit['roc_auc']:.3f}); genuine cold items removed {audit['cold_removed']:.1%}"
        f", genuine warm {audit['warm_removed']:.1%}\n"
    )
    emit(
        "| backbone | test NDCG@10 noisy / cut | test HR@10 noisy / cut "
        "| valid NDCG@10 noisy / cut |"
    )
    emit("|---|---|---|---|")
    for row in rows:
        noisy, cut = row["noisy"], row["cut"]
        emit(
            f"| {row['backbone']} "
            f"| {noisy['test']['ndcg@10']:.4f} / {cut['test']['ndcg@10']:.4f} "
            f"| {noisy['test']['hr@10']:.4f} / {cut['test']['hr@10']:.4f} "
            f"| {noisy['valid']['ndcg@10']:.4f} / {cut['valid']['ndcg@10']:.4f} |"
        )
    if args.out:
        write_results(
            args.out,
            command,
            cpu_threads(),
            lines,
            {"device": cpu_threads(), "audit": audit, "rows": rows},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
