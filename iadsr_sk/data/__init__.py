"""Sequence container, item vocabulary and catalog, readers, splits and noise injection."""

from ._catalog import ItemCatalog
from ._sequences import Sequences, as_sequences
from ._vocabulary import ItemVocabulary

__all__ = ["ItemCatalog", "ItemVocabulary", "Sequences", "as_sequences"]
