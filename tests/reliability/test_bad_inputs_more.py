"""More bad inputs: counts of items, user ids, seeds, noise scores and eval_set targets.

Each case asserts an error whose message names the problem, or, for accepted inputs,
the exact result: nothing the user gave is truncated, merged or converted.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_data import HISTORIES, tiny_recommender

from iadsr_sk.data import Sequences, inject_noise, read_interactions
from iadsr_sk.denoising import NoiseScores, SequenceDenoiser
from iadsr_sk.denoising._keep_rule import keep_mask_from_scores


# ------------------------------------------------------- Sequences.head / tail
@pytest.mark.parametrize(
    "method, value, error, message",
    [
        ("tail", 2.5, TypeError, r"max_len must be an integer >= 1, got 2\.5"),
        ("tail", True, TypeError, r"max_len must be an integer >= 1, got True"),
        ("tail", np.True_, TypeError, r"max_len must be an integer >= 1"),
        ("tail", "2", TypeError, r"max_len must be an integer >= 1, got '2'"),
        ("tail", 0, ValueError, r"max_len must be an integer >= 1, got 0"),
        ("padded", 2.5, TypeError, r"max_len must be an integer >= 1, got 2\.5"),
        ("padded", True, TypeError, r"max_len must be an integer >= 1, got True"),
        ("head", 1.5, TypeError, r"drop_last must be an integer >= 0, got 1\.5"),
        ("head", False, TypeError, r"drop_last must be an integer >= 0, got False"),
        ("head", -1, ValueError, r"drop_last must be an integer >= 0, got -1"),
    ],
    ids=[
        "tail-float",
        "tail-bool",
        "tail-numpy-bool",
        "tail-string",
        "tail-zero",
        "padded-float",
        "padded-bool",
        "head-float",
        "head-bool",
        "head-negative",
    ],
)
def test_item_counts_must_be_integers(method, value, error, message):
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    with pytest.raises(error, match=message):
        getattr(seqs, method)(value)


def test_item_counts_accept_numpy_integers():
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    assert seqs.tail(np.int64(2)).to_lists() == [[2, 3], [4, 5]]
    assert seqs.head(np.int32(1)).to_lists() == [[1, 2], [4]]
    assert seqs.head(0).to_lists() == [[1, 2, 3], [4, 5]]
    assert seqs.padded(np.int64(2)).shape == (2, 2)


# ------------------------------------------------------- read_interactions, users
@pytest.mark.parametrize(
    "users, message",
    [
        ([True, True, False], r"column 'user_id' holds booleans, not user ids"),
        (np.array([True, False, True]), r"column 'user_id' holds booleans"),
        (
            np.array([1, True, 2], dtype=object),
            r"column 'user_id' row 1: user ids must not be booleans, got True",
        ),
        (
            np.array(["a", "b", np.False_], dtype=object),
            r"column 'user_id' row 2: user ids must not be booleans, got (np\.)?False",
        ),
    ],
    ids=["list", "numpy", "object-int-and-bool", "object-numpy-bool"],
)
def test_boolean_user_ids_are_refused(users, message):
    # True would also merge with the user 1 of the same column
    table = {"user_id": users, "item_id": [1, 2, 3], "timestamp": [1, 2, 3]}
    with pytest.raises(ValueError, match=message):
        read_interactions(table)


@pytest.mark.parametrize("value", [np.inf, -np.inf], ids=["inf", "-inf"])
def test_infinite_timestamps_are_refused(value):
    table = {"user_id": [1, 1, 2], "item_id": [1, 2, 3], "timestamp": [1.0, value, 2.0]}
    with pytest.raises(
        ValueError,
        match=r"column 'timestamp' has a missing or infinite timestamp at row 1 "
        r"\(user 1\)",
    ):
        read_interactions(table)


def test_integer_and_string_user_ids_still_read():
    table = {"user_id": np.array([7, "a", 7], dtype=object), "item_id": [1, 2, 3]}
    seqs = read_interactions(table, time_col=None)
    assert seqs.user_ids.tolist() == [7, "a"] and seqs.to_lists() == [[1, 3], [2]]


# ------------------------------------------------------- inject_noise random_state
@pytest.mark.parametrize(
    "random_state, error, message",
    [
        (-1, ValueError, r"random_state must be an integer >= 0, got -1"),
        ("x", TypeError, r"random_state must be None, an integer >= 0, a numpy"),
        (1.5, TypeError, r"random_state must be None, .* got 1\.5"),
        (True, TypeError, r"random_state must be None, .* got True"),
        ([1, 2], TypeError, r"random_state must be None, .* got \[1, 2\]"),
    ],
    ids=["negative", "string", "float", "bool", "list"],
)
def test_inject_noise_random_state_is_checked(random_state, error, message):
    with pytest.raises(error, match=message):
        inject_noise(HISTORIES, 0.1, random_state=random_state)


def test_inject_noise_documented_random_states_still_work():
    a, mask_a = inject_noise(HISTORIES, 0.5, random_state=np.int64(3))
    b, mask_b = inject_noise(HISTORIES, 0.5, random_state=3)
    assert a == b and np.array_equal(mask_a, mask_b)
    c, mask_c = inject_noise(HISTORIES, 0.5, random_state=np.random.default_rng(3))
    assert c == a and np.array_equal(mask_c, mask_a)
    inject_noise(HISTORIES, 0.5, random_state=None)
    # a RandomState gives the seed: the same state, the same noise
    d, mask_d = inject_noise(HISTORIES, 0.5, random_state=np.random.RandomState(0))
    e, mask_e = inject_noise(HISTORIES, 0.5, random_state=np.random.RandomState(0))
    assert d == e and np.array_equal(mask_d, mask_e)


# ------------------------------------------------------- NoiseScores.scores
def _scores(scores):
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    return NoiseScores(seqs, scores, np.array([0.5, 0.1]), source=seqs)


@pytest.mark.parametrize(
    "scores, message",
    [
        (np.array(["1", "2", "3", "4", "5"]), r"got dtype <U1"),
        (np.array([True, False, True, True, False]), r"got dtype bool"),
        (np.array([1.0, 2.0, 3.0, 4.0, None], dtype=object), r"got dtype object"),
        (np.array([1, 2, 3, 4, 5], dtype=object), r"got dtype object"),
        (np.ones(5, dtype=complex), r"got dtype complex128"),
    ],
    ids=["strings", "bools", "object-with-none", "object-ints", "complex"],
)
@pytest.mark.parametrize("options", [{}, {"removal_rate": 0.2}], ids=["rule", "budget"])
def test_noise_scores_must_be_numbers(scores, message, options):
    with pytest.raises(TypeError, match=r"NoiseScores\.scores must be real numbers, "):
        SequenceDenoiser(**options).fit(_scores(scores))
    with pytest.raises(TypeError, match=message):
        SequenceDenoiser(**options).fit(_scores(scores))


@pytest.mark.parametrize("shape", [(5, 1), (1, 5)], ids=["column", "row"])
def test_noise_scores_must_be_one_dimensional(shape):
    scores = _scores(np.zeros(shape))
    with pytest.raises(
        ValueError,
        match=rf"NoiseScores\.scores has shape \({shape[0]}, {shape[1]}\), expected one "
        r"score per interaction \(5,\)",
    ):
        SequenceDenoiser().fit(scores)
    with pytest.raises(ValueError, match=r"noise scores have shape \(\d, \d\)"):
        keep_mask_from_scores(scores.sequences, scores.scores)


def test_keep_rule_refuses_string_scores():
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    with pytest.raises(TypeError, match=r"noise scores must be real numbers"):
        keep_mask_from_scores(seqs, np.array(["1", "2", "3", "4", "5"]))


def test_numeric_noise_scores_still_denoise():
    for scores in ([1.0, -1.0, 2.0, -2.0, 0.5], np.arange(5), np.zeros(5, np.float32)):
        denoiser = SequenceDenoiser().fit(_scores(scores))
        assert 0 <= denoiser.removed_fraction_ < 1


# ------------------------------------------------------- eval_set targets
_INPUTS = [[1, 2], [4, 7]]


@pytest.mark.parametrize(
    "use_sequences", [False, True], ids=["item-ids", "sequences-codes"]
)
@pytest.mark.parametrize(
    "targets", [[[3], [5]], np.array([[3], [5]]), [[3, 5]]], ids=["column", "np", "row"]
)
def test_eval_set_targets_must_be_one_dimensional(use_sequences, targets):
    inputs = Sequences.from_lists(_INPUTS) if use_sequences else _INPUTS
    shape = np.shape(targets)
    with pytest.raises(
        ValueError,
        match=rf"eval_set targets have shape \({shape[0]}, {shape[1]}\), expected "
        r"one target per input history",
    ):
        tiny_recommender().fit(HISTORIES, eval_set=(inputs, targets))


@pytest.mark.parametrize(
    "targets, message",
    [
        ([1.0, 2.0], "got floats"),
        ([True, False], "got booleans"),
        ([1, True], "got booleans"),
        (["1", "2"], "got strings"),
    ],
    ids=["floats", "bools", "int-and-bool", "strings"],
)
def test_eval_set_target_codes_follow_evaluate(targets, message):
    inputs = Sequences.from_lists(_INPUTS)
    with pytest.raises(
        TypeError, match=f"eval_set targets must be integer item codes, {message}"
    ):
        tiny_recommender().fit(HISTORIES, eval_set=(inputs, targets))


def test_eval_set_target_codes_outside_the_inputs_vocabulary():
    inputs = Sequences.from_lists(_INPUTS)
    with pytest.raises(ValueError, match=r"eval_set target codes must lie in \[0, 4\)"):
        tiny_recommender().fit(HISTORIES, eval_set=(inputs, [0, 4]))


@pytest.mark.parametrize(
    "targets, error, message",
    [
        ([3.0, 5.0], TypeError, "eval_set targets must be integers or strings, got floats"),
        ([True, False], TypeError, "eval_set targets must be integers or strings, got a"),
    ],
    ids=["floats", "bools"],
)
def test_eval_set_target_ids_refuse_floats_and_bools(targets, error, message):
    with pytest.raises(error, match=message):
        tiny_recommender().fit(HISTORIES, eval_set=(_INPUTS, targets))


def test_valid_eval_sets_still_fit():
    model = tiny_recommender().fit(HISTORIES, eval_set=(_INPUTS, [3, 5]))
    assert model.n_validation_ == 2
    inputs = Sequences.from_lists(_INPUTS)
    codes = np.array([0, 3], dtype=object)  # integer objects, as evaluate accepts
    assert tiny_recommender().fit(HISTORIES, eval_set=(inputs, codes)).n_validation_ == 2


def test_an_infinite_user_id_is_refused():
    table = {"user_id": np.array([1.0, np.inf, 1.0]), "item_id": [1, 2, 3]}
    with pytest.raises(ValueError, match=r"column 'user_id' row 1: user id inf"):
        read_interactions(table, time_col=None)


@pytest.mark.parametrize("pad_code", [1.5, True, "0"])
def test_padded_takes_an_integer_pad_code(pad_code):
    seqs = Sequences.from_lists([[1, 2, 3], [4]])
    with pytest.raises(TypeError, match="pad_code must be an integer"):
        seqs.padded(3, pad_code=pad_code)
    assert seqs.padded(3, pad_code=np.int64(-7)).tolist() == [[0, 1, 2], [-7, -7, 3]]
