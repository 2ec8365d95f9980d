"""The oracle denoiser: removes the injected items (the ceiling of any denoiser)."""

import json

import numpy as np
import pytest

from iadsr_sk.cli import main
from iadsr_sk.data import inject_noise, leave_one_out_split, read_sequences
from iadsr_sk.experiment import DenoisingRun, run_denoising


def test_the_oracle_removes_the_injected_items(logs):
    seqs = read_sequences(logs)
    run = DenoisingRun(
        model="gru4rec", denoiser="oracle", noise_rate=0.25, max_epochs=2, verbose=0
    )
    result = run_denoising(seqs, run)
    _, noise = inject_noise(leave_one_out_split(seqs).train, 0.25, random_state=0)
    assert noise.any()
    assert result["removed_fraction"] == pytest.approx(noise.mean())
    assert result["noise_detection"] == {"precision": 1.0, "recall": 1.0}
    # no genuine item is removed, cold or warm
    assert result["cold_item_removal_rate"] == 0.0
    assert result["warm_item_removal_rate"] == 0.0
    # a recommender was retrained on the cleaned histories and evaluated
    assert result["test"]["ndcg@10"] >= 0


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(), "needs noise_rate > 0"),
        (dict(noise_rate=0.2, drop_rate=0.1), "drop_rate does not apply"),
        (dict(noise_rate=0.2, drop_rate_grid=(0.1,)), "needs a learned denoiser"),
        (dict(noise_rate=0.2, test_input="denoised"), "needs a learned denoiser"),
    ],
)
def test_oracle_misuse_is_refused(logs, settings, message):
    run = DenoisingRun(model="gru4rec", denoiser="oracle", verbose=0, **settings)
    with pytest.raises(ValueError, match=message):
        run_denoising(read_sequences(logs), run)


def test_cli_oracle(logs, tmp_path, capsys):
    out = tmp_path / "oracle.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "1"]
    argv += ["--denoiser", "oracle", "-q"]
    assert main([*argv, "--noise-rate", "0.2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["denoiser"] == "oracle"
    assert result["noise_detection"]["precision"] == 1.0
    assert main(argv) == 2
    assert "it needs --noise-rate above 0" in capsys.readouterr().err


def test_a_history_of_injected_items_only_keeps_one_item(logs):
    seqs = read_sequences(logs)
    train = leave_one_out_split(seqs).train
    noisy, noise = inject_noise(train, 0.95, random_state=0)
    rows, _ = noisy.positions()
    all_noise = np.bincount(rows, weights=~noise, minlength=len(noisy)) == 0
    assert all_noise.any()  # the data this test needs
    run = DenoisingRun(
        model="gru4rec", denoiser="oracle", noise_rate=0.95, retrain=False, verbose=0
    )
    result = run_denoising(seqs, run)  # no "empty sequence" error
    kept = int(all_noise.sum())  # one item kept per such history
    assert result["noise_detection"]["precision"] == 1.0
    assert result["noise_detection"]["recall"] == pytest.approx(1 - kept / noise.sum())
    assert result["removed_fraction"] == pytest.approx((noise.sum() - kept) / noise.size)


def test_noise_sampling_and_mode_reach_the_injection(logs, tmp_path, capsys, monkeypatch):
    import iadsr_sk.experiment as experiment

    calls = []

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return inject_noise(*args, **kwargs)

    monkeypatch.setattr(experiment, "inject_noise", recording)
    out = tmp_path / "pop.json"
    argv = ["run", "--sequences", str(logs), "--model", "gru4rec", "--max-epochs", "1"]
    argv += ["--denoiser", "oracle", "-q"]
    extra = ["--noise-mode", "insert", "--noise-sampling", "popularity"]
    assert main([*argv, "--noise-rate", "0.2", *extra, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["noise_mode"], result["noise_sampling"]) == ("insert", "popularity")
    assert [(c["mode"], c["sampling"]) for c in calls] == [("insert", "popularity")]
    train = leave_one_out_split(read_sequences(logs)).train
    noisy, noise = inject_noise(
        train, 0.2, mode="insert", sampling="popularity", random_state=0
    )
    # inserted items lengthen the histories; the oracle removes every one of them
    assert noisy.n_interactions > train.n_interactions
    assert result["removed_fraction"] == pytest.approx(noise.mean())
    # without --noise-rate the noise flags would do nothing: refused
    assert main([*argv[:-3], "-q", "--noise-sampling", "popularity"]) == 2
    assert "--noise-sampling needs --noise-rate above 0" in capsys.readouterr().err
