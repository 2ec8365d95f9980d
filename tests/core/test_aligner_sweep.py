"""The Stage-2 settings sweep reads its grid strictly, and refuses before training."""

import functools
import json
import sys

import numpy as np
import pytest

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.data import Sequences, inject_noise, leave_one_out_split
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.experiment import cold_item_mask
from iadsr_sk.semantic import SemanticEmbedder


@pytest.fixture(scope="module")
def sweep(load_benchmark):
    return load_benchmark("aligner_sweep")


def test_default_entry_sets_nothing(sweep):
    assert sweep.parse_setting("default") == {}


def test_entries_parse_numbers_and_strings(sweep):
    assert sweep.parse_setting("short_weight=2,long_weight=0.5") == {
        "short_weight": 2,
        "long_weight": 0.5,
    }
    assert sweep.parse_setting("gumbel_noise=logistic") == {"gumbel_noise": "logistic"}


@pytest.mark.parametrize(
    "entry", ["temperature", "=0.2", "temperature=0.2,", "temperature="]
)
def test_malformed_entries_are_refused(sweep, entry):
    with pytest.raises(ValueError, match="NAME=VALUE"):
        sweep.parse_setting(entry)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("temperature", "grid entry 'temperature': expected NAME=VALUE"),
        ("temperature=0.2.1", "grid entry 'temperature=0.2.1': 'temperature=0.2.1' is not"),
        (
            "temperature=0.2,temperature=0.5",
            "grid entry 'temperature=0.2,temperature=0.5': temperature is set more than "
            "once",
        ),
    ],
)
def test_malformed_entries_stop_the_script_with_a_message(sweep, capsys, entry, message):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--grid", entry])
    assert message in capsys.readouterr().err


def test_invalid_parameters_are_refused_before_any_training(sweep):
    # no dataset is read: the grid is checked first
    with pytest.raises(Exception, match="temperature"):
        sweep.main(["--dataset", "no-such-dataset", "--grid", "temperature=-1"])


def test_unknown_parameters_are_named(sweep, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--grid", "no_such=1"])
    assert "no parameter ['no_such']" in capsys.readouterr().err


def test_bad_removal_rate_is_refused_before_any_training(sweep, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--removal-rate", "1.5"])
    err = capsys.readouterr().err
    assert "--removal-rate 1.5: The 'removal_rate' parameter of SequenceDenoiser" in err


def test_unknown_variants_are_refused_before_any_training(sweep):
    with pytest.raises(Exception, match="variant"):
        sweep.main(["--dataset", "no-such-dataset", "--grid", "variant=no_such"])


@pytest.mark.parametrize(
    ("out", "stem"),
    [("sweep_tau0.5", "sweep_tau0.5"), ("sweep.md", "sweep"), ("sweep.json", "sweep")],
)
def test_results_keep_every_dot_of_the_name(load_benchmark, tmp_path, out, stem):
    shared = load_benchmark("_shared")
    shared.write_results(tmp_path / out, "python x.py", "CPU", ["| a |"], {"rows": [1]})
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}.json", f"{stem}.md"]
    assert (
        tmp_path / f"{stem}.md"
    ).read_text() == "Command: `python x.py` (CPU).\n\n| a |\n"


def test_unknown_semantic_modes_are_refused_before_any_training(sweep, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--semantic-mode", "sentence"])
    assert "--semantic-mode: invalid choice: 'sentence'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("threads", "text"), [(1, "1 torch thread"), (2, "2 torch threads")]
)
def test_results_name_the_torch_threads(load_benchmark, monkeypatch, threads, text):
    shared = load_benchmark("_shared")
    monkeypatch.setattr(shared.torch, "get_num_threads", lambda: threads)
    assert shared.cpu_threads() == f"CPU, {text}"


def test_results_record_the_command_that_ran(load_benchmark):
    shared = load_benchmark("_shared")
    assert shared.command_line("/somewhere/benchmarks/sweep.py", ["--seed", "1"]) == (
        "python benchmarks/sweep.py --seed 1"
    )


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("max_lenght=256", "SemanticEmbedder has no parameter ['max_lenght']"),
        ("mode=prefix", "--semantic-param mode: the script sets it (--semantic-mode)"),
        ("max_length=0", "--semantic-param: The 'max_length' parameter"),
        ("max_length", "--semantic-param 'max_length': expected NAME=VALUE"),
    ],
)
def test_bad_semantic_params_are_refused_before_any_training(sweep, capsys, param, message):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--semantic-param", param])
    assert message in capsys.readouterr().err


