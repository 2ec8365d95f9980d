"""iadsr-sk: denoise interaction sequences for sequential recommendation (IADSR).

Importing this package does not import ``transformers``; the estimators are loaded on
first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (loaded lazily, on first access)
_EXPORTS = {
    "Sequences": "iadsr_sk.data",
    "ItemVocabulary": "iadsr_sk.data",
    "ItemCatalog": "iadsr_sk.data",
    "as_sequences": "iadsr_sk.data",
    "leave_one_out_split": "iadsr_sk.data",
    "UserKFold": "iadsr_sk.data",
    "load_dataset": "iadsr_sk.data",
    "read_sequences": "iadsr_sk.data",
    "inject_noise": "iadsr_sk.data",
    "MostPopular": "iadsr_sk.baselines",
    "MarkovChain": "iadsr_sk.baselines",
    "make_ranking_scorer": "iadsr_sk.metrics",
    "SemanticEmbedder": "iadsr_sk.semantic",
    "CollaborativeEncoder": "iadsr_sk.collaborative",
    "SequentialRecommender": "iadsr_sk.collaborative",
    "InterestAligner": "iadsr_sk.denoising",
    "SequenceDenoiser": "iadsr_sk.denoising",
    "RandomDropper": "iadsr_sk.denoising",
    "make_iadsr_pipeline": "iadsr_sk.pipeline",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'iadsr_sk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
