"""The on-disk embedding cache: hits, misses, corruption, permissions, repeated fits."""

import logging
import os
import shutil
import sqlite3
import stat

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from iadsr_sk.data import UserKFold
from iadsr_sk.semantic import SemanticEmbedder, _embedder, _models
from iadsr_sk.semantic._cache import EmbeddingCache, settings_digest, text_keys


def _database(cache_dir):
    return os.path.join(cache_dir, "embeddings.sqlite3")


@pytest.fixture
def model_loads(monkeypatch):
    loads = []
    original = _embedder.load_model

    def counting(spec, **kwargs):
        loads.append(spec.name)
        return original(spec, **kwargs)

    monkeypatch.setattr(_embedder, "load_model", counting)
    return loads


def test_warm_refit_loads_no_model_and_makes_no_forward_call(
    tiny_folders, catalog_sequences, tmp_path, forward_calls, model_loads
):
    cache_dir = tmp_path / "cache"
    params = {"model": str(tiny_folders["bert"]), "cache_dir": cache_dir}
    cold = SemanticEmbedder(**params).fit(catalog_sequences)
    assert forward_calls["texts"] == 11 and len(model_loads) == 1
    assert len(EmbeddingCache(cache_dir)) == 11
    warm = SemanticEmbedder(**params).fit(catalog_sequences)  # a new instance
    warm.fit(catalog_sequences)  # and a second fit of the same one
    assert forward_calls["texts"] == 11 and len(model_loads) == 1
    np.testing.assert_array_equal(warm.item_embeddings_, cold.item_embeddings_)
    assert warm.embedding_dim_ == 32 and warm.model_id_ == cold.model_id_
    np.testing.assert_array_equal(
        warm.transform(catalog_sequences).long_term,
        cold.transform(catalog_sequences).long_term,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"pooling": "cls"},
        {"prompt": "product : {text}"},
        {"normalize": False},
        {"max_length": 5},
        {"dtype": "bfloat16"},
    ],
)
def test_each_setting_that_changes_vectors_is_in_the_key(
    tiny_folders, catalog_sequences, tmp_path, forward_calls, change
):
    params = {"model": str(tiny_folders["bert"]), "cache_dir": tmp_path}
    SemanticEmbedder(**params).fit(catalog_sequences)
    before = forward_calls["texts"]
    SemanticEmbedder(**params, batch_size=3, verbose=0).fit(catalog_sequences)
    assert forward_calls["texts"] == before  # batch size changes nothing: hits
    SemanticEmbedder(**params, **change).fit(catalog_sequences)
    assert forward_calls["texts"] == before + 11


