"""Stage-2 (InterestAligner) training throughput, default and faithful settings.

The released IADSR loop trains one target per user and epoch (the last item of a
history of at most 31) at batch 32; about 180 sequences per second on a 2-core CPU is
the reference the project measures against. This script times ``InterestAligner.fit``
epochs on one dataset's training histories (leave-one-out split) under:

- ``faithful``: windows of 31 items, one next-item target per user (the released
  loop's unit of work), prefix-free ``item`` semantic vectors (the prefix texts only
  change what is embedded, not Stage 2's cost);
- ``default``: windows of 50 items, every position a next-item target.

Each at the given batch sizes. The Stage-1 backbone is trained for one epoch only:
the weights do not change the cost of an epoch. Reported: sequences (users) per
second = training users / epoch seconds, windows per second, and next-item targets
per second, as the median over ``--epochs`` epochs; and the process's peak RSS.

Example
-------
python benchmarks/align_throughput.py --dataset beauty --backbone sasrec
python benchmarks/align_throughput.py --dataset beauty --device cuda  # on a GPU
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys

import torch

from iadsr_sk._base import resolve_device
from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.experiment import DenoisingRun, make_recommender
from iadsr_sk.semantic import SemanticEmbedder

from _shared import command_line, cpu_threads, write_results

SETTINGS = {
    "faithful": {"max_len": 31, "recommender_params": {"train_positions": "last"}},
    "default": {"max_len": 50, "recommender_params": {}},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beauty")
    parser.add_argument("--backbone", default="sasrec")
    parser.add_argument("--settings", nargs="+", default=["faithful", "default"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 256])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--reference", type=float, default=180.0,
                        help="sequences/s of the released loop on this CPU")  # fmt: skip
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", help="also write <out>.md and <out>.json")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text)
        lines.extend(text.split("\n"))

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)  # fmt: skip

    device = resolve_device(args.device)
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    else:
        where = cpu_threads()
    split = leave_one_out_split(load_dataset(args.dataset))
    train = split.train
    view = SemanticEmbedder(cache_dir=args.embedding_cache).fit(train).transform(train)
    n_users = int((train.lengths >= 2).sum())
    rows = []
    emit(
        f"{args.dataset}, {args.backbone}: {n_users} training users with 2+ items; "
        f"{where}; reference {args.reference:g} sequences/s (the released loop on "
        "a 2-core CPU)\n"
    )
    emit("| setting | batch | sequences/s | x reference | windows/s | targets/s |")
    emit("|---|---|---|---|---|---|")
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
            aligner = InterestAligner(
                n_epochs=args.epochs,
                batch_size=batch_size,
                device=args.device,
                random_state=0,
            ).fit(interests)
            seconds = statistics.median(h["seconds"] for h in aligner.history_)
            n_windows = aligner.n_train_sequences_
            n_targets = (
                n_windows
                if name == "faithful"
                else int((train.lengths - 1).clip(min=0).sum())
            )
            row = {
                "setting": name,
                "batch_size": batch_size,
                "epoch_seconds": seconds,
                "sequences_per_second": n_users / seconds,
                "windows_per_second": n_windows / seconds,
                "targets_per_second": n_targets / seconds,
            }
            rows.append(row)
            emit(
                f"| {name} | {batch_size} | {row['sequences_per_second']:.0f} | "
                f"{row['sequences_per_second'] / args.reference:.1f} | "
                f"{row['windows_per_second']:.0f} | {row['targets_per_second']:.0f} |"
            )
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
