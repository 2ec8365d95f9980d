"""IADSR on real data: with vs without denoising, noise detection, cold-item audit.

For every dataset x backbone x seed, one run fits the whole method on the training
histories and reports, side by side:

- ``none``: the Stage-1 recommender trained on the raw histories (the baseline);
- ``iadsr``: the same backbone retrained on the denoised histories, evaluated with raw
  and with denoised test histories;
- ``collab-only``: the collaborative-only ablation (cold-item over-denoising);
- ``random``: random dropping at the rate IADSR removed.

With ``--noise-rate p`` noise is injected into the training histories, so detection
ROC-AUC / precision / recall can be measured, and ``--clean-reference`` adds a run on
the clean data to compute the share of the clean NDCG@10 that denoising recovers.

Examples
--------
python benchmarks/denoising.py --datasets ml-100k --backbones sasrec --seeds 0
python benchmarks/denoising.py --datasets beauty --noise-rate 0.2 --clean-reference
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np

from iadsr_sk.cli import _budget
from iadsr_sk.data import load_dataset
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.experiment import DENOISERS, DenoisingRun, _budget_name, run_denoising

from _shared import parse_params


def _run_column(records, run, key) -> str:
    """Mean +- std of one run's figure over the seeds that have that run.

    ``-`` when no seed has it; when only some do, their seeds are named, so a column
    never mixes in seeds it does not cover without saying so.
    """
    have = [r for r in records if run in r]
    if not have:
        return "-"
    if key == "ndcg@10":
        text = _mean_std([r[run]["test"]["ndcg@10"] for r in have])
    else:
        text = _mean_std([r[run][key] for r in have])
    return text + _seeds_note(have, records)


def _seed_list(records) -> str:
    """``seed 0`` or ``seeds 0, 2``."""
    return f"seed{'s' if len(records) > 1 else ''} " + ", ".join(
        str(r["seed"]) for r in records
    )


def _seeds_note(have, records) -> str:
    """`` (seeds 0, 2)`` when ``have`` covers only some of ``records``, else ``""``."""
    return "" if len(have) == len(records) else f" ({_seed_list(have)})"


def _recovered(record, ndcg: float) -> float:
    """The share of the NDCG@10 lost to the injected noise that ``ndcg`` wins back;
    NaN where the noise lost nothing (the clean run did not score above the noisy one)."""
    noisy = record["iadsr"]["baseline_test"]["ndcg@10"]
    lost = record["clean"]["test"]["ndcg@10"] - noisy
    return (ndcg - noisy) / lost if lost > 0 else float("nan")


def _recovered_cell(records, ndcg_of, among=None) -> str:
    """Mean and spread of the recovered share over the seeds where it is defined,
    naming the seeds it covers when that is not all of ``among`` (default:
    ``records``) and the seeds where the clean run did not score above the noisy one."""
    shares = [_recovered(r, ndcg_of(r)) for r in records]
    defined = [r for r, v in zip(records, shares, strict=True) if not np.isnan(v)]
    undefined = [r for r, v in zip(records, shares, strict=True) if np.isnan(v)]
    parts = [f"clean <= noisy on {_seed_list(undefined)}"] if undefined else []
    if not defined:
        return f"n/a ({parts[0]})"
    if len(defined) < len(records if among is None else among):
        parts.insert(0, _seed_list(defined))
    text = _mean_std([v for v in shares if not np.isnan(v)])
    return text + (f" ({'; '.join(parts)})" if parts else "")


def _mean_std(values) -> str:
    """Mean +- std; ``-`` where no value is defined (e.g. the precision of removing
    nothing, recorded as null)."""
    values = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    if np.isnan(values).all():
        return "-"
    return (
        f"{values.mean():.4f} ± {values.std():.4f}"
        if values.size > 1
        else f"{values[0]:.4f}"
    )


#: ablations with columns of their own in the main tables
_MAIN_ABLATIONS = ("collab-only", "collab-only@rate", "random", "oracle")


def _fixed_rate(ablation: str) -> float | None:
    """R of an ablation named ``name@R`` (remove the share R), else None."""
    try:
        value = float(ablation.partition("@")[2])
    except ValueError:  # no '@', or '@rate'
        return None
    return value if 0 < value < 1 else None


def _ablation_table(records, args) -> list:
    """Lines of the table of the other ablations (e.g. ``no-short@rate``), if any.

    Per ablation: how much it removed, the genuine cold and warm items it removed, its
    detection ROC-AUC (with injected noise) and, where a recommender was retrained on
    its histories, test NDCG@10 and the share of the lost NDCG@10 it won back.
    """
    names = list(dict.fromkeys(k for r in records for k in _other_ablations(r)))
    if not names:
        return []
    fixed = (
        "; '@R': removing the share R of them"
        if any(_fixed_rate(name) is not None for name in names)
        else ""
    )
    lines = [
        "",
        "Other ablations (the whole method with one part removed; '@rate': removing "
        f"as many positions as IADSR did{fixed}):",
        "",
        "| dataset | backbone | ablation | removed | cold | warm | ROC-AUC | "
        "NDCG@10 (raw test) | recovered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, backbone, rs in _cells(records, args):
        for name in names:
            have = [r for r in rs if name in r]
            if not have:
                continue
            cell = functools.partial(_run_column, rs, name)
            roc = ndcg = recovered = "-"
            if all("noise_detection" in r[name] for r in have):
                roc = _mean_std([r[name]["noise_detection"]["roc_auc"] for r in have])
            if all("test" in r[name] for r in have):
                ndcg = _mean_std([r[name]["test"]["ndcg@10"] for r in have])
                if all("clean" in r for r in have):
                    recovered = _recovered_cell(
                        have, lambda r, name=name: r[name]["test"]["ndcg@10"], among=rs
                    )
            note = _seeds_note(have, rs)
            roc, ndcg = (text if text == "-" else text + note for text in (roc, ndcg))
            lines.append(
                f"| {dataset} | {backbone} | {name} | {cell('removed_fraction')} | "
                f"{cell('cold_item_removal_rate')} | {cell('warm_item_removal_rate')} | "
                f"{roc} | {ndcg} | {recovered} |"
            )
    return lines


def _other_ablations(record) -> list:
    """The ablation runs of ``record`` without columns in the main tables."""
    reserved = {"dataset", "backbone", "seed", "iadsr", "clean", "seconds", "peak_rss_mb"}
    return [k for k in record if k not in reserved and k not in _MAIN_ABLATIONS]


def _budget_table(records, args) -> list:
    """Lines of the validation budget search (runs with --drop-rate-grid), if any."""
    if not any("budget_search" in r["iadsr"] for r in records):
        return []
    # per-candidate removal audits: recorded by newer runs only
    entries = [e for r in records for e in r["iadsr"].get("budget_search", [])]
    audited = all("cold_item_removal_rate" in e for e in entries)
    detected = audited and any("noise_detection" in e for e in entries)
    extra = (" genuine cold removed |" if audited else "") + (
        " precision | recall |" if detected else ""
    )
    lines = [
        "",
        "Removal budget chosen on the validation split (one retrained recommender per "
        "candidate; mean over seeds; 'chosen' counts the seeds that picked it):",
        "",
        "| dataset | backbone | budget | removed | valid NDCG@10 | test NDCG@10 | chosen |"
        + extra,
        "|---|---|---|---|---|---|---|" + "---|" * extra.count("|"),
    ]
    for dataset, backbone, rs in _cells(records, args):
        rs = [r for r in rs if "budget_search" in r["iadsr"]]
        if not rs:
            continue
        searched = rs[0]["iadsr"]["budget_search"]
        if not any(entry["drop_rate"] == 0 for entry in searched):
            # not a candidate: listed for comparison, never chosen
            lines.append(
                f"| {dataset} | {backbone} | {_budget_name(0)} | 0 | "
                f"{_mean_std([r['iadsr']['baseline_valid']['ndcg@10'] for r in rs])} | "
                f"{_mean_std([r['iadsr']['baseline_test']['ndcg@10'] for r in rs])} | - |"
                + (" 0 |" if audited else "")
                + (" - | 0 |" if detected else "")
            )
        for i, entry in enumerate(searched):
            rate = entry["drop_rate"]
            found = [r["iadsr"]["budget_search"][i] for r in rs]
            chosen = sum(r["iadsr"]["chosen_drop_rate"] == rate for r in rs)
            lines.append(
                f"| {dataset} | {backbone} | {_budget_name(rate)} | "
                f"{_mean_std([e['removed_fraction'] for e in found])} | "
                f"{_mean_std([e['valid']['ndcg@10'] for e in found])} | "
                f"{_mean_std([e['test']['ndcg@10'] for e in found])} | "
                f"{chosen} of {len(rs)} |"
                + (
                    f" {_mean_std([e['cold_item_removal_rate'] for e in found])} |"
                    if audited
                    else ""
                )
                + (
                    f" {_mean_std([e['noise_detection']['precision'] for e in found])} | "
                    f"{_mean_std([e['noise_detection']['recall'] for e in found])} |"
                    if detected
                    else ""
                )
            )
    return lines


def _noise_table(records, args) -> list:
    """Lines of the table of runs with injected noise.

    Detection (ROC-AUC, precision, recall) and the share of the clean-data NDCG@10
    won back: by IADSR, and by the oracle that removes exactly the injected items,
    where it was run.
    """
    lines = [
        "",
        "| dataset | backbone | ROC-AUC | precision | recall | recovered | "
        "oracle NDCG@10 | oracle recovered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, backbone, rs in _cells(records, args):

        def det(k, rs=rs):
            return _mean_std([r["iadsr"]["noise_detection"][k] for r in rs])

        recovered = oracle_recovered = "-"
        if all("clean" in r for r in rs):
            recovered = _recovered_cell(rs, lambda r: r["iadsr"]["test_raw"]["ndcg@10"])
            if all("oracle" in r for r in rs):
                oracle_recovered = _recovered_cell(
                    rs, lambda r: r["oracle"]["test"]["ndcg@10"]
                )
        lines.append(
            f"| {dataset} | {backbone} | {det('roc_auc')} | {det('precision')} "
            f"| {det('recall')} | {recovered} | "
            f"{_run_column(rs, 'oracle', 'ndcg@10')} | {oracle_recovered} |"
        )
    return lines


def _cells(records, args):
    """(dataset, backbone, records of that cell) for every cell that has records."""
    for dataset in args.datasets:
        for backbone in args.backbones:
            rs = [
                r for r in records if r["dataset"] == dataset and r["backbone"] == backbone
            ]
            if rs:
                yield dataset, backbone, rs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "beauty"])
    parser.add_argument("--backbones", nargs="+", default=["gru4rec", "sasrec", "caser"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--noise-rate", type=float, default=0.0)
    parser.add_argument(
        "--noise-mode",
        default="replace",
        choices=["replace", "insert"],
        help="injected items replace training items (the genuine item is lost) or are "
        "inserted after them (removing them restores the clean data exactly)",
    )
    parser.add_argument(
        "--noise-sampling",
        default="uniform",
        choices=["uniform", "popularity"],
        help="draw injected items uniformly (mostly rare items) or by popularity",
    )
    parser.add_argument("--clean-reference", action="store_true")
    parser.add_argument(
        "--ablations",
        nargs="*",
        default=["collab-only", "collab-only@rate", "random"],
        help="collab-only: its own keep rule; collab-only@rate: dropping as many "
        "positions as IADSR did (any learned ablation takes '@rate', e.g. "
        "no-short@rate, or '@R' for a fixed share R, e.g. collab-only@0.3, cut the "
        "way IADSR's scores are); random: random drops at IADSR's rate; oracle (with "
        "--noise-rate): removing exactly the injected items, the ceiling of any "
        "denoiser",
    )
    parser.add_argument("--tag", default="", help="suffix of the results file names")
    parser.add_argument("--from-json", help="only write the tables of this results JSON")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--align-epochs", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument(
        "--align-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an InterestAligner parameter (repeatable), e.g. temperature=0.5",
    )
    parser.add_argument(
        "--denoise-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a SequenceDenoiser parameter of IADSR and its learned ablations "
        "(repeatable), e.g. standardize=true (with --drop-rate-grid)",
    )
    parser.add_argument(
        "--drop-rate-grid",
        type=_budget,
        nargs="+",
        metavar="RATE",
        help="choose IADSR's removal budget on the validation split among these "
        "candidates ('rule': the threshold keep rule; 'none' or 0: no denoising), one "
        "retrained recommender each; the ablations then remove as much as the chosen "
        "budget did",
    )
    parser.add_argument(
        "--retrain-ablations",
        nargs="*",
        metavar="ABLATION",
        help="also retrain a recommender on these ablations' histories (all of them "
        "when none is named; default: audit their removals only, except random and "
        "oracle, which are always retrained)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--semantic-mode",
        choices=["item", "prefix"],
        help="how the semantic interests are formed (default: the run's, item)",
    )
    parser.add_argument("--embedding-cache", default=".iadsr_cache")
    parser.add_argument("--out", default="benchmarks/results/denoising")
    args = parser.parse_args(argv)
    for ablation in args.ablations:
        name, at, rate = ablation.partition("@")
        if name not in DENOISERS or name in ("none", "iadsr"):
            parser.error(f"unknown ablation {ablation!r}")
        if at and rate != "rate" and _fixed_rate(ablation) is None:
            parser.error(
                f"unknown ablation {ablation!r}: after '@', 'rate' (IADSR's) or a "
                "removal rate in (0, 1)"
            )
        if at and DENOISERS[name] is None:
            parser.error(f"{ablation!r}: only a learned ablation takes '@rate' or '@R'")
    for ablation in args.retrain_ablations or []:
        if ablation not in args.ablations:
            parser.error(f"--retrain-ablations {ablation!r} is not among --ablations")
    if "oracle" in args.ablations and not args.noise_rate > 0 and not args.from_json:
        # checked before hours of training, not after
        parser.error("--ablations oracle removes the injected items: it needs --noise-rate")
    logging.basicConfig(
        level=logging.INFO,
        format="[%(asctime)s] %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )

    aligner_params = parse_params(
        parser,
        "--align-param",
        args.align_param,
        InterestAligner,
        reserved={
            "variant": "--ablations",
            "n_epochs": "--align-epochs",
            "device": "--device",
            "random_state": "--seeds",
            "verbose": "always 0",
        },
    )
    denoiser_params = parse_params(
        parser,
        "--denoise-param",
        args.denoise_param,
        SequenceDenoiser,
        reserved={
            "threshold": "--threshold",
            "removal_rate": "--drop-rate-grid, or an ablation's '@rate' or '@R'",
        },
    )
    if denoiser_params.get("user_gate", -1) > -1:
        # a learned ablation cut at a rate takes these parameters; collab-only has no
        # cos(h^L, s^L) to gate on, and would fail only after the IADSR runs
        gateless = [a for a in args.ablations if a.startswith("collab-only@")]
        if gateless:
            parser.error(
                "--denoise-param user_gate: the collaborative-only ablation has no "
                f"semantic view to gate on; leave {', '.join(gateless)} out of "
                "--ablations"
            )
    grid = None if args.drop_rate_grid is None else tuple(args.drop_rate_grid)
    out = Path(args.out + args.tag)
    out.parent.mkdir(parents=True, exist_ok=True)
    records = []
    if args.from_json:
        # re-render the tables of finished runs (e.g. of an interrupted benchmark)
        records = json.loads(Path(args.from_json).read_text())
        args.seeds = sorted({r["seed"] for r in records})
    for dataset in [] if args.from_json else args.datasets:
        seqs = load_dataset(dataset)
        for backbone in args.backbones:
            for seed in args.seeds:
                common = dict(
                    model=backbone,
                    seed=seed,
                    noise_rate=args.noise_rate,
                    noise_mode=args.noise_mode,
                    noise_sampling=args.noise_sampling,
                    device=args.device,
                    max_epochs=args.max_epochs,
                    align_epochs=args.align_epochs,
                    threshold=args.threshold,
                    aligner_params=aligner_params,
                    embedding_cache=args.embedding_cache,
                    semantic_mode=args.semantic_mode,
                    verbose=0,
                )
                started = time.perf_counter()
                # the Stage-1 recommender (trained on the raw histories, the baseline)
                # is shared by IADSR and its ablations
                stage1: dict = {}
                iadsr = run_denoising(
                    seqs,
                    DenoisingRun(
                        denoiser="iadsr",
                        drop_rate_grid=grid,
                        denoiser_params=denoiser_params,
                        **common,
                    ),
                    stage1_cache=stage1,
                )
                record = {
                    "dataset": dataset,
                    "backbone": backbone,
                    "seed": seed,
                    "iadsr": iadsr,
                    "seconds": time.perf_counter() - started,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    / 1024,
                }
                for ablation in args.ablations:
                    # random drops and the '@rate' ablations remove as much as IADSR;
                    # '@R' ablations remove the share R whatever IADSR removed
                    fixed = _fixed_rate(ablation)
                    if fixed is not None:
                        extra = {"drop_rate": fixed}
                    elif ablation == "random" or ablation.endswith("@rate"):
                        extra = {"drop_rate": iadsr["removed_fraction"]}
                    else:
                        extra = {}
                    retrain = ablation in ("random", "oracle") or (
                        args.retrain_ablations is not None
                        and (
                            not args.retrain_ablations or ablation in args.retrain_ablations
                        )
                    )
                    name = ablation.split("@")[0]
                    if DENOISERS[name] is not None and "drop_rate" in extra:
                        # with a removal rate, a learned ablation cuts its scores the
                        # way IADSR does
                        extra["denoiser_params"] = denoiser_params
                    record[ablation] = run_denoising(
                        seqs,
                        DenoisingRun(denoiser=name, retrain=retrain, **common, **extra),
                        stage1_cache=stage1,
                    )
                if args.clean_reference and args.noise_rate > 0:
                    clean = dict(common, noise_rate=0.0)
                    record["clean"] = run_denoising(
                        seqs, DenoisingRun(denoiser="none", **clean)
                    )
                records.append(record)
                logging.info(
                    "%s %s seed %d: NDCG@10 none %.4f, iadsr raw %.4f / denoised %.4f",
                    dataset,
                    backbone,
                    seed,
                    iadsr["baseline_test"]["ndcg@10"],
                    iadsr["test_raw"]["ndcg@10"],
                    iadsr["test_denoised"]["ndcg@10"],
                )
                Path(f"{out}.json").write_text(json.dumps(records, indent=2))

    lines = [
        f"Noise rate {args.noise_rate}"
        + (
            f" ({args.noise_mode}, {args.noise_sampling} sampling)"
            if args.noise_rate > 0
            else ""
        )
        + f"; seeds {args.seeds}; test split, full ranking.",
        "",
        "| dataset | backbone | NDCG@10 none | NDCG@10 IADSR (raw test) | NDCG@10 IADSR "
        "(denoised test) | HR@10 none | HR@10 IADSR (raw) | HR@10 IADSR (denoised) | "
        "removed | cold removal IADSR | cold removal collab-only |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, backbone, rs in _cells(records, args):
        col = lambda f, rs=rs: _mean_std([f(r) for r in rs])  # noqa: E731
        lines.append(
            f"| {dataset} | {backbone} | "
            f"{col(lambda r: r['iadsr']['baseline_test']['ndcg@10'])} | "
            f"{col(lambda r: r['iadsr']['test_raw']['ndcg@10'])} | "
            f"{col(lambda r: r['iadsr']['test_denoised']['ndcg@10'])} | "
            f"{col(lambda r: r['iadsr']['baseline_test']['hr@10'])} | "
            f"{col(lambda r: r['iadsr']['test_raw']['hr@10'])} | "
            f"{col(lambda r: r['iadsr']['test_denoised']['hr@10'])} | "
            f"{col(lambda r: r['iadsr']['removed_fraction'])} | "
            f"{col(lambda r: r['iadsr']['cold_item_removal_rate'])} | "
            + f"{_run_column(rs, 'collab-only', 'cold_item_removal_rate')} |"
        )
    lines += [
        "",
        "Cold-item audit (genuine items; cold = least popular 20%) and ablations:",
        "",
        "| dataset | backbone | IADSR removed | IADSR cold | IADSR warm | collab-only "
        "removed | collab-only cold | collab-only@rate cold | random NDCG@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, backbone, rs in _cells(records, args):
        cell = functools.partial(_run_column, rs)
        lines.append(
            f"| {dataset} | {backbone} | {cell('iadsr', 'removed_fraction')} | "
            f"{cell('iadsr', 'cold_item_removal_rate')} | "
            f"{cell('iadsr', 'warm_item_removal_rate')} | "
            f"{cell('collab-only', 'removed_fraction')} | "
            f"{cell('collab-only', 'cold_item_removal_rate')} | "
            f"{cell('collab-only@rate', 'cold_item_removal_rate')} | "
            f"{cell('random', 'ndcg@10')} |"
        )
    lines += [
        "",
        "| dataset | backbone | Stage-2 windows/s | whole-method seconds | peak RSS (MB) |",
        "|---|---|---|---|---|",
    ]
    for dataset, backbone, rs in _cells(records, args):
        speed = [r["iadsr"]["align_sequences_per_second"] for r in rs]
        lines.append(
            f"| {dataset} | {backbone} | {_mean_std(speed)} | "
            f"{_mean_std([r['iadsr']['denoise_seconds'] for r in rs])} | "
            f"{max(r['peak_rss_mb'] for r in rs):.0f} |"
        )
    lines += _ablation_table(records, args)
    lines += _budget_table(records, args)
    if args.noise_rate > 0:
        lines += _noise_table(records, args)
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
