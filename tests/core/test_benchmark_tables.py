"""The denoising benchmark's tables: a column never hides which seeds it covers."""

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("denoising")


def _record(seed, **runs):
    return {"seed": seed, **runs}


def test_run_column_over_every_seed(bench):
    records = [
        _record(0, random={"test": {"ndcg@10": 0.02}}),
        _record(1, random={"test": {"ndcg@10": 0.04}}),
    ]
    assert bench._run_column(records, "random", "ndcg@10") == "0.0300 ± 0.0100"


def test_run_column_names_the_seeds_it_covers(bench):
    records = [
        _record(0, **{"collab-only": {"cold_item_removal_rate": 0.25}}),
        _record(1),
        _record(2, **{"collab-only": {"cold_item_removal_rate": 0.35}}),
    ]
    text = bench._run_column(records, "collab-only", "cold_item_removal_rate")
    assert text == "0.3000 ± 0.0500 (seeds 0, 2)"
    assert bench._run_column(records[:2], "collab-only", "cold_item_removal_rate") == (
        "0.2500 (seed 0)"
    )


def test_run_column_without_the_run(bench):
    assert bench._run_column([_record(0), _record(1)], "random", "ndcg@10") == "-"


def _searched(seed, valid, chosen, rates=(None, 0.1)):
    """A record of a run whose budget was chosen on validation among ``rates``."""
    search = [
        {
            "drop_rate": rate,
            "removed_fraction": 0.01 if rate is None else rate,
            "valid": {"ndcg@10": v},
            "test": {"ndcg@10": v / 2},
        }
        for rate, v in zip(rates, valid, strict=True)
    ]
    iadsr = {
        "budget_search": search,
        "chosen_drop_rate": chosen,
        "baseline_valid": {"ndcg@10": 0.05},
        "baseline_test": {"ndcg@10": 0.04},
    }
    return {"dataset": "d", "backbone": "b", "seed": seed, "iadsr": iadsr}


def test_budget_table_counts_the_seeds_that_chose_each_budget(bench):
    args = type("Args", (), {"datasets": ["d"], "backbones": ["b"]})()
    records = [_searched(0, (0.06, 0.08), 0.1), _searched(1, (0.07, 0.05), None)]
    lines = bench._budget_table(records, args)
    rows = [line for line in lines if line.startswith("| d | b |")]
    assert rows == [
        "| d | b | none (no denoising) | 0 | 0.0500 ± 0.0000 | 0.0400 ± 0.0000 | - |",
        "| d | b | keep rule | 0.0100 ± 0.0000 | 0.0650 ± 0.0050 | 0.0325 ± 0.0025 "
        "| 1 of 2 |",
        "| d | b | 0.1 | 0.1000 ± 0.0000 | 0.0650 ± 0.0150 | 0.0325 ± 0.0075 | 1 of 2 |",
    ]
    # no denoising as a candidate: one row for it, with the seeds that chose it
    records = [
        _searched(0, (0.05, 0.08), 0.1, rates=(0.0, 0.1)),
        _searched(1, (0.07, 0.05), 0.0, rates=(0.0, 0.1)),
    ]
    rows = [line for line in bench._budget_table(records, args) if "| d | b |" in line]
    assert rows == [
        "| d | b | none (no denoising) | 0.0000 ± 0.0000 | 0.0600 ± 0.0100 | "
        "0.0300 ± 0.0050 | 1 of 2 |",
        "| d | b | 0.1 | 0.1000 ± 0.0000 | 0.0650 ± 0.0150 | 0.0325 ± 0.0075 | 1 of 2 |",
    ]
    # candidates that report their removals: cold-item and detection columns
    for record in records:
        for entry in record["iadsr"]["budget_search"]:
            rate = entry["drop_rate"]
            entry["cold_item_removal_rate"] = rate / 2
            entry["noise_detection"] = {"precision": 0.5 if rate else 0.0, "recall": rate}
    lines = bench._budget_table(records, args)
    assert lines[3].endswith("| chosen | genuine cold removed | precision | recall |")
    assert lines[4] == "|---|" + "---|" * 9
    rows = [line for line in lines if "| d | b |" in line]
    assert rows[1].endswith(
        "| 1 of 2 | 0.0500 ± 0.0000 | 0.5000 ± 0.0000 | 0.1000 ± 0.0000 |"
    )
    # runs without a budget search add no table
    plain = [{"dataset": "d", "backbone": "b", "seed": 0, "iadsr": {}}]
    assert bench._budget_table(plain, args) == []


def _noisy(seed, iadsr_ndcg, oracle_ndcg=None):
    record = {
        "dataset": "d",
        "backbone": "b",
        "seed": seed,
        "iadsr": {
            "baseline_test": {"ndcg@10": 0.02},
            "test_raw": {"ndcg@10": iadsr_ndcg},
            "noise_detection": {"roc_auc": 0.7, "precision": 0.4, "recall": 0.4},
        },
        "clean": {"test": {"ndcg@10": 0.03}},
    }
    if oracle_ndcg is not None:
        record["oracle"] = {"test": {"ndcg@10": oracle_ndcg}}
    return record


