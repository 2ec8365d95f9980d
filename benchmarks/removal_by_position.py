"""Where in a history does IADSR remove items? Removal rate by relative position.

Fits the whole method once on a dataset's training histories (leave-one-out split) and
prints the share of items the default keep rule removes in each tenth of a history
(0.0 = oldest), plus the first and the last item, and the score quantiles.

Example
-------
python benchmarks/removal_by_position.py --dataset ml-100k --backbone gru4rec
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np

from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.experiment import DenoisingRun, make_recommender
from iadsr_sk.semantic import SemanticEmbedder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--backbone", default="gru4rec")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--align-epochs", type=int, default=10)
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)  # fmt: skip

    split = leave_one_out_split(load_dataset(args.dataset))
    train = split.train
    semantic = SemanticEmbedder(cache_dir=args.embedding_cache).fit(train)
    run = DenoisingRun(
        model=args.backbone, seed=args.seed, max_epochs=args.max_epochs, verbose=0
    )
    recommender = make_recommender(run).fit(
        train, eval_set=(split.valid_input, split.valid_target)
    )
    interests = CollaborativeEncoder.from_recommender(recommender).transform(
        semantic.transform(train)
    )
    aligner = InterestAligner(n_epochs=args.align_epochs, random_state=args.seed)
    scores = aligner.fit(interests).transform(interests)
    keep = SequenceDenoiser().fit(scores).keep_mask(scores)

    rows, within = train.positions()
    lengths = train.lengths[rows]
    relative = within / lengths
    print(f"{args.dataset}, {args.backbone}, seed {args.seed}: removed "
          f"{1 - keep.mean():.3f} of the training items")  # fmt: skip
    print("| part of the history | removed |")
    print("|---|---|")
    for low in np.arange(0.0, 1.0, 0.1):
        part = (relative >= low) & (relative < low + 0.1)
        print(f"| {low:.1f}-{low + 0.1:.1f} | {1 - keep[part].mean():.3f} |")
    print(f"| first item | {1 - keep[within == 0].mean():.3f} |")
    print(f"| last item | {1 - keep[within == lengths - 1].mean():.3f} |")
    quantiles = np.quantile(scores.scores, [0.01, 0.1, 0.5, 0.9])
    print("score quantiles 1/10/50/90%:", np.round(quantiles, 3).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
