import json
import logging
from pathlib import Path

import numpy as np
import pytest

from iadsr_sk.data._datasets import (
    get_data_home,
    load_amazon_beauty,
    load_dataset,
    load_movielens_100k,
)


def _real_data_home() -> Path:
    try:
        return get_data_home()
    except FileNotFoundError:
        pytest.skip("real datasets not found (set IADSR_DATA)")


@pytest.fixture(scope="module")
def ml100k():
    home = _real_data_home()
    if not (home / "ml-100k").is_dir():
        pytest.skip("ml-100k not found")
    return home, load_movielens_100k(home)


@pytest.fixture(scope="module")
def beauty():
    home = _real_data_home()
    if not (home / "amazon-beauty").is_dir():
        pytest.skip("amazon-beauty not found")
    return home, load_amazon_beauty(home)


# ------------------------------------------------------------------ MovieLens
def test_movielens_counts_and_text(ml100k):
    _, seqs = ml100k
    assert (len(seqs), seqs.n_items, seqs.n_interactions) == (943, 1682, 100_000)
    assert seqs.vocabulary.id_kind == "int"
    assert seqs.user_ids.tolist() == list(range(1, 944))
    assert seqs.lengths.min() >= 20
    assert seqs.catalog.texts([1]) == [
        "Toy Story (1995). Genres: Animation, Children's, Comedy"
    ]
    assert seqs.catalog.fields["genres"][0] == "Animation, Children's, Comedy"


def test_movielens_time_order_with_stable_ties(ml100k):
    home, seqs = ml100k
    lines = (home / "ml-100k" / "ml-100k.inter").read_text().splitlines()[1:]
    rows = [line.split("\t") for line in lines]
    by_user: dict[int, list] = {}
    for position, (user, item, _, time) in enumerate(rows):
        by_user.setdefault(int(user), []).append((float(time), position, int(item)))
    expected = [[item for *_, item in sorted(by_user[u])] for u in seqs.user_ids.tolist()]
    assert seqs.to_lists() == expected
    assert np.all(np.diff(seqs.timestamps)[np.diff(seqs.positions()[0]) == 0] >= 0)
    # ties exist, so the stable rule matters
    assert any(len({t for t, *_ in v}) < len(v) for v in by_user.values())


def test_movielens_template(ml100k):
    home, _ = ml100k
    seqs = load_movielens_100k(home, text_template="{title}")
    assert seqs.catalog.texts([1, 2]) == ["Toy Story", "GoldenEye"]


# --------------------------------------------------------------------- Beauty
def test_beauty_counts(beauty):
    _, seqs = beauty
    assert (len(seqs), seqs.n_items, seqs.n_interactions) == (22_363, 12_101, 198_502)
    assert seqs.vocabulary.ids.tolist() == list(range(1, 12_102))
    assert seqs.user_ids[0] == "user0" and seqs.user_ids[-1] == "user22362"
    assert seqs.timestamps is None
    assert seqs.lengths.min() == 5 and seqs.lengths.max() == 204
    assert seqs[0].tolist()[:2] == [8498, 10548]
    texts = seqs.catalog.texts_for(seqs.vocabulary)
    assert [i + 1 for i, t in enumerate(texts) if t is None] == list(range(12_095, 12_102))


def test_beauty_missing_titles_logged(beauty, caplog):
    home, _ = beauty
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        load_amazon_beauty(home)
    messages = [r.getMessage() for r in caplog.records if r.name == "iadsr_sk"]
    assert any(m.startswith("7 items have no title: 12095, 12096") for m in messages)


def _fake_beauty(root: Path) -> Path:
    folder = root / "amazon-beauty"
    folder.mkdir(parents=True)
    (folder / "sequences.json").write_text(json.dumps({"user0": [1, 2], "user1": [2]}))
    (folder / "titles.json").write_text(json.dumps({"A1": "Soap &amp; Shampoo"}))
    (folder / "id_map.json").write_text(json.dumps({"A1": 1, "A2": 2, "A3": 3}))
    return root


def test_beauty_unescapes_html_and_keeps_every_catalog_item(tmp_path, caplog):
    home = _fake_beauty(tmp_path)
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        seqs = load_dataset("beauty", data_home=home)
    assert seqs.catalog.texts([1, 2, 3]) == ["Soap & Shampoo", None, None]
    assert seqs.vocabulary.ids.tolist() == [1, 2, 3]  # item 3: no interaction
    assert "2 items have no title: 2, 3" in caplog.text


# ----------------------------------------------------------------- data home
def test_data_home_env_respected(tmp_path, monkeypatch):
    home = _fake_beauty(tmp_path / "elsewhere")
    monkeypatch.setenv("IADSR_DATA", str(home))
    assert get_data_home() == home
    assert load_amazon_beauty().to_lists() == [[1, 2], [2]]
    # the argument wins over the environment
    other = tmp_path / "other"
    other.mkdir()
    assert get_data_home(other) == other


def test_missing_data_home_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="IADSR_DATA"):
        get_data_home(tmp_path / "nope")
    monkeypatch.setenv("IADSR_DATA", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=r"nope.*IADSR_DATA"):
        load_movielens_100k()
    monkeypatch.delenv("IADSR_DATA")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Path, "is_dir", lambda self: False)
    with pytest.raises(FileNotFoundError, match=r"(?s)tried:.*shared.*shared.*IADSR_DATA"):
        get_data_home()


def test_missing_dataset_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ml-100k\.inter"):
        load_movielens_100k(tmp_path)


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"valid names: \['ml-100k', 'beauty'\]"):
        load_dataset("ml-1m")
