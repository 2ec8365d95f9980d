"""Bad inputs to the data layer: item ids, readers, splits, indexing and timestamps.

Each case asserts an error whose message names the problem, or, for accepted inputs,
the exact ids and values: nothing the user gave is merged, converted or wrapped.
"""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from reliability_data import HISTORIES, tiny_aligner, tiny_embedder, tiny_encoder
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing

from iadsr_sk.baselines import MarkovChain, MostPopular
from iadsr_sk.data import (
    Sequences,
    as_sequences,
    inject_noise,
    leave_one_out_split,
    read_interactions,
    read_sequences,
)
from iadsr_sk.denoising import SequenceDenoiser

INT64_MAX = np.iinfo(np.int64).max


# ------------------------------------------------------- item ids in array rows
@pytest.mark.parametrize(
    "X, error, message",
    [
        ([np.array([1, 2]), np.array([True, False])], TypeError, r"got a boolean \(True\)"),
        (
            [np.array([1, 2]), np.array(["a", "b"])],
            TypeError,
            r"mix integers and strings \(e\.g\. 1 and 'a'\)",
        ),
        ([np.array([2**63, 1], dtype=np.uint64)], ValueError, "got 9223372036854775808"),
        ([[2**63, 1]], ValueError, "must fit in int64.*got 9223372036854775808"),
        ([[-(2**63) - 1]], ValueError, "got -9223372036854775809"),
        ([["a\x00", "a"]], ValueError, r"may not contain NUL characters, got 'a\\x00'"),
        ([np.array(["a\x00b", "a"])], ValueError, "may not contain NUL characters"),
    ],
    ids=[
        "bool-array-row",
        "int-and-str-array-rows",
        "uint64-above-int64",
        "python-int-above-int64",
        "python-int-below-int64",
        "trailing-nul",
        "inner-nul-array",
    ],
)
def test_item_ids_are_checked_in_array_rows(X, error, message):
    with pytest.raises(error, match=message):
        as_sequences(X)
    with pytest.raises(error, match=message):
        Sequences.from_lists(X)


def test_array_rows_keep_their_ids():
    rows = [np.array([INT64_MAX], dtype=np.uint64), np.array([-1, 2], dtype=np.int8)]
    assert as_sequences(rows).to_lists() == [[INT64_MAX], [-1, 2]]
    empty_float_row = [np.array([3, 4]), np.array([])]
    assert Sequences.from_lists(empty_float_row, allow_empty=True).to_lists() == [
        [3, 4],
        [],
    ]
    assert as_sequences([np.array(["a", "b"]), ["c"]]).to_lists() == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    "X, where",
    [
        ([np.array([[1, 2], [3, 4]])], r"sequence 0 is an array of shape \(2, 2\)"),
        (
            [np.array([[1, 2], [3, 4]]), np.array([5, 6])],
            r"sequence 0 is an array of shape \(2, 2\)",
        ),
        (
            [np.array([5, 6]), np.array(["a", "b"]).reshape(1, 2)],
            r"sequence 1 is an array of shape \(1, 2\)",
        ),
        ([np.array(5)], r"sequence 0 is an array of shape \(\)"),
    ],
    ids=["2-d", "2-d-next-to-1-d", "second-row-2-d", "0-d"],
)
def test_array_rows_must_be_one_dimensional(X, where):
    """A 2-d row is never flattened into one history (nor a 0-d one read as one)."""
    for build in (as_sequences, Sequences.from_lists):
        with pytest.raises(ValueError, match=f"{where}; each history must be one-dim"):
            build(X)


def test_timestamps_must_have_each_historys_shape():
    for timestamps in ([np.array([[0, 1]]), [2]], [[0, 1], 2]):
        with pytest.raises(ValueError, match="timestamps must have the same shape"):
            Sequences.from_lists([[1, 2], [3]], timestamps=timestamps)
    seqs = Sequences.from_lists([[1, 2], [3]], timestamps=[np.array([0, 1]), [2]])
    assert seqs.timestamps.tolist() == [0, 1, 2]


