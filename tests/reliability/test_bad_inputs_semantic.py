"""Bad inputs to the semantic view: missing item text, precomputed vectors, empty texts.

Each case asserts an error whose message names the problem, or the documented
missing-text handling.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from reliability_data import tiny_text_model

from iadsr_sk.data import ItemCatalog, Sequences
from iadsr_sk.semantic import SemanticEmbedder

MISSING = [float("nan"), np.float32("nan"), pd.NA, pd.NaT, np.datetime64("NaT")]
MISSING_IDS = ["nan", "float32-nan", "pd.NA", "pd.NaT", "np.NaT"]


def _gpt2_model():
    """``(model, tokenizer)``: a 1-layer GPT-2 over byte-level BPE (no merges), whose
    tokenizer, like GPT-2's, adds no special tokens and has no padding token."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    vocab = {char: i for i, char in enumerate(pre_tokenizers.ByteLevel.alphabet())}
    vocab["<|endoftext|>"] = len(vocab)
    backend = Tokenizer(models.BPE(vocab, []))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    config = GPT2Config(
        vocab_size=len(vocab), n_embd=8, n_layer=1, n_head=2, n_positions=64
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = GPT2Model(config)
    return model.eval(), tokenizer


# --------------------------------------------------------- missing item text
@pytest.mark.parametrize("missing", MISSING, ids=MISSING_IDS)
def test_nan_and_na_item_text_get_the_placeholder(text_model, missing, caplog):
    embedder = SemanticEmbedder(text_model, item_text={1: "red lipstick", 2: missing})
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        embedder.fit([[1, 2]])
    assert "1 of 2 items have no text (item ids 2)" in caplog.text
    assert embedder.missing_text_.tolist() == [False, True]
    assert embedder.item_texts_ == ["red lipstick", "unknown item"]


@pytest.mark.parametrize("missing", MISSING, ids=MISSING_IDS)
def test_nan_and_na_item_text_get_zero_vectors(text_model, missing):
    embedder = SemanticEmbedder(
        text_model, item_text={1: "red lipstick", 2: missing}, missing_text="zero"
    ).fit([[1, 2]])
    assert embedder.missing_text_.tolist() == [False, True]
    assert embedder.item_texts_ == ["red lipstick", None]
    assert not embedder.item_embeddings_[1].any()


@pytest.mark.parametrize(
    "titles",
    [
        pd.Series(["red lipstick", None, "blue wig"]),  # pandas >= 3 stores NaN
        pd.Series(["red lipstick", np.nan, "blue wig"], dtype=object),
        pd.array(["red lipstick", None, "blue wig"], dtype="string"),  # pandas.NA
    ],
    ids=["series", "object-nan", "string-array"],
)
def test_pandas_missing_values_in_a_catalog(text_model, titles):
    catalog = ItemCatalog([1, 2, 3], {"title": titles})
    assert catalog.texts([1, 2, 3]) == ["red lipstick", None, "blue wig"]
    X = Sequences.from_lists([[1, 2, 3]], catalog=catalog)
    embedder = SemanticEmbedder(text_model).fit(X)
    assert embedder.missing_text_.tolist() == [False, True, False]
    assert embedder.item_texts_[1] == "unknown item"


# ------------------------------------------------- precomputed embeddings
@pytest.mark.parametrize("normalize", [True, False], ids=["normalized", "raw"])
@pytest.mark.parametrize(
    "embeddings",
    [
        ([1, 2], [[1e300, 1e300], [0.0, 1.0]]),
        ([1, 2], np.array([[-1e39, 0.0], [0.0, 1.0]])),
        ({1: [1e300, 1e300], 2: [0.0, 1.0]}),
    ],
    ids=["pair", "negative", "dict"],
)
def test_precomputed_vectors_beyond_float32(embeddings, normalize):
    embedder = SemanticEmbedder("precomputed", embeddings=embeddings, normalize=normalize)
    with pytest.raises(
        ValueError, match=r"not finite in float32 in 1 row\(s\) \(item ids 1\)"
    ):
        embedder.fit([[1, 2]])


def test_precomputed_vectors_near_the_float32_limit_are_kept():
    big = float(np.finfo(np.float32).max)
    embedder = SemanticEmbedder(
        "precomputed", embeddings=([1, 2], [[big, big], [0.0, 1.0]])
    ).fit([[1, 2]])
    np.testing.assert_allclose(embedder.item_embeddings_[0], [2**-0.5, 2**-0.5])


# --------------------------------------------------------------- empty texts
@pytest.mark.parametrize(
    "build", [_gpt2_model, lambda: tiny_text_model(False)], ids=["gpt2", "word-level"]
)
def test_empty_text_without_special_tokens(build):
    embedder = SemanticEmbedder(build())
    with pytest.raises(ValueError, match=r"1 of 2 texts give no tokens \(''\)"):
        embedder.embed_texts(["red wig", ""])
    # words around {text} give the empty text tokens to embed
    prompted = SemanticEmbedder(build(), prompt="item: {text}")
    assert prompted.embed_texts(["red wig", ""]).shape == (2, 8)


def test_empty_text_with_special_tokens_is_embedded():
    embedder = SemanticEmbedder(tiny_text_model(True))
    vectors = embedder.embed_texts(["red wig", ""])
    assert vectors.shape == (2, 8)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
