"""Which parts of the noise score find injected noise, and which remove cold items?

Injects noise into a dataset's training histories (leave-one-out split), fits the whole
method once (and the collaborative-only ablation), and then compares *score
functions* on the same fitted model, each at the removal rate equal to the injected
noise rate:

- the full score and each of its three terms alone;
- the collaborative-only score ``cos(h^L, h_j)`` of its own fitted aligner;
- ``semantic-raw``: ``cos(mean_u x, x_j)`` of the language-model vectors, no training;
- ``popularity``: the item's log count in the noisy training histories (a floor:
  uniform noise draws mostly rare items, so rarity alone finds much of it, at the
  price of every genuine cold item);
- the full score standardised within each history (``user-z``), i.e. how unusual a
  position is for *its* user rather than for all users;
- scores minus each item's mean over the training positions (``item-centred``,
  ``SequenceDenoiser(center_items=True)``), i.e. how unusual a position is for *its*
  item, which takes out what the score says about the item itself (e.g. rarity).

For each: detection ROC-AUC, precision at the matched rate, and the removal rate of
genuine cold items (least popular 20%) and of genuine warm items at that rate.

Example
-------
python benchmarks/score_diagnostics.py --dataset ml-100k --backbone gru4rec
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.denoising._keep_rule import item_score_means, standardize_within_sequences
from iadsr_sk.experiment import DenoisingRun, make_recommender
from iadsr_sk.semantic import SemanticEmbedder

from _shared import (
    command_line,
    cpu_threads,
    noisy_training,
    parse_params,
    score_terms,
    script_output,
    write_results,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--backbone", default="gru4rec")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise-rate", type=float, default=0.2)
    parser.add_argument(
        "--noise-mode",
        default="replace",
        choices=["replace", "insert"],
        help="noise items replace training items or are inserted after them",
    )
    parser.add_argument(
        "--noise-sampling",
        default="uniform",
        choices=["uniform", "popularity"],
        help="draw noise items uniformly (mostly rare items) or by popularity",
    )
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--align-epochs", type=int, default=10)
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument(
        "--align-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an InterestAligner parameter of the full method (repeatable), "
        "e.g. temperature=0.2",
    )
    parser.add_argument("--semantic-mode", default="item", choices=["item", "prefix"])
    parser.add_argument("--out", help="also write <out>.md and <out>.json")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    emit, lines, log = script_output("score_diagnostics")
    started = time.perf_counter()

    align_params = parse_params(
        parser,
        "--align-param",
        args.align_param,
        InterestAligner,
        reserved={
            "variant": "full, and collab_only for the ablation",
            "n_epochs": "--align-epochs",
            "random_state": "--seed",
        },
    )
    split, train, noise, cold = noisy_training(args)
    genuine = ~noise
    semantic = SemanticEmbedder(
        cache_dir=args.embedding_cache, mode=args.semantic_mode
    ).fit(train)
    view = semantic.transform(train)
    run = DenoisingRun(
        model=args.backbone, seed=args.seed, max_epochs=args.max_epochs, verbose=0
    )
    log.info("stage 1 (%s)", args.backbone)
    recommender = make_recommender(run).fit(
        train, eval_set=(split.valid_input, split.valid_target)
    )
    encoder = CollaborativeEncoder.from_recommender(recommender)
    interests = encoder.transform(view)
    scores = {}
    log.info("stage 2, full method")
    full = InterestAligner(
        n_epochs=args.align_epochs, random_state=args.seed, **align_params
    )
    scores["full (default)"] = full.fit(interests).transform(interests).scores
    scores.update(score_terms(full, interests, view))
    scores["full, user-z"] = standardize_within_sequences(
        train, scores["full (default)"].astype(float)
    )
    log.info("stage 2, collaborative-only ablation")
    collab = InterestAligner(
        variant="collab_only", n_epochs=args.align_epochs, random_state=args.seed
    )
    collab_interests = encoder.transform(train)
    scores["collab-only"] = collab.fit(collab_interests).transform(collab_interests).scores
    scores["collab-only, user-z"] = standardize_within_sequences(
        train, scores["collab-only"].astype(float)
    )
    rows, _ = train.positions()
    x = view.short_term / np.linalg.norm(view.short_term, axis=1, keepdims=True)
    xl = view.long_term / np.linalg.norm(view.long_term, axis=1, keepdims=True)
    scores["semantic-raw cos(mean x, x_j)"] = np.einsum("ij,ij->i", x, xl[rows])
    scores["semantic-raw, user-z"] = standardize_within_sequences(
        train, scores["semantic-raw cos(mean x, x_j)"].astype(float)
    )

    def item_centred(values):
        values = np.asarray(values, dtype=np.float64)
        return values - item_score_means(train, values)[train.codes]

    for name in ("full", "collab-only"):
        raw = scores["full (default)" if name == "full" else name]
        scores[f"{name}, item-centred"] = item_centred(raw)
        scores[f"{name}, user-z + item-centred"] = item_centred(scores[f"{name}, user-z"])

    counts = np.bincount(train.codes, minlength=train.n_items)
    scores["popularity log(count)"] = np.log(counts[train.codes].astype(float))

    rate = float(noise.mean())
    emit(
        f"{args.dataset}, {args.backbone}, seed {args.seed}, {args.noise_rate:.0%} "
        f"{args.noise_sampling} "
        f"{'replacement' if args.noise_mode == 'replace' else 'inserted'} noise "
        f"({noise.sum()} of {noise.size} "
        "training positions); "
        f"every score removes its lowest {rate:.1%}"
        + (f"; aligner {align_params}" if align_params else "")
        + f"; {args.semantic_mode} semantic mode\n"
    )
    emit("| score | ROC-AUC | precision | genuine cold removed | genuine warm removed |")
    emit("|---|---|---|---|---|")
    table = []
    for name, value in scores.items():
        value = np.asarray(value, dtype=np.float64)
        dropped = value <= np.quantile(value, rate)
        row = {
            "score": name,
            "roc_auc": float(roc_auc_score(noise, -value)),
            "precision": float(noise[dropped].mean()),
            "cold_removed": float(dropped[genuine & cold].mean()),
            "warm_removed": float(dropped[genuine & ~cold].mean()),
        }
        table.append(row)
        emit(
            f"| {name} | {row['roc_auc']:.3f} | {row['precision']:.3f} | "
            f"{row['cold_removed']:.3f} | {row['warm_removed']:.3f} |"
        )
    value = np.asarray(scores["full (default)"], dtype=np.float64)
    dropped = value <= 0
    rule = {
        "score": "full, default keep rule (score > 0)",
        "removed": float(dropped.mean()),
        "precision": float(noise[dropped].mean()) if dropped.any() else 0.0,
        "recall": float(dropped[noise].mean()),
        "cold_removed": float(dropped[genuine & cold].mean()),
        "warm_removed": float(dropped[genuine & ~cold].mean()),
    }
    table.append(rule)
    emit(
        f"\nThe default keep rule (score > 0) removes {rule['removed']:.1%}: precision "
        f"{rule['precision']:.3f}, recall {rule['recall']:.3f}, genuine cold removed "
        f"{rule['cold_removed']:.3f}, genuine warm removed {rule['warm_removed']:.3f}"
    )
    emit(f"({time.perf_counter() - started:.0f} s)")
    if args.out:
        write_results(args.out, command, cpu_threads(), lines, {"rows": table})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
