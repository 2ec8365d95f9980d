"""Stage-2 (InterestAligner) training throughput, side by side with the released loop.

The released IADSR loop trains one target per user and epoch (the last item of a
history of at most 31) at batch 32. This script times ``InterestAligner.fit`` epochs on
one dataset's training histories (leave-one-out split) under:

- ``faithful``: windows of 31 items, one next-item target per user (the released
  loop's unit of work), prefix-free ``item`` semantic vectors (the prefix texts only
  change what is embedded, not Stage 2's cost);
- ``default``: windows of 50 items, every position a next-item target.

Each at the given batch sizes. The Stage-1 backbone is trained for one epoch only:
the weights do not change the cost of an epoch. Reported: sequences (users) per
second = training users / epoch seconds, windows per second, and next-item targets
per second, as the median over ``--epochs`` epochs; and the process's peak RSS.

With ``--backbone-alone``, each setting and batch size also times the Stage-1
recommender's own training on the same windows (its next-item loss alone): the cost
that Stage 2 adds its heads to.

With ``--whole-fit``, each setting and batch size also times the whole training of the
method: Stage 1 from fresh weights until its early stopping (the recommender's own
``max_epochs`` and ``patience``, with its validation passes), the collaborative
interests, then Stage 2 for its default ``n_epochs``. Its speed counts every epoch of
both stages: training users x (Stage-1 epochs + Stage-2 epochs) / wall seconds. The
semantic view is computed once beforehand (from the embedding cache) and is not
timed; nor is the released pipeline's own embedding step.

Beside them, in the same process and on the same device, the script times
``--released-steps`` steps of a re-creation of the released training loop
(``benchmarks/_released_loop.py``) on the same users and semantic vectors: once
before the first measured setting and once after each. Each row's ratio divides its
speed by the mean of the released loop's measurements just before and just after it,
so that both sides of a ratio see the machine in the same state. ``--released-width D``
gives the released loop random vectors of width D (the released loop reads 4096-d
ones) instead of the semantic view's.

Example
-------
python benchmarks/align_throughput.py --dataset beauty --backbone sasrec
python benchmarks/align_throughput.py --dataset beauty --device cuda  # on a GPU
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from dataclasses import replace

import numpy as np
import torch
from sklearn.base import clone

from iadsr_sk._base import resolve_device
from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.experiment import DenoisingRun, make_recommender
from iadsr_sk.semantic import SemanticEmbedder

from _released_loop import ReleasedData, ReleasedModel, released_throughput
from _shared import command_line, cpu_threads, script_output, write_results

SETTINGS = {
    "faithful": {"max_len": 31, "recommender_params": {"train_positions": "last"}},
    "default": {"max_len": 50, "recommender_params": {}},
}


def whole_fit(recommender, view, train, batch_size: int, device="cpu") -> dict:
    """Train the whole method once and time it: the Stage-1 ``recommender`` (a
    clone, at ``batch_size``, from fresh weights until its own early stopping), the
    collaborative interests of ``view``'s histories, then an ``InterestAligner`` at
    ``batch_size`` for its default number of epochs.

    Returns the wall seconds of the whole and of each part, the epochs each stage
    ran, the windows each stage trains per epoch, and Stage 1's next-item targets
    per epoch.
    """
    stage1 = clone(recommender).set_params(batch_size=batch_size, random_state=0)
    start = time.perf_counter()
    stage1.fit(train)
    fitted = time.perf_counter()
    interests = CollaborativeEncoder.from_recommender(stage1).transform(view)
    encoded = time.perf_counter()
    aligner = InterestAligner(batch_size=batch_size, device=device, random_state=0)
    aligner.fit(interests)
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "stage1_seconds": fitted - start,
        "encode_seconds": encoded - fitted,
        "stage2_seconds": end - encoded,
        "stage1_epochs": len(stage1.history_),
        "stage2_epochs": len(aligner.history_),
        "stage1_windows": stage1.n_train_sequences_,
        "stage2_windows": aligner.n_train_sequences_,
        # next-item targets of a Stage-1 epoch (its validation items held out)
        "stage1_targets": stage1.n_train_positions_,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beauty")
    parser.add_argument("--backbone", default="sasrec")
    parser.add_argument("--settings", nargs="+", default=["faithful", "default"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 256])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--backbone-alone", action="store_true",
                        help="also time the backbone's training alone")  # fmt: skip
    parser.add_argument("--whole-fit", action="store_true",
                        help="also time whole fits: Stage 1 to early stopping, "
                        "then Stage 2")  # fmt: skip
    parser.add_argument("--released-steps", type=int, default=100,
                        help="timed released-loop steps per measurement")  # fmt: skip
    parser.add_argument("--released-width", type=int,
                        help="random vectors of this width for it")  # fmt: skip
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", help="also write <out>.md and <out>.json")
    args = parser.parse_args(argv)
    if args.released_steps < 1:
        parser.error(f"--released-steps must be >= 1, got {args.released_steps}")
    if args.released_width is not None and args.released_width < 1:
        parser.error(f"--released-width must be >= 1, got {args.released_width}")
    command = command_line(__file__, argv)
    emit, lines, log = script_output("align_throughput")

    device = resolve_device(args.device)
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    else:
        where = cpu_threads()
    split = leave_one_out_split(load_dataset(args.dataset))
    train = split.train
    view = SemanticEmbedder(cache_dir=args.embedding_cache).fit(train).transform(train)
    n_users = int((train.lengths >= 2).sum())
    released_vectors = view.item_embeddings
    if args.released_width is not None:
        # N(0, 1) vectors as wide as the released loop's LLM2Vec ones (4096): the
        # cost of its lookups and projections grows with the width, not the values
        released_vectors = np.random.default_rng(0).standard_normal(
            (len(released_vectors), args.released_width), dtype=np.float32
        )
    released_width = released_vectors.shape[1]
    released_data = ReleasedData(view.sequences, released_vectors, device=device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(0)
        released_model = ReleasedModel(view.sequences.n_items, released_width).to(device)

    def released() -> float:
        speed = released_throughput(released_data, released_model, args.released_steps)
        log.info("released loop: %.0f sequences/s", speed)
        return speed

    rows = []
    emit(
        f"{args.dataset}, {args.backbone}: {n_users} training users with 2+ items; "
        f"{where}; semantic vectors of width {view.item_embeddings.shape[1]}; the "
        f"released loop timed over {args.released_steps} steps of 32 users before "
        "the first row and after each, on "
        + (
            "the same vectors"
            if args.released_width is None
            else f"random vectors of width {released_width}"
        )
        + "\n"
    )
    emit(
        "| setting | trained | batch | sequences/s | released loop, before / after | "
        "x released loop | windows/s | targets/s |"
    )
    emit("|---|---|---|---|---|---|---|---|")

    def stage2_seconds(recommender, interests, batch_size):
        aligner = InterestAligner(
            n_epochs=args.epochs,
            batch_size=batch_size,
            device=args.device,
            random_state=0,
        ).fit(interests)
        seconds = statistics.median(h["seconds"] for h in aligner.history_)
        return seconds, aligner.n_train_sequences_

    def backbone_seconds(recommender, interests, batch_size):
        # the Stage-1 recommender's own training on the same windows: its next-item
        # loss alone, without Stage 2's heads
        alone = clone(recommender).set_params(
            batch_size=batch_size,
            max_epochs=args.epochs,
            patience=None,
            validation=None,
            random_state=0,
        )
        alone.fit(train)
        seconds = statistics.median(h["seconds"] for h in alone.history_)
        return seconds, alone.n_train_sequences_

    # next-item targets of an epoch that trains every position
    n_positions = int((train.lengths - 1).clip(min=0).sum())

    def stage2_targets(name: str, n_windows: int) -> int:
        """Next-item targets of a Stage-2 epoch: one per window in the faithful
        setting, every position in the default one."""
        return n_windows if name == "faithful" else n_positions

    def add_row(key, label, before, seconds, n_sequences, n_windows, n_targets, extra):
        """Time the released loop after a measurement; record and print the row with
        its ratio to the mean of the loop's speeds before and after it. Returns the
        loop's speed after, the next row's ``before``."""
        after = released()
        name, trained, batch_size = key
        row = {
            "setting": name,
            "trained": trained,
            "batch_size": batch_size,
            **extra,
            "sequences_per_second": n_sequences / seconds,
            "windows_per_second": n_windows / seconds,
            "targets_per_second": n_targets / seconds,
            "released_before": before,
            "released_after": after,
            "x_released": n_sequences / seconds / ((before + after) / 2),
        }
        rows.append(row)
        emit(
            f"| {name} | {label} | {batch_size} | "
            f"{row['sequences_per_second']:.0f} | {before:.0f} / {after:.0f} | "
            f"{row['x_released']:.1f} | {row['windows_per_second']:.0f} | "
            f"{row['targets_per_second']:.0f} |"
        )
        return after

    before = released()
    for name in args.settings:
        setting = SETTINGS[name]
        run = DenoisingRun(
            model=args.backbone,
            max_len=setting["max_len"],
            max_epochs=1,
            recommender_params=setting["recommender_params"],
            device=args.device,
            verbose=0,
        )
        recommender = make_recommender(run).fit(train)
        interests = CollaborativeEncoder.from_recommender(recommender).transform(view)
        for batch_size in args.batch_sizes:
            jobs = [("Stage 2", stage2_seconds)]
            if args.backbone_alone:
                jobs.append((f"{args.backbone} alone", backbone_seconds))
            for what, job in jobs:
                seconds, n_windows = job(recommender, interests, batch_size)
                before = add_row(
                    (name, what, batch_size), what, before, seconds, n_users, n_windows,
                    stage2_targets(name, n_windows), {"epoch_seconds": seconds},
                )  # fmt: skip
            if args.whole_fit:
                stage1 = make_recommender(replace(run, max_epochs=None))
                fit = whole_fit(stage1, view, train, batch_size, args.device)
                epochs = fit["stage1_epochs"] + fit["stage2_epochs"]
                n_windows = (
                    fit["stage1_windows"] * fit["stage1_epochs"]
                    + fit["stage2_windows"] * fit["stage2_epochs"]
                )
                label = (
                    f"whole fit ({fit['stage1_epochs']} + {fit['stage2_epochs']} "
                    f"epochs, {fit['stage1_seconds']:.0f} + {fit['encode_seconds']:.0f}"
                    f" + {fit['stage2_seconds']:.0f} s)"
                )
                n_targets = (
                    fit["stage1_targets"] * fit["stage1_epochs"]
                    + stage2_targets(name, fit["stage2_windows"]) * fit["stage2_epochs"]
                )
                before = add_row(
                    (name, "whole fit", batch_size), label, before, fit["seconds"],
                    n_users * epochs, n_windows, n_targets, fit,
                )  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit(f"\npeak RSS {peak:.0f} MB")
    gpu_peak = None
    if device.type == "cuda":
        gpu_peak = torch.cuda.max_memory_allocated(device) / 2**20
        emit(f"peak GPU memory allocated {gpu_peak:.0f} MB")
    if args.out:
        write_results(
            args.out,
            command,
            where,
            lines,
            {"device": where, "rows": rows, "peak_rss_mb": peak, "peak_gpu_mb": gpu_peak},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
