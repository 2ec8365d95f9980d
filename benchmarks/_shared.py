"""Helpers shared by the benchmark scripts (imported by them; not part of the package)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from iadsr_sk._options import estimator_params
from iadsr_sk.data import inject_noise, leave_one_out_split, load_dataset
from iadsr_sk.denoising._aligner import _position_scores, _semantic_parts
from iadsr_sk.experiment import cold_item_mask


def parse_params(parser, option: str, items, estimator, reserved=None) -> dict:
    """The entries of a repeatable ``NAME=VALUE`` option as parameters of the estimator
    class ``estimator`` (:func:`iadsr_sk._options.estimator_params`); a problem stops
    through ``parser.error``, before any data is read."""
    try:
        return estimator_params(option, items, estimator, reserved)
    except ValueError as error:
        parser.error(str(error))


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
