"""How far test NDCG@10 moves when a handful of random training items is removed.

Denoising changes the training data, and any change to the data moves a retrained
recommender. This script measures that floor: it trains the recommender on the full
training histories, then again after removing ``--drop-count`` random items, several
times, with everything else (seed, settings) unchanged. A difference between
"with" and "without IADSR" smaller than this spread says nothing about the method.

Example
-------
python benchmarks/noise_floor.py --dataset ml-100k --backbone sasrec --drop-count 10
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.experiment import DenoisingRun, make_recommender


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--backbone", default="sasrec")
    parser.add_argument("--seed", type=int, default=0, help="the recommender's seed")
    parser.add_argument("--drop-count", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="benchmarks/results/noise_floor")
    args = parser.parse_args(argv)
    if args.drop_count < 1 or args.repeats < 1:
        parser.error("--drop-count and --repeats must be at least 1")
    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s] %(message)s", datefmt="%H:%M:%S"
    )
    run = DenoisingRun(
        model=args.backbone,
        seed=args.seed,
        max_epochs=args.max_epochs,
        device=args.device,
        verbose=0,
    ).resolved()
    split = leave_one_out_split(load_dataset(args.dataset), max_len=run.max_len)
    train = split.train
    if args.drop_count >= train.n_interactions:
        parser.error(f"--drop-count must be below {train.n_interactions}")
    eval_set = (split.valid_input, split.valid_target)

    def test_ndcg(keep) -> float:
        model = make_recommender(run).fit(train.keep_mask(keep), eval_set=eval_set)
        return float(model.evaluate(split.test_input, split.test_target)["ndcg@10"])

    full = test_ndcg(np.ones(train.n_interactions, dtype=bool))
    logging.info("all %d training items: test NDCG@10 %.4f", train.n_interactions, full)
    perturbed = []
    for repeat in range(args.repeats):
        keep = np.ones(train.n_interactions, dtype=bool)
        rng = np.random.default_rng(repeat)
        keep[rng.choice(train.n_interactions, args.drop_count, replace=False)] = False
        perturbed.append(test_ndcg(keep))
        logging.info(
            "%d random items removed (draw %d): test NDCG@10 %.4f",
            args.drop_count,
            repeat,
            perturbed[-1],
        )
    record = {
        "dataset": args.dataset,
        "backbone": args.backbone,
        "seed": args.seed,
        "max_epochs": args.max_epochs,
        "n_train_items": int(train.n_interactions),
        "drop_count": args.drop_count,
        "full": full,
        "perturbed": perturbed,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(record, indent=2))
    deltas = np.asarray(perturbed) - full
    lines = [
        f"{args.dataset}, {args.backbone}, seed {args.seed}, training capped at "
        f"{args.max_epochs} epochs; {args.drop_count} of {train.n_interactions} training "
        "items removed at random per draw.",
        "",
        "| training data | test NDCG@10 | change |",
        "|---|---|---|",
        f"| all items | {full:.4f} | - |",
        *(
            f"| {args.drop_count} random items removed (draw {i}) | {v:.4f} | {d:+.4f} |"
            for i, (v, d) in enumerate(zip(perturbed, deltas, strict=True))
        ),
        "",
        f"Largest change: {np.abs(deltas).max():.4f}; mean change {deltas.mean():+.4f}.",
    ]
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
