"""The command line refuses options it would ignore, names its own options in its
errors, records its settings and writes (and reads) only valid results files."""

import json
import warnings

import pytest

from iadsr_sk import cli
from iadsr_sk.cli import build_parser, main

FAST = ["--max-epochs", "1", "--max-len", "5"]


@pytest.fixture
def cycle(tmp_path):
    """40 users, each 6 items of a cycle through 12 (240 interactions)."""
    path = tmp_path / "cycle.txt"
    lines = [
        " ".join([f"u{u}"] + [f"i{(u + t) % 12}" for t in range(6)]) for u in range(40)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def no_loading(monkeypatch):
    """Fail a test whose command gets as far as loading the data."""

    def loading(args):
        raise AssertionError("the options must be refused before loading the data")

    monkeypatch.setattr(cli, "_load", loading)


def _refused(argv, capsys) -> str:
    assert main([*argv, "-q"]) == 2
    return capsys.readouterr().err


# --- 1. options that would be ignored are refused, before anything runs ---------------

NEEDS_LEARNED = "needs a learned denoiser (--denoiser iadsr, collab-only"
NEEDS_SEMANTIC = "needs a denoiser with a semantic view (--denoiser iadsr, no-long"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--test-input", "denoised"], "--test-input denoised " + NEEDS_LEARNED),
        (["--threshold", "0.3"], "--threshold " + NEEDS_LEARNED),
        (["--align-epochs", "2"], "--align-epochs " + NEEDS_LEARNED),
        (["--align-param", "temperature=0.2"], "--align-param " + NEEDS_LEARNED),
        (["--denoise-param", "min_length=2"], "--denoise-param " + NEEDS_LEARNED),
        (["--embedder", "default"], "--embedder " + NEEDS_SEMANTIC),
        (["--semantic-mode", "item"], "--semantic-mode " + NEEDS_SEMANTIC),
        (["--embedding-cache", "cache"], "--embedding-cache " + NEEDS_SEMANTIC),
        (["--max-epochs", "3"], "--max-epochs needs a neural recommender (--model"),
        (["--device", "tpu"], "unknown device 'tpu' for --device"),
    ],
)
@pytest.mark.parametrize("model", ["pop", "markov"])
def test_floor_models_refuse_the_options_they_ignore(
    cycle, capsys, no_loading, model, extra, message
):
    err = _refused(["run", "--sequences", str(cycle), "--model", model, *extra], capsys)
    assert f"iadsr-sk: error: {message}" in err
    if "learned" in message or "semantic" in message:
        assert "with a neural recommender (--model gru4rec" in err


@pytest.mark.parametrize("extra", [["--item-text", None], ["--format", "text"]])
def test_a_bundled_dataset_refuses_the_options_of_sequences_files(
    cycle, capsys, no_loading, extra
):
    extra = [str(cycle) if value is None else value for value in extra]
    err = _refused(["run", "--dataset", "ml-100k", *extra], capsys)
    assert f"iadsr-sk: error: {extra[0]} needs --sequences" in err


def test_a_sequences_file_refuses_data_home(cycle, tmp_path, capsys, no_loading):
    err = _refused(["run", "--sequences", str(cycle), "--data-home", str(tmp_path)], capsys)
    assert "iadsr-sk: error: --data-home needs --dataset" in err


