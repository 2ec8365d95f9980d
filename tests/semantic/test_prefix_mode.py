"""Prefix mode: one vector per joined history prefix, and truncation that keeps the
most recent items."""

import numpy as np
import pytest
from semantic_data import TITLES

from iadsr_sk.data import ItemCatalog, Sequences
from iadsr_sk.semantic import SemanticEmbedder


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_prefix_vectors_are_the_joined_titles(tiny_models, catalog_sequences, kind):
    X = catalog_sequences.take([0, 2])  # [1, 3, 5] and [4, 6, 10, 9, 7, 1]
    est = SemanticEmbedder(tiny_models[kind], mode="prefix").fit(X)
    out = est.transform(X)
    assert out.mode == "prefix"
    assert out.short_term.shape == (9, est.embedding_dim_)
    assert out.long_term.shape == (2, est.embedding_dim_)
    assert out.item_embeddings.shape == (X.n_items, est.embedding_dim_)
    titles = [TITLES[i - 1] for i in (4, 6, 10, 9, 7, 1)]
    expected = est.embed_texts([", ".join(titles[: t + 1]) for t in range(6)])
    np.testing.assert_allclose(out.short_term_of(1), expected, rtol=1e-5, atol=1e-6)
    # the first position of a history is its first title alone
    np.testing.assert_allclose(
        out.short_term[0], est.embed_texts([TITLES[0]])[0], atol=1e-6
    )
    # long-term: the whole given history, no target appended
    np.testing.assert_allclose(out.long_term[1], expected[-1], rtol=1e-5, atol=1e-6)


def test_prefix_with_items_without_text(tiny_models, catalog_sequences):
    X = catalog_sequences.take([1, 3])  # [2, 8, 11, 2] and [12]; 11, 12 have no text
    zero = SemanticEmbedder(tiny_models["bert"], mode="prefix", missing_text="zero").fit(X)
    out = zero.transform(X)
    joined = ", ".join([TITLES[1], TITLES[7]])
    # the text-less item adds nothing to the joined history
    np.testing.assert_allclose(out.short_term[2], zero.embed_texts([joined])[0], atol=1e-6)
    assert not out.short_term[4].any() and not out.long_term[1].any()
    placeholder = SemanticEmbedder(tiny_models["bert"], mode="prefix").fit(X)
    out = placeholder.transform(X)
    expected = placeholder.embed_texts([joined + ", unknown item"])[0]
    np.testing.assert_allclose(out.short_term[2], expected, atol=1e-6)


def test_left_truncation_keeps_the_most_recent_items(tiny_models):
    """With a small max_length, long prefixes still differ (their ends differ); cut
    from the right they would all collapse to the same first tokens."""
    catalog = ItemCatalog(list(range(1, 11)), {"title": TITLES})
    X = Sequences.from_lists([list(range(1, 11))], catalog=catalog)
    model = tiny_models["bert"]
    left = SemanticEmbedder(model, mode="prefix", max_length=12).fit(X).transform(X)
    right = SemanticEmbedder(model, mode="prefix", max_length=12, truncation_side="right")
    right = right.fit(X).transform(X)
    assert np.abs(np.diff(left.short_term[3:], axis=0)).max() > 1e-3
    np.testing.assert_allclose(right.short_term[3], right.short_term[-1], atol=1e-6)


@pytest.mark.parametrize("side", ["left", "right"])
def test_truncation_never_drops_the_prompt_or_special_tokens(tiny_models, side):
    est = SemanticEmbedder(
        tiny_models["bert"], prompt="beauty product : {text} .", max_length=10
    )
    est.embed_texts(["warm"])
    encoder = est._text_encoder
    _, tokenizer = tiny_models["bert"]
    text = "red lipstick and nail polish and hair oil and face cream"
    ids = encoder.tokenize([text], prompt=est.prompt, max_length=10, truncation_side=side)[
        0
    ]
    assert len(ids) == 10
    words = tokenizer.convert_ids_to_tokens(ids)
    assert words[:4] == ["[CLS]", "beauty", "product", ":"]
    assert words[-2:] == [".", "[SEP]"]
    kept = words[4:-2]
    assert len(kept) == 4
    full = tokenizer.tokenize(text)
    assert kept == (full[-len(kept) :] if side == "left" else full[: len(kept)])
    with pytest.raises(ValueError, match="leaves no room for the text"):
        encoder.tokenize([text], prompt=est.prompt, max_length=4, truncation_side=side)


def test_max_length_none_uses_the_model_limit(tiny_models):
    est = SemanticEmbedder(tiny_models["bert"], max_length=None)
    long_text = " ".join(["lipstick"] * 200)
    assert est.embed_texts([long_text]).shape == (1, 32)  # no position overflow
    assert est._text_encoder.effective_max_length(None) == 64
    assert est._text_encoder.effective_max_length(1000) == 64
