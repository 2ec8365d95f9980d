"""Bad inputs to the noise scores, the keep rule, the metrics and the command line.

Each case asserts an error whose message names the problem, or the behaviour a
documented rule promises.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_data import (
    HISTORIES,
    collaborative_view,
    item_vectors,
    noise_scores,
    stage_one,
    tiny_aligner,
    tiny_encoder,
)
from sklearn.utils._param_validation import InvalidParameterError

from iadsr_sk.baselines import MarkovChain
from iadsr_sk.cli import main
from iadsr_sk.data import Sequences
from iadsr_sk.denoising import NoiseScores, SequenceDenoiser
from iadsr_sk.denoising._keep_rule import keep_mask_from_scores
from iadsr_sk.metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k, target_ranks
from iadsr_sk.semantic import SemanticEmbedder


@pytest.fixture(scope="module")
def markov():
    return MarkovChain().fit(HISTORIES)


@pytest.fixture(scope="module")
def aligner_and_stages():
    stages = stage_one()
    return tiny_aligner().fit(collaborative_view(stages=stages)), stages


# -------------------------------------------------- the aligner's item catalog
def _view_over(histories):
    """A view whose own embedder and encoder were fitted on ``histories``' items."""
    items = sorted({item for row in histories for item in row})
    embedder = SemanticEmbedder("precomputed", embeddings=item_vectors(items=items))
    return collaborative_view(
        histories, stages=(embedder.fit(histories), tiny_encoder().fit(histories))
    )


def test_aligner_refuses_another_catalog_of_the_same_size(aligner_and_stages):
    aligner, _ = aligner_and_stages
    shifted = [[item + 100 for item in row] for row in HISTORIES]
    with pytest.raises(KeyError, match=r"12 unknown item id\(s\) not seen in fit: 101"):
        aligner.transform(_view_over(shifted))


def test_aligner_names_the_unknown_item_of_a_bigger_catalog(aligner_and_stages):
    aligner, _ = aligner_and_stages
    grown = [[*row, 13] for row in HISTORIES]
    with pytest.raises(KeyError, match=r"1 unknown item id\(s\) not seen in fit: 13"):
        aligner.transform(_view_over(grown))


def test_aligner_scores_new_users_over_a_subset_of_its_items(aligner_and_stages):
    aligner, (embedder, encoder) = aligner_and_stages
    # users never seen in fit, over the even items only; one view encoded by an
    # encoder fitted on those 6 items (its codes 0-5 are items 1-6 to the aligner)
    new_users = [[2, 4, 6, 8], [10, 12, 2], [4, 8, 12, 6, 10]]
    own = tiny_encoder().fit(new_users).transform(embedder.transform(new_users))
    fitted = encoder.transform(embedder.transform(new_users))
    scores = aligner.transform(own)
    assert scores.sequences.to_lists() == new_users
    np.testing.assert_allclose(
        scores.scores, aligner.transform(fitted).scores, rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------- noise scores, keep rule
def _scores(**fields):
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    values = dict(
        sequences=seqs,
        scores=np.array([1.0, -1.0, 2.0, -2.0, 0.5]),
        user_similarity=np.array([0.5, 0.1]),
        source=seqs,
    )
    return NoiseScores(**{**values, **fields})


@pytest.mark.parametrize(
    "options",
    [{}, {"standardize": True}, {"center_items": True}],
    ids=["raw", "standardize", "center_items"],
)
def test_removal_rate_names_infinite_scores(options):
    scores = _scores(scores=np.array([np.inf, -np.inf, 2.0, -2.0, 0.5]))
    with pytest.raises(ValueError, match=r"noise scores contain inf \(2 of 5\)"):
        SequenceDenoiser(removal_rate=0.2, **options).fit(scores)


def test_removal_rate_still_names_nan_scores():
    scores = _scores(scores=np.array([np.nan, -1.0, 2.0, -2.0, 0.5]))
    with pytest.raises(ValueError, match="noise scores contain NaN"):
        SequenceDenoiser(removal_rate=0.2).fit(scores)


@pytest.mark.parametrize("similarity", [[0.5], [0.5, 0.1, 0.2]], ids=["short", "long"])
def test_user_similarity_of_the_wrong_length(similarity):
    scores = _scores(user_similarity=np.array(similarity))
    with pytest.raises(
        ValueError,
        match=rf"user_similarity has shape \({len(similarity)},\), expected one value "
        r"per sequence \(2,\)",
    ):
        SequenceDenoiser(user_gate=0.2).fit(scores)


def test_keep_rule_names_user_similarity_of_the_wrong_length():
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    with pytest.raises(ValueError, match="1 user similarities for 2 sequences"):
        keep_mask_from_scores(
            seqs, np.zeros(5), user_similarity=np.array([0.5]), user_gate=0.2
        )


@pytest.mark.parametrize(
    "temperature", [0.0, -1.0, np.nan, np.inf], ids=["zero", "negative", "nan", "inf"]
)
def test_noise_score_temperature_must_be_finite_and_positive(temperature):
    # a negative temperature would silently reverse the keep rule
    scores = _scores(temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        SequenceDenoiser().fit(scores)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        keep_mask_from_scores(scores.sequences, scores.scores, temperature=temperature)


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan], ids=["zero", "negative", "nan"])
def test_aligner_gumbel_temperature_is_a_validated_parameter(value):
    # the aligner's gumbel_temperature is what sets NoiseScores.temperature
    with pytest.raises(InvalidParameterError, match="'gumbel_temperature' parameter"):
        tiny_aligner(gumbel_temperature=value).fit(collaborative_view())