def test_changed_weights_are_a_different_model(
    tiny_folders, fresh_model, catalog_sequences, tmp_path, forward_calls, monkeypatch
):
    folder = tmp_path / "copy"
    shutil.copytree(tiny_folders["bert"], folder)
    cache_dir = tmp_path / "c"
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 11
    # small files are hashed by content: new weights, same size, are a new model
    model, tokenizer = fresh_model("bert")
    model.encoder.layer[0].output.dense.weight.data *= 1.5
    model.save_pretrained(folder)
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 22
    # large files by size and modification time
    monkeypatch.setattr(_models, "_HASH_CONTENT_BELOW", 0)
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 33
    os.utime(next(folder.glob("*.safetensors")), ns=(0, 0))
    SemanticEmbedder(str(folder), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 44
    # objects: a fingerprint of the weights, or the name the user gives
    model, tokenizer = fresh_model("bert")
    for _ in range(2):
        SemanticEmbedder((model, tokenizer), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 55
    model.encoder.layer[1].output.dense.weight.data *= 1.5
    SemanticEmbedder((model, tokenizer), cache_dir=cache_dir).fit(catalog_sequences)
    assert forward_calls["texts"] == 66
    for _ in range(2):
        named = SemanticEmbedder((model, tokenizer, "my-bert-v1"), cache_dir=cache_dir)
        named.fit(catalog_sequences)
    assert forward_calls["texts"] == 77 and named.model_id_ == "my-bert-v1"


def test_cross_validation_and_grid_search_embed_once(
    tiny_models, catalog_sequences, tmp_path, forward_calls
):
    base = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path)
    for train, _ in UserKFold(2, random_state=0).split(catalog_sequences):
        clone(base).fit(catalog_sequences[train])
    assert forward_calls["texts"] == 11  # the folds share the vocabulary's texts
    search = GridSearchCV(
        base,
        {"batch_size": [2, 5], "missing_text": ["placeholder", "zero"]},
        cv=UserKFold(2, random_state=0),
        scoring=lambda est, X, y=None: float(est.transform(X).long_term.mean()),
    ).fit(catalog_sequences)
    assert len(search.cv_results_["params"]) == 4
    assert forward_calls["texts"] == 11


def _first_key(cache_dir):
    with sqlite3.connect(_database(cache_dir)) as connection:
        return connection.execute("SELECT key FROM vectors LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("damage", ["flip", "short"])
def test_a_corrupt_entry_is_reported_and_recomputed(
    tiny_models, catalog_sequences, tmp_path, forward_calls, caplog, damage
):
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path)
    expected = est.fit(catalog_sequences).item_embeddings_.copy()
    key = _first_key(tmp_path)
    connection = sqlite3.connect(_database(tmp_path))
    blob = connection.execute(
        "SELECT vector FROM vectors WHERE key = ?", (key,)
    ).fetchone()[0]
    broken = bytes([blob[0] ^ 0xFF]) + blob[1:] if damage == "flip" else blob[:-3]
    with connection:
        connection.execute("UPDATE vectors SET vector = ? WHERE key = ?", (broken, key))
    connection.close()
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        est.fit(catalog_sequences)
    assert any("1 corrupt entry" in r.getMessage() for r in caplog.records)
    assert forward_calls["texts"] == 12  # 11 cold + the damaged one
    np.testing.assert_allclose(est.item_embeddings_, expected, atol=1e-6)
    est.fit(catalog_sequences)  # repaired: all hits now
    assert forward_calls["texts"] == 12


def test_a_corrupt_file_is_moved_aside_and_rebuilt(
    tiny_models, catalog_sequences, tmp_path, forward_calls, caplog
):
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path)
    expected = est.fit(catalog_sequences).item_embeddings_.copy()
    with open(_database(tmp_path), "r+b") as handle:
        handle.write(b"this is not a database at all" * 10)
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        est.fit(catalog_sequences)
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    assert forward_calls["texts"] == 22
    np.testing.assert_allclose(est.item_embeddings_, expected, atol=1e-6)
    assert list(tmp_path.glob("embeddings.sqlite3.*.corrupt"))
    est.fit(catalog_sequences)
    assert forward_calls["texts"] == 22


def _break_forward_call(monkeypatch, n, result):
    """Make the ``n``-th forward pass (1-based) of the text model end in ``result``."""
    calls = {"n": 0}
    original = _models.TextEncoder.forward

    def patched(self, input_ids, mask, pooling):
        calls["n"] += 1
        vectors = original(self, input_ids, mask, pooling)
        if calls["n"] == n:
            if result == "interrupt":
                raise KeyboardInterrupt
            return torch.full_like(vectors, float("nan"))
        return vectors

    monkeypatch.setattr(_models.TextEncoder, "forward", patched)
    return calls


