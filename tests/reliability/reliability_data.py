"""Tiny data and tiny estimators shared by the reliability tests.

Everything here fits in milliseconds: a dozen users, a dozen items, hidden size 8,
one epoch, one thread. Item vectors are precomputed, so no language model is built.
"""

from __future__ import annotations

import numpy as np

from iadsr_sk.baselines import MarkovChain, MostPopular
from iadsr_sk.collaborative import CollaborativeEncoder, SequentialRecommender
from iadsr_sk.data import Sequences
from iadsr_sk.denoising import (
    InterestAligner,
    NoiseScores,
    RandomDropper,
    SequenceDenoiser,
)
from iadsr_sk.semantic import SemanticEmbedder

#: 12 users over items 1..12, 4 to 7 items each
HISTORIES = [[1 + (u + 3 * j) % 12 for j in range(4 + u % 4)] for u in range(12)]
ITEMS = sorted({item for row in HISTORIES for item in row})

#: the smallest settings that still train a real backbone
TINY = dict(
    hidden_size=8,
    max_len=6,
    max_epochs=1,
    patience=None,
    validation=None,
    batch_size=8,
    random_state=0,
)


def item_vectors(items=ITEMS, dim: int = 4, seed: int = 0) -> dict:
    """``{item: vector}`` standing in for a language model's item embeddings."""
    rng = np.random.default_rng(seed)
    return {item: rng.normal(size=dim) for item in items}


def tiny_embedder(**params) -> SemanticEmbedder:
    return SemanticEmbedder(model="precomputed", embeddings=item_vectors(), **params)


def tiny_recommender(**params) -> SequentialRecommender:
    return SequentialRecommender(**{"backbone": "gru4rec", **TINY, **params})


def tiny_encoder(**params) -> CollaborativeEncoder:
    return CollaborativeEncoder(**{"backbone": "gru4rec", **TINY, **params})


def tiny_aligner(**params) -> InterestAligner:
    return InterestAligner(**{"n_epochs": 1, "batch_size": 8, "random_state": 0, **params})


def stage_one(histories=HISTORIES):
    """A fitted ``(embedder, encoder)`` pair: IADSR's Stage 1 on ``histories``."""
    return tiny_embedder().fit(histories), tiny_encoder().fit(histories)


def collaborative_view(histories=HISTORIES, stages=None):
    """The CollaborativeEncoder's output (with its semantic view): the aligner's input."""
    embedder, encoder = stages or stage_one(histories)
    return encoder.transform(embedder.transform(histories))


def noise_scores(histories=HISTORIES, seed: int = 0) -> NoiseScores:
    """Hand-made NoiseScores (the SequenceDenoiser's input), no training needed."""
    seqs = Sequences.from_lists(histories)
    rng = np.random.default_rng(seed)
    return NoiseScores(
        sequences=seqs,
        scores=rng.uniform(-3, 3, seqs.n_interactions),
        user_similarity=rng.uniform(-1, 1, len(seqs)),
        source=seqs,
    )


def every_estimator():
    """One small instance of every public estimator."""
    return [
        tiny_embedder(),
        tiny_encoder(),
        tiny_recommender(),
        tiny_aligner(),
        SequenceDenoiser(),
        RandomDropper(rate=0.3, random_state=0),
        MostPopular(),
        MarkovChain(),
    ]


def tiny_text_model(special_tokens: bool = False):
    """``(model, tokenizer)``: a 1-layer BERT of width 8 over a word-level vocabulary.

    Built from a config (random weights), so nothing is downloaded; enough to check
    how text reaches the model, not what it means. The tokenizer adds no special
    token (like GPT-2's), or with ``special_tokens`` wraps every text in
    ``[CLS] ... [SEP]`` (like BERT's).
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "red", "blue", "lipstick", "wig", "nail", "polish"]
    words += ["unknown", "item"]
    if special_tokens:
        words += ["[CLS]", "[SEP]"]
    backend = Tokenizer(
        models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="[UNK]")
    )
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    if special_tokens:
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            special_tokens=[
                ("[CLS]", words.index("[CLS]")),
                ("[SEP]", words.index("[SEP]")),
            ],
        )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]"
    )
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = BertModel(config).eval()
    return model, tokenizer
