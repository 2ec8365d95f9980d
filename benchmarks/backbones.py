"""Benchmark the sequential backbones on the real datasets (leave-one-out, full ranking).

For every dataset x backbone x seed: fit ``SequentialRecommender`` on ``split.train``
with early stopping on the validation target (``eval_set=(split.valid_input,
split.valid_target)``; the validation item is never trained on), then evaluate
validation and test HR/NDCG/MRR@5/10/20 against the whole catalog. Training
throughput is trained positions (prefix -> next item pairs) per second of the
training passes (validation excluded).

Writes ``<out>.json`` (every run, with its per-epoch history, and the summary) and
``<out>.md`` (mean ± std over the seeds), after every run, so an interrupted benchmark
keeps what it finished; ``--resume`` skips the runs already in ``<out>.json``.

Usage (the defaults take about 45 minutes on 2 CPU cores: ML-100K up to 30 epochs,
Beauty up to 10, whose full softmax over 12,101 items costs ~13 s an epoch; with
7 Beauty epochs it ran in ~35 minutes, but SASRec then reached 0.0294 instead of 0.0321
test NDCG@10)::

    python benchmarks/backbones.py
    python benchmarks/backbones.py --datasets ml-100k --backbones sasrec --seeds 0
    python benchmarks/backbones.py --device cuda --max-epochs 200 --patience 20
"""

from __future__ import annotations

import os

# set before torch loads OpenMP: on a CPU shared with other jobs, spinning threads
# slow every job down several-fold
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iadsr_sk import __version__  # noqa: E402
from iadsr_sk.collaborative import SequentialRecommender  # noqa: E402
from iadsr_sk.data import leave_one_out_split  # noqa: E402
from iadsr_sk.data._datasets import load_dataset  # noqa: E402
from iadsr_sk.nn import BACKBONES  # noqa: E402

DATASETS = ("ml-100k", "beauty")
KEYS = ("hr@5", "hr@10", "hr@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10")
TABLE_KEYS = ("ndcg@10", "hr@10", "ndcg@20", "hr@20")
# epochs and patience per dataset that keep the full benchmark near 35 minutes on
# 2 CPU cores; a GPU or a longer budget can raise them (--max-epochs, --patience)
DEFAULT_EPOCHS = {"ml-100k": 30, "beauty": 10}
DEFAULT_PATIENCE = {"ml-100k": 8, "beauty": 3}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument(
        "--backbones",
        nargs="+",
        default=["sasrec", "gru4rec", "caser", "fmlprec"],
        choices=sorted(BACKBONES),
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--max-epochs", type=int, help=f"epoch cap (default per dataset: {DEFAULT_EPOCHS})"
    )
    parser.add_argument(
        "--patience", type=int, help=f"early-stopping patience (default {DEFAULT_PATIENCE})"
    )
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the model's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--data-home", help="folder with ml-100k/ and amazon-beauty/")
    parser.add_argument(
        "--out",
        default=str(ROOT / "benchmarks" / "results" / "backbones"),
        help="output path without extension (.json and .md are written)",
    )
    parser.add_argument("--resume", action="store_true", help="skip runs already saved")
    return parser.parse_args(argv)


def run_one(split, dataset, backbone, seed, args) -> dict:
    params = dict(
        backbone=backbone,
        max_len=args.max_len,
        max_epochs=args.max_epochs or DEFAULT_EPOCHS[dataset],
        patience=args.patience or DEFAULT_PATIENCE[dataset],
        device=args.device,
        mixed_precision=args.mixed_precision,
        random_state=seed,
    )
    if args.batch_size:
        params["batch_size"] = args.batch_size
    model = SequentialRecommender(**params)
    started = time.perf_counter()
    model.fit(split.train, eval_set=(split.valid_input, split.valid_target))
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    valid = model.evaluate(split.valid_input, split.valid_target)
    test = model.evaluate(split.test_input, split.test_target)
    eval_seconds = time.perf_counter() - started
    train_seconds = sum(r["seconds"] for r in model.history_)
    positions = sum(r["n_positions"] for r in model.history_)
    return {
        "dataset": dataset,
        "backbone": backbone,
        "seed": seed,
        "params": {k: v for k, v in model.get_params().items() if k != "backbone"},
        "valid": {k: valid[k] for k in KEYS},
        "test": {k: test[k] for k in KEYS},
        "n_epochs": model.n_epochs_,
        "best_epoch": model.best_epoch_,
        "n_train_sequences": model.n_train_sequences_,
        "n_train_positions": model.n_train_positions_,
        "seconds_per_epoch": model.seconds_per_epoch_,
        "positions_per_second": positions / train_seconds,
        "fit_seconds": fit_seconds,
        "eval_seconds": eval_seconds,
        "device": str(model.device_),
        "history": model.history_,
    }


