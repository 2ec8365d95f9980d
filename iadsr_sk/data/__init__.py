"""Sequence container, item vocabulary and catalog, readers, splits and noise injection."""

from ._catalog import ItemCatalog
from ._datasets import get_data_home, load_amazon_beauty, load_dataset, load_movielens_100k
from ._noise import inject_noise
from ._readers import (
    read_interactions,
    read_item_text_tsv,
    read_json_sequences,
    read_recbole,
    read_sequences,
    read_text_sequences,
)
from ._sequences import Sequences, as_sequences
from ._split import LeaveOneOutSplit, UserKFold, leave_one_out_split, next_item_pairs
from ._vocabulary import ItemVocabulary
from ._writers import write_recbole

__all__ = [
    "ItemCatalog",
    "ItemVocabulary",
    "LeaveOneOutSplit",
    "Sequences",
    "UserKFold",
    "as_sequences",
    "get_data_home",
    "inject_noise",
    "leave_one_out_split",
    "load_amazon_beauty",
    "load_dataset",
    "load_movielens_100k",
    "next_item_pairs",
    "read_interactions",
    "read_item_text_tsv",
    "read_json_sequences",
    "read_recbole",
    "read_sequences",
    "read_text_sequences",
    "write_recbole",
]
