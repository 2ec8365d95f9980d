"""Command line: ``iadsr-sk run`` (load, split, fit, evaluate) and ``iadsr-sk report``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__
from .experiment import (
    DENOISERS,
    PRESETS,
    REPORT_KEYS,
    DenoisingRun,
    format_share,
    make_recommender,
    run_denoising,
)

logger = logging.getLogger("iadsr_sk")

FLOOR_MODELS = ("pop", "markov")
NEURAL_MODELS = ("gru4rec", "sasrec", "caser", "fmlprec")

DATASETS = ("ml-100k", "beauty")


def _peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def _existing_file(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {value}")
    return path


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {number}")
    return number


def _seed(value: str) -> int:
    """A --seed: numpy's seeds (and so every estimator's random_state) are 32-bit."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
    if not 0 <= number < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {2**32 - 1}, got {number}"
        )
    return number


def _rate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"expected a rate in [0, 1), got {number}")
    return number


def _budget(value: str) -> float | None:
    """A --drop-rate-grid entry: 'rule' (the threshold keep rule), 'none' (no
    denoising, the same as 0) or a rate in [0, 1)."""
    if value == "rule":
        return None
    if value == "none":
        return 0.0
    return _rate(value)


def _output_path(value: str) -> Path:
    """A results path that can be written: checked now, not after a long run."""
    path = Path(value).expanduser()
    if path.exists() and path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory; give a file name")
    folder = path.parent
    while not folder.exists():  # the missing folders are created when writing
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {value}: {folder} is not a folder")
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {value}: {target} is not writable")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iadsr-sk",
        description="Denoising sequential recommendation (IADSR) on real data.",
    )
    parser.add_argument("--version", action="version", version=f"iadsr-sk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="load data, split leave-one-out, fit a model, evaluate (full ranking)",
        description="Load a dataset, split it leave-one-out (last item = test, second "
        "to last = validation), fit a model, and report full-ranking HR/NDCG/MRR.",
    )
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS, help="a bundled real dataset")
    source.add_argument("--sequences", type=_existing_file, help="your own sequences file")
    run.add_argument(
        "--format",
        default="auto",
        choices=("auto", "recbole", "json", "text"),
        help="format of --sequences (default: detect from the extension)",
    )
    run.add_argument(
        "--item-text", type=_existing_file, help="item text TSV (item<TAB>text)"
    )
    run.add_argument("--data-home", help="folder holding the datasets (or $IADSR_DATA)")
    run.add_argument(
        "--model",
        default="markov",
        choices=FLOOR_MODELS + NEURAL_MODELS,
        help="recommender (default: markov)",
    )
    run.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    run.add_argument(
        "--max-len",
        type=_positive_int,
        help="history length (default 50; 31 with --preset faithful)",
    )
    run.add_argument(
        "--preset",
        default="default",
        choices=tuple(PRESETS),
        help="'faithful': the released IADSR scripts' settings (history length 31, "
        "last-position training, prefix texts) where not set explicitly",
    )
    run.add_argument(
        "--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: cpu)"
    )
    run.add_argument("--max-epochs", type=_positive_int, help="cap on training epochs")
    den = run.add_argument_group("denoising (IADSR)")
    den.add_argument(
        "--denoiser",
        default="none",
        choices=tuple(DENOISERS),
        help="denoise the training histories first (default: none); collab-only and "
        "no-* are ablations, random drops at --drop-rate, oracle removes exactly the "
        "items --noise-rate injected (the ceiling of any denoiser)",
    )
    den.add_argument(
        "--noise-rate",
        type=_rate,
        default=0.0,
        help="inject this share of random items into the training histories (default 0)",
    )
    den.add_argument(
        "--noise-mode",
        default="replace",
        choices=("replace", "insert"),
        help="injected items replace training items or are inserted after them "
        "(default: replace)",
    )
    den.add_argument(
        "--noise-sampling",
        default="uniform",
        choices=("uniform", "popularity"),
        help="draw injected items uniformly over the catalog (mostly rare items) or in "
        "proportion to their number of interactions (default: uniform)",
    )
    den.add_argument(
        "--test-input",
        default="raw",
        choices=("raw", "denoised"),
        help="evaluate on the raw or the denoised test histories (default: raw)",
    )
    den.add_argument(
        "--drop-rate",
        type=_rate,
        help="--denoiser random: its drop rate (default 0.1); a learned denoiser: "
        "remove this share of the training items, the lowest-scoring, instead of "
        "thresholding the scores (SequenceDenoiser(removal_rate=...))",
    )
    den.add_argument(
        "--drop-rate-grid",
        type=_budget,
        nargs="+",
        metavar="RATE",
        help="a learned denoiser: choose its removal budget on the validation split "
        "among these candidates ('rule': the --threshold keep rule; 'none' or 0: no "
        "denoising, the Stage-1 recommender), one retrained recommender each; the "
        "JSON adds chosen_drop_rate and budget_search",
    )
    den.add_argument(
        "--standardize",
        action="store_true",
        help="a learned denoiser with --drop-rate or --drop-rate-grid: standardise the "
        "scores within each history before the cutoff, so that an item is judged "
        "against its own user's items (SequenceDenoiser(standardize=True))",
    )
    den.add_argument(
        "--center-items",
        action="store_true",
        help="a learned denoiser with --drop-rate or --drop-rate-grid: subtract each "
        "item's mean training score before the cutoff, so that an occurrence is "
        "judged against the item's other occurrences and a cold item is not removed "
        "for being cold (SequenceDenoiser(center_items=True))",
    )
    den.add_argument(
        "--embedder",
        default="default",
        help="language model: 'default' (all-MiniLM-L6-v2, offline) or a local folder",
    )
    den.add_argument(
        "--semantic-mode",
        choices=("item", "prefix"),
        help="semantic interests from item texts (default) or history prefixes",
    )
    den.add_argument("--embedding-cache", help="folder for the embedding cache")
    den.add_argument(
        "--align-epochs", type=_positive_int, default=10, help="Stage-2 epochs (default 10)"
    )
    den.add_argument(
        "--threshold", type=_rate, default=0.5, help="keep probability threshold (0.5)"
    )
    run.add_argument("--out", type=_output_path, help="write the results as JSON here")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    report = sub.add_parser("report", help="print one table from several results files")
    report.add_argument("files", nargs="+", type=_existing_file)
    report.add_argument("--split", default="test", choices=("valid", "test"))
    return parser


