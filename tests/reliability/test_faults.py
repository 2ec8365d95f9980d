"""Faults injected into training and embedding, and the state they leave behind.

The rule (``TorchEstimatorMixin._train_loop``): a fit that stops with an exception,
``KeyboardInterrupt`` included, re-raises it and leaves the estimator unfitted (an
earlier fit's state included), with the caller's random state untouched. A NaN or
infinite loss raises ``FloatingPointError`` naming the epoch and batch; running out of
memory raises ``torch.OutOfMemoryError`` that suggests a smaller ``batch_size``.

Corrupt embedding caches are also covered in ``tests/semantic/test_cache.py`` (a
flipped or shortened entry, a file overwritten with text); the cases here add a
truncated file, random bytes and a database of another layout.
"""

from __future__ import annotations

import copy
import logging
import math
import sqlite3

import numpy as np
import pytest
import torch
from reliability_data import (
    HISTORIES,
    collaborative_view,
    tiny_aligner,
    tiny_encoder,
    tiny_recommender,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.denoising import InterestAligner
from iadsr_sk.nn.gru4rec import GRU4Rec
from iadsr_sk.semantic import SemanticEmbedder
from iadsr_sk.semantic._cache import EmbeddingCache, settings_digest, text_keys
from iadsr_sk.semantic._models import TextEncoder


def _fail_on_call(monkeypatch, owner, name, n, make_error):
    """Patch ``owner.name`` so that its ``n``-th call (1-based) raises ``make_error()``."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def patched(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise make_error()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)
    return calls


def _interrupt():
    return KeyboardInterrupt()


def _assert_unfitted(estimator):
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
    assert not [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]


# ----------------------------------------------------------- KeyboardInterrupt
@pytest.mark.parametrize("refit", [False, True], ids=["first-fit", "refit"])
def test_interrupt_in_a_batch_leaves_the_recommender_unfitted(monkeypatch, refit):
    model = tiny_recommender(max_epochs=3)
    if refit:
        model.fit(HISTORIES)
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global stream)
    calls = _fail_on_call(monkeypatch, SequentialRecommender, "_window_loss", 4, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(HISTORIES)
    assert calls["n"] == 4  # it stopped at the interrupted batch
    _assert_unfitted(model)
    with pytest.raises(NotFittedError):
        model.predict([[1, 2]], k=2)
    # the caller's random streams are as they were
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    # and nothing lingers: a new fit equals a fit that was never interrupted
    monkeypatch.undo()
    expected = tiny_recommender(max_epochs=3).fit(HISTORIES).score_next(HISTORIES)
    np.testing.assert_allclose(model.fit(HISTORIES).score_next(HISTORIES), expected)


def test_interrupt_in_the_backbone_forward(monkeypatch):
    # a backbone whose forward raises KeyboardInterrupt on its 3rd call
    model = tiny_recommender(max_epochs=2)
    _fail_on_call(monkeypatch, GRU4Rec, "forward", 3, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(HISTORIES)
    _assert_unfitted(model)


def test_interrupt_in_validation(monkeypatch):
    model = tiny_recommender(max_epochs=3, validation="last_item").fit(HISTORIES)
    _fail_on_call(monkeypatch, SequentialRecommender, "_validation_metrics", 2, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(HISTORIES)
    _assert_unfitted(model)


def test_interrupt_in_the_encoder_refit(monkeypatch):
    encoder = tiny_encoder().fit(HISTORIES)
    _fail_on_call(monkeypatch, SequentialRecommender, "_window_loss", 1, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        encoder.fit(HISTORIES)
    _assert_unfitted(encoder)
    with pytest.raises(NotFittedError):
        encoder.transform(HISTORIES)


def test_interrupt_in_the_aligner_leaves_the_encoder_alone(monkeypatch):
    view = collaborative_view()
    weights = copy.deepcopy(view.encoder.module_.state_dict())
    states = view.encoder.transform(HISTORIES).short_term
    aligner = tiny_aligner(n_epochs=2).fit(view)
    _fail_on_call(monkeypatch, InterestAligner, "_step", 2, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        aligner.fit(view)
    _assert_unfitted(aligner)
    with pytest.raises(NotFittedError):
        aligner.transform(view)
    for name, tensor in view.encoder.module_.state_dict().items():
        assert torch.equal(tensor, weights[name]), name
    np.testing.assert_array_equal(view.encoder.transform(HISTORIES).short_term, states)


# ------------------------------------------------------------ NaN / inf loss
def _fail_with_bad_loss(monkeypatch, owner, name, n, value):
    """Patch ``owner.name``: the loss of its ``n``-th call is multiplied by ``value``."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def patched(*args, **kwargs):
        calls["n"] += 1
        result = original(*args, **kwargs)
        if calls["n"] != n:
            return result
        if isinstance(result, dict):  # InterestAligner._step
            return {**result, "loss": result["loss"] * value}
        loss, count = result
        return loss * value, count

    monkeypatch.setattr(owner, name, patched)


@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_non_finite_loss_names_the_epoch_and_batch(monkeypatch, value):
    reference = tiny_recommender(max_epochs=2, batch_size=4).fit(HISTORIES)
    n_batches = math.ceil(reference.n_train_sequences_ / 4)
    model = tiny_recommender(max_epochs=2, batch_size=4).fit(HISTORIES)
    # the 2nd batch of the 2nd epoch
    _fail_with_bad_loss(
        monkeypatch, SequentialRecommender, "_window_loss", n_batches + 2, value
    )
    shown = "nan" if math.isnan(value) else "inf"
    with pytest.raises(FloatingPointError) as error:
        model.fit(HISTORIES)
    assert f"loss became {shown} at epoch 2, batch 2 of {n_batches};" in str(error.value)
    assert "lower learning_rate" in str(error.value)
    _assert_unfitted(model)


def test_non_finite_aligner_loss_names_the_step(monkeypatch):
    view = collaborative_view()
    _fail_with_bad_loss(monkeypatch, InterestAligner, "_step", 1, math.nan)
    aligner = tiny_aligner()
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1 of"):
        aligner.fit(view)
    _assert_unfitted(aligner)


def test_training_stops_at_the_first_non_finite_batch_on_the_cpu(monkeypatch):
    calls = {"n": 0}
    original = SequentialRecommender._window_loss

    def count(self, *args):
        calls["n"] += 1
        loss, n = original(self, *args)
        return loss * math.nan, n

    monkeypatch.setattr(SequentialRecommender, "_window_loss", count)
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1 of"):
        tiny_recommender(max_epochs=3, batch_size=2).fit(HISTORIES)
    assert calls["n"] == 1  # no batch ran after the bad one


def test_first_non_finite_batch_is_named_when_the_epoch_runs_on(monkeypatch):
    # on a GPU the check waits for the end of the epoch (no sync per batch): the
    # first bad batch is still the one named, though later batches are bad as well
    monkeypatch.setattr(SequentialRecommender, "_syncs_are_free", lambda self: False)
    calls = {"n": 0}
    original = SequentialRecommender._window_loss

    def bad_from_the_third(self, *args):
        calls["n"] += 1
        loss, n = original(self, *args)
        return (loss * math.inf if calls["n"] >= 3 else loss), n

    monkeypatch.setattr(SequentialRecommender, "_window_loss", bad_from_the_third)
    model = tiny_recommender(max_epochs=3, batch_size=2)
    with pytest.raises(
        FloatingPointError, match="loss became inf at epoch 1, batch 3 of 6"
    ):
        model.fit(HISTORIES)
    assert calls["n"] == 6  # the whole first epoch ran, and no later one
    _assert_unfitted(model)


# -------------------------------------------------------------- out of memory
def _oom():
    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_in_training_suggests_a_smaller_batch(monkeypatch):
    model = tiny_recommender(max_epochs=2, batch_size=8).fit(HISTORIES)
    _fail_on_call(monkeypatch, SequentialRecommender, "_window_loss", 2, _oom)
    with pytest.raises(torch.OutOfMemoryError) as error:
        model.fit(HISTORIES)
    message = str(error.value)
    assert "out of memory in SequentialRecommender.fit, epoch 1, batch 2 of" in message
    assert "try a smaller batch_size (now 8)" in message
    assert "Tried to allocate 20.00 GiB" in message  # the original error is kept
    assert isinstance(error.value.__cause__, torch.OutOfMemoryError)
    _assert_unfitted(model)


def test_out_of_memory_in_validation_names_inference_batch_size(monkeypatch):
    model = tiny_recommender(validation="last_item")
    _fail_on_call(monkeypatch, SequentialRecommender, "_validation_metrics", 1, _oom)
    with pytest.raises(torch.OutOfMemoryError, match="smaller inference_batch_size"):
        model.fit(HISTORIES)
    _assert_unfitted(model)


def test_out_of_memory_in_the_aligner(monkeypatch):
    view = collaborative_view()
    _fail_on_call(monkeypatch, InterestAligner, "_step", 1, _oom)
    with pytest.raises(
        torch.OutOfMemoryError, match=r"InterestAligner.fit, epoch 1.*now 8"
    ):
        tiny_aligner(batch_size=8).fit(view)


def test_out_of_memory_while_embedding_texts(monkeypatch, text_model):
    _fail_on_call(monkeypatch, TextEncoder, "forward", 1, _oom)
    item_text = {1: "red lipstick", 2: "blue wig", 3: "nail polish"}
    embedder = SemanticEmbedder(text_model, item_text=item_text, batch_size=2)
    with pytest.raises(torch.OutOfMemoryError) as error:
        embedder.fit([[1, 2, 3]])
    message = str(error.value)
    assert "out of memory embedding 2 texts of up to 2 tokens" in message
    assert "try a smaller batch_size (now 2)" in message
    assert "Tried to allocate" in message


# --------------------------------------------------------- corrupt caches
def _filled_cache(directory, n=300, width=16):
    cache = EmbeddingCache(directory)
    keys = text_keys(settings_digest([("model", "test")]), [f"text {i}" for i in range(n)])
    vectors = np.random.default_rng(0).normal(size=(n, width)).astype(np.float32)
    cache.put(keys, vectors)
    return cache, keys, vectors


def _truncate(path):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def _header_only(path):
    with open(path, "r+b") as handle:
        handle.truncate(100)


def _random_bytes(path):
    size = path.stat().st_size
    path.write_bytes(np.random.default_rng(1).bytes(size))


def _garbage_tail(path):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(np.random.default_rng(2).bytes(size - size // 2))


def _foreign_database(path):
    path.unlink()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE vectors (name TEXT, payload BLOB)")
    connection.close()


@pytest.mark.parametrize(
    "damage",
    [_truncate, _header_only, _random_bytes, _garbage_tail, _foreign_database],
    ids=["truncated", "header-only", "random-bytes", "garbage-tail", "foreign-database"],
)
def test_a_damaged_cache_file_is_moved_aside_and_rebuilt(tmp_path, caplog, damage):
    cache, keys, vectors = _filled_cache(tmp_path)
    damage(cache.path)
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        assert cache.get(keys) == {}  # nothing trusted from a damaged file
    assert "is unreadable" in caplog.text and "moved it to" in caplog.text
    assert len(list(tmp_path.glob("embeddings.sqlite3.*.corrupt"))) == 1
    cache.put(keys, vectors)  # the rebuilt cache works again
    found = cache.get(keys)
    assert len(found) == len(keys)
    np.testing.assert_array_equal(np.stack([found[k] for k in keys]), vectors)


def test_a_fit_recovers_from_a_truncated_cache(tmp_path, text_model, caplog):
    item_text = {1: "red lipstick", 2: "blue wig", 3: "nail polish"}
    embedder = SemanticEmbedder(text_model, item_text=item_text, cache_dir=tmp_path)
    expected = embedder.fit([[1, 2, 3]]).item_embeddings_.copy()
    _header_only(tmp_path / "embeddings.sqlite3")
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        embedder.fit([[1, 2, 3]])
    assert "is unreadable" in caplog.text
    np.testing.assert_allclose(embedder.item_embeddings_, expected, atol=1e-6)
    assert len(EmbeddingCache(tmp_path)) == 3  # rebuilt with the recomputed vectors
