"""write_recbole writes only what read_recbole reads back, and the results of
run_denoising are plain JSON values."""

import json

import numpy as np
import pytest

from iadsr_sk.data import ItemCatalog, Sequences, read_recbole, write_recbole


def test_nul_characters_are_refused_before_writing(tmp_path):
    users = np.array(["a\x00b", "c"], dtype=object)
    with pytest.raises(ValueError, match="user id 'a\\\\x00b' contains a NUL character"):
        write_recbole(Sequences.from_lists([[1, 2], [3]], user_ids=users), tmp_path, "u")
    catalog = ItemCatalog([1, 2], {"title": ["A\x00B", "C"]})
    with pytest.raises(ValueError, match="field 'title' of item 1 contains a NUL"):
        write_recbole(Sequences.from_lists([[1, 2]], catalog=catalog), tmp_path, "t")
    assert not any(tmp_path.rglob("*.*"))  # nothing written


def test_an_empty_catalog_writes_no_item_file(tmp_path):
    seqs = Sequences.from_lists([[1, 2]], catalog=ItemCatalog([], {"title": []}))
    inter, item = write_recbole(seqs, tmp_path, "e")
    assert item is None and not (tmp_path / "e" / "e.item").exists()
    assert read_recbole(inter).to_lists() == [[1, 2]]


def test_whitespace_only_text_is_missing_and_round_trips(tmp_path):
    catalog = ItemCatalog([1, 2], {"title": ["   ", "Heat"]})
    assert catalog.texts([1, 2]) == [None, "Heat"]
    inter, item = write_recbole(
        Sequences.from_lists([[1, 2]], catalog=catalog), tmp_path, "w"
    )
    assert read_recbole(inter, item).catalog.texts([1, 2]) == [None, "Heat"]


def test_run_denoising_results_are_plain_json(tmp_path):
    from iadsr_sk.experiment import DenoisingRun, run_denoising

    seqs = Sequences.from_lists([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 0]])
    base = dict(model="gru4rec", max_epochs=1, align_epochs=1, max_len=5, verbose=0)
    # every training position is noise: the ROC-AUC is undefined, not NaN
    run = DenoisingRun(denoiser="collab-only", noise_rate=0.9, seed=2, **base)
    result = run_denoising(seqs, run)
    assert result["noise_detection"]["roc_auc"] is None
    json.dumps(result, allow_nan=False)
    # numpy scalars given as settings come back as Python numbers
    run = DenoisingRun(denoiser="none", seed=np.int64(0), **base)
    result = run_denoising(seqs, run)
    assert type(result["seed"]) is int
    json.dumps(result, allow_nan=False)
