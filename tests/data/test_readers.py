import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsr_sk.data import ItemCatalog
from iadsr_sk.data._readers import (
    read_interactions,
    read_item_text_tsv,
    read_json_sequences,
    read_recbole,
    read_sequences,
    read_text_sequences,
)

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "u1\t10\t3\t300\n"
    "u2\t11\t4\t100\n"
    "u1\t12\t5\t100\n"
    "u1\t13\t1\t300\n"  # tie with the first row: file order kept
    "u2\t10\t2\t50\n"
)
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "10\tToy Story\t1995\tAnimation Comedy\n"
    "11\tHeat\t1995\tAction\n"
    "12\tCasino\t1995\tDrama\n"
    "13\tBabe\t1995\tChildren's\n"
    "14\tNobody Watched\t1996\tDrama\n"
)


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------------- RecBole
def test_recbole_round_trip(tmp_path):
    inter = _write(tmp_path, "x.inter", INTER)
    item = _write(tmp_path, "x.item", ITEM)
    seqs = read_recbole(inter, item)
    assert seqs.user_ids.tolist() == ["u1", "u2"]
    assert seqs.to_lists() == [[12, 10, 13], [10, 11]]
    assert seqs.timestamps.tolist() == [100, 300, 300, 50, 100]
    assert seqs.vocabulary.id_kind == "int" and 14 in seqs.vocabulary
    assert seqs.catalog.texts([10, 14]) == ["Toy Story", "Nobody Watched"]
    assert sorted(seqs.catalog.fields) == ["class", "movie_title", "release_year"]
    templated = read_recbole(inter, item, text_template="{movie_title} ({release_year})")
    assert templated.catalog.texts([11]) == ["Heat (1995)"]
    assert read_recbole(inter).catalog is None


def test_recbole_without_timestamp_keeps_file_order(tmp_path):
    inter = _write(tmp_path, "a.inter", "user_id:token\titem_id:token\n1\tb\n2\ta\n1\ta\n")
    seqs = read_recbole(inter)
    assert seqs.timestamps is None
    assert seqs.user_ids.tolist() == [1, 2]
    assert seqs.to_lists() == [["b", "a"], ["a"]]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("user_id\titem_id:token\n1\t2\n", 1, "name:type"),
        ("user:token\titem_id:token\n1\t2\n", 1, "user_id"),
        ("user_id:token\titem_id:token\n1\t2\n1\n", 3, "expected 2"),
        ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t2\tsoon\n", 3, "soon"),
        ("user_id:token\titem_id:token\n1\t2\n\n3\t \n", 4, "empty item id"),
    ],
)
def test_recbole_malformed(tmp_path, text, line, match):
    path = _write(tmp_path, "bad.inter", text)
    with pytest.raises(ValueError, match=rf"bad\.inter, line {line}: .*{match}"):
        read_recbole(path)


def test_recbole_header_only_and_duplicate_item(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        read_recbole(_write(tmp_path, "h.inter", "user_id:token\titem_id:token\n"))
    inter = _write(tmp_path, "x.inter", INTER)
    item = _write(tmp_path, "d.item", "item_id:token\ttitle:token_seq\n10\ta\n10\tb\n")
    with pytest.raises(ValueError, match=r"d\.item, line 3: duplicate item '10'"):
        read_recbole(inter, item)


def test_read_sequences_uses_sibling_item_file(tmp_path):
    inter = _write(tmp_path, "x.inter", INTER)
    _write(tmp_path, "x.item", ITEM)
    seqs = read_sequences(inter)
    assert seqs.catalog.texts([12]) == ["Casino"]
    other = read_sequences(inter, item_text={10: "ten"})
    assert other.catalog.texts([10, 11]) == ["ten", None]
    assert other.to_lists() == seqs.to_lists()
    assert np.array_equal(other.timestamps, seqs.timestamps)


# ---------------------------------------------------------------------- JSON
def test_json_round_trip(tmp_path):
    data = {"user0": [3, 1, 2], "user1": [2]}
    path = _write(tmp_path, "s.json", json.dumps(data))
    seqs = read_json_sequences(path)
    assert seqs.user_ids.tolist() == ["user0", "user1"]
    assert seqs.to_lists() == [[3, 1, 2], [2]]
    assert seqs.timestamps is None
    # string tokens that are all integers become int ids
    path = _write(tmp_path, "t.json", json.dumps({"7": ["3", "1"], "8": ["-2"]}))
    seqs = read_json_sequences(path)
    assert seqs.user_ids.tolist() == [7, 8] and seqs.to_lists() == [[3, 1], [-2]]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ('{"a": [1, 2],\n "b": [3,]}', 2, "invalid JSON"),
        ('{"a": [1, 2],\n "b": []}', 2, "non-empty list"),
        ('{"a": [1, 2],\n "b": 5}', 2, "non-empty list"),
        ('{"a": [1, 2],\n\n "b": [1.5]}', 3, "integers or strings"),
        ('{"a": [1, 2],\n "a": [1]}', 2, "duplicate user 'a'"),
        ("[[1, 2]]", 1, "JSON object"),
    ],
)
def test_json_malformed(tmp_path, text, line, match):
    path = _write(tmp_path, "bad.json", text)
    with pytest.raises(ValueError, match=rf"bad\.json, line {line}: .*{match}"):
        read_json_sequences(path)


