"""More reader checks: line breaks, JSON messages, RecBole columns and header lines.

Decisions documented here:

- Only ``"\\n"`` ends a line (``"\\r\\n"`` too), so that reported line numbers are
  those of ``sed -n Np``. Any other line-break character of ``str.splitlines()``
  (``"\\x85"``, ``"\\u2028"``, ``"\\v"``, ``"\\f"``, ...) stays inside its line: in a
  text (an item title) it is part of the text; in ids (text sequences lines, the item
  id of an item text TSV, the user / item columns of RecBole files) it is refused with
  an error naming the line, since it was most likely meant as a line break and
  guessing either way could silently misread the file. A carriage return that does not
  end a line (old Mac line ends) is refused everywhere.
- Header lines are refused, never read as a user or an item.
"""

import logging

import pytest

from iadsr_sk.data._readers import (
    read_interactions,
    read_item_text_tsv,
    read_json_sequences,
    read_recbole,
    read_sequences,
    read_text_sequences,
)

OTHER_BREAKS = ["\x85", "\u2028", "\u2029", "\v", "\f", "\x1c", "\x1d", "\x1e"]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# ------------------------------------------------------------------- line breaks
@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_item_text_keeps_unicode_line_breaks_in_titles(tmp_path, brk):
    path = _write(tmp_path, "t.tsv", f"i0\tLipstick{brk} red\ni1\tLiner\n")
    cat = read_item_text_tsv(path)
    assert cat.item_ids.tolist() == ["i0", "i1"]
    assert cat.fields["title"][0] == f"Lipstick{brk} red"  # part of the text
    assert cat.texts(["i0"]) == ["Lipstick red"]  # texts normalise whitespace


@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_item_text_line_numbers_are_newline_counts(tmp_path, brk):
    path = _write(tmp_path, "bad.tsv", f"1\tA{brk}B\n2\tok\n3 no tab\n")
    with pytest.raises(ValueError, match=r"bad\.tsv, line 3: expected 'item<TAB>text'"):
        read_item_text_tsv(path)


@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_item_text_refuses_line_break_in_id(tmp_path, brk):
    path = _write(tmp_path, "bad.tsv", f"a\tA\nb{brk}c\tB\n")
    with pytest.raises(ValueError, match=r"bad\.tsv, line 2: .*line-break character"):
        read_item_text_tsv(path)


@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_text_sequences_refuse_line_breaks_inside_a_line(tmp_path, brk):
    path = _write(tmp_path, "s.txt", f"z 5 6\na 1 2{brk}3\nb 2 3 4\n")
    with pytest.raises(ValueError, match=r"s\.txt, line 2: .*line-break character"):
        read_text_sequences(path)


def test_text_sequences_form_feed_message(tmp_path):
    path = _write(tmp_path, "ff.txt", "a 1 2\f3\nb 2 3 4\n")
    with pytest.raises(ValueError, match=r"ff\.txt, line 1: .*U\+000C, form feed"):
        read_sequences(path)


def test_crlf_still_read_and_lone_cr_refused(tmp_path):
    crlf = _write(tmp_path, "crlf.txt", "a 1 2\r\n\r\nb 3\r\r\n")
    assert read_sequences(crlf).to_lists() == [[1, 2], [3]]
    tsv = _write(tmp_path, "crlf.tsv", "1\tOne\r\n2\tTwo\r\n")
    assert read_item_text_tsv(tsv).fields["title"] == ["One", "Two"]
    inter = _write(tmp_path, "crlf.inter", "user_id:token\titem_id:token\r\n1\t2\r\n")
    assert read_recbole(inter).to_lists() == [[2]]
    old_mac = _write(tmp_path, "mac.txt", "a 1 2\nb 2 3\rc 4 5\r")
    with pytest.raises(ValueError, match=r"mac\.txt, line 2: .*carriage return"):
        read_sequences(old_mac)
    old_mac_tsv = _write(tmp_path, "mac.tsv", "1\tOne\r2\tTwo\r")
    with pytest.raises(ValueError, match=r"mac\.tsv, line 1: .*carriage return"):
        read_item_text_tsv(old_mac_tsv)


@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_recbole_item_titles_keep_line_breaks(tmp_path, brk):
    inter = _write(tmp_path, "x.inter", "user_id:token\titem_id:token\n1\t1\n1\t2\n")
    item = _write(tmp_path, "x.item", f"item_id:token\ttitle:token_seq\n1\tA{brk}B\n2\tC\n")
    seqs = read_recbole(inter, item)
    assert seqs.catalog.fields["title"] == [f"A{brk}B", "C"]


