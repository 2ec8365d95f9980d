"""Choosing the removal budget on the validation split (DenoisingRun.drop_rate_grid)."""

import json

import numpy as np
import pytest

from iadsr_sk.cli import main
from iadsr_sk.data import read_sequences
from iadsr_sk.experiment import DenoisingRun, run_denoising

BASE = dict(
    model="gru4rec", denoiser="collab-only", max_epochs=2, align_epochs=1, verbose=0
)


def test_the_best_validation_budget_is_chosen_and_its_recommender_kept(logs):
    seqs = read_sequences(logs)
    grid = (None, 0.2, 0.4)
    result = run_denoising(seqs, DenoisingRun(**BASE, drop_rate_grid=grid))
    search = result["budget_search"]
    assert [entry["drop_rate"] for entry in search] == list(grid)
    valid = [entry["valid"]["ndcg@10"] for entry in search]
    best = search[int(np.argmax(valid))]  # argmax: the first of tied candidates
    assert result["chosen_drop_rate"] == best["drop_rate"]
    # the reported recommender is the chosen candidate's, not one trained again
    assert result["valid"] == best["valid"]
    assert result["test_raw"] == best["test"]
    assert result["removed_fraction"] == best["removed_fraction"]
    # budgets remove the lowest-scoring share of the training positions
    assert search[1]["removed_fraction"] == pytest.approx(0.2, abs=0.03)
    assert search[2]["removed_fraction"] == pytest.approx(0.4, abs=0.03)
    assert "baseline_valid" in result and "baseline_test" in result
    # the search's retraining is timed apart from the method's own time
    assert result["budget_search_seconds"] > 0
    assert (
        result["denoise_seconds"] + result["budget_search_seconds"]
        <= (result["total_seconds"])
    )


def test_a_grid_of_one_budget_equals_that_drop_rate(logs):
    seqs = read_sequences(logs)
    searched = run_denoising(seqs, DenoisingRun(**BASE, drop_rate_grid=(0.3,)))
    direct = run_denoising(seqs, DenoisingRun(**BASE, drop_rate=0.3))
    assert searched["chosen_drop_rate"] == 0.3
    assert searched["removed_fraction"] == direct["removed_fraction"]
    assert searched["test"] == direct["test"]


def test_no_denoising_is_a_candidate_served_by_the_stage1_recommender(logs):
    seqs = read_sequences(logs)
    result = run_denoising(seqs, DenoisingRun(**BASE, drop_rate_grid=(0.0, 0.3)))
    none, cut = result["budget_search"]
    assert none["drop_rate"] == 0.0 and none["removed_fraction"] == 0.0
    # not retrained: the Stage-1 recommender, trained on the same histories
    assert none["retrained"] is False and cut["retrained"] is True
    assert none["valid"] == result["baseline_valid"]
    assert none["test"] == result["baseline_test"]
    chosen = none if none["valid"]["ndcg@10"] >= cut["valid"]["ndcg@10"] else cut
    assert result["chosen_drop_rate"] == chosen["drop_rate"]
    assert result["valid"] == chosen["valid"]
    assert result["removed_fraction"] == chosen["removed_fraction"]


def test_every_candidate_reports_what_it_removed(logs):
    seqs = read_sequences(logs)
    run = DenoisingRun(**BASE, noise_rate=0.2, drop_rate_grid=(0.0, 0.2, 0.4))
    result = run_denoising(seqs, run)
    none, low, high = result["budget_search"]
    # no denoising removes nothing: no cold item, no injected item
    assert none["cold_item_removal_rate"] == none["warm_item_removal_rate"] == 0.0
    # nothing removed: no precision to speak of
    assert none["noise_detection"] == {"precision": None, "recall": 0.0}
    # the larger budget cuts deeper into the same ranking
    assert high["removed_fraction"] > low["removed_fraction"]
    assert high["noise_detection"]["recall"] >= low["noise_detection"]["recall"]
    assert high["cold_item_removal_rate"] >= low["cold_item_removal_rate"]
    assert high["warm_item_removal_rate"] > low["warm_item_removal_rate"]
    # the chosen candidate's audit is the run's own
    (chosen,) = [
        e for e in result["budget_search"] if e["drop_rate"] == result["chosen_drop_rate"]
    ]
    for key in ("removed_fraction", "cold_item_removal_rate", "warm_item_removal_rate"):
        assert chosen[key] == result[key]
    for key in ("precision", "recall"):
        assert chosen["noise_detection"][key] == result["noise_detection"][key]