def summarize(runs: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["backbone"]), []).append(run)
    rows = []
    for (dataset, backbone), group in groups.items():
        row = {"dataset": dataset, "backbone": backbone, "n_seeds": len(group)}
        for split in ("valid", "test"):
            for key in KEYS:
                values = np.array([r[split][key] for r in group])
                row[f"{split}_{key}"] = [float(values.mean()), float(values.std())]
        for key in (
            "positions_per_second",
            "seconds_per_epoch",
            "n_epochs",
            "best_epoch",
            "fit_seconds",
        ):
            values = np.array([r[key] for r in group], dtype=float)
            row[key] = [float(values.mean()), float(values.std())]
        rows.append(row)
    return rows


def markdown(summary: list[dict], meta: dict) -> str:
    lines = [
        "# Sequential backbones: leave-one-out, full ranking",
        "",
        f"Mean ± std over seeds {meta['seeds']}; device {meta['device']} "
        f"({meta['cpu_threads']} CPU threads); iadsr-sk {meta['version']}, torch "
        f"{meta['torch']}. Command: `{meta['command']}`",
        "",
        "| dataset | backbone | "
        + " | ".join(f"test {k}" for k in TABLE_KEYS)
        + " | valid ndcg@10 | positions/s | s/epoch | epochs (best) |",
        "|---|---|" + "---|" * (len(TABLE_KEYS) + 4),
    ]
    for row in summary:
        cells = [
            f"{row[f'test_{k}'][0]:.4f} ± {row[f'test_{k}'][1]:.4f}" for k in TABLE_KEYS
        ]
        lines.append(
            f"| {row['dataset']} | {row['backbone']} | "
            + " | ".join(cells)
            + f" | {row['valid_ndcg@10'][0]:.4f} ± {row['valid_ndcg@10'][1]:.4f}"
            + " | {:,.0f} ± {:,.0f}".format(*row["positions_per_second"])
            + f" | {row['seconds_per_epoch'][0]:.2f} ± {row['seconds_per_epoch'][1]:.2f}"
            + f" | {row['n_epochs'][0]:.1f} ({row['best_epoch'][0]:.1f}) |"
        )
    lines += [
        "",
        "positions/s: trained (prefix -> next item) positions per second of training "
        "passes; s/epoch: one training pass (validation excluded). Early stopping on "
        "validation NDCG@10; the test target is never seen in training or selection.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    runs = []
    if args.resume and json_path.exists():
        runs = json.loads(json_path.read_text())["runs"]
    done = {(r["dataset"], r["backbone"], r["seed"]) for r in runs}
    meta = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "seeds": args.seeds,
        "device": args.device,
        "cpu_threads": torch.get_num_threads(),
        "version": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }
    started = time.perf_counter()
    for dataset in args.datasets:
        seqs = load_dataset(dataset, data_home=args.data_home)
        split = leave_one_out_split(seqs, max_len=args.max_len)
        for backbone in args.backbones:
            for seed in args.seeds:
                if (dataset, backbone, seed) in done:
                    continue
                run = run_one(split, dataset, backbone, seed, args)
                runs.append(run)
                print(
                    f"[{time.perf_counter() - started:7.1f}s] {dataset:8s} {backbone:8s} "
                    f"seed {seed}: test ndcg@10 {run['test']['ndcg@10']:.4f} "
                    f"hr@10 {run['test']['hr@10']:.4f} | valid ndcg@10 "
                    f"{run['valid']['ndcg@10']:.4f} | {run['n_epochs']} epochs (best "
                    f"{run['best_epoch']}), {run['seconds_per_epoch']:.2f} s/epoch, "
                    f"{run['positions_per_second']:,.0f} positions/s",
                    flush=True,
                )
                summary = summarize(runs)
                json_path.write_text(
                    json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=1)
                )
                md_path.write_text(markdown(summary, meta))
    print(md_path.read_text() if md_path.exists() else "nothing run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
