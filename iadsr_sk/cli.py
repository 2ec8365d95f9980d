"""Command line: ``iadsr-sk run`` (load, split, fit, evaluate) and ``iadsr-sk report``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

from . import __version__
from ._options import estimator_params
from .experiment import (
    DENOISERS,
    PRESETS,
    REPORT_KEYS,
    DenoisingRun,
    format_share,
    json_ready,
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
        choices=("auto", "recbole", "json", "text"),
        help="format of --sequences (default: auto, detect from the extension)",
    )
    run.add_argument(
        "--item-text",
        type=_existing_file,
        help="item text TSV (item<TAB>text) of --sequences",
    )
    run.add_argument(
        "--data-home", help="folder holding the --dataset datasets (or $IADSR_DATA)"
    )
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
        "--device",
        default="cpu",
        help="cpu, cuda, cuda:N or auto (default: cpu); pop and markov always run on "
        "the CPU",
    )
    run.add_argument(
        "--max-epochs",
        type=_positive_int,
        help="cap on a neural recommender's training epochs",
    )
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
        help="evaluate on the raw or (a learned denoiser) the denoised test histories "
        "(default: raw)",
    )
    den.add_argument(
        "--drop-rate",
        type=_rate,
        help="--denoiser random: its drop rate (default 0.1); a learned denoiser: "
        "remove this share of the training items, the lowest-scoring, instead of "
        "thresholding the scores (SequenceDenoiser(removal_rate=...)); with "
        "--denoise-param user_gate the users it leaves out keep every item, so less "
        "is removed",
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
        help="a denoiser with a semantic view (not collab-only): its language model, "
        "'default' (all-MiniLM-L6-v2, offline; the default) or a local folder",
    )
    den.add_argument(
        "--semantic-mode",
        choices=("item", "prefix"),
        help="a denoiser with a semantic view: semantic interests from item texts "
        "(default) or history prefixes",
    )
    den.add_argument(
        "--embedding-cache",
        help="a denoiser with a semantic view: folder for the embedding cache",
    )
    den.add_argument(
        "--align-epochs",
        type=_positive_int,
        help="a learned denoiser: Stage-2 epochs (default 10)",
    )
    den.add_argument(
        "--align-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a learned denoiser: an InterestAligner parameter no other option sets "
        "(repeatable), e.g. "
        "temperature=0.2 or interest_size=128; numbers, true, false and null are read "
        "as JSON",
    )
    den.add_argument(
        "--denoise-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a learned denoiser: a SequenceDenoiser parameter no other option sets "
        "(repeatable), e.g. "
        "min_length=3, keep_last=true or user_gate=0.2 (denoise only the users whose "
        "two long-term interests agree that much; not with collab-only)",
    )
    den.add_argument(
        "--threshold",
        type=_rate,
        help="a learned denoiser's keep rule: keep probability threshold (default 0.5)",
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
    seqs = read_sequences(
        args.sequences, format=args.format or "auto", item_text=args.item_text
    )
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
    rate = row.get("noise_rate")
    if not _is_number(rate) or not rate > 0:
        return "-"
    cell = f"{100 * rate:g}% {row.get('noise_mode', '?')}"
    sampling = row.get("noise_sampling", "uniform")
    return cell if sampling == "uniform" else f"{cell}, {sampling}"


def _removed_cell(row: dict) -> str:
    share = row.get("removed_fraction")
    return format_share(share) if _is_number(share) else "-"


def _roc_auc_cell(row: dict) -> str:
    detection = row.get("noise_detection")
    auc = detection.get("roc_auc") if isinstance(detection, dict) else None
    return f"{auc:.3f}" if _is_number(auc) else "-"


def _metric_cell(metrics: dict, key: str) -> str:
    value = metrics.get(key)
    return f"{value:.4f}" if _is_number(value) else "-"


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
            metrics = row.get(split)
            metrics = metrics if isinstance(metrics, dict) else {}
            lines.append(
                [
                    Path(str(row.get("dataset", "?"))).name,
                    str(row.get("model", "?")),
                    str(row.get("denoiser") or "-"),
                    str(row.get("seed", "-")),
                    *(c[2](row) for c in before),
                    split,
                    *(_metric_cell(metrics, k) for k in keys),
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
    _check_options(args)
    logger.info("loading %s", args.dataset or args.sequences)
    name, seqs = _load(args)
    logger.info(
        "%d users, %d items, %d interactions", len(seqs), seqs.n_items, seqs.n_interactions
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
        result["max_epochs"] = args.max_epochs
        result["epochs"] = int(model.n_epochs_)
        result["n_train_sequences"] = int(model.n_train_sequences_)
        result["seconds_per_epoch"] = round(float(model.seconds_per_epoch_), 3)
    return result


#: the learned denoisers (an InterestAligner scores the items), as --denoiser names
LEARNED = tuple(name for name, variant in DENOISERS.items() if variant is not None)
#: the learned denoisers with a semantic view (a language model reads item texts)
SEMANTIC = tuple(name for name in LEARNED if DENOISERS[name] != "collab_only")

_DEVICE = re.compile(r"cpu|auto|cuda(:\d+)?")


def _one_of(names) -> str:
    """``"a, b or c"``."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _grid_text(grid) -> str:
    return " ".join("rule" if rate is None else f"{rate:g}" for rate in grid)