def test_cli_none_budget(logs, tmp_path):
    out = tmp_path / "none.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "2"]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1", "-q"]
    assert main([*argv, "--drop-rate-grid", "none", "0.3", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [e["drop_rate"] for e in result["budget_search"]] == [0.0, 0.3]
    assert result["budget_search"][0]["valid"] == result["baseline_valid"]


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(drop_rate_grid=()), "non-empty sequence"),
        (dict(drop_rate_grid=0.2), "non-empty sequence"),
        (dict(drop_rate_grid=(0.2,), drop_rate=0.2), "drop_rate or drop_rate_grid"),
        (dict(drop_rate_grid=(0.2,), denoiser="random"), "needs a learned denoiser"),
        (dict(drop_rate_grid=(0.2,), retrain=False), "needs retrain=True"),
        (
            dict(drop_rate_grid=(-0.1,)),
            r"0 \(no denoising\) or rates in \(0, 1\); got -0.1",
        ),
        (dict(drop_rate_grid=(0, 0.0)), "repeated entries"),
        (dict(drop_rate_grid=(1.5,)), r"got 1.5"),
        (dict(drop_rate_grid=(True,)), r"got True"),
        (dict(drop_rate_grid=("0.2",)), r"got '0.2'"),
        (dict(drop_rate_grid=(0.2, 0.2)), "repeated entries"),
    ],
)
def test_bad_grids_are_refused_with_the_problem_named(logs, settings, message):
    seqs = read_sequences(logs)
    run = DenoisingRun(**{**BASE, **settings})
    with pytest.raises(ValueError, match=message):
        run_denoising(seqs, run)


def test_cli_drop_rate_grid(logs, tmp_path, capsys):
    out = tmp_path / "grid.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "2"]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1"]
    assert main([*argv, "--drop-rate-grid", "rule", "0.3", "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert [e["drop_rate"] for e in result["budget_search"]] == [None, 0.3]
    assert result["chosen_drop_rate"] in (None, 0.3)
    with pytest.raises(SystemExit):
        main([*argv, "--drop-rate-grid", "1", "-q"])
    assert "expected a rate in [0, 1), got 1.0" in capsys.readouterr().err
    plain = ["run", "--sequences", str(logs), "--model", "gru4rec", "-q"]
    assert main([*plain, "--drop-rate-grid", "rule"]) == 2
    assert "--drop-rate-grid needs a denoiser" in capsys.readouterr().err
    assert main([*plain, "--drop-rate", "0.2"]) == 2
    assert "--drop-rate needs a denoiser" in capsys.readouterr().err


def test_random_drops_do_not_repeat_the_noise_draws(logs):
    # noise and random drops at the same rate and seed: the drops must be chance,
    # not the injected positions (which a shared random stream would give)
    seqs = read_sequences(logs)
    run = DenoisingRun(
        model="gru4rec",
        denoiser="random",
        noise_rate=0.3,
        drop_rate=0.3,
        retrain=False,
        verbose=0,
    )
    result = run_denoising(seqs, run)
    detection = result["noise_detection"]
    assert 0.1 < detection["precision"] < 0.6
    assert 0.1 < detection["recall"] < 0.6
    assert result["cold_item_removal_rate"] + result["warm_item_removal_rate"] > 0


def test_cli_standardize(logs, tmp_path, capsys):
    out = tmp_path / "z.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "1"]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1", "-q"]
    assert main([*argv, "--drop-rate", "0.3", "--standardize", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["denoiser_params"] == {"standardize": True}
    assert result["removed_fraction"] == pytest.approx(0.3, abs=0.03)
    # refused, naming the problem, where it cannot apply
    assert main([*argv, "--standardize"]) == 2
    assert "--standardize needs --drop-rate or --drop-rate-grid" in capsys.readouterr().err
    plain = ["run", "--sequences", str(logs), "--model", "gru4rec", "-q"]
    assert main([*plain, "--standardize"]) == 2
    assert "--standardize needs a denoiser" in capsys.readouterr().err
    random = [*plain, "--denoiser", "random", "--drop-rate", "0.2", "--standardize"]
    assert main(random) == 2
    assert "learned denoiser" in capsys.readouterr().err


def test_cli_center_items(logs, tmp_path, capsys):
    out = tmp_path / "c.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "1"]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1", "-q"]
    both = ["--drop-rate", "0.3", "--standardize", "--center-items"]
    assert main([*argv, *both, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["denoiser_params"] == {"standardize": True, "center_items": True}
    assert result["removed_fraction"] == pytest.approx(0.3, abs=0.03)
    # refused, naming the problem, where it cannot apply
    assert main([*argv, "--center-items"]) == 2
    assert "--center-items needs --drop-rate or --drop-rate-grid" in capsys.readouterr().err
    plain = ["run", "--sequences", str(logs), "--model", "gru4rec", "-q"]
    assert main([*plain, "--center-items"]) == 2
    assert "--center-items needs a denoiser" in capsys.readouterr().err


def test_detection_reports_the_ranking_that_was_cut(logs):
    seqs = read_sequences(logs)
    noisy = dict(BASE, noise_rate=0.2, drop_rate=0.2, retrain=False)
    plain = run_denoising(seqs, DenoisingRun(**noisy))["noise_detection"]
    params = {"standardize": True, "center_items": True}
    cut = run_denoising(seqs, DenoisingRun(**noisy, denoiser_params=params))
    detection = cut["noise_detection"]
    # the raw scores are the same; the cut ranked them after the rescaling
    assert "roc_auc_cut" not in plain
    assert detection["roc_auc"] == plain["roc_auc"]
    assert 0.0 <= detection["roc_auc_cut"] <= 1.0
    assert detection["roc_auc_cut"] != detection["roc_auc"]
