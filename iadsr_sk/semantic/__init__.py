"""The semantic view of IADSR: item text through a frozen language model.

Importing this package does not import ``transformers``; a model is loaded on first use.
"""

from ._embedder import SemanticEmbedder, SemanticInterests

__all__ = ["SemanticEmbedder", "SemanticInterests"]
