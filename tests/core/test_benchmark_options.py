"""The benchmark scripts read their NAME=VALUE options strictly, before any data is
read or any model trained."""

import pytest

#: (script, its arguments that name a dataset that does not exist)
SCRIPTS = {
    "denoising": ["--datasets", "no-such-dataset"],
    "score_diagnostics": ["--dataset", "no-such-dataset"],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("temperature", "--align-param 'temperature': expected NAME=VALUE"),
        ("=0.5", "--align-param '=0.5': expected NAME=VALUE"),
        (
            "temprature=0.5",
            "--align-param: InterestAligner has no parameter ['temprature']",
        ),
        ("temperature=-1", "--align-param: The 'temperature' parameter"),
        ("n_epochs=3", "--align-param n_epochs: the script sets it (--align-epochs)"),
    ],
)
def test_bad_aligner_params_are_refused(load_benchmark, capsys, script, entry, message):
    module = load_benchmark(script)
    with pytest.raises(SystemExit) as exit_:
        module.main([*SCRIPTS[script], "--align-param", entry])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("standardize", "--denoise-param 'standardize': expected NAME=VALUE"),
        ("colour=1", "--denoise-param: SequenceDenoiser has no parameter ['colour']"),
        ("min_length=-1", "--denoise-param: The 'min_length' parameter"),
        ("threshold=0.3", "--denoise-param threshold: the script sets it (--threshold)"),
    ],
)
def test_bad_denoiser_params_are_refused(load_benchmark, capsys, entry, message):
    module = load_benchmark("denoising")
    with pytest.raises(SystemExit) as exit_:
        module.main([*SCRIPTS["denoising"], "--denoise-param", entry])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_user_gate_refuses_the_gateless_ablation_before_any_run(load_benchmark, capsys):
    module = load_benchmark("denoising")
    argv = [*SCRIPTS["denoising"], "--denoise-param", "user_gate=0.2"]
    with pytest.raises(SystemExit) as exit_:
        module.main([*argv, "--ablations", "random", "collab-only@rate"])
    assert exit_.value.code == 2
    assert (
        "--denoise-param user_gate: the collaborative-only ablation has no semantic "
        "view to gate on; leave collab-only@rate out of --ablations"
    ) in capsys.readouterr().err


def test_params_parse_numbers_booleans_and_strings(load_benchmark):
    import argparse

    from iadsr_sk.denoising import InterestAligner

    shared = load_benchmark("_shared")
    items = ["temperature=0.5", "batch_size=64", "mixed_precision=false", "device=cpu"]
    assert shared.parse_params(argparse.ArgumentParser(), "-p", items, InterestAligner) == {
        "temperature": 0.5,
        "batch_size": 64,
        "mixed_precision": False,
        "device": "cpu",
    }


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--released-steps", "--released-steps must be >= 1, got 0"),
        ("--released-width", "--released-width must be >= 1, got 0"),
    ],
)
def test_throughput_counts_are_checked_before_any_data_is_read(
    load_benchmark, capsys, option, message
):
    module = load_benchmark("align_throughput")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--dataset", "no-such-dataset", option, "0"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