@pytest.mark.parametrize(
    ("denoiser", "extra", "message"),
    [
        ("random", ["--threshold", "0.3"], "--threshold " + NEEDS_LEARNED),
        ("random", ["--align-epochs", "2"], "--align-epochs " + NEEDS_LEARNED),
        ("random", ["--semantic-mode", "item"], "--semantic-mode " + NEEDS_SEMANTIC),
        ("random", ["--embedder", "default"], "--embedder " + NEEDS_SEMANTIC),
        ("random", ["--embedding-cache", "c"], "--embedding-cache " + NEEDS_SEMANTIC),
        ("random", ["--drop-rate-grid", "0.1"], "--drop-rate-grid " + NEEDS_LEARNED),
        ("collab-only", ["--embedder", "default"], "--embedder " + NEEDS_SEMANTIC),
        ("collab-only", ["--semantic-mode", "prefix"], "--semantic-mode " + NEEDS_SEMANTIC),
        ("collab-only", ["--embedding-cache", "c"], "--embedding-cache " + NEEDS_SEMANTIC),
        (
            "collab-only",
            ["--drop-rate-grid", "0.1", "0.2", "--threshold", "0.3"],
            "--threshold needs the keep rule: with a --drop-rate-grid without 'rule'",
        ),
        (
            "collab-only",
            ["--drop-rate", "0.1", "--threshold", "0.3"],
            "--threshold needs the keep rule: with --drop-rate",
        ),
        (
            "oracle",
            ["--noise-rate", "0.2", "--align-epochs", "2"],
            "--align-epochs " + NEEDS_LEARNED,
        ),
    ],
)
def test_denoisers_refuse_the_options_they_ignore(
    cycle, capsys, no_loading, denoiser, extra, message
):
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    err = _refused([*argv, "--denoiser", denoiser, *extra], capsys)
    assert f"iadsr-sk: error: {message}" in err


