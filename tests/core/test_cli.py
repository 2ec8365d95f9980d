import json

import pytest

from iadsr_sk.cli import REPORT_KEYS, main


@pytest.fixture
def logs(tmp_path):
    path = tmp_path / "logs.txt"
    lines = []
    for u in range(40):
        # a cycle through 12 items: the Markov floor must find it
        lines.append(" ".join([f"u{u}"] + [f"i{(u + t) % 12}" for t in range(6)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("model", ["pop", "markov"])
def test_run_writes_results_json(logs, tmp_path, capsys, model):
    out = tmp_path / "res.json"
    assert (
        main(["run", "--sequences", str(logs), "--model", model, "--out", str(out), "-q"])
        == 0
    )
    result = json.loads(out.read_text())
    for key in (
        "dataset",
        "n_users",
        "n_items",
        "n_interactions",
        "model",
        "denoiser",
        "seed",
        "valid",
        "test",
        "fit_seconds",
        "peak_rss_mb",
        "device",
    ):
        assert key in result
    assert result["denoiser"] is None
    assert (result["n_users"], result["n_items"], result["n_interactions"]) == (40, 12, 240)
    assert set(result["test"]) == set(REPORT_KEYS)
    if model == "markov":
        assert result["test"]["hr@5"] == 1.0
    table = capsys.readouterr().out
    assert "ndcg@10" in table and "valid" in table and "test" in table

    assert main(["report", str(out)]) == 0
    assert model in capsys.readouterr().out


def test_cli_errors_name_the_problem(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--sequences", str(tmp_path / "missing.txt")])
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("u1 i1 i2\nu2\n", encoding="utf-8")
    assert main(["run", "--sequences", str(bad), "-q"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "ml-100k", "--max-len", "0"])
    assert ">= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "netflix"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_reports_too_short_users(tmp_path, capsys):
    path = tmp_path / "short.txt"
    path.write_text("a 1 2\nb 1\n", encoding="utf-8")
    assert main(["run", "--sequences", str(path), "-q"]) == 2
    assert "no user has at least 3 items" in capsys.readouterr().err


def test_run_neural_model_and_denoiser_flags(logs, tmp_path):
    out = tmp_path / "gru.json"
    args = [
        "run",
        "--sequences",
        str(logs),
        "--model",
        "gru4rec",
        "--max-epochs",
        "1",
        "--max-len",
        "5",
        "--out",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert result["epochs"] == 1 and result["n_train_sequences"] > 0
    assert result["seconds_per_epoch"] > 0
    out = tmp_path / "random.json"
    assert (
        main(
            [
                *args[:-3],
                "--denoiser",
                "random",
                "--drop-rate",
                "0.2",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["denoiser"] == "random" and 0 < result["removed_fraction"] < 0.5
    assert (
        main(
            ["run", "--sequences", str(logs), "--model", "pop", "--denoiser", "iadsr", "-q"]
        )
        == 2
    )


def test_run_faithful_preset(logs, tmp_path):
    out = tmp_path / "faithful.json"
    base = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "1"]
    assert main([*base, "--preset", "faithful", "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["preset"] == "faithful" and result["max_len"] == 31
    # one next-item target per training history (its last item)
    assert result["n_train_sequences"] == 40
    out = tmp_path / "explicit.json"
    args = [*base, "--preset", "faithful", "--max-len", "4", "--out", str(out), "-q"]
    assert main(args) == 0
    assert json.loads(out.read_text())["max_len"] == 4  # an explicit value wins


def test_run_passes_aligner_params_and_refuses_the_ones_it_sets(logs, monkeypatch):
    from iadsr_sk import experiment
    from iadsr_sk.data import read_sequences
    from iadsr_sk.experiment import DenoisingRun, run_denoising

    seqs = read_sequences(logs)
    base = dict(model="gru4rec", denoiser="collab-only", max_epochs=1, verbose=0)

    def no_training(*args, **kwargs):
        raise AssertionError("a refused aligner parameter must stop the run before Stage 1")

    with monkeypatch.context() as patch:
        patch.setattr(experiment, "make_recommender", no_training)
        # refused before any training, naming the problem
        refusals = [
            ({"temperature": -1.0}, "aligner_params: .*temperature"),
            ({"temprature": 0.5}, "unknown InterestAligner parameter 'temprature'"),
            ({"n_epochs": 2}, "may not set"),
        ]
        for params, message in refusals:
            with pytest.raises(ValueError, match=message):
                run_denoising(seqs, DenoisingRun(**base, aligner_params=params))
        # runs without an aligner share a benchmark's settings and ignore them
        with pytest.raises(AssertionError, match="before Stage 1"):
            run_denoising(
                seqs,
                DenoisingRun(
                    **{**base, "denoiser": "random"},
                    drop_rate=0.1,
                    aligner_params={"temperature": 0.5},
                ),
            )
    result = run_denoising(
        seqs, DenoisingRun(**base, retrain=False, aligner_params={"batch_size": 8})
    )
    assert 0 <= result["removed_fraction"] < 1
    assert result["aligner_params"] == {"batch_size": 8}


def test_run_passes_denoiser_params_and_refuses_what_cannot_apply(logs):
    from iadsr_sk.data import read_sequences
    from iadsr_sk.experiment import DenoisingRun, run_denoising

    seqs = read_sequences(logs)
    base = dict(model="gru4rec", denoiser="collab-only", max_epochs=1, verbose=0)
    z = {"standardize": True}
    # refused before any training, naming the problem
    refusals = [
        (dict(denoiser_params=z), "standardize=True needs removal_rate"),
        (dict(denoiser_params=z, drop_rate_grid=(None, 0.1)), "needs removal_rate"),
        (dict(denoiser_params={"removal_rate": 0.1}), "may not set"),
        (dict(denoiser_params={"colour": 1}, drop_rate=0.1), "colour"),
        (dict(denoiser_params={"min_length": -1}, drop_rate=0.1), "min_length"),
        # collab-only has no semantic view: its scores carry no cos(h^L, s^L)
        (dict(denoiser_params={"user_gate": 0.2}), "user_gate compares"),
    ]
    for settings, message in refusals:
        with pytest.raises(ValueError, match=message):
            run_denoising(seqs, DenoisingRun(**base, **settings))
    with pytest.raises(ValueError, match="learned denoiser"):
        run_denoising(
            seqs, DenoisingRun(**{**base, "denoiser": "random"}, denoiser_params=z)
        )
    result = run_denoising(
        seqs, DenoisingRun(**base, retrain=False, drop_rate=0.25, denoiser_params=z)
    )
    assert result["denoiser_params"] == z
    assert result["removed_fraction"] == pytest.approx(0.25, abs=0.02)


def test_report_adds_columns_only_where_a_run_has_something_to_show():
    from iadsr_sk.cli import format_table

    metrics = {k: 0.1 for k in REPORT_KEYS}
    plain = {"dataset": "d", "model": "sasrec", "denoiser": None, "seed": 0}
    plain["test"] = metrics
    header = format_table([plain]).splitlines()[0].split()
    assert header == ["dataset", "model", "denoiser", "seed", "split", *REPORT_KEYS]

    denoised = {
        **plain,
        "denoiser": "iadsr",
        "test_input": "raw",
        "removed_fraction": 0.00013,
        "noise_rate": 0.0,
    }
    header = format_table([plain, denoised]).splitlines()[0].split()
    # raw test inputs and no noise tell the runs nothing apart: no such columns
    assert header == [
        "dataset",
        "model",
        "denoiser",
        "seed",
        "removed",
        "split",
        *REPORT_KEYS,
    ]
    noisy = {
        **denoised,
        "test_input": "denoised",
        "removed_fraction": 0.2,
        "noise_rate": 0.2,
        "noise_mode": "insert",
        "noise_sampling": "popularity",
        "noise_detection": {"roc_auc": 0.8123, "precision": 0.4, "recall": 0.4},
    }
    lines = format_table([plain, denoised, noisy]).splitlines()
    assert lines[0].split() == [
        "dataset", "model", "denoiser", "seed", "noise", "test", "input", "removed",
        "split", *REPORT_KEYS, "roc-auc",
    ]  # fmt: skip
    cells = [line.split() for line in lines[2:]]
    assert cells[0][4:8] == ["-", "-", "-", "test"]
    assert cells[1][4:8] == ["-", "raw", "0.013%", "test"]
    assert cells[2][4:10] == ["20%", "insert,", "popularity", "denoised", "20.0%", "test"]
    assert cells[2][-1] == "0.812" and cells[0][-1] == cells[1][-1] == "-"


@pytest.mark.parametrize(
    ("share", "text"),
    [(0, "0.0%"), (0.2, "20.0%"), (0.001, "0.1%"), (0.00013, "0.013%"), (1e-9, "<0.0001%")],
)
def test_shares_never_show_a_nonzero_share_as_zero(share, text):
    from iadsr_sk.experiment import format_share

    assert format_share(share) == text