def _check_options(args) -> None:
    """Refuse, before loading anything, options that would be ignored or clash, in the
    command line's own words (the library's checks name its Python parameters)."""
    # where the data come from
    if args.dataset:
        _refuse_unused(
            [
                ("--item-text", args.item_text is not None),
                ("--format", args.format is not None),
            ],
            "--sequences: the bundled --dataset datasets come with their own format "
            "and item texts",
        )
    else:
        _refuse_unused(
            [("--data-home", args.data_home is not None)],
            "--dataset: it is the folder of the bundled datasets, and --sequences "
            "names its file itself",
        )
    _check_device(args)
    floor = args.model in FLOOR_MODELS
    neural = f"a neural recommender (--model {_one_of(NEURAL_MODELS)})"
    if floor:
        if args.denoiser != "none" or args.noise_rate > 0:
            raise ValueError(
                f"--denoiser/--noise-rate need {neural}; {args.model!r} has no hidden "
                "states"
            )
        _refuse_unused(
            [("--max-epochs", args.max_epochs is not None)],
            f"{neural}; --model {args.model} is not trained in epochs",
        )
    learned_only = [
        ("--test-input denoised", args.test_input == "denoised"),
        ("--threshold", args.threshold is not None),
        ("--align-epochs", args.align_epochs is not None),
        ("--align-param", bool(args.align_param)),
        ("--denoise-param", bool(args.denoise_param)),
    ]
    learned = f"a learned denoiser (--denoiser {_one_of(LEARNED)})"
    semantic = f"a denoiser with a semantic view (--denoiser {_one_of(SEMANTIC)})"
    if floor:
        learned += f", with {neural}"
        semantic += f", with {neural}"
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
        _refuse_unused(learned_only, f"{learned}; with --denoiser none nothing is removed")
        _refuse_unused(
            _semantic_options(args), f"{semantic}; with --denoiser none nothing is removed"
        )
    elif args.denoiser in ("random", "oracle"):
        does = (
            "drops items at random (at --drop-rate)"
            if args.denoiser == "random"
            else "removes exactly the items --noise-rate injects"
        )
        if args.denoiser == "oracle":
            if not args.noise_rate > 0:
                raise ValueError(
                    "--denoiser oracle removes the items --noise-rate injects; it needs "
                    "--noise-rate above 0"
                )
            if args.drop_rate is not None:
                raise ValueError(
                    "--drop-rate does not apply to --denoiser oracle: it removes exactly "
                    "the items --noise-rate injects"
                )
        _refuse_unused(
            [
                ("--drop-rate-grid", args.drop_rate_grid is not None),
                ("--standardize", args.standardize),
                ("--center-items", args.center_items),
                *learned_only,
            ],
            f"{learned}; --denoiser {args.denoiser} {does}",
        )
        _refuse_unused(
            _semantic_options(args), f"{semantic}; --denoiser {args.denoiser} {does}"
        )
    else:
        _check_learned_options(args)
    if args.noise_rate == 0:
        _refuse_unused(
            [
                ("--noise-mode", args.noise_mode != "replace"),
                ("--noise-sampling", args.noise_sampling != "uniform"),
            ],
            "--noise-rate above 0: without it no noise is injected",
        )