@pytest.mark.parametrize("brk", OTHER_BREAKS)
def test_recbole_line_numbers_and_ids(tmp_path, brk):
    # a break in an unused column: the row keeps its fields, the next line is line 3
    bad = _write(
        tmp_path,
        "n.inter",
        f"user_id:token\titem_id:token\trating:float\n1\t2\t3{brk}\n1\tx\n",
    )
    with pytest.raises(ValueError, match=r"n\.inter, line 3: expected 3"):
        read_recbole(bad)
    ids = _write(tmp_path, "i.inter", f"user_id:token\titem_id:token\n1\t2\nu{brk}v\t3\n")
    with pytest.raises(ValueError, match=r"i\.inter, line 3: the user id .*line-break"):
        read_recbole(ids)


# ---------------------------------------------------------------- JSON messages
@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("[]", 1, r"expected a JSON object \{user: \[items, \.\.\.\]\}, got an array"),
        ("[1, 2]", 1, r".*, got an array \(\[1, 2\]\)$"),
        ('\n\n  "x"', 3, r".*, got a string \(\"x\"\)$"),
        ("5", 1, r".*, got a number \(5\)$"),
        ("null", 1, r".*, got null$"),
        ('{"a": {}}', 1, r"user 'a': expected a non-empty list of item ids, got \{\}$"),
        ('{"a": [{"id": 1}, {"id": 2}]}', 1, r"user 'a': .*integers or strings, got "),
        ('{"b": [1],\n "a": {"1": "x", "2": "y"}}', 2, r"user 'a': .*list of item ids"),
        ('{"a": [1, null]}', 1, r"user 'a': .*integers or strings, got null$"),
        ('{"a": [1, true]}', 1, r"user 'a': .*integers or strings, got true$"),
        ('{"a": [1, [2]]}', 1, r"user 'a': .*integers or strings, got \[2\]$"),
    ],
)
def test_json_messages_show_json(tmp_path, text, line, match):
    path = _write(tmp_path, "bad.json", text)
    with pytest.raises(ValueError, match=rf"bad\.json, line {line}: {match}") as info:
        read_json_sequences(path)
    assert "('" not in str(info.value)  # values shown as JSON, never Python tuples


def test_json_nested_objects_are_shown_as_objects(tmp_path):
    path = _write(tmp_path, "o.json", '{"a": [{"id": 1}]}')
    with pytest.raises(ValueError, match=r'got \{"id": 1\}$'):
        read_json_sequences(path)
    path = _write(tmp_path, "m.json", '{"a": {"1": "x", "2": "y"}}')
    with pytest.raises(ValueError, match=r'got \{"1": "x", "2": "y"\}$'):
        read_json_sequences(path)
    path = _write(tmp_path, "e.json", "{}")
    with pytest.raises(ValueError, match=r"e\.json, line 1: the JSON object holds no"):
        read_json_sequences(path)


# ------------------------------------------------------------ RecBole columns
@pytest.mark.parametrize(
    ("header", "row", "match"),
    [
        (
            "user_id:token\titem_id_list:token_seq\ttimestamp:float",
            "1\t10 11 12\t5",
            r"'item_id_list:token_seq' holds a sequence per row: RecBole's sequential "
            r"layout .* not supported; expected one interaction per row",
        ),
        (
            "user_id:token\titem_id:token_seq",
            "1\t10 11 12",
            r"'item_id:token_seq' holds a sequence per row; expected one value",
        ),
        ("user_id:token\titem_idx:token", "1\t10", r"'item_idx:token'.*exact name"),
        ("user_id_x:token\titem_id:token", "1\t10", r"no 'user_id' column.*exact"),
        (
            "user_id:token\titem_id:token\ttimestamp_ms:float",
            "1\t10\t5",
            r"no 'timestamp' column, but 'timestamp_ms:float'.*exact name",
        ),
        (
            "user_id:token\titem_id:token\titem_id:token",
            "1\t2\t3",
            "column 'item_id' twice",
        ),
        ("user_id:token item_id:token", "1 2", "separated by tabs"),
    ],
)
def test_recbole_columns_match_exact_names(tmp_path, header, row, match):
    path = _write(tmp_path, "bad.inter", f"{header}\n{row}\n")
    with pytest.raises(ValueError, match=rf"bad\.inter, line 1: .*{match}"):
        read_recbole(path)


def test_recbole_exact_columns_win_over_longer_names(tmp_path):
    path = _write(
        tmp_path,
        "x.inter",
        "item_id_list:token_seq\ttimestamp_ms:float\tuser_id:token\titem_id:token"
        "\ttimestamp:float\n9 9\t0\tu\t1\t2\n9\t0\tu\t2\t1\n",
    )
    seqs = read_recbole(path)
    assert seqs.to_lists() == [[2, 1]] and seqs.timestamps.tolist() == [1, 2]
    item = _write(tmp_path, "x.item", "item_id:token_seq\ttitle:token_seq\n1\ta\n")
    with pytest.raises(ValueError, match=r"x\.item, line 1: .*'item_id:token_seq'"):
        read_recbole(path, item)


