"""write_recbole: RecBole atomic files that read_recbole reads back unchanged."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsr_sk.data import ItemCatalog, Sequences, read_recbole, read_sequences
from iadsr_sk.data._writers import write_recbole
from iadsr_sk.denoising import NoiseScores, SequenceDenoiser


def _same(a: Sequences, b: Sequences) -> None:
    """Same users in the same order, same items in the same order, same ids."""
    assert a.to_lists() == b.to_lists()
    assert a.vocabulary.id_kind == b.vocabulary.id_kind
    assert a.user_ids.tolist() == b.user_ids.tolist()


def _movies() -> Sequences:
    catalog = ItemCatalog(
        [10, 11, 12, 13, 14],
        {
            "title": ["Toy Story", "Heat", "Casino\tRoyale", None, "Babe"],
            "year": ["1995", "1995", None, "1996", "1995"],
        },
        text_template="{title} ({year})",
    )
    return Sequences.from_lists(
        [[12, 10, 13, 10], [11, 14]],
        user_ids=np.array([7, 3]),
        timestamps=[[100.0, 300.0, 300.0, 301.5], [50, 1.7e9]],
        catalog=catalog,
    )


def test_files_layout_and_content(tmp_path):
    inter_path, item_path = write_recbole(_movies(), tmp_path, "movies")
    assert inter_path == tmp_path / "movies" / "movies.inter"
    assert item_path == tmp_path / "movies" / "movies.item"
    assert inter_path.read_text().splitlines() == [
        "user_id:token\titem_id:token\ttimestamp:float",
        "7\t12\t100",
        "7\t10\t300",
        "7\t13\t300",
        "7\t10\t301.5",
        "3\t11\t50",
        "3\t14\t1700000000",
    ]
    lines = item_path.read_text().splitlines()
    assert lines[0] == "item_id:token\ttitle:token_seq\tyear:token_seq"
    assert lines[3] == "12\tCasino Royale\t"  # tab inside text -> space; None -> empty
    assert lines[4] == "13\t\t1996"


def test_round_trip_with_catalog_and_timestamps(tmp_path):
    seqs = _movies()
    inter_path, item_path = write_recbole(seqs, tmp_path, "movies")
    back = read_recbole(inter_path, item_path, text_template=seqs.catalog.text_template)
    _same(seqs, back)
    assert back.timestamps.tolist() == seqs.timestamps.tolist()
    assert back.catalog.texts([10, 11, 12, 13, 14]) == seqs.catalog.texts(
        [10, 11, 12, 13, 14]
    )
    assert back.vocabulary == seqs.vocabulary
    # read_sequences finds the .item file next to the .inter file
    assert read_sequences(inter_path).to_lists() == seqs.to_lists()


def test_single_field_template_is_read_back_by_default(tmp_path):
    catalog = ItemCatalog(["b", "a"], {"year": ["1", "2"], "name": ["Bee", "Ay"]}, "{name}")
    seqs = Sequences.from_lists([["a", "b"]], user_ids=["u"], catalog=catalog)
    back = read_recbole(*write_recbole(seqs, tmp_path, "x"))
    assert back.catalog.texts(["a", "b"]) == ["Ay", "Bee"]


def test_without_timestamps_the_order_is_kept(tmp_path):
    seqs = Sequences.from_lists([[3, 1, 2], [2, 2, 3, 1]])
    inter_path, item_path = write_recbole(seqs, tmp_path, "plain")
    assert item_path is None
    assert inter_path.read_text().splitlines()[1:4] == ["0\t3\t0", "0\t1\t1", "0\t2\t2"]
    back = read_recbole(inter_path)
    assert back.to_lists() == [[3, 1, 2], [2, 2, 3, 1]]
    assert back.user_ids.tolist() == [0, 1]  # no user ids: the row index


def test_overwrites_and_removes_a_stale_item_file(tmp_path):
    write_recbole(_movies(), tmp_path, "d")
    inter_path, item_path = write_recbole(_movies(), tmp_path, "d", with_item_text=False)
    assert item_path is None and not (tmp_path / "d" / "d.item").exists()
    assert read_sequences(inter_path).catalog is None


def test_string_ids_spelled_as_integers_come_back_as_integers(tmp_path):
    seqs = Sequences.from_lists([["1", "2"]], user_ids=["9"])
    back = read_recbole(write_recbole(seqs, tmp_path, "s")[0])
    assert back.to_lists() == [[1, 2]] and back.user_ids.tolist() == [9]
    # "7" and "007" would merge as integers, so they stay strings
    kept = Sequences.from_lists([["7", "007"]], user_ids=["u"])
    assert read_recbole(write_recbole(kept, tmp_path, "t")[0]).to_lists() == [["7", "007"]]


def test_round_trip_of_denoised_sequences(tmp_path):
    seqs = _movies()
    scores = NoiseScores(
        seqs,
        scores=np.array([1.0, -2.0, 0.5, -0.1, -1.0, 2.0]),
        user_similarity=np.full(len(seqs), np.nan),
        source=seqs,
    )
    denoised = SequenceDenoiser().fit(scores).transform(scores)
    assert denoised.to_lists() == [[12, 13], [14]]
    inter_path, item_path = write_recbole(denoised, tmp_path, "denoised")
    back = read_recbole(inter_path, item_path, text_template="{title} ({year})")
    _same(denoised, back)
    assert back.timestamps.tolist() == [100.0, 300.0, 1.7e9]


ints = st.integers(-(2**40), 2**40)
words = st.text("abcxyz-_.:é0123456789", min_size=1, max_size=6).filter(
    lambda s: not s.lstrip("+-").isdigit()
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    id_kind=st.sampled_from(["int", "str"]),
    with_times=st.booleans(),
)
def test_round_trip_property(tmp_path_factory, data, id_kind, with_times):
    ids = ints if id_kind == "int" else words
    histories = data.draw(
        st.lists(st.lists(ids, min_size=1, max_size=6), min_size=1, max_size=6)
    )
    users = data.draw(
        st.lists(st.one_of(ints, words), min_size=len(histories), max_size=len(histories))
        .filter(lambda u: len({str(x) for x in u}) == len(u))
        .filter(lambda u: len({type(x) for x in u}) == 1)
    )
    timestamps = None
    if with_times:
        timestamps = [
            np.cumsum(
                data.draw(
                    st.lists(
                        st.floats(0, 1e6, allow_nan=False),
                        min_size=len(h),
                        max_size=len(h),
                    )
                )
            )
            for h in histories
        ]
    seqs = Sequences.from_lists(histories, user_ids=np.array(users), timestamps=timestamps)
    folder = tmp_path_factory.mktemp("prop")
    back = read_recbole(write_recbole(seqs, folder, "p")[0])
    _same(seqs, back)
    if with_times:
        assert back.timestamps.tolist() == seqs.timestamps.tolist()


# ----------------------------------------------------------------------- bad input
def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        write_recbole([[1, 2]], tmp_path / "nowhere", "x")


@pytest.mark.parametrize("name", ["", " x", "a/b", "..", "a\tb", "a\nb"])
def test_bad_dataset_name(tmp_path, name):
    with pytest.raises(ValueError, match="plain file name"):
        write_recbole([[1, 2]], tmp_path, name)


def test_empty_input(tmp_path):
    with pytest.raises(ValueError, match="no sequences to write"):
        write_recbole([], tmp_path, "x")
    empty_row = Sequences.from_lists([[1], []], user_ids=["a", "b"], allow_empty=True)
    with pytest.raises(ValueError, match=r"sequence 1 \(user 'b'\) is empty"):
        write_recbole(empty_row, tmp_path, "x")


@pytest.mark.parametrize(
    ("histories", "users", "match"),
    [
        ([["a\tb"]], None, r"item id 'a\\tb' contains a tab or a line break"),
        ([["a\nb"]], None, "contains a tab or a line break"),
        ([["a\u2028b"]], None, "contains a tab or a line break"),
        ([[" a"]], None, "starts or ends with whitespace"),
        ([[""]], None, "empty or only whitespace"),
        ([[1], [2]], ["u\r"], "user id"),
        ([[1], [2]], ["u", "u"], r"duplicate user ids \('u'\)"),
        ([[1], [2]], [1, "1"], r"duplicate user ids \('1'\)"),
    ],
)
def test_bad_ids(tmp_path, histories, users, match):
    if users is not None and len(users) != len(histories):
        users = users * len(histories)
    user_ids = None if users is None else np.array(users, dtype=object)
    seqs = Sequences.from_lists(histories, user_ids=user_ids)
    with pytest.raises(ValueError, match=match):
        write_recbole(seqs, tmp_path, "x")
    assert not (tmp_path / "x").exists()  # nothing written


def test_decreasing_timestamps(tmp_path):
    with pytest.raises(
        ValueError, match=r"timestamps decrease in sequence 1 at position 2"
    ):
        Sequences.from_lists([[1, 2], [3, 4, 5]], timestamps=[[1, 2], [5, 6, 4]])
    seqs = Sequences.from_lists([[1, 2], [3, 4, 5]], timestamps=[[1, 2], [5, 6, 7]])
    seqs.timestamps = np.array([1.0, 2.0, 5.0, 6.0, 4.0])  # changed after construction
    with pytest.raises(ValueError, match=r"sequence 1 \(user '1'\) decrease at position 2"):
        write_recbole(seqs, tmp_path, "x")
    untimed = seqs.with_codes(seqs.offsets, seqs.codes)  # the suggested fix
    back = read_recbole(write_recbole(untimed, tmp_path, "x")[0])
    assert back.to_lists() == [[1, 2], [3, 4, 5]]


def test_catalog_problems(tmp_path):
    bad_field = ItemCatalog([1, 2], {"movie title": ["a", "b"]}, "{movie title}")
    seqs = Sequences.from_lists([[1, 2]], catalog=bad_field)
    with pytest.raises(ValueError, match="cannot be a RecBole column name"):
        write_recbole(seqs, tmp_path, "x")
    write_recbole(seqs, tmp_path, "x", with_item_text=False)  # text left out: fine
    other_kind = ItemCatalog(["a"], {"title": ["A"]})
    seqs = Sequences.from_lists([[1, 2]], catalog=other_kind)
    with pytest.raises(ValueError, match="catalog's item ids are strs"):
        write_recbole(seqs, tmp_path, "y")


def test_not_sequences(tmp_path):
    with pytest.raises(TypeError, match="list of item-id lists"):
        write_recbole("abc", tmp_path, "x")