def test_noise_scores_need_a_sequences_container():
    with pytest.raises(TypeError, match=r"NoiseScores\.sequences must be a Sequences"):
        SequenceDenoiser().fit(_scores(sequences=[[1, 2, 3], [4, 5]]))


def test_valid_noise_scores_still_denoise():
    assert SequenceDenoiser().fit(noise_scores()).removed_fraction_ > 0


# ------------------------------------------------------------------ metrics
@pytest.mark.parametrize(
    "targets, message",
    [
        ([1.5], "got floats"),
        ([1.0], "got floats"),
        (["3"], "got strings"),
        ([True], "got booleans"),
        ([np.True_], "got booleans"),
    ],
    ids=["fraction", "integral-float", "string", "bool", "numpy-bool"],
)
def test_evaluate_targets_must_be_integer_codes(markov, targets, message):
    with pytest.raises(TypeError, match=f"targets must be integer item codes, {message}"):
        markov.evaluate([[1, 2]], targets)


def test_evaluate_targets_of_the_wrong_shape(markov):
    with pytest.raises(ValueError, match=r"targets has shape \(1, 1\), expected \(1,\)"):
        markov.evaluate([[1, 2]], [[3]])


def test_evaluate_integer_codes_still_work(markov):
    codes = markov.vocabulary_.encode([3])
    assert markov.evaluate([[1, 2]], codes) == markov.evaluate([[1, 2]], [int(codes[0])])


@pytest.mark.parametrize(
    "targets, error, message",
    [
        ([1.0, 2.0], TypeError, "got floats"),
        ([True, False], TypeError, "got booleans"),
        ([1, True], TypeError, "got booleans"),
        (["1", "2"], TypeError, "got strings"),
        (np.array([1, None], dtype=object), TypeError, "got dtype object"),
    ],
    ids=["floats", "bools", "int-and-bool", "strings", "none"],
)
def test_target_ranks_refuses_targets_that_are_not_codes(targets, error, message):
    scores = np.array([[0.1, 0.5, 0.3], [0.2, 0.1, 0.9]])
    with pytest.raises(error, match=message):
        target_ranks(scores, targets)


def test_target_ranks_accepts_integer_object_arrays():
    scores = np.array([[0.1, 0.5, 0.3], [0.2, 0.1, 0.9]])
    ranks = target_ranks(scores, np.array([1, 2], dtype=object))
    assert ranks.tolist() == [0, 0]


@pytest.mark.parametrize("metric", [hit_rate_at_k, ndcg_at_k, mrr_at_k])
@pytest.mark.parametrize(
    "ranks, message",
    [
        ([-1, 3], "ranks are 0-based and must be >= 0"),
        ([np.nan, 3], "ranks contain NaN or inf"),
        ([0.5, 3], "ranks must be whole numbers"),
    ],
    ids=["negative", "nan", "fraction"],
)
def test_ranks_must_be_whole_numbers_from_zero(metric, ranks, message):
    with pytest.raises(ValueError, match=message):
        metric(np.array(ranks), 2)


