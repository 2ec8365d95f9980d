"""The cache keys follow what a text embeds to: a model folder rewritten after fit,
a tokenizer's own length limit; and a text that fits max_length is embedded whole."""

import copy
import logging

import numpy as np
import torch

from iadsr_sk.semantic import SemanticEmbedder


def test_a_rewritten_model_folder_is_reloaded_and_keyed_anew(tiny_models, tmp_path, caplog):
    model, tokenizer = copy.deepcopy(tiny_models["bert"])
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    texts = ["red lipstick", "blue wig"]
    cache = tmp_path / "cache"
    embedder = SemanticEmbedder(
        str(folder), item_text=dict(enumerate(texts, 1)), cache_dir=cache
    )
    before = embedder.fit([[1, 2]]).embed_texts(texts)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(-1.7)
    model.save_pretrained(folder)  # the model "retrained" on disk
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        after = embedder.embed_texts(texts)
    assert "changed since fit" in caplog.text
    fresh = SemanticEmbedder(str(folder)).embed_texts(texts)  # no cache, new weights
    np.testing.assert_allclose(after, fresh, atol=1e-6)
    assert not np.allclose(after, before, atol=1e-3)
    # the old weights written back find their own cached vectors, not the new ones
    copy.deepcopy(tiny_models["bert"])[0].save_pretrained(folder)
    restored = SemanticEmbedder(str(folder), cache_dir=cache).embed_texts(texts)
    np.testing.assert_allclose(restored, before, atol=1e-6)


def test_the_tokenizers_own_limit_is_part_of_the_key(tiny_models, tmp_path):
    model, tokenizer = copy.deepcopy(tiny_models["bert"])
    text = " ".join(["red", "blue", "lipstick", "wig"] * 4)
    cache = tmp_path / "cache"
    long = SemanticEmbedder((model, tokenizer), max_length=None, cache_dir=cache)
    whole = long.embed_texts([text])
    tokenizer.model_max_length = 4
    short = SemanticEmbedder((model, tokenizer), max_length=None, cache_dir=cache)
    cut = short.embed_texts([text])
    uncached = SemanticEmbedder((model, tokenizer), max_length=None).embed_texts([text])
    np.testing.assert_allclose(cut, uncached, atol=1e-6)
    assert not np.allclose(cut, whole, atol=1e-3)


def test_a_text_that_fits_max_length_is_embedded_whole(tiny_models):
    model, tokenizer = tiny_models["bert"]
    spaced = "red" + " " * 2000 + "lipstick"  # 1,000+ characters a token
    assert tokenizer(spaced)["input_ids"] == tokenizer("red lipstick")["input_ids"]
    for side in ("right", "left"):
        embedder = SemanticEmbedder((model, tokenizer), max_length=16, truncation_side=side)
        vectors = embedder.embed_texts([spaced, "red lipstick"])
        np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