def _load(args):
    from .data import load_dataset, read_sequences

    if args.dataset:
        return args.dataset, load_dataset(args.dataset, data_home=args.data_home)
    seqs = read_sequences(args.sequences, format=args.format, item_text=args.item_text)
    return str(args.sequences), seqs


def _make_model(args):
    from .baselines import MarkovChain, MostPopular

    if args.model == "pop":
        return MostPopular()
    if args.model == "markov":
        return MarkovChain()
    return make_recommender(_denoising_run(args))


def _noise_cell(row: dict) -> str:
    """``"20% insert"`` (``"20% insert, popularity"``), or ``-`` without noise."""
    rate = row.get("noise_rate") or 0
    if not rate > 0:
        return "-"
    cell = f"{100 * rate:g}% {row.get('noise_mode', '?')}"
    sampling = row.get("noise_sampling", "uniform")
    return cell if sampling == "uniform" else f"{cell}, {sampling}"


def _removed_cell(row: dict) -> str:
    return format_share(row["removed_fraction"]) if "removed_fraction" in row else "-"


def _roc_auc_cell(row: dict) -> str:
    detection = row.get("noise_detection") or {}
    return f"{detection['roc_auc']:.3f}" if "roc_auc" in detection else "-"


def _test_input_cell(row: dict) -> str:
    return str(row.get("test_input", "raw")) if row.get("denoiser") else "-"