# ---------------------------------------------------------------- readers
def test_json_integer_and_string_of_same_spelling_are_refused(tmp_path):
    path = tmp_path / "mixed.json"
    path.write_text('{"u1": [1, "1", 2], "u2": [3, 2]}')
    with pytest.raises(ValueError, match=r"line 1: item 1 \(user 'u1'\) and item '1'"):
        read_sequences(path)
    distinct = tmp_path / "distinct.json"
    distinct.write_text('{"u1": [1, "01", 2]}')  # no two ids merge: strings (shared rule)
    assert read_sequences(distinct).to_lists() == [["1", "01", "2"]]


def test_table_item_ids_are_never_merged_or_wrapped():
    mixed = {"user_id": [1, 1, 1], "item_id": np.array([1, "1", "a"], dtype=object)}
    with pytest.raises(ValueError, match=r"integer item id 1 \(row 0\) and the string '1'"):
        read_interactions(mixed, time_col=None)
    big_float = {"user_id": [1, 1], "item_id": np.array([1e20, 2.0])}
    with pytest.raises(ValueError, match="row 0: item id 1e\\+20 does not fit in int64"):
        read_interactions(big_float, time_col=None)
    big_uint = {"user_id": [1, 1], "item_id": np.array([2**63, 1], dtype=np.uint64)}
    with pytest.raises(ValueError, match="9223372036854775808 does not fit in int64"):
        read_interactions(big_uint, time_col=None)
    with pytest.raises(ValueError, match="non-integral floats"):
        read_interactions({"user_id": [1], "item_id": np.array([1.5])}, time_col=None)
    bytes_ids = {"user_id": [1], "item_id": np.array([b"a"], dtype=object)}
    with pytest.raises(ValueError, match="must be integers or strings, got b'a'"):
        read_interactions(bytes_ids, time_col=None)
    exact = {"user_id": [1, 1], "item_id": np.array([-(2.0**63), 2.0**53])}
    assert read_interactions(exact, time_col=None).to_lists() == [[-(2**63), 2**53]]


# ------------------------------------------------------------ leave-one-out
@pytest.mark.parametrize(
    "max_len, error",
    [
        (float("nan"), TypeError),
        (2.5, TypeError),
        (True, TypeError),
        ("5", TypeError),
        (0, ValueError),
    ],
    ids=["nan", "float", "bool", "str", "zero"],
)
def test_leave_one_out_max_len_must_be_an_integer(max_len, error):
    with pytest.raises(error, match=r"max_len must be an integer >= 1 or None, got "):
        leave_one_out_split(HISTORIES, max_len=max_len)


def test_leave_one_out_max_len_accepts_numpy_integers():
    split = leave_one_out_split(HISTORIES, max_len=np.int64(2))
    assert split.test_input.lengths.tolist() == [2] * len(HISTORIES)


# --------------------------------------------------------------- timestamps
def test_timestamps_must_not_decrease_within_a_history():
    with pytest.raises(
        ValueError, match=r"decrease in sequence 1 at position 2 \(6\.0 then 4\.0\)"
    ):
        Sequences.from_lists([[1, 2], [3, 4, 5]], timestamps=[[1, 2], [5, 6, 4]])
    # equal times, and a row starting before the previous one ended, are fine
    seqs = Sequences.from_lists([[1, 2], [3, 4, 5]], timestamps=[[7, 7], [0, 1, 1]])
    assert seqs.timestamps.tolist() == [7, 7, 0, 1, 1]
    noisy, _ = inject_noise(seqs, 0.5, mode="insert", random_state=0)
    assert np.all(np.diff(noisy.timestamps)[np.diff(noisy.positions()[0]) == 0] >= 0)
    assert seqs.take([1, 0]).timestamps.tolist() == [0, 1, 1, 7, 7]