# ---------------------------------------------------------------------- text
def test_text_round_trip_with_item_text(tmp_path):
    path = _write(tmp_path, "s.txt", "alice 1 2 3\n\n  bob   2\t4\n")
    titles = _write(tmp_path, "titles.tsv", "1\tOne\n2\tTwo &amp; more\n\n4\t\n9\tNine\n")
    seqs = read_text_sequences(path, item_text=titles)
    assert seqs.user_ids.tolist() == ["alice", "bob"]
    assert seqs.to_lists() == [[1, 2, 3], [2, 4]]
    assert seqs.catalog.texts([1, 3, 4]) == ["One", None, None]
    assert 9 in seqs.vocabulary  # catalog items join the vocabulary


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("a 1 2\nb\n", 2, "user 'b' has no items"),
        ("a 1\n\nb 2\na 3\n", 4, "duplicate user"),
    ],
)
def test_text_malformed(tmp_path, text, line, match):
    path = _write(tmp_path, "bad.txt", text)
    with pytest.raises(ValueError, match=rf"bad\.txt, line {line}: {match}"):
        read_text_sequences(path)


histories = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
    st.lists(
        st.integers(-50, 50) | st.from_regex(r"[A-Za-z_]{1,4}", fullmatch=True),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=8,
)


def _expected(data):
    tokens = [str(x) for r in data.values() for x in r]
    if all(isinstance(x, int) for r in data.values() for x in r):
        return [list(r) for r in data.values()]
    return [[str(x) for x in r] for r in data.values()] if tokens else []


@settings(max_examples=40, deadline=None)
@given(histories)
def test_every_format_round_trips(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("rt")
    expected = _expected(data)
    text = "\n".join(f"{u} " + " ".join(map(str, r)) for u, r in data.items())
    inter = "user_id:token\titem_id:token\ttimestamp:float\n" + "".join(
        f"{u}\t{x}\t{t}\n" for u, r in data.items() for t, x in enumerate(r)
    )
    frame = {
        "user_id": [u for u, r in data.items() for _ in r],
        "item_id": [str(x) for r in data.values() for x in r],
        "timestamp": [t for r in data.values() for t in range(len(r))],
    }
    results = [
        read_sequences(_write(tmp, "s.txt", text)),
        read_sequences(_write(tmp, "s.json", json.dumps(data))),
        read_sequences(_write(tmp, "s.inter", inter)),
        read_interactions(frame),
    ]
    for seqs in results:
        assert seqs.to_lists() == expected
        assert seqs.user_ids.tolist() == list(data)


def test_mixed_id_types_become_strings(tmp_path):
    path = _write(tmp_path, "m.txt", "u 1 a 2\nv 007 7\n")
    seqs = read_sequences(path, item_text={1: "one", "a": "A"})
    assert seqs.vocabulary.id_kind == "str"
    assert seqs.to_lists() == [["1", "a", "2"], ["007", "7"]]  # 007 and 7 stay distinct
    assert seqs.catalog.texts(["1", "a"]) == ["one", "A"]
    # int sequences with a catalog keyed by integer strings: catalog converted to ints
    ints = read_sequences(_write(tmp_path, "i.txt", "u 1 2\n"), item_text={"1": "one"})
    assert ints.vocabulary.id_kind == "int" and ints.catalog.texts([1]) == ["one"]
    cat = ItemCatalog(["1", "2"], {"name": ["x", "y"]}, "{name}!")
    ints = read_sequences(_write(tmp_path, "j.txt", "u 1 2\n"), item_text=cat)
    assert ints.catalog.texts([2]) == ["y!"]


# ---------------------------------------------------------------- item text TSV
def test_item_text_tsv(tmp_path):
    cat = read_item_text_tsv(_write(tmp_path, "t.tsv", "a\tApple\tred\nb\tBanana\n"))
    assert cat.item_ids.tolist() == ["a", "b"]
    assert cat.texts(["a", "b"]) == ["Apple red", "Banana"]  # whitespace normalised
    assert (
        read_item_text_tsv(_write(tmp_path, "n.tsv", "1\tx\n")).item_ids.dtype.kind == "i"
    )


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("1\tx\n2 y\n", 2, "no tab"),
        ("1\tx\n\n1\ty\n", 3, "duplicate item '1' \\(first on line 1\\)"),
        ("1\tx\n\ty\n", 2, "empty"),
    ],
)
def test_item_text_tsv_malformed(tmp_path, text, line, match):
    path = _write(tmp_path, "bad.tsv", text)
    with pytest.raises(ValueError, match=rf"bad\.tsv, line {line}: .*{match}"):
        read_item_text_tsv(path)