# --------------------------------------------------------------- header lines
@pytest.mark.parametrize(
    "first",
    ["user_id item_ids", "user item item", "USER_ID ITEMS", "user", "uid\titem_id"],
)
def test_text_sequences_refuse_a_header(tmp_path, first):
    path = _write(tmp_path, "s.txt", f"\n{first}\nu0 i0 i1\nu1 i1 i2\n")
    with pytest.raises(ValueError, match=r"s\.txt, line 2: .*looks like a header"):
        read_sequences(path)


def test_text_sequences_refuse_a_recbole_header(tmp_path):
    path = _write(tmp_path, "s.tsv", "user_id:token\titem_id:token\n1\t2\n")
    with pytest.raises(ValueError, match=r"s\.tsv, line 1: .*RecBole header.*recbole"):
        read_sequences(path)


def test_text_sequences_users_named_like_words_are_data(tmp_path):
    # a first token "user" followed by real items is a user, not a header
    path = _write(tmp_path, "s.txt", "user 1 2\nitem 2 3\n")
    assert read_sequences(path).user_ids.tolist() == ["user", "item"]
    # header words after the first line are data too
    path = _write(tmp_path, "t.txt", "a 1 2\nuser item\n")
    assert read_sequences(path).to_lists() == [["1", "2"], ["item"]]


@pytest.mark.parametrize(
    ("first", "match"),
    [
        ("item_id\ttitle", "looks like a header"),
        ("ID\tname", "looks like a header"),
        ("item\ttext", "looks like a header"),
        ("item_id:token\tmovie_title:token_seq\trelease_year:token", "RecBole header"),
    ],
)
def test_item_text_refuses_a_header(tmp_path, first, match):
    path = _write(tmp_path, "t.tsv", f"\n{first}\n1\tone\n2\ttwo\n")
    with pytest.raises(ValueError, match=rf"t\.tsv, line 2: .*{match}"):
        read_item_text_tsv(path)
    logs = _write(tmp_path, "s.json", '{"u": [1, 2]}')
    with pytest.raises(ValueError, match=rf"t\.tsv, line 2: .*{match}"):
        read_sequences(logs, item_text=path)


def test_recbole_item_file_as_item_text_of_text_logs(tmp_path):
    item = _write(
        tmp_path, "movies.item", "item_id:token\tmovie_title:token_seq\n1\tToy Story\n"
    )
    logs = _write(tmp_path, "s.txt", "u 1\n")
    with pytest.raises(ValueError, match=r"movies\.item, line 1: .*RecBole .*\.inter"):
        read_sequences(logs, item_text=item)


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "iadsr_sk"]


def test_item_text_with_unused_ids_warns(tmp_path, caplog):
    logs = _write(tmp_path, "s.txt", "u 1 2\nv 2 3\n")
    titles = _write(tmp_path, "t.tsv", "1\tone\n2\ttwo\n3\tthree\n7\tseven\n8\teight\n")
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        seqs = read_sequences(logs, item_text=titles)
    assert seqs.catalog.texts([1]) == ["one"]
    (message,) = _warnings(caplog)
    assert str(titles) in message
    assert "2 of the 5 items of the item text are in no interaction (7, 8)" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        read_json_sequences(_write(tmp_path, "s.json", '{"u": [1]}'), item_text=titles)
        read_interactions(
            {"user_id": ["u", "u"], "item_id": [1, 2]}, time_col=None, item_text=titles
        )
        inter = _write(tmp_path, "x.inter", "user_id:token\titem_id:token\nu\t1\n")
        read_sequences(inter, item_text=titles)
    assert len(_warnings(caplog)) == 3
    assert "4 of the 5 items" in _warnings(caplog)[0]
    assert "(2, 3, 7, 8)" in _warnings(caplog)[0]


def test_item_text_fully_used_or_not_a_file_does_not_warn(tmp_path, caplog):
    logs = _write(tmp_path, "s.txt", "u 1 2\nv 2 3\n")
    titles = _write(tmp_path, "t.tsv", "1\tone\n3\tthree\n")
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        read_sequences(logs, item_text=titles)
        read_sequences(logs, item_text={1: "one", 9: "nine"})  # a dict: no warning
    assert _warnings(caplog) == []


def test_many_unused_ids_are_shortened(tmp_path, caplog):
    logs = _write(tmp_path, "s.txt", "u a\n")
    titles = _write(tmp_path, "t.tsv", "".join(f"x{k}\tt\n" for k in range(9)) + "a\tA\n")
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        read_sequences(logs, item_text=titles)
    (message,) = _warnings(caplog)
    assert "9 of the 10 items" in message
    assert "('x0', 'x1', 'x2', 'x3', 'x4', ...)" in message
