"""Small stand-ins for the Stage-1 outputs, so Stage 2 is tested on its own."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from iadsr_sk.collaborative import CollaborativeEncoder
from iadsr_sk.data import Sequences


@dataclass
class FakeSemantic:
    sequences: Sequences
    short_term: np.ndarray
    long_term: np.ndarray


@dataclass
class FakeCollaborative:
    sequences: Sequences
    semantic: Any
    encoder: Any
    source: Any = None


def small_encoder(seqs, seed=0, **params):
    """A real Stage-1 encoder, tiny and briefly trained."""
    return CollaborativeEncoder(
        "sasrec",
        hidden_size=16,
        n_heads=1,
        max_len=8,
        max_epochs=3,
        patience=None,
        validation=None,
        random_state=seed,
        **params,
    ).fit(seqs)


def topic_sequences(n_users=60, n_topics=3, per_topic=8, length=10, noise=0.2, seed=0):
    """Users who stay inside one topic, with a share of items from another topic."""
    rng = np.random.default_rng(seed)
    rows, is_noise = [], []
    for u in range(n_users):
        topic = u % n_topics
        row, flags = [], []
        for _ in range(length):
            if rng.random() < noise:
                other = (topic + 1 + rng.integers(n_topics - 1)) % n_topics
                row.append(int(other * per_topic + rng.integers(per_topic)))
                flags.append(True)
            else:
                row.append(int(topic * per_topic + rng.integers(per_topic)))
                flags.append(False)
        rows.append(row)
        is_noise.append(flags)
    seqs = Sequences.from_lists(rows)
    return seqs, np.concatenate([np.array(f) for f in is_noise])


def semantic_view(seqs, n_topics=3, per_topic=8, dim=12, seed=0):
    """Item vectors that cluster by topic (what a language model would see)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics, dim))
    topic = seqs.vocabulary.ids // per_topic
    items = centres[topic] + 0.3 * rng.normal(size=(seqs.n_items, dim))
    short = items[seqs.codes].astype(np.float32)
    long = np.add.reduceat(short, seqs.offsets[:-1], axis=0) / seqs.lengths[:, None]
    return FakeSemantic(seqs, short, long.astype(np.float32))