def test_the_score_terms_sum_to_the_aligners_scores(load_benchmark):
    """The per-term ROC-AUC columns read the same three cosines the score adds up."""
    import numpy as np

    from iadsr_sk.collaborative import CollaborativeEncoder
    from iadsr_sk.data import Sequences
    from iadsr_sk.denoising import InterestAligner
    from iadsr_sk.semantic import SemanticEmbedder

    rng = np.random.default_rng(0)
    seqs = Sequences.from_lists(
        [rng.integers(0, 15, size=rng.integers(2, 9)).tolist() for _ in range(30)]
    )
    ids = seqs.vocabulary.ids
    vectors = rng.normal(size=(len(ids), 6)).astype(np.float32)
    view = SemanticEmbedder(model="precomputed", embeddings=(ids, vectors)).fit_transform(
        seqs
    )
    encoder = CollaborativeEncoder(
        "gru4rec", hidden_size=8, max_len=8, max_epochs=1, validation=None, random_state=0
    )
    interests = encoder.fit(view).transform(view)
    aligner = InterestAligner(n_epochs=1, random_state=0).fit(interests)
    terms = load_benchmark("_shared").score_terms(aligner, interests, view)
    assert list(terms) == [
        "long_short cos(s^L,h_j)",
        "short_long cos(h^L,s_j)",
        "short_short cos(h_j,s_j)",
    ]
    assert all(t.shape == (seqs.n_interactions,) for t in terms.values())
    np.testing.assert_allclose(
        sum(terms.values()), aligner.transform(interests).scores, rtol=1e-5, atol=1e-5
    )


def _tiny_data(sweep, monkeypatch):
    """Replace the sweep's dataset, language model and Stage 1 with tiny ones (40
    users over 30 items, 20% inserted noise, random 6-d item vectors, a 1-epoch
    SASRec); returns ``(split, train, fitted_on)``, the last filled with what each
    Stage-1 fit is given."""
    rng = np.random.default_rng(0)
    split = leave_one_out_split(
        Sequences.from_lists(
            [list(rng.choice(30, size=9, replace=False)) for _ in range(40)]
        )
    )
    train, noise = inject_noise(split.train, 0.2, mode="insert", random_state=0)
    monkeypatch.setattr(
        sweep,
        "noisy_training",
        lambda args: (split, train, noise, cold_item_mask(split.train)[train.codes]),
    )
    ids = split.train.vocabulary.ids
    vectors = rng.normal(size=(len(ids), 6)).astype(np.float32)
    monkeypatch.setattr(
        sweep,
        "SemanticEmbedder",
        functools.partial(SemanticEmbedder, model="precomputed", embeddings=(ids, vectors)),
    )
    fitted_on = []

    class Recorded(SequentialRecommender):
        def fit(self, X, y=None, **kwargs):
            fitted_on.append(X)
            return super().fit(X, y, **kwargs)

    tiny = dict(hidden_size=8, n_heads=1, max_len=6, max_epochs=1, random_state=0)
    # Stage 1 is trained by the helpers the sweep imports (benchmarks/_shared.py)
    shared = sys.modules["_shared"]
    monkeypatch.setattr(shared, "make_recommender", lambda run: Recorded("sasrec", **tiny))
    return split, train, fitted_on


@pytest.mark.parametrize("fit_on", ["noisy", "clean"])
def test_fit_on_chooses_the_histories_both_stages_learn_from(
    sweep, monkeypatch, tmp_path, fit_on
):
    """``--fit-on clean`` trains Stage 1 and Stage 2 on the histories before the noise
    was injected; the noisy ones are scored either way."""
    split, train, fitted_on = _tiny_data(sweep, monkeypatch)
    aligned_on = []

    class RecordedAligner(InterestAligner):
        def fit(self, X, y=None):
            aligned_on.append(X.sequences)
            return super().fit(X, y)

    monkeypatch.setattr(sweep, "InterestAligner", RecordedAligner)
    out = tmp_path / "sweep"
    sweep.main(
        [
            "--fit-on",
            fit_on,
            "--align-epochs",
            "1",
            "--out",
            str(out),
            "--embedding-cache",
            str(tmp_path / "cache"),
            "--grid",
            "default",
            "variant=collab_only",
        ]
    )
    expected = split.train if fit_on == "clean" else train
    assert len(fitted_on) == 1 and len(aligned_on) == 2
    assert fitted_on[0].to_lists() == expected.to_lists()
    assert all(seqs.to_lists() == expected.to_lists() for seqs in aligned_on)
    assert (
        f"both stages fitted on the {fit_on} histories"
        in (out.with_suffix(".md")).read_text()
    )
    full, collab_only = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert all(0.0 <= row["roc_auc"] <= 1.0 for row in (full, collab_only))
    # the per-term figures need the trained projections, which collab_only lacks
    assert len(full["roc_auc_terms"]) == 3 and collab_only["roc_auc_terms"] == {}


