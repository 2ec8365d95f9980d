"""SemanticEmbedder: fit/transform contract, modes, text sources, policies and errors."""

import copy
import logging
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from semantic_data import TITLES
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from iadsr_sk.data import ItemCatalog, Sequences
from iadsr_sk.semantic import SemanticEmbedder, SemanticInterests


@pytest.fixture
def bert(tiny_models):
    return tiny_models["bert"]


def test_importing_the_package_does_not_import_transformers():
    code = (
        "import sys, iadsr_sk, iadsr_sk.semantic; "
        "from iadsr_sk.semantic import SemanticEmbedder; SemanticEmbedder(); "
        "print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_init_only_stores_parameters_and_clones(bert):
    est = SemanticEmbedder(bert, mode="prefix", batch_size=3, cache_dir="somewhere")
    params = est.get_params()
    assert params["mode"] == "prefix" and params["batch_size"] == 3
    assert params["cache_dir"] == "somewhere" and params["model"] is bert
    assert not [k for k in vars(est) if k.endswith("_")]
    assert clone(est).get_params()["mode"] == "prefix"
    tags = get_tags(est)
    assert not tags.input_tags.two_d_array and not tags.target_tags.required


def test_item_mode_fit_and_transform(bert, catalog_sequences):
    X = catalog_sequences
    est = SemanticEmbedder(bert).fit(X)
    n_items = X.n_items
    assert est.item_embeddings_.shape == (n_items, 32)
    assert est.item_embeddings_.dtype == np.float32
    assert est.embedding_dim_ == 32  # read from the model's output
    assert est.vocabulary_ == X.vocabulary
    assert est.model_id_ == "BertModel" and est.pooling_ == "mean"
    np.testing.assert_allclose(np.linalg.norm(est.item_embeddings_, axis=1), 1, atol=1e-5)

    out = est.transform(X)
    assert isinstance(out, SemanticInterests) and out.mode == "item"
    assert out.sequences == X and out.source is X and len(out) == len(X)
    assert out.short_term.shape == (X.n_interactions, 32)
    assert out.long_term.shape == (len(X), 32)
    assert out.short_term.dtype == out.long_term.dtype == np.float32
    np.testing.assert_array_equal(out.short_term, est.item_embeddings_[X.codes])
    for row in range(len(X)):
        np.testing.assert_allclose(
            out.long_term[row], out.short_term_of(row).mean(axis=0), rtol=1e-5, atol=1e-6
        )
    np.testing.assert_array_equal(
        out.short_term_of(-1), out.short_term_of(len(X) - 1)
    )  # negative rows count from the end
    with pytest.raises(IndexError, match=f"row {len(X)} is out of range"):
        out.short_term_of(len(X))
    # the vector of an item is the vector of its text
    np.testing.assert_allclose(
        est.item_embeddings_[X.vocabulary.encode([1])[0]],
        est.embed_texts([TITLES[0]])[0],
        rtol=1e-5,
        atol=1e-6,
    )


def test_transform_new_sequences_and_lists(bert, catalog_sequences):
    est = SemanticEmbedder(bert).fit(catalog_sequences)
    out = est.transform([[3, 1], [7]])
    assert out.short_term.shape == (3, 32) and out.long_term.shape == (2, 32)
    assert out.sequences.vocabulary == est.vocabulary_
    np.testing.assert_array_equal(
        out.short_term[0], est.item_embeddings_[est.vocabulary_.encode([3])[0]]
    )
    with pytest.raises(KeyError, match="999"):
        est.transform([[1, 999]])


def test_transform_before_fit_raises_not_fitted(bert):
    with pytest.raises(NotFittedError):
        SemanticEmbedder(bert).transform([[1, 2]])


def test_lists_with_item_text_dict(bert):
    text = {1: "red lipstick", 2: "lip liner", 3: "black mascara"}
    est = SemanticEmbedder(bert, item_text=text).fit([[1, 2], [3]])
    assert est.item_embeddings_.shape == (3, 32) and est.n_missing_text_ == 0
    np.testing.assert_allclose(
        est.item_embeddings_, est.embed_texts(list(text.values())), atol=1e-6
    )
    with pytest.raises(TypeError, match="keyed by str ids"):
        SemanticEmbedder(bert, item_text={"1": "red lipstick"}).fit([[1]])


def test_item_text_takes_precedence_over_the_catalog(bert, catalog_sequences):
    catalog = ItemCatalog(list(range(1, 13)), {"title": ["black mascara"] * 12})
    est = SemanticEmbedder(bert, item_text=catalog).fit(catalog_sequences)
    assert est.item_texts_ == ["black mascara"] * 12
    assert np.ptp(est.item_embeddings_, axis=0).max() < 1e-6


def test_no_text_source_is_a_clear_error(bert):
    with pytest.raises(ValueError, match="no item text"):
        SemanticEmbedder(bert).fit([[1, 2]])


def test_text_template_overrides_the_catalog_template(bert):
    catalog = ItemCatalog(
        [1, 2], {"title": ["red lipstick", "cosplay wig"], "brand": ["now foods", None]}
    )
    X = Sequences.from_lists([[1, 2]], catalog=catalog)
    est = SemanticEmbedder(bert, text_template="{title} by {brand}").fit(X)
    assert est.item_texts_ == ["red lipstick by now foods", "cosplay wig by"]
    with pytest.raises(ValueError, match="unknown field"):
        SemanticEmbedder(bert, text_template="{nope}").fit(X)


@pytest.mark.parametrize("policy", ["placeholder", "zero"])
def test_items_without_text(bert, catalog_sequences, policy, caplog):
    X = catalog_sequences  # items 11 and 12 have no title
    est = SemanticEmbedder(bert, missing_text=policy, placeholder_text="unknown item")
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        est.fit(X)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("2 of 12 items have no text" in w and "11, 12" in w for w in warnings)
    missing = X.vocabulary.encode([11, 12])
    assert est.n_missing_text_ == 2
    np.testing.assert_array_equal(np.flatnonzero(est.missing_text_), np.sort(missing))
    out = est.transform(X)
    row = 1  # [2, 8, 11, 2]
    present = est.item_embeddings_[X.vocabulary.encode([2, 8, 2])]
    if policy == "placeholder":
        expected = est.embed_texts(["unknown item"])[0]
        for code in missing:
            np.testing.assert_allclose(est.item_embeddings_[code], expected, atol=1e-6)
        assert est.item_texts_[missing[0]] == "unknown item"
        mean = np.vstack([present, expected]).mean(axis=0)
    else:
        assert not est.item_embeddings_[missing].any()
        assert est.item_texts_[missing[0]] is None
        mean = present.mean(axis=0)  # the text-less item counts in no mean
        assert not out.long_term[3].any()  # a history of text-less items only
    np.testing.assert_allclose(out.long_term[row], mean, rtol=1e-5, atol=1e-6)


def test_every_item_without_text_under_zero_policy(bert):
    catalog = ItemCatalog([1, 2], {"title": [None, None]})
    X = Sequences.from_lists([[1, 2]], catalog=catalog)
    est = SemanticEmbedder(bert, missing_text="zero").fit(X)
    assert est.embedding_dim_ == 32 and not est.item_embeddings_.any()


def test_prompt_is_applied_to_every_text(bert, catalog_sequences):
    plain = SemanticEmbedder(bert).fit(catalog_sequences)
    prompted = SemanticEmbedder(bert, prompt="represent this product : {text}")
    prompted.fit(catalog_sequences)
    assert not np.allclose(plain.item_embeddings_, prompted.item_embeddings_, atol=1e-3)
    expected = plain.embed_texts(["represent this product : " + t for t in TITLES])
    codes = catalog_sequences.vocabulary.encode(list(range(1, 11)))
    np.testing.assert_allclose(prompted.item_embeddings_[codes], expected, atol=1e-6)
    # braces elsewhere in a prompt are literal
    braces = SemanticEmbedder(bert, prompt="{ query } : {text}")
    np.testing.assert_allclose(
        braces.embed_texts(["wig"]), plain.embed_texts(["{ query } : wig"]), atol=1e-6
    )


@pytest.mark.parametrize("prompt", ["no slot here", "{text} and {text}"])
def test_prompt_needs_exactly_one_slot(bert, prompt):
    with pytest.raises(ValueError, match=r"\{text\} exactly once"):
        SemanticEmbedder(bert, prompt=prompt).fit([[1]])


@pytest.mark.parametrize("kind", ["bert", "llama"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_runs_close_to_float32(fresh_model, catalog_sequences, kind, dtype):
    full = SemanticEmbedder(fresh_model(kind)).fit(catalog_sequences)
    half_model = fresh_model(kind)
    half = SemanticEmbedder(half_model, dtype=dtype).fit(catalog_sequences)
    assert next(half_model[0].parameters()).dtype == getattr(torch, dtype)
    assert half.item_embeddings_.dtype == np.float32
    cosine = (full.item_embeddings_ * half.item_embeddings_).sum(axis=1)
    assert cosine.min() > 0.98


def test_decoders_default_to_last_token_pooling(tiny_models, catalog_sequences):
    est = SemanticEmbedder(tiny_models["qwen2"]).fit(catalog_sequences)
    assert est.pooling_ == "last" and est.embedding_dim_ == 32
    mean = SemanticEmbedder(tiny_models["qwen2"], pooling="mean").fit(catalog_sequences)
    assert mean.pooling_ == "mean"
    assert not np.allclose(est.item_embeddings_, mean.item_embeddings_, atol=1e-3)


def test_unnormalized_vectors(bert, catalog_sequences):
    est = SemanticEmbedder(bert, normalize=False).fit(catalog_sequences)
    norms = np.linalg.norm(est.item_embeddings_, axis=1)
    assert not np.allclose(norms, 1, atol=1e-2)


def test_model_from_a_folder(tiny_folders, tiny_models, catalog_sequences):
    est = SemanticEmbedder(str(tiny_folders["llama"])).fit(catalog_sequences)
    objects = SemanticEmbedder(tiny_models["llama"]).fit(catalog_sequences)
    assert est.model_id_ == str(tiny_folders["llama"].resolve())
    assert est.pooling_ == "last"
    np.testing.assert_allclose(est.item_embeddings_, objects.item_embeddings_, atol=1e-5)


def test_pickle_drops_the_model_and_reloads_it(tiny_folders, catalog_sequences):
    est = SemanticEmbedder(str(tiny_folders["bert"]), mode="prefix").fit(catalog_sequences)
    before = est.transform(catalog_sequences)
    payload = pickle.dumps(est)
    assert len(payload) < 200_000  # item vectors and texts, not the weights
    loaded = pickle.loads(payload)
    after = loaded.transform(catalog_sequences)
    np.testing.assert_allclose(after.short_term, before.short_term, atol=1e-6)
    np.testing.assert_allclose(loaded.embed_texts(["wig"]), est.embed_texts(["wig"]))


@pytest.mark.parametrize("kind", ["bert", "llama", "qwen2"])
def test_a_given_model_pickles_by_its_weights(kind, fresh_model, catalog_sequences):
    """torch writes memory addresses into a tensor's pickle; a given model is pickled
    by its weights and buffers, so equal embedders hash equal and a pickle round trip
    gives the same model."""
    model, tokenizer = fresh_model(kind)
    est = SemanticEmbedder((model, tokenizer))
    assert joblib.hash(clone(est)) == joblib.hash(clone(est))
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.get_input_embeddings().weight[5, 0] += 1.0
    assert joblib.hash(SemanticEmbedder((changed, tokenizer))) != joblib.hash(est)

    est.fit(catalog_sequences)
    loaded = pickle.loads(pickle.dumps(est))
    assert est.model[0] is model  # pickling leaves the estimator as it was
    restored = loaded.model[0]
    assert restored is not model and type(restored) is type(model)
    assert restored.training is model.training
    for (name, a), (_, b) in zip(
        model.state_dict().items(), restored.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    buffers = zip(model.named_buffers(), restored.named_buffers(), strict=True)
    for (name, a), (_, b) in buffers:
        assert torch.equal(a, b), name  # non-persistent ones (rotary tables) too
    np.testing.assert_array_equal(loaded.item_embeddings_, est.item_embeddings_)
    np.testing.assert_allclose(
        loaded.embed_texts(["wig"]), est.embed_texts(["wig"]), atol=1e-6
    )


def test_pipeline_memory_reuses_a_given_model_step(
    fresh_model, catalog_sequences, tmp_path, forward_calls
):
    pipe = Pipeline(
        [("semantic", SemanticEmbedder(fresh_model("bert"))), ("last", "passthrough")],
        memory=str(tmp_path),
    )
    first = pipe.fit_transform(catalog_sequences)
    calls = dict(forward_calls)
    assert calls["texts"] > 0
    again = pipe.fit_transform(catalog_sequences)  # fits a fresh clone: a cache hit
    assert forward_calls == calls
    np.testing.assert_array_equal(again.long_term, first.long_term)


def test_embed_texts_contract(bert):
    est = SemanticEmbedder(bert)
    vectors = est.embed_texts(["red lipstick", "wig", "red lipstick"])  # before fit
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert est.embed_texts([]).shape == (0, 32)
    with pytest.raises(TypeError, match="wrap a single text"):
        est.embed_texts("red lipstick")
    with pytest.raises(TypeError, match="must be strings"):
        est.embed_texts(["ok", None])


def test_progress_bar_and_auto_device(bert, fresh_model, catalog_sequences, capsys):
    # a private copy: on a CUDA host "auto" moves the model to the GPU in place
    est = SemanticEmbedder(fresh_model("bert"), verbose=1, device="auto")
    est.fit(catalog_sequences)
    assert "embedding texts" in capsys.readouterr().err
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert est._text_encoder.device.type == expected
    SemanticEmbedder(bert).fit(catalog_sequences)
    assert capsys.readouterr().err == ""  # quiet by default


def test_set_params_switches_the_loaded_model(tiny_models):
    est = SemanticEmbedder(tiny_models["bert"])
    bert_vector = est.embed_texts(["wig"])
    est.set_params(model=tiny_models["qwen2"])
    qwen_vector = est.embed_texts(["wig"])
    expected = SemanticEmbedder(tiny_models["qwen2"]).embed_texts(["wig"])
    np.testing.assert_array_equal(qwen_vector, expected)
    assert not np.allclose(bert_vector, qwen_vector)


# ------------------------------------------------------------------- precomputed
def test_precomputed_pair_and_dict(catalog_sequences):
    X = catalog_sequences
    rng = np.random.default_rng(0)
    ids = np.arange(1, 13)
    table = rng.normal(size=(12, 5))
    est = SemanticEmbedder("precomputed", embeddings=(ids[::-1], table[::-1]))
    est.fit(X)
    expected = table / np.linalg.norm(table, axis=1, keepdims=True)
    np.testing.assert_allclose(est.item_embeddings_, expected[X.vocabulary.encode(ids)])
    assert est.embedding_dim_ == 5 and est.model_id_ == "precomputed"
    as_dict = dict(zip(ids.tolist(), table, strict=True))
    raw = SemanticEmbedder("precomputed", embeddings=as_dict, normalize=False).fit(X)
    np.testing.assert_allclose(raw.item_embeddings_, table.astype(np.float32))
    out = raw.transform([[1, 2]])
    np.testing.assert_allclose(out.long_term[0], table[:2].mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="no language model"):
        raw.embed_texts(["x"])


def test_precomputed_errors(catalog_sequences):
    X = catalog_sequences
    table = np.ones((10, 4))
    with pytest.raises(ValueError, match=r"lack 2 of the 12 items: 11, 12"):
        SemanticEmbedder("precomputed", embeddings=(np.arange(1, 11), table)).fit(X)
    bad = np.ones((12, 4))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf.*item ids 4"):
        SemanticEmbedder("precomputed", embeddings=(np.arange(1, 13), bad)).fit(X)
    with pytest.raises(ValueError, match="needs embeddings"):
        SemanticEmbedder("precomputed").fit(X)
    with pytest.raises(ValueError, match="only used with model='precomputed'"):
        SemanticEmbedder(embeddings=(np.arange(1, 13), np.ones((12, 4)))).fit(X)
    with pytest.raises(ValueError, match="shape"):
        SemanticEmbedder("precomputed", embeddings=(np.arange(1, 13), np.ones(12))).fit(X)
    with pytest.raises(ValueError, match="prefix"):
        SemanticEmbedder(
            "precomputed", embeddings=(np.arange(1, 13), np.ones((12, 4))), mode="prefix"
        ).fit(X)


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"mode": "items"}, "'mode' parameter"),
        ({"pooling": "max"}, "'pooling' parameter"),
        ({"dtype": "float64"}, "'dtype' parameter"),
        ({"missing_text": "drop"}, "'missing_text' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"placeholder_text": "  "}, "placeholder_text"),
    ],
)
def test_bad_parameters_raise_clear_value_errors(bert, catalog_sequences, params, match):
    with pytest.raises(ValueError, match=match):
        SemanticEmbedder(bert, **params).fit(catalog_sequences)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a host without CUDA")
def test_cuda_without_cuda_is_a_clear_error(bert, catalog_sequences):
    with pytest.raises(ValueError, match="CUDA is not available"):
        SemanticEmbedder(bert, device="cuda").fit(catalog_sequences)


def test_bad_model_values(catalog_sequences, tmp_path):
    with pytest.raises(ValueError, match="neither an existing local model folder"):
        SemanticEmbedder(str(tmp_path / "absent")).fit(catalog_sequences)
    with pytest.raises(ValueError, match="nothing is downloaded"):
        SemanticEmbedder("some-org/not-cached-model").fit(catalog_sequences)
    with pytest.raises(ValueError, match=r"no config\.json"):
        SemanticEmbedder(str(tmp_path)).fit(catalog_sequences)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        SemanticEmbedder(("model", "tokenizer")).fit(catalog_sequences)


def test_nan_output_is_an_error(fresh_model, catalog_sequences):
    model, tokenizer = fresh_model("bert")
    with torch.no_grad():
        model.embeddings.word_embeddings.weight[:] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf for 11 of 11 texts"):
        SemanticEmbedder((model, tokenizer)).fit(catalog_sequences)


def test_item_mode_reads_short_term_from_the_item_vectors_until_asked(catalog_sequences):
    """Item mode keeps no per-interaction copy until ``short_term`` is read; once read
    (or set) it is kept, pickled, and what later steps use."""
    X = catalog_sequences
    rng = np.random.default_rng(0)
    ids = X.vocabulary.ids
    vectors = rng.normal(size=(len(ids), 6)).astype(np.float32)
    out = SemanticEmbedder("precomputed", embeddings=(ids, vectors)).fit_transform(X)
    table, index = out._short_term_source()
    assert table is out.item_embeddings and np.array_equal(index, X.codes)
    assert out.embedding_dim == 6
    assert f"n_interactions={X.n_interactions}" in repr(out)
    np.testing.assert_array_equal(
        out.short_term_of(1), out.item_embeddings[X.codes[X.offsets[1] : X.offsets[2]]]
    )
    lazy = pickle.loads(pickle.dumps(out))
    np.testing.assert_array_equal(lazy.short_term, out.short_term)
    # once read, the array is kept and is the source: a change to it is not ignored
    out.short_term[0] = 7.0
    table, index = out._short_term_source()
    assert index is None and table is out.short_term and table[0, 0] == 7.0
    assert pickle.loads(pickle.dumps(out)).short_term[0, 0] == 7.0
    np.testing.assert_array_equal(out.short_term_of(0)[0], np.full(6, 7.0))
    assert out.item_embeddings[X.codes[0], 0] != 7.0  # the item vectors are untouched
    # a pickle from when short_term was a plain attribute still loads
    old = SemanticInterests.__new__(SemanticInterests)
    state = {k: v for k, v in vars(out).items() if k != "_short_term"}
    old.__setstate__({**state, "short_term": out.short_term})
    assert old.short_term is out.short_term


def test_reading_short_term_keeps_the_pickle_and_its_hash(catalog_sequences):
    """A short_term built from the item vectors and left as it is pickles as before it
    was read (so Pipeline(memory=...) still recognises the interests); a changed or
    assigned one is kept, bit for bit."""
    X = catalog_sequences
    rng = np.random.default_rng(0)
    ids = X.vocabulary.ids
    vectors = rng.normal(size=(len(ids), 6)).astype(np.float32)
    out = SemanticEmbedder("precomputed", embeddings=(ids, vectors)).fit_transform(X)
    before, size = joblib.hash(out), len(pickle.dumps(out))
    built = out.short_term
    assert joblib.hash(out) == before and len(pickle.dumps(out)) == size
    assert out.short_term is built  # still the array later steps read
    lazy = pickle.loads(pickle.dumps(out))
    assert lazy._short_term is None
    np.testing.assert_array_equal(lazy.short_term, built)

    built[1, 2] = -0.0 if built[1, 2] == 0 else -built[1, 2]  # a change in place
    assert joblib.hash(out) != before
    kept = pickle.loads(pickle.dumps(out)).short_term
    assert kept.tobytes() == built.tobytes()
    built[1, 2] = out.item_embeddings[X.codes[1], 2]  # changed back
    assert joblib.hash(out) == before

    out.short_term = out.item_embeddings[X.codes]  # assigned: the user's own array
    assert joblib.hash(out) != before
    assert pickle.loads(pickle.dumps(out))._short_term is not None
    # a signed zero differs from zero bit for bit: it is kept, not rebuilt
    zeros = np.zeros((X.n_items, 6), dtype=np.float32)
    signed = SemanticInterests(X, None, np.zeros((len(X), 6)), zeros, "item")
    signed.short_term[0, 0] = -0.0
    assert np.signbit(pickle.loads(pickle.dumps(signed)).short_term[0, 0])


def test_only_item_mode_may_leave_short_term_out(catalog_sequences):
    X = catalog_sequences
    with pytest.raises(ValueError, match="only be left out in 'item' mode, not 'prefix'"):
        SemanticInterests(
            X, None, np.zeros((len(X), 2)), np.zeros((X.n_items, 2)), "prefix"
        )