#: columns a table shows only where some row says more in them than the values given
#: here (a run without a denoiser is tested on raw histories, so "raw" alone says
#: nothing): (header, before the split (True) or after the metrics, cell, silent)
_OPTIONAL_COLUMNS = (
    ("noise", True, _noise_cell, {"-"}),
    ("test input", True, _test_input_cell, {"-", "raw"}),
    ("removed", True, _removed_cell, {"-"}),
    ("roc-auc", False, _roc_auc_cell, {"-"}),
)


def format_table(rows: list[dict], splits=("test",), keys=REPORT_KEYS) -> str:
    """A plain-text table: one line per result and split, the metrics as columns.

    Denoising runs add the columns that tell them apart, each only where some row has
    something to show in it: the injected ``noise``, the ``test input`` (raw or
    denoised histories), the share of training items ``removed`` and the noise
    detection ``roc-auc``.
    """
    shown = [
        column
        for column in _OPTIONAL_COLUMNS
        if any(column[2](row) not in column[3] for row in rows)
    ]
    before = [c for c in shown if c[1]]
    after = [c for c in shown if not c[1]]
    header = [
        "dataset",
        "model",
        "denoiser",
        "seed",
        *(c[0] for c in before),
        "split",
        *keys,
        *(c[0] for c in after),
    ]
    lines = [header]
    for row in rows:
        for split in splits:
            metrics = row.get(split) or {}
            lines.append(
                [
                    Path(str(row.get("dataset", "?"))).name,
                    str(row.get("model", "?")),
                    str(row.get("denoiser") or "-"),
                    str(row.get("seed", "-")),
                    *(c[2](row) for c in before),
                    split,
                    *(f"{metrics[k]:.4f}" if k in metrics else "-" for k in keys),
                    *(c[2](row) for c in after),
                ]
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def run(args) -> dict:
    from .data import leave_one_out_split

    started = time.perf_counter()
    logger.info("loading %s", args.dataset or args.sequences)
    name, seqs = _load(args)
    logger.info(
        "%d users, %d items, %d interactions", len(seqs), seqs.n_items, seqs.n_interactions
    )
    if args.denoiser == "none":
        _refuse_unused(
            [
                ("--drop-rate", args.drop_rate is not None),
                ("--drop-rate-grid", args.drop_rate_grid is not None),
                ("--standardize", args.standardize),
                ("--center-items", args.center_items),
            ],
            "a denoiser (--denoiser iadsr, random, ...); with --denoiser none nothing "
            "is removed",
        )
    if args.noise_rate == 0:
        _refuse_unused(
            [
                ("--noise-mode", args.noise_mode != "replace"),
                ("--noise-sampling", args.noise_sampling != "uniform"),
            ],
            "--noise-rate above 0: without it no noise is injected",
        )
    if args.denoiser != "none" or args.noise_rate > 0:
        return _run_denoising(args, name, seqs, started)
    max_len = _denoising_run(args).max_len
    split = leave_one_out_split(seqs, max_len=max_len)
    logger.info(
        "leave-one-out: %d users (%d too short, left out)",
        split.n_users,
        split.n_dropped_users,
    )
    model = _make_model(args)
    logger.info("fitting %s", args.model)
    fit_started = time.perf_counter()
    if args.model in NEURAL_MODELS:
        model.fit(split.train, eval_set=(split.valid_input, split.valid_target))
    else:
        model.fit(split.train)
    fit_seconds = time.perf_counter() - fit_started
    logger.info("fitted in %.1f s; evaluating on the full catalog", fit_seconds)
    valid = model.evaluate(split.valid_input, split.valid_target)
    test = model.evaluate(split.test_input, split.test_target)
    result = {
        "dataset": name,
        "n_users": len(seqs),
        "n_items": seqs.n_items,
        "n_interactions": seqs.n_interactions,
        "n_eval_users": split.n_users,
        "n_dropped_users": split.n_dropped_users,
        "model": args.model,
        "denoiser": None,
        "seed": args.seed,
        "max_len": max_len,
        "preset": args.preset,
        "valid": {k: valid[k] for k in REPORT_KEYS},
        "test": {k: test[k] for k in REPORT_KEYS},
        "fit_seconds": round(fit_seconds, 3),
        "total_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "device": str(getattr(model, "device_", "cpu")),
        "version": __version__,
        "python": platform.python_version(),
    }
    if args.model in NEURAL_MODELS:
        result["epochs"] = int(model.n_epochs_)
        result["n_train_sequences"] = int(model.n_train_sequences_)
        result["seconds_per_epoch"] = round(float(model.seconds_per_epoch_), 3)
    return result


def _refuse_unused(flags, needed: str) -> None:
    """Refuse the flags of ``(flag, given)`` pairs that were given but would do nothing."""
    given = [flag for flag, was_given in flags if was_given]
    if given:
        raise ValueError(
            f"{' and '.join(given)} {'needs' if len(given) == 1 else 'need'} {needed}"
        )


def _denoising_run(args) -> DenoisingRun:
    return DenoisingRun(
        model=args.model,
        denoiser=args.denoiser,
        seed=args.seed,
        max_len=args.max_len,
        noise_rate=args.noise_rate,
        noise_mode=args.noise_mode,
        noise_sampling=args.noise_sampling,
        test_input=args.test_input,
        drop_rate=args.drop_rate,
        drop_rate_grid=None if args.drop_rate_grid is None else tuple(args.drop_rate_grid),
        device=args.device,
        embedder=args.embedder,
        semantic_mode=args.semantic_mode,
        embedding_cache=args.embedding_cache,
        max_epochs=args.max_epochs,
        align_epochs=args.align_epochs,
        threshold=args.threshold,
        preset=args.preset,
        verbose=0 if args.quiet else 1,
        denoiser_params={
            name: True
            for name, on in (
                ("standardize", args.standardize),
                ("center_items", args.center_items),
            )
            if on
        },
    ).resolved()


def _run_denoising(args, name: str, seqs, started: float) -> dict:
    if args.model in FLOOR_MODELS:
        raise ValueError(
            f"--denoiser/--noise-rate need a neural recommender (--model one of "
            f"{', '.join(NEURAL_MODELS)}); {args.model!r} has no hidden states"
        )
    variant = DENOISERS.get(args.denoiser)
    if variant not in (None, "collab_only") and seqs.catalog is None:
        # said here in the CLI's words: the embedder's own error names item_text=
        raise ValueError(
            f"--denoiser {args.denoiser} needs item texts for its semantic view, and "
            f"{name} carries none: pass --item-text FILE (item<TAB>text lines), a "
            "RecBole dataset with its .item file, or --denoiser collab-only"
        )
    run = _denoising_run(args)
    result = {"dataset": name, **run_denoising(seqs, run)}
    result["total_seconds"] = round(time.perf_counter() - started, 3)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    result["version"] = __version__
    return result


def _configure_logging(quiet: bool):
    """Send the library's messages to stderr for this command; returns an undo."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)

    def undo():
        logger.removeHandler(handler)
        logger.setLevel(level)

    return undo


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "report":
        rows = []
        for path in args.files:
            try:
                data = json.loads(Path(path).read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                parser.error(f"{path} is not a results JSON file ({exc})")
            rows.extend(data if isinstance(data, list) else [data])
        print(format_table(rows, splits=(args.split,)))
        return 0
    undo_logging = _configure_logging(args.quiet)
    try:
        result = run(args)
    except (ValueError, KeyError, TypeError, FileNotFoundError, FloatingPointError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"iadsr-sk: error: {message}", file=sys.stderr)
        undo_logging()
        return 2
    except KeyboardInterrupt:
        print("iadsr-sk: interrupted; nothing was written", file=sys.stderr)
        undo_logging()
        return 130
    print(format_table([result], splits=("valid", "test")))
    if args.out:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
        except OSError as exc:
            print(f"iadsr-sk: error: cannot write {args.out}: {exc}", file=sys.stderr)
            undo_logging()
            return 2
        logger.info("wrote %s", args.out)
    undo_logging()
    return 0


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
