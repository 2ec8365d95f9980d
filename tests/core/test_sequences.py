import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import _safe_indexing

from iadsr_sk.data import ItemCatalog, ItemVocabulary, Sequences, as_sequences

histories = st.lists(
    st.lists(st.integers(-5, 40), min_size=1, max_size=12), min_size=1, max_size=20
)


@settings(max_examples=100, deadline=None)
@given(histories)
def test_round_trip_and_lengths(rows):
    seqs = Sequences.from_lists(rows)
    assert seqs.to_lists() == rows
    assert seqs.lengths.tolist() == [len(r) for r in rows]
    assert len(seqs) == len(rows) and seqs.shape == (len(rows),)
    for i, r in enumerate(rows):
        assert seqs[i].tolist() == r


@settings(max_examples=100, deadline=None)
@given(histories, st.data())
def test_take_and_masks(rows, data):
    seqs = Sequences.from_lists(rows)
    idx = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=10))
    assert seqs.take(idx).to_lists() == [rows[i] for i in idx]
    assert seqs[np.array(idx, dtype=int)].to_lists() == [rows[i] for i in idx]
    mask = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    expected = [r for r, m in zip(rows, mask, strict=True) if m]
    assert seqs[np.array(mask)].to_lists() == expected
    assert seqs[1:].to_lists() == rows[1:]


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(1, 6))
def test_head_tail_padded(rows, k):
    seqs = Sequences.from_lists(rows)
    assert seqs.head(k).to_lists() == [r[: max(len(r) - k, 0)] for r in rows]
    assert seqs.tail(k).to_lists() == [r[-k:] for r in rows]
    left = seqs.padded(k)
    right = seqs.padded(k, side="right")
    for i, r in enumerate(rows):
        recent = seqs.vocabulary.encode(r[-k:]).tolist()
        assert left[i, k - len(recent) :].tolist() == recent
        assert (left[i, : k - len(recent)] == -1).all()
        assert right[i, : len(recent)].tolist() == recent
        assert (right[i, len(recent) :] == -1).all()


@settings(max_examples=60, deadline=None)
@given(histories, st.data())
def test_keep_mask_is_subsequence(rows, data):
    seqs = Sequences.from_lists(rows)
    mask = np.array(
        data.draw(
            st.lists(
                st.booleans(), min_size=seqs.n_interactions, max_size=seqs.n_interactions
            )
        ),
        dtype=bool,
    )
    kept = seqs.keep_mask(mask)
    assert len(kept) == len(seqs)
    flat = [x for r in rows for x in r]
    bounds = np.cumsum([0] + [len(r) for r in rows])
    for i in range(len(rows)):
        expect = [flat[j] for j in range(bounds[i], bounds[i + 1]) if mask[j]]
        assert kept[i].tolist() == expect


def test_sklearn_indexing_keeps_container():
    seqs = Sequences.from_lists([[1, 2], [3], [4, 5, 6]], user_ids=["a", "b", "c"])
    sub = _safe_indexing(seqs, np.array([2, 0]))
    assert isinstance(sub, Sequences)
    assert sub.to_lists() == [[4, 5, 6], [1, 2]]
    assert sub.user_ids.tolist() == ["c", "a"]
    assert sub.vocabulary is seqs.vocabulary


def test_string_ids_and_timestamps():
    seqs = Sequences.from_lists([["B1", "A7"], ["A7"]], timestamps=[[1.0, 2.0], [5.0]])
    assert seqs.vocabulary.ids.tolist() == ["A7", "B1"]
    assert seqs[0].tolist() == ["B1", "A7"]
    assert seqs.take([1]).timestamps.tolist() == [5.0]


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        Sequences.from_lists([[1], []])
    with pytest.raises(ValueError, match="empty input"):
        Sequences.from_lists([])
    with pytest.raises(TypeError, match="mix integers and strings"):
        Sequences.from_lists([[1, "a"]])
    with pytest.raises(TypeError, match="got a float"):
        Sequences.from_lists([[1.5]])
    with pytest.raises(TypeError, match="boolean"):
        Sequences.from_lists([[True]])
    with pytest.raises(ValueError, match="NaN"):
        Sequences.from_lists([[1, float("nan")]])
    with pytest.raises(ValueError, match="timestamps contain NaN"):
        Sequences.from_lists([[1, 2], [3]], timestamps=[[1, 2], [np.nan]])
    with pytest.raises(TypeError, match="sequence 0 must be a list"):
        Sequences.from_lists([5])
    with pytest.raises(TypeError, match="2-d array"):
        as_sequences(np.zeros((3, 4), dtype=int))
    with pytest.raises(TypeError, match="list of item-id lists"):
        as_sequences("1 2 3")


def test_unknown_ids_raise_with_names():
    vocab = ItemVocabulary([1, 2, 3])
    with pytest.raises(KeyError, match=r"unknown item id.*7"):
        as_sequences([[1, 7]], vocabulary=vocab)
    with pytest.raises(TypeError, match="are strs but this vocabulary"):
        vocab.encode(["1"])


def test_reencode_on_other_vocabulary():
    vocab = ItemVocabulary([1, 2, 3, 9])
    seqs = Sequences.from_lists([[9, 1]])
    out = as_sequences(seqs, vocabulary=vocab)
    assert out.vocabulary is vocab
    assert out.to_lists() == [[9, 1]]
    assert seqs.vocabulary.ids.tolist() == [1, 9]  # input untouched


def test_catalog_texts_and_template():
    cat = ItemCatalog(
        [1, 2, 3],
        {"title": ["Toy Story", None, "Heat"], "year": ["1995", "1996", None]},
        text_template="{title} ({year})",
    )
    assert cat.texts([1, 2, 3, 4]) == ["Toy Story (1995)", "(1996)", "Heat ()", None]
    assert cat.texts([3], "{title}") == ["Heat"]
    with pytest.raises(ValueError, match="unknown field"):
        cat.with_template("{plot}")
    with pytest.raises(ValueError, match="unique"):
        ItemCatalog([1, 1], {"title": ["a", "b"]})
    seqs = Sequences.from_lists([[1]], catalog=cat)
    assert seqs.vocabulary.ids.tolist() == [
        1,
        2,
        3,
    ]  # the catalog's items join the vocabulary
