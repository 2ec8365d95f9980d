"""Fixtures of the Stage-2 tests."""

import pytest
from stage2_data import FakeCollaborative, semantic_view, small_encoder, topic_sequences


@pytest.fixture
def topic_data():
    seqs, noise = topic_sequences()
    sem = semantic_view(seqs)
    encoder = small_encoder(seqs)
    return FakeCollaborative(seqs, sem, encoder, source=seqs), noise