def _check_learned_options(args) -> None:
    """The options of a learned denoiser (``--denoiser iadsr``, ``collab-only``, ...)."""
    _step_params(args, "--align-param")  # refused here, before any data is read
    gate = _step_params(args, "--denoise-param").get("user_gate", -1)
    if gate > -1 and args.denoiser not in SEMANTIC:
        raise ValueError(
            "--denoise-param user_gate needs a denoiser with a semantic view "
            f"(--denoiser {_one_of(SEMANTIC)}): the gate compares the two views' "
            f"long-term interests, and --denoiser {args.denoiser} has no semantic view"
        )
    grid = args.drop_rate_grid
    if args.drop_rate is not None and grid is not None:
        raise ValueError("set --drop-rate or --drop-rate-grid, not both")
    if grid is not None and len(set(grid)) != len(grid):
        repeated = " and ".join(
            _grid_text([rate]) for rate in dict.fromkeys(grid) if grid.count(rate) > 1
        )
        raise ValueError(
            f"--drop-rate-grid repeats {repeated} (in --drop-rate-grid {_grid_text(grid)}"
            "; 'none' is 0, no denoising): give each budget once"
        )
    rule = args.drop_rate is None and (grid is None or None in grid)
    if not rule:
        _refuse_unused(
            [("--threshold", args.threshold is not None)],
            "the keep rule: with "
            + ("--drop-rate" if grid is None else "a --drop-rate-grid without 'rule'")
            + " the lowest-scoring share of the items is removed, whatever their keep "
            "probability"
            + (
                " (leave --drop-rate out to use the keep rule)"
                if grid is None
                else " (add 'rule' to the grid to compare the two)"
            ),
        )
    budget = [
        ("--standardize", args.standardize, "standardised scores average 0 in every "
         "history"),
        ("--center-items", args.center_items, "centred scores average 0 for every item"),
    ]  # fmt: skip
    given = [(flag, why) for flag, on, why in budget if on]
    if given and rule:
        needed = (
            "--drop-rate or --drop-rate-grid"
            if grid is None
            else "a --drop-rate-grid without 'rule' (or --drop-rate)"
        )
        flags = " and ".join(flag for flag, _ in given)
        raise ValueError(
            f"{flags} {'needs' if len(given) == 1 else 'need'} {needed}: "
            f"{'; '.join(why for _, why in given)}, so the --threshold keep rule would "
            "remove about half of them; set --drop-rate (e.g. --drop-rate 0.1)"
        )
    if args.denoiser not in SEMANTIC:
        _refuse_unused(
            _semantic_options(args),
            f"a denoiser with a semantic view (--denoiser {_one_of(SEMANTIC)}); "
            f"--denoiser {args.denoiser} reads no item texts",
        )


def _semantic_options(args) -> list:
    """(flag, given) of the options of a denoiser's semantic view."""
    return [
        ("--embedder", args.embedder is not None),
        ("--semantic-mode", args.semantic_mode is not None),
        ("--embedding-cache", args.embedding_cache is not None),
    ]


def _check_device(args) -> None:
    """Refuse an unknown --device, or CUDA where there is none, before anything
    runs; a floor model (which runs on the CPU) only says it does not use it."""
    spec = args.device.strip().lower()
    if not _DEVICE.fullmatch(spec):
        raise ValueError(
            f"unknown device {args.device!r} for --device; choose cpu, cuda, cuda:N "
            "(N = GPU index) or auto"
        )
    if args.model in FLOOR_MODELS:
        if spec != "cpu":
            logger.warning(
                "--device %s is not used: --model %s runs on the CPU",
                args.device,
                args.model,
            )
        return
    if not spec.startswith("cuda"):
        return
    import torch

    from ._base import cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if reason is not None:
        raise ValueError(
            f"--device {args.device}: CUDA is not available ({reason}); use --device "
            "cpu or --device auto"
        )
    index = int(spec.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise ValueError(
            f"--device {args.device}: there are only {torch.cuda.device_count()} CUDA "
            "devices"
        )


def _refuse_unused(flags, needed: str) -> None:
    """Refuse the flags of ``(flag, given)`` pairs that were given but would do nothing."""
    given = [flag for flag, was_given in flags if was_given]
    if given:
        raise ValueError(
            f"{' and '.join(given)} {'needs' if len(given) == 1 else 'need'} {needed}"
        )


#: InterestAligner parameters a run sets itself, and the option that sets each
_ALIGNER_OPTIONS = {
    "variant": "--denoiser",
    "n_epochs": "--align-epochs",
    "device": "--device",
    "random_state": "--seed",
    "verbose": "--quiet",
}


#: SequenceDenoiser parameters a run sets itself, and the option that sets each
_DENOISER_OPTIONS = {
    "threshold": "--threshold",
    "removal_rate": "--drop-rate or --drop-rate-grid",
    "standardize": "--standardize",
    "center_items": "--center-items",
}


#: the NAME=VALUE options of the Stage-2 steps: (attribute of the parsed arguments,
#: the step's estimator class, its parameters the command sets itself)
_STEP_OPTIONS = {
    "--align-param": ("align_param", "InterestAligner", _ALIGNER_OPTIONS),
    "--denoise-param": ("denoise_param", "SequenceDenoiser", _DENOISER_OPTIONS),
}


def _step_params(args, option: str) -> dict:
    """The entries of ``--align-param`` or ``--denoise-param`` as parameters of the
    step's estimator (ValueError naming the option if one is bad)."""
    from . import denoising

    attribute, estimator, reserved = _STEP_OPTIONS[option]
    return estimator_params(
        option,
        getattr(args, attribute),
        getattr(denoising, estimator),
        reserved=reserved,
        setter="the command",
    )


def _denoising_run(args) -> DenoisingRun:
    # options not given (None) take DenoisingRun's defaults
    given = {
        name: value
        for name, value in (
            ("embedder", args.embedder),
            ("align_epochs", args.align_epochs),
            ("threshold", args.threshold),
        )
        if value is not None
    }
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
        semantic_mode=args.semantic_mode,
        embedding_cache=args.embedding_cache,
        max_epochs=args.max_epochs,
        preset=args.preset,
        **given,
        verbose=0 if args.quiet else 1,
        aligner_params=_step_params(args, "--align-param"),
        denoiser_params=_step_params(args, "--denoise-param")
        | {
            name: True
            for name, on in (
                ("standardize", args.standardize),
                ("center_items", args.center_items),
            )
            if on
        },
    ).resolved()