def test_an_interrupted_embedding_keeps_its_finished_chunks(
    tiny_models, catalog_sequences, tmp_path, monkeypatch
):
    expected = SemanticEmbedder(tiny_models["bert"]).fit(catalog_sequences)
    monkeypatch.setattr(_embedder, "_CACHE_CHUNK", 4)
    calls = _break_forward_call(monkeypatch, 5, "interrupt")
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path, batch_size=2)
    with pytest.raises(KeyboardInterrupt):
        est.fit(catalog_sequences)
    # 11 texts in batches of 2: batches 1-4 made two chunks of 4 texts, both stored
    # before batch 5 was interrupted
    assert calls["n"] == 5
    assert len(EmbeddingCache(tmp_path)) == 8
    est.fit(catalog_sequences)
    assert calls["n"] == 7  # only the 3 texts left: one batch of 2, one of 1
    assert len(EmbeddingCache(tmp_path)) == 11
    np.testing.assert_allclose(est.item_embeddings_, expected.item_embeddings_, atol=1e-5)


def test_the_work_left_is_announced_before_it_starts(
    tiny_models, catalog_sequences, tmp_path, caplog
):
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="iadsr_sk"):
        est.fit(catalog_sequences)
    messages = [r.getMessage() for r in caplog.records]
    first = next(i for i, m in enumerate(messages) if m.startswith("embedding 11 of 11"))
    last = next(i for i, m in enumerate(messages) if m.startswith("embedded 11"))
    assert first < last
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="iadsr_sk"):
        est.fit(catalog_sequences)  # all cached: nothing to announce
    assert not [r for r in caplog.records if r.getMessage().startswith("embedding ")]


def test_a_chunk_with_nan_vectors_is_not_stored(
    tiny_models, catalog_sequences, tmp_path, monkeypatch
):
    monkeypatch.setattr(_embedder, "_CACHE_CHUNK", 4)
    _break_forward_call(monkeypatch, 3, "nan")
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=tmp_path, batch_size=2)
    with pytest.raises(
        ValueError, match="NaN or inf for 2 of 4 texts of a chunk of the 11 "
    ):
        est.fit(catalog_sequences)
    assert len(EmbeddingCache(tmp_path)) == 4  # the first chunk, and nothing after


def test_the_cache_is_private_to_the_user(tiny_models, catalog_sequences, tmp_path):
    cache_dir = tmp_path / "a" / "b"
    SemanticEmbedder(tiny_models["bert"], cache_dir=cache_dir).fit(catalog_sequences)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(_database(cache_dir)).st_mode) == 0o600


def test_an_unusable_cache_warns_and_the_fit_goes_on(
    tiny_models, catalog_sequences, tmp_path, caplog
):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=blocker)
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        est.fit(catalog_sequences)
    assert est.item_embeddings_.shape == (12, 32)
    assert any("embedding cache" in r.getMessage() for r in caplog.records)


def test_a_failed_cache_write_is_warned_about_once(
    tiny_models, catalog_sequences, tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(_embedder, "_CACHE_CHUNK", 2)  # 11 texts: 6 chunks
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    est = SemanticEmbedder(tiny_models["bert"], cache_dir=blocker, batch_size=2)
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        est.fit(catalog_sequences)
    writes = [r for r in caplog.records if "writing failed" in r.getMessage()]
    assert len(writes) == 1  # not once per chunk
    expected = SemanticEmbedder(tiny_models["bert"]).fit(catalog_sequences)
    np.testing.assert_allclose(est.item_embeddings_, expected.item_embeddings_, atol=1e-5)


def test_cache_store_round_trip_and_keys(tmp_path):
    cache = EmbeddingCache(tmp_path)
    namespace = settings_digest([("model", "m"), ("pooling", "mean")])
    assert namespace != settings_digest([("model", "m"), ("pooling", "cls")])
    keys = text_keys(namespace, ["a", "b", "ü"])
    assert len(set(keys)) == 3 and all(len(k) == 32 for k in keys)
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert cache.put(keys[:2], vectors[:2]) is True
    found = cache.get(keys)
    assert set(found) == set(keys[:2])
    np.testing.assert_array_equal(found[keys[1]], vectors[1])
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0 and cache.get([]) == {}