# ----------------------------------------------------------- files in general
@pytest.mark.parametrize("name", ["e.txt", "e.json", "e.inter", "e.tsv"])
def test_empty_file(tmp_path, name):
    path = _write(tmp_path, name, "  \n\n")
    with pytest.raises(ValueError, match=r"e\..*: the file is empty"):
        if name == "e.tsv":
            read_item_text_tsv(path)
        else:
            read_sequences(path)


def test_non_utf8_file(tmp_path):
    path = _write(tmp_path, "latin.txt", "u 1\nv caf\u00e9\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"latin\.txt, line 2: .*must be UTF-8"):
        read_sequences(path)
    bom = _write(tmp_path, "bom.txt", "\ufeffu 1 2\n")
    assert read_sequences(bom).user_ids.tolist() == ["u"]


def test_format_dispatch(tmp_path):
    path = _write(tmp_path, "data.log", '{"u": [1]}')
    assert read_sequences(path, format="json").to_lists() == [[1]]
    with pytest.raises(ValueError, match=r"valid formats.*recbole"):
        read_sequences(path, format="parquet")
    with pytest.raises(TypeError, match="item_text"):
        read_sequences(_write(tmp_path, "s.txt", "u 1\n"), item_text=3)


# ----------------------------------------------------------------- DataFrames
def test_dict_of_columns_sorted_stably():
    table = {
        "user_id": ["b", "a", "b", "a", "b"],
        "item_id": [1, 2, 3, 4, 5],
        "timestamp": [5.0, 1.0, 5.0, 0.0, 1.0],
    }
    seqs = read_interactions(table, item_text={1: "one"})
    assert seqs.user_ids.tolist() == ["b", "a"]  # first appearance
    assert seqs.to_lists() == [[5, 1, 3], [4, 2]]
    assert seqs.timestamps.tolist() == [1, 5, 5, 0, 1]
    assert seqs.catalog.texts([1]) == ["one"]
    unsorted = read_interactions(table, time_col=None)
    assert unsorted.to_lists() == [[1, 3, 5], [2, 4]] and unsorted.timestamps is None


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "uid": [10, 20, 10, 20],
            "iid": ["x", "y", "z", "x"],
            "when": pd.to_datetime(
                ["2020-01-03", "2020-01-01", "2020-01-02", "2020-01-01"]
            ),
        }
    )
    seqs = read_interactions(df, user_col="uid", item_col="iid", time_col="when")
    assert seqs.user_ids.tolist() == [10, 20]
    assert seqs.to_lists() == [["z", "x"], ["y", "x"]]
    df.loc[2, "when"] = pd.NaT
    with pytest.raises(ValueError, match=r"'when'.*row 2 \(user 10\)"):
        read_interactions(df, user_col="uid", item_col="iid", time_col="when")
    numeric = pd.DataFrame(
        {"user_id": ["a", "b"], "item_id": [1, 2], "timestamp": [1, None]}
    )
    with pytest.raises(ValueError, match="user 'b'"):
        read_interactions(numeric)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['item', 'time'\]"):
        read_interactions(df, user_col="uid", item_col="item", time_col="time")


def test_table_problems():
    with pytest.raises(ValueError, match="empty"):
        read_interactions({"user_id": [], "item_id": [], "timestamp": []})
    with pytest.raises(ValueError, match="different lengths"):
        read_interactions({"user_id": [1], "item_id": [1, 2]}, time_col=None)
    with pytest.raises(ValueError, match="missing item id at row 1"):
        read_interactions({"user_id": [1, 1], "item_id": [1.0, np.nan]}, time_col=None)
    with pytest.raises(ValueError, match="missing user id at row 0"):
        read_interactions({"user_id": [None, "a"], "item_id": [1, 2]}, time_col=None)
    with pytest.raises(TypeError, match="DataFrame"):
        read_interactions([[1, 2]])


def test_pandas_nullable_missing_values():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "user_id": ["a", "a", "b"],
            "item_id": pd.array([1, 2, None], dtype="Int64"),
            "timestamp": [1.0, 2.0, 3.0],
        }
    )
    with pytest.raises(ValueError, match="missing item id at row 2"):
        read_interactions(df)
    df["item_id"] = [1, 2, 3]
    df["timestamp"] = pd.array([1.0, None, 3.0], dtype="Float64")
    with pytest.raises(ValueError, match="row 1 \\(user 'a'\\)"):
        read_interactions(df)


def test_huge_integer_tokens_stay_strings(tmp_path):
    path = _write(tmp_path, "big.json", '{"u": [1, 99999999999999999999]}')
    assert read_json_sequences(path).to_lists() == [["1", "99999999999999999999"]]