def _tiny_sweep(sweep, monkeypatch, tmp_path, *options):
    """Run the sweep on the tiny data with the full method and collab-only and the
    given ``options``; returns (the JSON rows, the Markdown text)."""
    _tiny_data(sweep, monkeypatch)
    out = tmp_path / "sweep"
    argv = ["--align-epochs", "1", "--embedding-cache", str(tmp_path / "cache")]
    argv += ["--out", str(out), "--grid", "default", "variant=collab_only"]
    sweep.main([*argv, *options])
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    return rows, out.with_suffix(".md").read_text()


def test_user_gates_cut_only_the_users_whose_views_agree(sweep, monkeypatch, tmp_path):
    similarities = []  # cos(h^L, s^L) of every scored user, per setting

    class RecordedAligner(InterestAligner):
        def transform(self, X):
            scores = super().transform(X)
            similarities.append(np.asarray(scores.user_similarity, dtype=np.float64))
            return scores

    monkeypatch.setattr(sweep, "InterestAligner", RecordedAligner)
    rows, text = _tiny_sweep(sweep, monkeypatch, tmp_path, "--user-gates", "-1", "0", "1")
    full, collab_only = rows
    train, noise = sweep.noisy_training(None)[1:3]
    per_user = np.bincount(train.positions()[0], weights=noise, minlength=len(train))
    injected_share = per_user / train.lengths
    everyone, half, nobody = full["user_gates"]
    # -1 gates nobody out: the cut of the main table
    assert everyone["users_denoised"] == 1.0
    assert everyone["removed"] == full["removed"] and everyone["removed"] > 0
    assert everyone["cold_removed"] == full["cold_removed"]
    # a cosine reaches 1 only where the two views point the same way: nobody here
    assert nobody["users_denoised"] == 0.0 and nobody["removed"] == 0.0
    assert 0.0 < half["users_denoised"] < 1.0
    assert 0.0 < half["removed"] < full["removed"]
    # compared with the ungated cut that removes as much
    assert half["ungated_same_size"]["removed"] == pytest.approx(half["removed"], abs=0.05)
    assert full["similarity_vs_injected_share"] == pytest.approx(
        np.corrcoef(similarities[0], injected_share)[0, 1]
    )
    # collab-only scores carry no semantic view, so no gate applies to them
    assert "user_gates" not in collab_only
    assert "No user gate for variant=collab_only: without a semantic view" in text
    assert "| default | 0 | " in text and "| default | -1 | 100.0% |" in text


def test_bad_user_gates_are_refused_before_any_training(sweep, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--user-gates", "0.2", "1.5"])
    assert "--user-gates 1.5: The 'user_gate' parameter" in capsys.readouterr().err


def test_other_removal_rates_cut_the_same_scores(sweep, monkeypatch, tmp_path):
    rows, text = _tiny_sweep(
        sweep,
        monkeypatch,
        tmp_path,
        "--removal-rate",
        "0.2",
        "--also-removal-rates",
        "0",
        "0.4",
    )
    for row in rows:
        nothing, more = row["by_removal_rate"]
        assert nothing["removal_rate"] == 0 and nothing["removed"] == 0.0
        assert nothing["cold_removed"] == 0.0
        assert more["removal_rate"] == 0.4
        assert row["removed"] < more["removed"] <= 0.45
        assert more["recall"] >= row["recall"]  # a larger cut of the same ranking
    assert "| default | 0.4 | " in text and "| variant=collab_only | 0 | 0.000 |" in text


def test_bad_other_removal_rates_are_refused_before_any_training(sweep, capsys):
    with pytest.raises(SystemExit):
        sweep.main(["--dataset", "no-such-dataset", "--also-removal-rates", "1"])
    err = capsys.readouterr().err
    assert "--also-removal-rates 1: The 'removal_rate' parameter of SequenceDenoiser" in err