def test_timezone_aware_datetimes_are_epoch_seconds():
    pd = pytest.importorskip("pandas")
    times = ["2020-01-02 01:00", "2020-01-01 00:00"]
    expected = [1577836800.0, 1577926800.0]  # sorted: 2020-01-01, 2020-01-02 01:00
    columns = [
        pd.to_datetime(times),  # naive: read as UTC
        pd.to_datetime(times, utc=True),
        pd.to_datetime(times).tz_localize("UTC").tz_convert("Asia/Tokyo"),
        # object columns: Python datetimes, and pandas Timestamps in two time zones
        np.array([datetime.datetime(2020, 1, 2, 1), datetime.datetime(2020, 1, 1)]),
        np.array(
            [pd.Timestamp("2020-01-02 02:00", tz="Europe/Paris"), pd.Timestamp(times[1])],
            dtype=object,
        ),
    ]
    for column in columns:
        for table in (
            {"user_id": [1, 1], "item_id": [1, 2], "timestamp": column},
            pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2], "timestamp": column}),
        ):
            seqs = read_interactions(table)
            assert seqs.to_lists() == [[2, 1]]
            assert seqs.timestamps.tolist() == expected


# ---------------------------------------------------------- containers
def test_a_dataframe_is_not_a_list_of_histories():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"user_id": [1], "item_id": [2]})
    with pytest.raises(TypeError, match=r"got a pandas DataFrame; read interaction tables"):
        MostPopular().fit(table)
    with pytest.raises(TypeError, match=r"read_interactions\("):
        Sequences.from_lists(table)


def test_a_generator_is_refused_before_it_is_consumed():
    with pytest.raises(TypeError, match="a generator can be read only once"):
        as_sequences(list(row) for row in HISTORIES)
    with pytest.raises(TypeError, match="sequence 1 is a one-shot iterator"):
        MarkovChain().fit([[1, 2], iter([3, 4])])
    pipeline = Pipeline(
        [
            ("semantic", tiny_embedder()),
            ("collaborative", tiny_encoder()),
            ("align", tiny_aligner()),
            ("denoise", SequenceDenoiser()),
        ]
    )
    with pytest.raises(TypeError, match="a generator can be read only once"):
        pipeline.fit(list(row) for row in HISTORIES)
    # iterable rows that can be read again still work
    rows = [(1, 2), range(3, 5), {5: "a"}]
    assert as_sequences(rows).to_lists() == [[1, 2], [3, 4], [5]]


# ---------------------------------------------------------------- indexing
def test_take_checks_its_indices():
    seqs = Sequences.from_lists([[1, 2], [3], [4, 5, 6]])
    assert seqs.take([-1, 0]).to_lists() == [[4, 5, 6], [1, 2]]
    with pytest.raises(IndexError, match="sequence index 100 out of range for 3 sequences"):
        seqs.take([100])
    with pytest.raises(IndexError, match="sequence index -4 out of range for 3"):
        seqs.take([-4])
    with pytest.raises(IndexError, match="sequence index 18446744073709551615 out of"):
        seqs.take(np.array([2**64 - 1], dtype=np.uint64))
    with pytest.raises(IndexError, match="cannot index sequences with float64 values"):
        seqs.take([0.5])
    # what scikit-learn's _safe_indexing passes
    assert _safe_indexing(seqs, np.array([2, 0])).to_lists() == [[4, 5, 6], [1, 2]]
    mask = np.array([True, False, True])
    assert _safe_indexing(seqs, mask).to_lists() == [[1, 2], [4, 5, 6]]
    assert _safe_indexing(seqs, slice(1, 3)).to_lists() == [[3], [4, 5, 6]]
    assert seqs.take(np.zeros(0, dtype=np.int64)).to_lists() == []


def test_missing_item_text_in_a_dict_is_read_as_missing():
    from iadsr_sk.data import read_interactions

    table = {"user_id": [1, 1], "item_id": [1, 2], "timestamp": [0, 1]}
    seqs = read_interactions(table, item_text={1: "red lipstick", 2: float("nan")})
    assert seqs.catalog.texts(np.array([1, 2])) == ["red lipstick", None]
    with pytest.raises(ValueError, match="must be strings or missing"):
        read_interactions(table, item_text={1: "red lipstick", 2: 5})
