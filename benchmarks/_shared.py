"""Helpers shared by the benchmark scripts (imported by them; not part of the package)."""

from __future__ import annotations

import json
import logging
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

from iadsr_sk._options import estimator_params
from iadsr_sk.data import inject_noise, leave_one_out_split, load_dataset
from iadsr_sk.denoising import SequenceDenoiser
from iadsr_sk.denoising._aligner import _position_scores, _semantic_parts
from iadsr_sk.experiment import DenoisingRun, cold_item_mask, make_recommender


def parse_params(parser, option: str, items, estimator, reserved=None) -> dict:
    """The entries of a repeatable ``NAME=VALUE`` option as parameters of the estimator
    class ``estimator`` (:func:`iadsr_sk._options.estimator_params`); a problem stops
    through ``parser.error``, before any data is read."""
    try:
        return estimator_params(option, items, estimator, reserved)
    except ValueError as error:
        parser.error(str(error))


def script_output(name: str):
    """``(emit, lines, log)`` for a benchmark script: ``emit(text)`` prints ``text``
    and keeps its lines in ``lines`` (for the results file); ``log`` is the logger
    ``name``, writing INFO lines with their time to stderr."""
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.extend(text.split("\n"))

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)  # fmt: skip
    return emit, lines, logging.getLogger(name)


def command_line(script: str, argv=None) -> str:
    """The command that ran ``script`` (a benchmark's ``__file__``), for a results file:
    ``python benchmarks/<name>.py`` and ``argv`` (default: the process's arguments)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{Path(script).name}", *args])


def cpu_threads() -> str:
    """Where a CPU run ran, for a results file: ``"CPU, 1 torch thread"``."""
    n = torch.get_num_threads()
    return f"CPU, {n} torch thread{'s' if n != 1 else ''}"


def noisy_training(args):
    """The leave-one-out split of ``args.dataset`` with noise injected into its
    training histories (``args.noise_rate``, ``noise_mode``, ``noise_sampling``, drawn
    with ``args.seed``).

    Returns ``(split, train, noise, cold)``: the clean split, the noisy training
    histories, one bool per noisy training position (injected?), and one bool per
    position (is its item among the least popular 20% of the clean histories?).
    """
    split = leave_one_out_split(load_dataset(args.dataset))
    train, noise = inject_noise(
        split.train,
        args.noise_rate,
        mode=args.noise_mode,
        sampling=args.noise_sampling,
        random_state=args.seed,
    )
    return split, train, noise, cold_item_mask(split.train)[train.codes]


#: the terms of the full noise score, as named in results tables
SCORE_TERMS = {
    "long_short cos(s^L,h_j)": "long_short",
    "short_long cos(h^L,s_j)": "short_long",
    "short_short cos(h_j,s_j)": "short_short",
}


@torch.inference_mode()
def score_terms(aligner, interests, semantic_view) -> dict:
    """The three terms of a fitted ``InterestAligner``'s full score, per position of
    ``interests.sequences``: ``{name: (n_interactions,) array}``, each computed by the
    aligner's own per-position score with that term alone. They sum to its
    ``transform(interests).scores``."""
    seqs = interests.sequences
    h, h_long, s, s_long, rows = aligner._interest_views(
        seqs, _semantic_parts(semantic_view, seqs)
    )
    return {
        name: _position_scores(h, h_long, s, s_long, rows, (term,)).cpu().numpy()
        for name, term in SCORE_TERMS.items()
    }


def write_results(out, command: str, where: str, lines: list, payload: dict) -> None:
    """Write ``<out>.json`` (the command and ``payload``) and ``<out>.md`` (the
    command, where it ran, and ``lines``). ``out`` may end in ``.json`` or ``.md``;
    any other dot in it is part of the name (``sweep_tau0.5`` -> ``sweep_tau0.5.md``)."""
    out = Path(out)
    if out.suffix in (".json", ".md"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps({"command": command, **payload}, indent=2))
    Path(f"{out}.md").write_text(
        f"Command: `{command}` ({where}).\n\n" + "\n".join(lines) + "\n"
    )


def add_stage1_options(parser, max_epochs_help: str) -> None:
    """The options that :func:`noisy_training` and :func:`stage1_recommender` read
    (besides ``--dataset``): ``--seed``, the noise, ``--max-epochs`` and
    ``--stage1``, with the defaults the scripts sharing a Stage-1 pickle agree on."""
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise-rate", type=float, default=0.2)
    parser.add_argument("--noise-mode", default="insert", choices=["replace", "insert"])
    parser.add_argument(
        "--noise-sampling", default="uniform", choices=["uniform", "popularity"]
    )
    parser.add_argument("--max-epochs", type=int, default=10, help=max_epochs_help)
    parser.add_argument("--stage1", help="pickle of the Stage-1 backbone (load or save)")


def stage1_recommender(args, backbone: str, histories, eval_set, log):
    """The Stage-1 recommender ``backbone`` trained on ``histories`` (seed
    ``args.seed``, at most ``args.max_epochs`` epochs, early-stopped on ``eval_set``).

    With ``args.stage1``, a path, it is loaded from there when the file exists and
    holds a backbone trained with the same dataset, backbone, seed, noise, epoch cap
    and ``args.fit_on`` (``"noisy"`` when absent), else trained and saved there, so
    that several processes and scripts can share one Stage 1. A file holding another
    backbone stops the script.
    """
    key = {
        "dataset": args.dataset,
        "backbone": backbone,
        "seed": args.seed,
        "noise": [args.noise_rate, args.noise_mode, args.noise_sampling],
        "max_epochs": args.max_epochs,
        "fit_on": getattr(args, "fit_on", "noisy"),
    }
    path = Path(args.stage1) if args.stage1 else None
    if path is not None and path.exists():
        with path.open("rb") as f:
            saved = pickle.load(f)
        if saved["key"] != key:
            raise SystemExit(f"{path} holds a backbone of {saved['key']}, not {key}")
        log.info("stage 1 loaded from %s", path)
        return saved["recommender"]
    log.info("stage 1 (%s)", backbone)
    run = DenoisingRun(
        model=backbone, seed=args.seed, max_epochs=args.max_epochs, verbose=0
    )
    recommender = make_recommender(run).fit(histories, eval_set=eval_set)
    if path is not None:
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as f:
            pickle.dump({"key": key, "recommender": recommender}, f)
        partial.replace(path)  # whole or absent for another process
    return recommender


def standardized_cut(scores, removal_rate: float, **options) -> np.ndarray:
    """The positions the standardised, item-centred cut removes (one bool each)."""
    denoiser = SequenceDenoiser(
        removal_rate=removal_rate, standardize=True, center_items=True, **options
    )
    return ~denoiser.fit(scores).keep_mask(scores)


def removal_figures(removed, noise, cold) -> dict:
    """Share removed; precision and recall against the injected positions ``noise``;
    shares of the genuine cold and warm items removed."""
    genuine = ~noise
    return {
        "removed": float(removed.mean()),
        "precision": float(noise[removed].mean()) if removed.any() else 0.0,
        "recall": float(removed[noise].mean()),
        "cold_removed": float(removed[genuine & cold].mean()),
        "warm_removed": float(removed[genuine & ~cold].mean()),
    }