def test_noise_table_reports_the_oracle_ceiling(bench):
    args = type("Args", (), {"datasets": ["d"], "backbones": ["b"]})()
    records = [_noisy(0, 0.021, 0.025), _noisy(1, 0.023, 0.027)]
    (row,) = [line for line in bench._noise_table(records, args) if "| d | b |" in line]
    # recovered = (denoised - noisy) / (clean - noisy): IADSR 0.1 and 0.3, oracle
    # 0.5 and 0.7
    assert row == (
        "| d | b | 0.7000 ± 0.0000 | 0.4000 ± 0.0000 | 0.4000 ± 0.0000 | "
        "0.2000 ± 0.1000 | 0.0260 ± 0.0010 | 0.6000 ± 0.1000 |"
    )
    # without the oracle run its columns say so rather than mixing seeds
    (row,) = [
        line for line in bench._noise_table([_noisy(0, 0.021)], args) if "| d | b |" in line
    ]
    assert row.endswith("| 0.1000 | - | - |")


def test_recovered_is_undefined_where_the_noise_cost_nothing(bench):
    # seed 1's clean run scored below its noisy one: no share of a loss to recover
    args = type("Args", (), {"datasets": ["d"], "backbones": ["b"]})()
    costless = _noisy(1, 0.025)
    costless["clean"]["test"]["ndcg@10"] = 0.019
    records = [_noisy(0, 0.021), costless, _noisy(2, 0.023)]
    (row,) = [line for line in bench._noise_table(records, args) if "| d | b |" in line]
    assert "| 0.2000 ± 0.1000 (seeds 0, 2; clean <= noisy on seed 1) |" in row
    (row,) = [line for line in bench._noise_table([costless], args) if "| d | b |" in line]
    assert "| n/a (clean <= noisy on seed 1) |" in row
    # equal scores lost nothing either
    costless["clean"]["test"]["ndcg@10"] = 0.02
    assert bench._recovered_cell([costless], lambda r: 0.025) == (
        "n/a (clean <= noisy on seed 1)"
    )


def test_oracle_ablation_without_noise_is_refused_before_training(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--datasets", "ml-100k", "--ablations", "oracle"])
    assert "it needs --noise-rate" in capsys.readouterr().err


def test_ablation_table_reports_other_ablations(bench):
    args = type("Args", (), {"datasets": ["d"], "backbones": ["b"]})()
    records = [_noisy(0, 0.021), _noisy(1, 0.023)]
    for record, ndcg, cold in zip(records, (0.025, 0.027), (0.2, 0.3), strict=True):
        record["no-short@rate"] = {
            "removed_fraction": 0.2,
            "cold_item_removal_rate": cold,
            "warm_item_removal_rate": 0.1,
            "noise_detection": {"roc_auc": 0.7},
            "test": {"ndcg@10": ndcg},
        }
    # an audit-only ablation of one seed: no NDCG@10, and its seed is named
    records[0]["no-long"] = {
        "removed_fraction": 0.01,
        "cold_item_removal_rate": 0.02,
        "warm_item_removal_rate": 0.005,
        "noise_detection": {"roc_auc": 0.6},
    }
    records[0]["oracle"] = {"test": {"ndcg@10": 0.03}}  # has columns of its own
    rows = [line for line in bench._ablation_table(records, args) if "| d | b |" in line]
    assert rows == [
        # recovered = (NDCG@10 - noisy 0.02) / (clean 0.03 - noisy): 0.5 and 0.7
        "| d | b | no-short@rate | 0.2000 ± 0.0000 | 0.2500 ± 0.0500 | "
        "0.1000 ± 0.0000 | 0.7000 ± 0.0000 | 0.0260 ± 0.0010 | 0.6000 ± 0.1000 |",
        "| d | b | no-long | 0.0100 (seed 0) | 0.0200 (seed 0) | 0.0050 (seed 0) | "
        "0.6000 (seed 0) | - | - |",
    ]
    assert "'@R'" not in "".join(bench._ablation_table(records, args))
    # a fixed-rate ablation is listed like the others, and the header says what R is
    records[1]["collab-only@0.3"] = dict(records[0]["no-long"], removed_fraction=0.3)
    lines = bench._ablation_table(records, args)
    assert "'@R': removing the share R of them" in lines[1]
    assert any(
        line.startswith("| d | b | collab-only@0.3 | 0.3000 (seed 1) |") for line in lines
    )
    assert bench._fixed_rate("collab-only@0.3") == 0.3
    assert bench._fixed_rate("collab-only@rate") is None
    assert bench._fixed_rate("collab-only") is None
    # records with only the main ablations add no table
    assert bench._ablation_table([_noisy(0, 0.021, 0.025)], args) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--ablations", "no-shrt"], "unknown ablation 'no-shrt'"),
        (["--ablations", "no-short@ratio"], "unknown ablation 'no-short@ratio'"),
        (["--ablations", "random@rate"], "only a learned ablation takes '@rate'"),
        (["--ablations", "random@0.3"], "only a learned ablation takes '@rate'"),
        (["--ablations", "collab-only@1.5"], "a removal rate in (0, 1)"),
        (["--ablations", "collab-only@0"], "unknown ablation 'collab-only@0'"),
        (
            ["--ablations", "random", "--retrain-ablations", "no-short"],
            "'no-short' is not among --ablations",
        ),
        (["--semantic-mode", "sentence"], "invalid choice: 'sentence'"),
    ],
)
def test_ablation_names_are_checked_before_training(bench, capsys, argv, message):
    with pytest.raises(SystemExit):
        bench.main(["--datasets", "ml-100k", *argv])
    assert message in capsys.readouterr().err
