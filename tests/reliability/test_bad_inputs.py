"""Bad inputs across the public API and the command line.

Each case asserts an error whose message names the problem, or the behaviour a
documented rule promises. Cases are grouped by what is wrong; every parametrised
value is a distinct case.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re

import numpy as np
import pytest
import scipy.sparse as sp
from reliability_data import (
    HISTORIES,
    ITEMS,
    collaborative_view,
    item_vectors,
    noise_scores,
    tiny_aligner,
    tiny_embedder,
    tiny_encoder,
    tiny_recommender,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from iadsr_sk._base import resolve_device
from iadsr_sk.baselines import MarkovChain, MostPopular
from iadsr_sk.cli import main
from iadsr_sk.data import (
    Sequences,
    inject_noise,
    leave_one_out_split,
    read_interactions,
    read_sequences,
)
from iadsr_sk.denoising import NoiseScores, RandomDropper, SequenceDenoiser
from iadsr_sk.metrics import (
    hit_rate_at_k,
    make_ranking_scorer,
    ndcg_at_k,
    target_ranks,
)
from iadsr_sk.semantic import SemanticEmbedder


@pytest.fixture(scope="module")
def markov():
    return MarkovChain().fit(HISTORIES)


# ------------------------------------------------------------ empty data
@pytest.mark.parametrize(
    "X, message",
    [
        ([], "no sequences given"),
        ([[1, 2], []], "sequence 1 is empty"),
        ([[]], "sequence 0 is empty"),
    ],
    ids=["no-sequences", "one-empty-history", "only-empty-history"],
)
def test_empty_data_is_refused_at_fit(X, message):
    with pytest.raises(ValueError, match=message):
        MarkovChain().fit(X)


def test_empty_history_is_refused_at_predict(markov):
    with pytest.raises(ValueError, match="sequence 1 of X is empty"):
        markov.predict(Sequences.from_lists([[1], []], allow_empty=True), k=2)


def test_next_item_needs_two_items_per_history():
    with pytest.raises(ValueError, match="no training sequence has 2 items"):
        tiny_recommender().fit([[1], [2], [3]])
    with pytest.raises(ValueError, match="no user has at least 3 items"):
        leave_one_out_split([[1, 2], [3]])


# --------------------------------------------------------------- item ids
@pytest.mark.parametrize(
    "X, error, message",
    [
        ([[1, 2.5]], TypeError, "got a float"),
        ([np.array([1.0, 2.0])], TypeError, "got floats"),
        ([[1, "a"]], TypeError, "mix integers and strings"),
        ([[1, True]], TypeError, "got a boolean"),
        ([[1, None]], TypeError, "contain None"),
        ([[1, float("nan")]], ValueError, "contain NaN"),
        ([np.array([1.0, np.nan])], ValueError, "contain NaN"),
        ([[1, float("inf")]], TypeError, "got a float"),
        ([[1, [2]]], TypeError, "got list"),
    ],
    ids=[
        "float",
        "float-array",
        "mixed-int-str",
        "bool",
        "none",
        "nan",
        "nan-array",
        "inf",
        "nested-list",
    ],
)
def test_bad_item_ids_are_named(X, error, message):
    with pytest.raises(error, match=message):
        MarkovChain().fit(X)


def test_negative_item_ids_are_ordinary_ids():
    # rule: an item id is any integer or string; it is mapped, never used as an index
    model = MarkovChain().fit([[-3, -1, -2], [-1, -2, -3], [-2, -3, -1]])
    assert sorted(model.vocabulary_.ids.tolist()) == [-3, -2, -1]
    assert model.predict([[-1]], k=1).tolist() == [[-2]]


def test_unknown_item_ids_are_listed(markov):
    with pytest.raises(KeyError, match=r"2 unknown item id\(s\) not seen in fit: 99, 100"):
        markov.predict([[1, 99], [100]], k=2)


def test_string_ids_on_an_integer_catalog(markov):
    with pytest.raises(TypeError, match="are strs but this vocabulary's item ids are ints"):
        markov.predict([["1", "2"]], k=2)


@pytest.mark.parametrize(
    "make_estimator, X",
    [
        (tiny_embedder, HISTORIES),
        (tiny_encoder, HISTORIES),
        (tiny_recommender, HISTORIES),
    ],
    ids=["SemanticEmbedder.transform", "CollaborativeEncoder.transform", "predict"],
)
def test_unknown_items_after_fit_raise_key_error(make_estimator, X):
    estimator = make_estimator().fit(X)
    use = estimator.transform if hasattr(estimator, "transform") else estimator.predict
    with pytest.raises(KeyError, match=r"unknown item id.*: 999"):
        use([[1, 999]])


# ---------------------------------------------------------- wrong types of X
@pytest.mark.parametrize(
    "X, message",
    [
        ("1 2 3", "got str"),
        ({"u1": [1, 2]}, "got dict"),
        (None, "got NoneType"),
        (7, "got int"),
        ([1, 2, 3], r"pass a list of histories, e\.g\. \[\[1, 2, 3\]\]"),
        (np.array([1, 2, 3]), "is a 1-d array of int64 values"),
        (np.ones((3, 4)), "is a 2-d array"),
        (sp.csr_matrix(np.eye(3)), "sparse input is not supported"),
    ],
    ids=["string", "dict", "none", "int", "flat-list", "1d-array", "2d-array", "sparse"],
)
def test_wrong_container_types_say_what_to_pass(X, message):
    with pytest.raises(TypeError, match=message):
        MostPopular().fit(X)


def test_pipeline_steps_name_the_input_they_expect():
    with pytest.raises(
        TypeError, match=r"expects the output of InterestAligner\.transform"
    ):
        SequenceDenoiser().fit(HISTORIES)
    with pytest.raises(TypeError, match="expects the output of CollaborativeEncoder"):
        tiny_aligner().fit(HISTORIES)


def test_aligner_needs_the_semantic_view():
    encoder = tiny_encoder().fit(HISTORIES)
    with pytest.raises(ValueError, match="needs the semantic view"):
        tiny_aligner().fit(encoder.transform(HISTORIES))


# ------------------------------------------------------------- NaN and inf
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_timestamps(bad):
    with pytest.raises(
        ValueError, match=r"timestamps contain NaN or inf \(first in sequence 1"
    ):
        Sequences.from_lists([[1, 2], [3, 4]], timestamps=[[0, 1], [2, bad]])


def test_non_finite_timestamp_in_a_table():
    table = {"user_id": [1, 1, 2], "item_id": [5, 6, 7], "timestamp": [0.0, np.inf, 1.0]}
    with pytest.raises(
        ValueError, match="missing or infinite timestamp at row 1 \\(user 1\\)"
    ):
        read_interactions(table)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_precomputed_embeddings(bad):
    vectors = np.ones((len(ITEMS), 4))
    vectors[2, 1] = bad
    embedder = SemanticEmbedder(model="precomputed", embeddings=(ITEMS, vectors))
    with pytest.raises(ValueError, match=r"NaN or inf in 1 row\(s\) \(item ids 3\)"):
        embedder.fit(HISTORIES)


def test_nan_ranking_scores():
    scores = np.array([[0.1, np.nan, 0.3]])
    with pytest.raises(ValueError, match="scores contain NaN"):
        target_ranks(scores, [0])


def test_infinite_ranking_scores_are_ordered():
    # rule: +inf and -inf are ordinary (extreme) scores; only NaN is refused
    assert target_ranks(np.array([[np.inf, 0.0, -np.inf]]), [2]).tolist() == [2]
    assert target_ranks(np.array([[np.inf, 0.0, -np.inf]]), [0]).tolist() == [0]


def test_nan_noise_scores():
    scores = noise_scores()
    scores.scores[3] = np.nan
    with pytest.raises(ValueError, match="noise scores contain NaN"):
        SequenceDenoiser().fit(scores)


def test_infinite_noise_scores_follow_the_keep_rule():
    seqs = Sequences.from_lists([[1, 2, 3]])
    scores = NoiseScores(seqs, np.array([np.inf, -np.inf, 0.5]), np.zeros(1), source=seqs)
    denoiser = SequenceDenoiser().fit(scores)
    assert denoiser.transform(scores).to_lists() == [[1, 3]]


def test_nan_in_the_semantic_view():
    view = collaborative_view()
    view.semantic.short_term = view.semantic.short_term.copy()
    view.semantic.short_term[0, 0] = np.nan
    with pytest.raises(ValueError, match="semantic vectors contain NaN or inf"):
        tiny_aligner().fit(view)


# --------------------------------------------------- readers: files and users
def _write(path, data: bytes | str):
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def test_duplicate_user_in_text_lines(tmp_path):
    path = _write(tmp_path / "s.txt", "u1 1 2\nu2 2 3\nu1 4 5\n")
    with pytest.raises(
        ValueError, match="line 3: duplicate user 'u1' \\(first on line 1\\)"
    ):
        read_sequences(path)


def test_duplicate_user_in_json(tmp_path):
    path = _write(tmp_path / "s.json", '{"u1": [1, 2],\n "u2": [3],\n "u1": [4]}')
    with pytest.raises(ValueError, match="line 3: duplicate user 'u1'"):
        read_sequences(path)


def test_duplicate_item_in_item_text(tmp_path):
    path = _write(tmp_path / "t.txt", "u1 1 2\n")
    text = _write(tmp_path / "items.tsv", "1\tred lipstick\n2\tblue wig\n1\tnail polish\n")
    with pytest.raises(ValueError, match="line 3: duplicate item '1'"):
        read_sequences(path, item_text=text)


@pytest.mark.parametrize(
    "name, data, fmt, message",
    [
        ("latin1.txt", "u1 café 2\n".encode("latin-1"), "auto", "is not valid UTF-8"),
        ("data.json", '{"u1": [1, 2], "u2": [2]}', "text", "looks like JSON"),
        ("data.txt", "u1 1 2\n", "json", "invalid JSON"),
        ("data.txt", "u1 1 2\n", "recbole", "is not 'name:type'"),
        ("data.txt.gz", gzip.compress(b"u1 1 2\n"), "auto", "NUL byte"),
        ("utf16.txt", "u1 1 2\n".encode("utf-16"), "auto", "NUL byte"),
        ("nul.txt", b"u1 1 2\x00\n", "auto", "line 1: the file holds a NUL byte"),
        ("empty.txt", "  \n", "auto", "the file is empty"),
        ("data.txt", "u1 1 2\n", "csv", "unknown format 'csv'"),
        ("header.inter", "user_id:token\titem_id:token\n", "auto", "header but no rows"),
    ],
    ids=[
        "latin-1",
        "json-as-text",
        "text-as-json",
        "text-as-recbole",
        "gzip",
        "utf-16",
        "nul-byte",
        "empty",
        "unknown-format",
        "recbole-no-rows",
    ],
)
def test_wrong_file_formats_and_encodings(tmp_path, name, data, fmt, message):
    path = _write(tmp_path / name, data)
    with pytest.raises(ValueError, match=message):
        read_sequences(path, format=fmt)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_sequences(tmp_path / "absent.txt")
    with pytest.raises(IsADirectoryError):
        read_sequences(tmp_path)


# ------------------------------------------------------- histories and max_len
def test_histories_longer_than_max_len_are_windowed():
    # rule: a history longer than max_len is cut into overlapping windows for training
    # and every position still gets its state from the max_len items up to it
    long_history = [1 + (i * 5) % 12 for i in range(40)]
    model = tiny_recommender(max_len=4).fit([long_history, *HISTORIES])
    assert model.n_train_positions_ == 39 + sum(len(h) - 1 for h in HISTORIES)
    assert model.predict([long_history], k=3).shape == (1, 3)
    encoder = tiny_encoder(max_len=4).fit([long_history, *HISTORIES])
    states = encoder.transform([long_history]).short_term
    assert states.shape == (40, 8) and np.isfinite(states).all()
    # the state at a late position equals the one after that 4-item prefix alone
    prefix = encoder.transform([long_history[16:20]]).short_term
    np.testing.assert_allclose(states[19], prefix[-1], rtol=1e-5, atol=1e-6)


def test_leave_one_out_truncates_only_the_inputs():
    split = leave_one_out_split([list(range(30))], max_len=5)
    assert split.train.lengths.tolist() == [28]
    assert split.test_input.lengths.tolist() == [5]


# ------------------------------------------------------------ item text
def test_no_item_text_at_all(text_model):
    with pytest.raises(ValueError, match="no item text: X carries no catalog"):
        SemanticEmbedder(text_model).fit([[1, 2, 3]])


def test_items_without_text_get_the_placeholder(text_model, caplog):
    embedder = SemanticEmbedder(text_model, item_text={1: "red lipstick", 2: "blue wig"})
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        embedder.fit([[1, 2, 3]])
    assert "1 of 3 items have no text (item ids 3)" in caplog.text
    assert embedder.missing_text_.tolist() == [False, False, True]
    placeholder = embedder.embed_texts(["unknown item"])[0]
    np.testing.assert_allclose(embedder.item_embeddings_[2], placeholder, atol=1e-6)


def test_items_without_text_get_zero_vectors_and_no_weight(text_model):
    embedder = SemanticEmbedder(
        text_model, item_text={1: "red lipstick", 2: "  "}, missing_text="zero"
    ).fit([[1, 2, 3]])
    assert embedder.n_missing_text_ == 2
    assert not embedder.item_embeddings_[1:].any()
    long_term = embedder.transform([[1, 2, 3]]).long_term[0]
    np.testing.assert_allclose(long_term, embedder.item_embeddings_[0], atol=1e-6)


# --------------------------------------------------------- mismatched catalog
@pytest.mark.parametrize(
    "embeddings, error, message",
    [
        (
            (ITEMS, np.ones((len(ITEMS) - 1, 4))),
            ValueError,
            r"expected an array of shape \(12, dim\)",
        ),
        ((ITEMS, np.ones(len(ITEMS))), ValueError, r"got shape \(12,\)"),
        ((ITEMS, np.ones((len(ITEMS), 0))), ValueError, r"got shape \(12, 0\)"),
        (
            (ITEMS[:-2], np.ones((len(ITEMS) - 2, 4))),
            ValueError,
            "lack 2 of the 12 items: 11, 12",
        ),
        ({1: [1.0, 0.0], 2: [1.0]}, ValueError, "differ in length"),
        (([str(i) for i in ITEMS], np.ones((12, 4))), TypeError, "keyed by str ids"),
        ((ITEMS, np.full((12, 4), "x")), TypeError, "must be numeric"),
        ((ITEMS, np.ones((12, 4)), "x"), TypeError, r"an \(item_ids, array\) pair or an"),
        ([[1.0, 2.0]], TypeError, "'embeddings' parameter of SemanticEmbedder must be"),
    ],
    ids=[
        "rows",
        "1d",
        "width-0",
        "missing-items",
        "ragged",
        "id-kind",
        "text",
        "triple",
        "list",
    ],
)
def test_precomputed_embeddings_must_match_the_catalog(embeddings, error, message):
    embedder = SemanticEmbedder(model="precomputed", embeddings=embeddings)
    with pytest.raises(error, match=message):
        embedder.fit(HISTORIES)


def test_semantic_width_must_match_the_fitted_aligner():
    view = collaborative_view()
    aligner = tiny_aligner().fit(view)
    wider = SemanticEmbedder(model="precomputed", embeddings=item_vectors(dim=6))
    other = view.encoder.transform(wider.fit(HISTORIES).transform(HISTORIES))
    with pytest.raises(ValueError, match="width 6, but the aligner was fitted on width 4"):
        aligner.transform(other)


# ---------------------------------------------------------------- K
@pytest.mark.parametrize(
    "k, error, message",
    [
        (0, ValueError, "k must be >= 1, got 0"),
        (-2, ValueError, "k must be >= 1, got -2"),
        (13, ValueError, r"k=13 is larger than the catalog \(12 items\)"),
        (2.0, TypeError, "k must be an integer, got float"),
        (True, TypeError, "k must be an integer, got bool"),
    ],
    ids=["zero", "negative", "above-catalog", "float", "bool"],
)
def test_predict_k_out_of_range(markov, k, error, message):
    with pytest.raises(error, match=message):
        markov.predict([[1, 2]], k=k)


@pytest.mark.parametrize("metric", [hit_rate_at_k, ndcg_at_k])
@pytest.mark.parametrize(
    "k, error, message",
    [(0, ValueError, "K must be >= 1"), (2.5, TypeError, "K must be an integer")],
    ids=["zero", "float"],
)
def test_metric_k_out_of_range(metric, k, error, message):
    with pytest.raises(error, match=message):
        metric(np.array([0, 3]), k)


def test_evaluate_and_scorer_k(markov):
    with pytest.raises(ValueError, match="K must be >= 1, got 0"):
        markov.evaluate([[1, 2]], [3], ks=(5, 0))
    with pytest.raises(ValueError, match="K must be >= 1, got -1"):
        make_ranking_scorer("ndcg", -1)
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        make_ranking_scorer("auc", 10)


def test_evaluate_targets_must_match(markov):
    with pytest.raises(ValueError, match="1 targets for 2 histories"):
        markov.evaluate([[1, 2], [3]], [3])
    with pytest.raises(ValueError, match=r"target codes must lie in \[0, 12\)"):
        markov.evaluate([[1, 2]], [12])


# --------------------------------------------------------------- devices
@pytest.mark.parametrize(
    "device, message",
    [
        ("gpu", "unknown device 'gpu'; valid choices: 'cpu', 'cuda'"),
        ("tpu", "unknown device 'tpu'"),
        ("cuda:99", "device='cuda:99'"),
        ("metal", "unknown device 'metal'"),
    ],
)
def test_wrong_device_names(device, message):
    if device == "cuda:99":
        import torch

        if torch.cuda.is_available():  # on a GPU host the index is what is wrong
            message = "there are only"
        else:
            message = "device='cuda:99' was requested but CUDA is not available"
    with pytest.raises(ValueError, match=message):
        tiny_recommender(device=device).fit(HISTORIES)


def test_device_of_the_wrong_type():
    with pytest.raises(InvalidParameterError, match="'device' parameter"):
        tiny_recommender(device=0).fit(HISTORIES)
    with pytest.raises(TypeError, match=r"device must be a string or torch\.device"):
        resolve_device(0)


def test_embedder_refuses_a_bad_device_before_any_work(text_model):
    embedder = SemanticEmbedder(text_model, item_text={1: "red", 2: "blue"}, device="gpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        embedder.fit([[1, 2]])


# -------------------------------------------------------- before fit
@pytest.mark.parametrize(
    "estimator, method",
    [
        (tiny_embedder(), "transform"),
        (tiny_encoder(), "transform"),
        (tiny_encoder(), "predict"),
        (tiny_recommender(), "predict"),
        (tiny_recommender(), "score_next"),
        (tiny_recommender(), "evaluate"),
        (tiny_recommender(), "score"),
        (tiny_aligner(), "transform"),
        (SequenceDenoiser(), "transform"),
        (RandomDropper(), "transform"),
        (MostPopular(), "predict"),
        (MarkovChain(), "recommend"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_use_before_fit_raises_not_fitted(estimator, method):
    args = {
        "evaluate": ([[1, 2]], [3]),
        "transform": (noise_scores(),)
        if isinstance(estimator, SequenceDenoiser)
        else (HISTORIES,),
    }.get(method, (HISTORIES,))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(estimator, method)(*args)


# ------------------------------------------------ refit on another catalog
NEW_HISTORIES = [[101, 102, 103, 104], [102, 103, 104, 105], [105, 101, 102, 103]]


@pytest.mark.parametrize(
    "estimator",
    [MarkovChain(), MostPopular(), tiny_recommender(), tiny_encoder()],
    ids=lambda e: type(e).__name__,
)
def test_refit_replaces_the_catalog(estimator):
    estimator.fit(HISTORIES)
    assert estimator.vocabulary_.n_items == 12
    estimator.fit(NEW_HISTORIES)
    assert estimator.vocabulary_.ids.tolist() == [101, 102, 103, 104, 105]
    assert set(estimator.predict([[101, 102]], k=5)[0]) == {101, 102, 103, 104, 105}
    with pytest.raises(KeyError, match=r"unknown item id.*: 1, 2"):
        estimator.predict([[1, 2]], k=2)


def test_refit_replaces_the_semantic_catalog():
    new_vectors = item_vectors(items=[101, 102, 103, 104, 105], dim=3)
    embedder = tiny_embedder().fit(HISTORIES)
    embedder.set_params(embeddings=new_vectors).fit(NEW_HISTORIES)
    assert embedder.item_embeddings_.shape == (5, 3)
    assert embedder.transform(NEW_HISTORIES).short_term.shape == (12, 3)
    with pytest.raises(KeyError, match="unknown item id"):
        embedder.transform([[1, 2]])


def test_refit_replaces_the_backbone_size():
    model = tiny_recommender().fit(HISTORIES)
    model.fit(NEW_HISTORIES)
    assert model.score_next([[101]]).shape == (1, 5)
    assert model.module_.n_items == 5


# ------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    "make, params, name",
    [
        (tiny_recommender, {"batch_size": -1}, "batch_size"),
        (tiny_recommender, {"batch_size": 0}, "batch_size"),
        (tiny_recommender, {"learning_rate": 0.0}, "learning_rate"),
        (tiny_recommender, {"max_len": 0}, "max_len"),
        (tiny_recommender, {"backbone": "bert4rec"}, "backbone"),
        (tiny_recommender, {"validation": 1.5}, "validation"),
        (tiny_recommender, {"dropout": 1.0}, "dropout"),
        (tiny_aligner, {"temperature": 0.0}, "temperature"),
        (tiny_aligner, {"variant": "best"}, "variant"),
        (tiny_embedder, {"batch_size": -4}, "batch_size"),
        (tiny_embedder, {"mode": "sentence"}, "mode"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
def test_bad_parameters_are_named(make, params, name):
    estimator = make(**params)
    X = collaborative_view() if name in ("temperature", "variant") else HISTORIES
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        estimator.fit(X)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_markov_popularity_backoff_must_be_a_boolean(value):
    with pytest.raises(InvalidParameterError, match="'popularity_backoff' parameter"):
        MarkovChain(popularity_backoff=value).fit(HISTORIES)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2])
def test_threshold_outside_the_open_unit_interval(threshold):
    with pytest.raises(
        InvalidParameterError, match=r"'threshold' parameter .* range \(0\.0, 1\.0\)"
    ):
        SequenceDenoiser(threshold=threshold).fit(noise_scores())


@pytest.mark.parametrize("rate", [1.0, -0.1])
def test_drop_and_noise_rates_outside_their_range(rate):
    with pytest.raises(InvalidParameterError, match="'rate' parameter"):
        RandomDropper(rate=rate).fit(HISTORIES)
    with pytest.raises(
        ValueError, match=re.escape(f"rate must be a number in [0, 1), got {rate}")
    ):
        inject_noise(HISTORIES, rate)


def test_eval_set_must_be_a_pair_of_matching_length():
    with pytest.raises(ValueError, match="eval_set must be a pair"):
        tiny_recommender().fit(HISTORIES, eval_set=[[1, 2]])
    with pytest.raises(ValueError, match="eval_set has 2 inputs but 1 targets"):
        tiny_recommender().fit(HISTORIES, eval_set=([[1, 2], [3]], [4]))


def test_split_and_noise_options():
    with pytest.raises(ValueError, match="min_length must be >= 3"):
        leave_one_out_split(HISTORIES, min_length=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        inject_noise(HISTORIES, 0.1, mode="swap")


# ------------------------------------------------------------------- CLI
@pytest.fixture
def small_text_file(tmp_path):
    rows = [f"u{u} " + " ".join(map(str, row)) for u, row in enumerate(HISTORIES)]
    return _write(tmp_path / "small.txt", "\n".join(rows) + "\n")


def _cli_error(argv, capsys) -> str:
    """stderr of a command line that must fail with exit status 2."""
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_cli_missing_file(tmp_path, capsys):
    err = _cli_error(["run", "--sequences", str(tmp_path / "absent.txt")], capsys)
    assert "argument --sequences: no such file" in err


def test_cli_folder_instead_of_file(tmp_path, capsys):
    err = _cli_error(["run", "--sequences", str(tmp_path)], capsys)
    assert "argument --sequences: not a file" in err


def test_cli_out_is_a_folder(small_text_file, tmp_path, capsys):
    err = _cli_error(
        ["run", "--sequences", str(small_text_file), "--out", str(tmp_path)], capsys
    )
    assert "is a directory; give a file name" in err


def test_cli_out_below_a_file(small_text_file, capsys):
    out = small_text_file / "results" / "r.json"
    err = _cli_error(
        ["run", "--sequences", str(small_text_file), "--out", str(out)], capsys
    )
    assert f"cannot write {out}: {small_text_file} is not a folder" in err


def test_cli_out_in_a_read_only_folder(small_text_file, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # a read-only folder, also for root (who may write anywhere)
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: False if str(p) == str(locked) else real_access(p, mode),
    )
    out = locked / "r.json"
    err = _cli_error(
        ["run", "--sequences", str(small_text_file), "--out", str(out)], capsys
    )
    assert f"cannot write {out}: {locked} is not writable" in err


def test_cli_out_in_new_folders_is_created(small_text_file, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "r.json"
    assert main(["run", "--sequences", str(small_text_file), "--out", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["model"] == "markov"


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "expected an integer >= 1, got 0"),
        ("-3", "expected an integer >= 1, got -3"),
        ("ten", "expected an integer"),
    ],
)
def test_cli_bad_max_len(small_text_file, capsys, value, message):
    err = _cli_error(
        ["run", "--sequences", str(small_text_file), "--max-len", value], capsys
    )
    assert f"argument --max-len: {message}" in err


def test_cli_unknown_dataset(capsys):
    err = _cli_error(["run", "--dataset", "netflix"], capsys)
    assert "argument --dataset: invalid choice: 'netflix'" in err


def test_cli_denoiser_with_a_floor_model(small_text_file, capsys):
    argv = ["run", "--sequences", str(small_text_file), "--model", "markov"]
    err = _cli_error([*argv, "--denoiser", "iadsr", "-q"], capsys)
    assert "need a neural recommender" in err and "'markov' has no hidden states" in err


@pytest.mark.parametrize("option", ["--noise-rate", "--threshold", "--drop-rate"])
def test_cli_rates_outside_their_range(small_text_file, capsys, option):
    err = _cli_error(["run", "--sequences", str(small_text_file), option, "1.5"], capsys)
    assert "expected a rate in [0, 1), got 1.5" in err


def test_cli_bad_device(small_text_file, capsys):
    argv = ["run", "--sequences", str(small_text_file), "--model", "gru4rec"]
    err = _cli_error([*argv, "--device", "tpu", "--max-epochs", "1", "-q"], capsys)
    assert "iadsr-sk: error: unknown device 'tpu'" in err


def test_cli_unreadable_sequences(tmp_path, capsys):
    latin = _write(tmp_path / "latin.txt", "u1 café 2\n".encode("latin-1"))
    err = _cli_error(["run", "--sequences", str(latin), "-q"], capsys)
    assert "iadsr-sk: error:" in err and "is not valid UTF-8" in err
    as_json = _write(tmp_path / "data.txt", '{"u1": [1, 2, 3]}')
    err = _cli_error(["run", "--sequences", str(as_json), "-q"], capsys)
    assert "looks like JSON" in err and "--format json" in err


def test_cli_report_of_a_file_that_is_not_results(small_text_file, capsys):
    err = _cli_error(["report", str(small_text_file)], capsys)
    assert "is not a results JSON file" in err