def _run_denoising(args, name: str, seqs, started: float) -> dict:
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
                rows.extend(read_results(path))
            except ValueError as exc:
                parser.error(f"{path} is not a results JSON file ({exc})")
            except OSError as exc:
                parser.error(f"cannot read {path}: {exc.strerror or exc}")
        print(format_table(rows, splits=(args.split,)))
        return 0
    undo_logging = _configure_logging(args.quiet)
    try:
        result = json_ready(run(args))
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
            _write_json(args.out, result)
        except (OSError, TypeError, ValueError) as exc:
            print(f"iadsr-sk: error: cannot write {args.out}: {exc}", file=sys.stderr)
            undo_logging()
            return 2
        logger.info("wrote %s", args.out)
    undo_logging()
    return 0


def _write_json(path: Path, result: dict) -> None:
    """Write ``result`` whole or not at all: strict JSON (no NaN), through a temporary
    file in the same folder that replaces ``path`` once it is complete."""
    text = json.dumps(json_ready(result), indent=2, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        try:
            partial.write_text(text, encoding="utf-8")
        except PermissionError:  # a writable file in a folder that takes no new ones
            path.write_text(text, encoding="utf-8")
            return
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "a list" if isinstance(value, list) else "an object"


def _results_problem(row) -> str | None:
    """Why ``row`` is not one run's results (``None`` when it is): a results object
    has a ``model`` and a ``test`` or ``valid`` object of metrics (numbers or null);
    the fields the table shows have the types it needs."""
    if not isinstance(row, dict):
        return f"it holds {_json_kind(row)}, not an object of results"
    if "model" not in row:
        return "no 'model' field"
    splits = [split for split in ("valid", "test") if split in row]
    if not splits:
        return "no 'test' or 'valid' metrics"
    for split in splits:
        metrics = row[split]
        if not isinstance(metrics, dict):
            return f"'{split}' is {_json_kind(metrics)}, not an object of metrics"
        for key, value in metrics.items():
            if value is not None and not _is_number(value):
                return f"{split}[{key!r}] is {_json_kind(value)}, not a number"
    for key in ("noise_rate", "removed_fraction"):
        value = row.get(key)
        if value is not None and not _is_number(value):
            return f"{key!r} is {_json_kind(value)}, not a number"
    detection = row.get("noise_detection")
    if detection is not None:
        if not isinstance(detection, dict):
            return f"'noise_detection' is {_json_kind(detection)}, not an object"
        value = detection.get("roc_auc")
        if value is not None and not _is_number(value):
            return f"noise_detection['roc_auc'] is {_json_kind(value)}, not a number"
    return None


def read_results(path) -> list[dict]:
    """The runs in a results JSON file (one run's object, or a list of them).

    Raises :class:`ValueError`, saying why, when the file is not results: not JSON
    (a UTF-8 byte order mark is accepted), or not objects with a ``model`` and
    ``test`` or ``valid`` metrics (a sequences file, a number, ...).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None
    if isinstance(data, list):
        if not data:
            raise ValueError("an empty list, no runs")
        for n, row in enumerate(data):
            if not isinstance(row, dict):
                raise ValueError(
                    f"entry {n} is {_json_kind(row)}, not an object of results"
                )
            problem = _results_problem(row)
            if problem:
                raise ValueError(f"entry {n}: {problem}")
        return data
    problem = _results_problem(data)
    if problem:
        raise ValueError(problem)
    return [data]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