def test_ranks_that_are_booleans():
    with pytest.raises(TypeError, match="ranks must be integers, got dtype bool"):
        hit_rate_at_k(np.array([True, False]), 2)


def test_valid_ranks_still_score():
    # 0-based: rank 0 is the top item
    assert hit_rate_at_k(np.array([0, 1, 2]), 2) == pytest.approx(2 / 3)
    assert ndcg_at_k(np.array([0.0, 3.0]), 2) == pytest.approx(0.5)


# ---------------------------------------------------------------------- CLI
@pytest.fixture
def small_text_file(tmp_path):
    path = tmp_path / "small.txt"
    rows = [f"u{u} " + " ".join(map(str, row)) for u, row in enumerate(HISTORIES)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _cli_error(argv, capsys) -> str:
    """stderr of a command line that must fail with exit status 2."""
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "expected an integer from 0 to 4294967295, got -1"),
        ("4294967296", "expected an integer from 0 to 4294967295, got 4294967296"),
        ("one", "expected an integer, got 'one'"),
    ],
    ids=["negative", "too-big", "word"],
)
def test_cli_bad_seed_names_the_option(small_text_file, capsys, value, message):
    argv = ["run", "--sequences", str(small_text_file), "--model", "gru4rec"]
    err = _cli_error([*argv, "--noise-rate", "0.1", "--seed", value, "-q"], capsys)
    assert f"argument --seed: {message}" in err


def test_cli_semantic_denoiser_without_item_text_names_the_option(small_text_file, capsys):
    argv = ["run", "--sequences", str(small_text_file), "--model", "gru4rec"]
    argv += ["--denoiser", "iadsr", "--max-epochs", "1", "--align-epochs", "1", "-q"]
    err = _cli_error(argv, capsys)
    assert "--denoiser iadsr needs item texts" in err and "--item-text" in err
    assert "item_text=" not in err


def test_evaluate_reads_sequence_targets_in_the_inputs_vocabulary():
    """A model fitted on plain lists has a vocabulary of its own: the split's target
    codes are translated through the item ids, never read as its codes."""
    from iadsr_sk.baselines import MostPopular
    from iadsr_sk.data import leave_one_out_split

    # item 1 is never a training item, and the most popular one is 2
    split = leave_one_out_split([[2, 2, 2, 2, 1], [2, 3, 4, 2, 1], [2, 2, 4, 2, 1]])
    on_sequences = MostPopular().fit(split.train)
    on_lists = MostPopular().fit(split.train.to_lists())
    assert on_lists.vocabulary_ != split.train.vocabulary
    for model in (on_sequences, on_lists):
        assert model.evaluate(split.valid_input, split.valid_target, ks=[1])["hr@1"] == 1.0
    # the test target (item 1) was never seen by the lists' model
    with pytest.raises(KeyError, match="unknown item id\\(s\\) not seen in fit: 1"):
        on_lists.evaluate(split.test_input, split.test_target, ks=[1])
    with pytest.raises(ValueError, match="inputs' vocabulary"):
        on_lists.evaluate(split.valid_input, [0, 1, 99], ks=[1])


def test_the_scorer_says_what_to_do_when_lists_hold_unseen_items():
    from iadsr_sk.baselines import MostPopular
    from iadsr_sk.data import as_sequences
    from iadsr_sk.metrics import make_ranking_scorer

    train, held_out = [[1, 2, 3], [3, 3, 1]], [[1, 2, 9, 3]]  # 3 is the most popular
    scorer = make_ranking_scorer("ndcg", 10)
    with pytest.raises(
        KeyError, match=r"not seen in fit: 9\. The sequences are plain lists"
    ):
        scorer(MostPopular().fit(train), held_out)
    # one vocabulary for every fold: the unseen item is known (and never recommended)
    everything = as_sequences(train + held_out)
    model = MostPopular().fit(everything[:2])
    assert scorer(model, everything[2:]) == 1.0