@pytest.mark.parametrize(
    "argv",
    [
        # scripts/main.sh passes its arguments (e.g. --device cuda) to every run
        ["--dataset", "ml-100k", "--model", "pop", "--seed", "0", "--device", "cuda"],
        ["--dataset", "ml-100k", "--model", "markov", "--device", "auto"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "iadsr",
         "--embedding-cache", ".iadsr_cache"],
        ["--sequences", "{logs}", "--item-text", "{logs}", "--model", "pop"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "iadsr",
         "--noise-rate", "0.2", "--test-input", "denoised", "--threshold", "0.4",
         "--align-epochs", "2", "--semantic-mode", "prefix", "--embedder", "default"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "collab-only",
         "--drop-rate-grid", "rule", "0.1", "--threshold", "0.4", "--align-epochs", "2"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "no-long",
         "--drop-rate", "0.2", "--standardize", "--center-items"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "iadsr",
         "--align-param", "temperature=0.2", "--align-param", "interest_size=128",
         "--align-param", "gumbel_noise=logistic", "--align-param", "max_len=null"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "iadsr",
         "--denoise-param", "min_length=3", "--denoise-param", "user_gate=0.1",
         "--denoise-param", "keep_last=true", "--drop-rate", "0.1", "--center-items"],
        ["--dataset", "ml-100k", "--model", "sasrec", "--denoiser", "collab-only",
         "--denoise-param", "user_gate=-1", "--denoise-param", "min_length=0"],
        ["--dataset", "ml-100k", "--model", "gru4rec", "--denoiser", "random",
         "--drop-rate", "0.2", "--noise-rate", "0.1", "--noise-mode", "insert"],
        ["--dataset", "ml-100k", "--model", "gru4rec", "--denoiser", "oracle",
         "--noise-rate", "0.1", "--noise-sampling", "popularity"],
        ["--dataset", "ml-100k", "--model", "markov", "--test-input", "raw"],
    ],
)  # fmt: skip
def test_options_that_apply_are_accepted(cycle, argv, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    argv = [str(cycle) if value == "{logs}" else value for value in argv]
    cli._check_options(build_parser().parse_args(["run", *argv]))


def test_a_floor_model_says_it_does_not_use_the_device(cycle, tmp_path, capsys):
    out = tmp_path / "markov.json"
    argv = ["run", "--sequences", str(cycle), "--model", "markov", "--device", "cuda"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    assert "--device cuda is not used: --model markov runs on the CPU" in (
        capsys.readouterr().err
    )
    assert json.loads(out.read_text())["device"] == "cpu"


def test_defaults_are_not_taken_for_given_options(cycle, tmp_path):
    out = tmp_path / "random.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    assert main([*argv, "--denoiser", "random", "--out", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["drop_rate"] == 0.1
    run = cli._denoising_run(build_parser().parse_args([*argv, "--denoiser", "iadsr"]))
    assert (run.threshold, run.align_epochs, run.embedder) == (0.5, 10, "default")


# --- 2. errors name the command line's options, checked before any training ----------


@pytest.mark.parametrize(
    ("denoiser", "extra", "message", "python_name"),
    [
        (
            "collab-only",
            ["--standardize"],
            "--standardize needs --drop-rate or --drop-rate-grid",
            "removal_rate",
        ),
        (
            "collab-only",
            ["--center-items", "--drop-rate-grid", "rule", "0.2"],
            "--center-items needs a --drop-rate-grid without 'rule'",
            "removal_rate",
        ),
        (
            "collab-only",
            ["--drop-rate", "0.1", "--drop-rate-grid", "0.2"],
            "set --drop-rate or --drop-rate-grid, not both",
            "drop_rate",
        ),
        (
            "collab-only",
            ["--drop-rate-grid", "none", "0"],
            "--drop-rate-grid repeats 0",
            "drop_rate_grid",
        ),
        (
            "oracle",
            [],
            "--denoiser oracle removes the items --noise-rate injects; it needs "
            "--noise-rate above 0",
            "noise_rate",
        ),
        (
            "oracle",
            ["--noise-rate", "0.2", "--drop-rate", "0.1"],
            "--drop-rate does not apply to --denoiser oracle",
            "drop_rate",
        ),
        (
            "random",
            ["--standardize"],
            "--standardize " + NEEDS_LEARNED,
            "denoiser_params",
        ),
        (
            "random",
            ["--test-input", "denoised"],
            "--test-input denoised " + NEEDS_LEARNED,
            "test_input",
        ),
    ],
)
def test_errors_name_the_command_line_options(
    cycle, capsys, no_loading, denoiser, extra, message, python_name
):
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    err = _refused([*argv, "--denoiser", denoiser, *extra], capsys)
    assert f"iadsr-sk: error: {message}" in err
    assert python_name not in err and "=True" not in err


def test_a_device_without_cuda_is_refused_in_command_line_words(
    cycle, capsys, no_loading, monkeypatch
):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", "--device", "cuda"]
    err = _refused(argv, capsys)
    assert "--device cuda: CUDA is not available" in err and "--device cpu" in err
    assert "device=" not in err


# --- 3. the denoising results record the settings that tell runs apart ---------------


def test_denoising_results_record_their_settings(cycle, tmp_path):
    out = tmp_path / "grid.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1"]
    grid = ["--drop-rate-grid", "rule", "0.2", "--threshold", "0.4"]
    assert main([*argv, *grid, "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["drop_rate"] is None and result["drop_rate_grid"] == [None, 0.2]
    assert (result["threshold"], result["align_epochs"]) == (0.4, 1)
    assert result["max_epochs"] == 1
    assert "semantic_mode" not in result and "embedder" not in result  # collab-only

    out = tmp_path / "rate.json"
    assert main([*argv, "--drop-rate", "0.25", "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["drop_rate"] == 0.25 and "threshold" not in result
    assert "drop_rate_grid" not in result


def test_semantic_settings_are_recorded_for_a_semantic_denoiser():
    from iadsr_sk.experiment import DenoisingRun, _settings

    run = DenoisingRun(denoiser="iadsr", preset="faithful", align_epochs=3).resolved()
    settings = _settings(run)
    assert settings["semantic_mode"] == "prefix" and settings["embedder"] == "default"
    assert (settings["threshold"], settings["align_epochs"]) == (0.5, 3)
    assert settings["drop_rate"] is None
    assert _settings(DenoisingRun(denoiser="none").resolved()) == {"max_epochs": None}


# --- 4. noise detection: nothing injected, nothing removed ----------------------------


def test_noise_that_injects_nothing_says_so(cycle, tmp_path, capsys):
    out = tmp_path / "tiny.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    assert main([*argv, "--noise-rate", "0.001", "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["n_noise_items"] == 0 and "noise_detection" not in result
    err = capsys.readouterr().err  # a warning, shown even with -q
    assert "the noise rate 0.001 injected no items" in err


def test_precision_is_null_when_nothing_was_removed(cycle, tmp_path):
    out = tmp_path / "none.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    assert main([*argv, "--noise-rate", "0.2", "--out", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    assert result["n_noise_items"] > 0 and result["removed_fraction"] == 0
    assert result["noise_detection"] == {"precision": None, "recall": 0.0}


# --- 5. no NaN in the results, no numpy warnings ---------------------------------------


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_rates_without_a_denominator_are_null(tmp_path):
    data = tmp_path / "two.txt"
    data.write_text("".join(f"u{u} 1 2 1 2 1 2\n" for u in range(20)), encoding="utf-8")
    out = tmp_path / "two.json"
    argv = ["run", "--sequences", str(data), "--model", "gru4rec", *FAST]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main([*argv, "--denoiser", "random", "--out", str(out), "-q"]) == 0
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    result = _strict_json(out.read_text())
    assert result["cold_item_removal_rate"] is None  # no genuine cold items
    assert 0 < result["warm_item_removal_rate"] < 1


def test_the_json_writer_never_writes_nan(tmp_path):
    import numpy as np

    out = tmp_path / "sub" / "r.json"
    result = {
        "a": float("nan"),
        "b": [np.float32("inf"), 1.5],
        "c": {"d": np.float64("-inf"), "e": np.int64(3)},
        "f": (np.array([1.0, np.nan]), None),
    }
    cli._write_json(out, result)
    assert _strict_json(out.read_text()) == {
        "a": None,
        "b": [None, 1.5],
        "c": {"d": None, "e": 3},
        "f": [[1.0, None], None],
    }
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no partial file left


# --- 6. report reads results files only ------------------------------------------------


def _write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(content, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("5", "it holds the number 5, not an object of results"),
        ("[1, 2]", "entry 0 is the number 1, not an object of results"),
        ("[]", "an empty list"),
        ('{"a": [1, 2, 3]}', "no 'model' field"),
        ("{}", "no 'model' field"),
        ('{"model": "m"}', "no 'test' or 'valid' metrics"),
        ('{"model": "m", "test": [0.5]}', "'test' is a list, not an object of metrics"),
        ('{"model": "m", "test": {"hr@5": "0.5"}}', "test['hr@5'] is the string '0.5'"),
        (
            '{"dataset": "d", "model": "m", "denoiser": "iadsr", "noise_rate": "0.2", '
            '"test": {"hr@5": 0.5}}',
            "'noise_rate' is the string '0.2', not a number",
        ),
        (
            '{"model": "m", "test": {}, "noise_detection": {"roc_auc": "x"}}',
            "noise_detection['roc_auc'] is the string 'x'",
        ),
    ],
)
def test_report_refuses_files_that_are_not_results(tmp_path, capsys, content, problem):
    path = _write(tmp_path, "f.json", content)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"iadsr-sk: error: {path} is not a results JSON file ({problem}" in err
    assert "Traceback" not in err


def test_report_shows_null_metrics_as_dashes_and_reads_a_bom(tmp_path, capsys):
    nulls = _write(
        tmp_path,
        "nulls.json",
        '{"dataset": "d", "model": "m", "test": {"hr@5": null, "ndcg@10": 0.25}, '
        '"removed_fraction": null, "noise_detection": null}',
    )
    bom = _write(
        tmp_path, "bom.json", '{"dataset": "b", "model": "m2", "test": {"hr@5": 0.5}}',
        encoding="utf-8-sig",
    )  # fmt: skip
    assert main(["report", str(nulls), str(bom)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    first, second = (line.split() for line in lines[2:4])
    assert first[header.index("hr@5")] == "-"
    assert first[header.index("ndcg@10")] == "0.2500"
    assert second[:2] == ["b", "m2"] and second[header.index("hr@5")] == "0.5000"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("temperature", "--align-param 'temperature': expected NAME=VALUE"),
        ("=0.2", "--align-param '=0.2': expected NAME=VALUE"),
        ("temperature=0.2.1", "--align-param 'temperature=0.2.1': its value is not a"),
        (
            "temprature=0.2",
            "--align-param: InterestAligner has no parameter ['temprature']",
        ),
        ("temperature=-1", "--align-param: The 'temperature' parameter of InterestAligner"),
        ("interest_size=0", "--align-param: The 'interest_size' parameter"),
        ("n_epochs=3", "--align-param n_epochs: the command sets it (--align-epochs)"),
        ("variant=no_rec", "--align-param variant: the command sets it (--denoiser)"),
        ("random_state=1", "--align-param random_state: the command sets it (--seed)"),
        ("device=cuda", "--align-param device: the command sets it (--device)"),
    ],
)
def test_align_params_are_checked_before_loading(cycle, capsys, no_loading, entry, message):
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    err = _refused([*argv, "--denoiser", "iadsr", "--align-param", entry], capsys)
    assert f"iadsr-sk: error: {message}" in err


def _record_fits(monkeypatch, estimator) -> list:
    """Make ``estimator.fit`` append its parameters to the returned list."""
    fitted = []
    original_fit = estimator.fit

    def recording_fit(self, X, y=None):
        fitted.append(self.get_params())
        return original_fit(self, X, y)

    monkeypatch.setattr(estimator, "fit", recording_fit)
    return fitted


def test_align_params_reach_the_aligner_and_the_results(cycle, tmp_path, monkeypatch):
    from iadsr_sk.denoising import InterestAligner

    fitted = _record_fits(monkeypatch, InterestAligner)
    out = tmp_path / "run.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1"]
    argv += ["--align-param", "interest_size=16", "--align-param", "temperature=0.2"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    assert [(p["interest_size"], p["temperature"], p["n_epochs"]) for p in fitted] == [
        (16, 0.2, 1)
    ]
    result = json.loads(out.read_text())
    assert result["aligner_params"] == {"interest_size": 16, "temperature": 0.2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--denoise-param", "min_length"], "--denoise-param 'min_length': expected"),
        (["--denoise-param", "user_gate="], "--denoise-param 'user_gate=': expected"),
        (["--denoise-param", "min_length=true"],
         "--denoise-param min_length=true: SequenceDenoiser's min_length is not a "
         "true/false setting"),
        (["--denoise-param", "min_length=2", "--denoise-param", "min_length=3"],
         "--denoise-param min_length: given more than once"),
        (["--denoise-param", "min_lenght=2"],
         "--denoise-param: SequenceDenoiser has no parameter ['min_lenght']"),
        (["--denoise-param", "min_length=-1"],
         "--denoise-param: The 'min_length' parameter of SequenceDenoiser"),
        (["--denoise-param", "user_gate=2"], "--denoise-param: The 'user_gate' parameter"),
        (["--denoise-param", "threshold=0.3"],
         "--denoise-param threshold: the command sets it (--threshold)"),
        (["--denoise-param", "removal_rate=0.1"],
         "--denoise-param removal_rate: the command sets it (--drop-rate or "
         "--drop-rate-grid)"),
        (["--denoise-param", "standardize=true"],
         "--denoise-param standardize: the command sets it (--standardize)"),
        (["--denoise-param", "center_items=true"],
         "--denoise-param center_items: the command sets it (--center-items)"),
        (["--denoiser", "collab-only", "--denoise-param", "user_gate=0.2"],
         "--denoise-param user_gate needs a denoiser with a semantic view (--denoiser "
         "iadsr, no-long"),
    ],
)  # fmt: skip
def test_denoise_params_are_checked_before_loading(
    cycle, capsys, no_loading, argv, message
):
    base = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    if "--denoiser" not in argv:
        argv = ["--denoiser", "iadsr", *argv]
    err = _refused([*base, *argv], capsys)
    assert f"iadsr-sk: error: {message}" in err


def test_denoise_params_reach_the_denoiser_and_the_results(cycle, tmp_path, monkeypatch):
    from iadsr_sk.denoising import SequenceDenoiser

    fitted = _record_fits(monkeypatch, SequenceDenoiser)
    out = tmp_path / "run.json"
    argv = ["run", "--sequences", str(cycle), "--model", "gru4rec", *FAST]
    argv += ["--denoiser", "collab-only", "--align-epochs", "1", "--drop-rate", "0.5"]
    argv += ["--denoise-param", "min_length=3", "--denoise-param", "keep_last=true"]
    argv += ["--standardize"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    assert [
        (p["min_length"], p["keep_last"], p["standardize"], p["removal_rate"])
        for p in fitted
    ] == [(3, True, True, 0.5)]
    result = json.loads(out.read_text())
    assert result["denoiser_params"] == {
        "min_length": 3,
        "keep_last": True,
        "standardize": True,
    }
    # four training items per history (six, less the validation and test targets), at
    # least three kept: a quarter at most is removed where --drop-rate asks for half
    assert 0 < result["removed_fraction"] <= 1 / 4
