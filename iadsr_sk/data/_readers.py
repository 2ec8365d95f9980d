"""Readers that turn users' interaction files and tables into :class:`Sequences`.

Every reader returns a :class:`~iadsr_sk.data.Sequences` (with an
:class:`~iadsr_sk.data.ItemCatalog` when item text is given). Problems in the input are
reported as :class:`ValueError` naming the file, the line and the problem.

Item ids
--------
All readers share one rule for the type of item ids (and of user ids read from text
files): if every token is an integer (``"42"``, ``"-3"``) the ids are ``int64``,
otherwise they are strings. Tokens that only differ by their spelling as integers
(``"7"`` and ``"007"``) keep the ids as strings, so two distinct items never merge. The
ids of the item text (catalog) are converted with the same rule, jointly with the
interactions, so that both always use the same kind of id. Ids that already have a
type (JSON values, table columns, ``item_text`` keys) follow it; a mix of integers and
strings gives strings, but an integer and a string of the same spelling (``1`` and
``"1"``) are refused, as are integers outside ``int64``: neither is ever merged or
wrapped.
"""

from __future__ import annotations

import datetime
import json
import numbers
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._catalog import ItemCatalog, is_missing_text
from ._sequences import Sequences
from ._vocabulary import ItemVocabulary

__all__ = [
    "read_interactions",
    "read_item_text_tsv",
    "read_json_sequences",
    "read_recbole",
    "read_sequences",
    "read_text_sequences",
]

_INT_TOKEN = re.compile(r"[+-]?[0-9]+", re.ASCII)
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_FORMATS = ("recbole", "json", "text")


# --------------------------------------------------------------------------- helpers
def _fail(path, lineno: int | None, problem: str) -> ValueError:
    """A :class:`ValueError` naming the file (and line) of a problem."""
    where = f"{path}" if lineno is None else f"{path}, line {lineno}"
    return ValueError(f"{where}: {problem}")


def _read_text(path) -> str:
    """Read a UTF-8 file (a BOM is allowed); raise a clear error if it is not UTF-8.

    A NUL byte anywhere is an error too: no supported format has one, so the file is
    binary (or UTF-16), and numpy strings would silently drop trailing NULs.
    """
    path = Path(path)
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        # no text format here has NUL bytes; numpy's strings would silently drop them
        lineno = data.count(b"\n", 0, nul) + 1
        raise ValueError(
            f"{path}, line {lineno}: the file holds a NUL byte (offset {nul}); it looks "
            "like a binary (or UTF-16) file, but files must be UTF-8 text"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}, line {lineno}: the file is not valid UTF-8 (byte "
            f"{data[exc.start : exc.start + 1]!r} at offset {exc.start}); "
            "files must be UTF-8 encoded"
        ) from None
    if not text.strip():
        raise ValueError(f"{path}: the file is empty")
    return text


def _int_tokens(tokens: np.ndarray) -> np.ndarray | None:
    """The integers of distinct string ``tokens``, or ``None`` if they are not all ints.

    ``None`` also when two tokens spell the same integer (``"7"``, ``"007"``) or a value
    does not fit in ``int64``, so that converting never merges distinct ids.
    """
    values = []
    for token in tokens.tolist():
        if not _INT_TOKEN.fullmatch(token):
            return None
        value = int(token)
        if not _INT64_MIN <= value <= _INT64_MAX:
            return None
        values.append(value)
    ints = np.asarray(values, dtype=np.int64)
    if np.unique(ints).size != ints.size:
        return None
    return ints


def _as_token_array(values: np.ndarray) -> np.ndarray:
    """Integer or string ids as a unicode array (``42 -> "42"``)."""
    return values.astype(str) if values.dtype.kind != "U" else values


def _unify_ids(
    ids: np.ndarray, other: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the shared integer-or-string rule to ``ids`` and ``other`` jointly.

    Both are ``int64`` or unicode arrays. The result has one kind for both: ``int64``
    when every token of both is an integer, unicode strings otherwise.
    """
    if ids.dtype.kind in "iu" and (other is None or other.dtype.kind in "iu"):
        return ids.astype(np.int64, copy=False), other
    parts = [_as_token_array(ids)]
    if other is not None:
        parts.append(_as_token_array(other))
    tokens = np.unique(np.concatenate(parts)) if sum(p.size for p in parts) else parts[0]
    ints = _int_tokens(tokens)
    if ints is None:
        return parts[0], None if other is None else parts[1]
    converted = [ints[np.searchsorted(tokens, p)] for p in parts]
    return converted[0], None if other is None else converted[1]


def _group_users(user_values: np.ndarray, order: str = "first"):
    """Code of each interaction's user and the distinct users, vectorised.

    ``order="first"`` numbers users by first appearance, ``"sorted"`` by sorted id.
    """
    uniq, first, inverse = np.unique(user_values, return_index=True, return_inverse=True)
    if order == "sorted":
        return inverse.reshape(-1), uniq
    rank = np.empty(uniq.size, dtype=np.int64)
    by_first = np.argsort(first, kind="stable")
    rank[by_first] = np.arange(uniq.size)
    return rank[inverse.reshape(-1)], uniq[by_first]


def _assemble(
    user_codes: np.ndarray,
    users: np.ndarray,
    items: np.ndarray,
    *,
    timestamps: np.ndarray | None = None,
    catalog_ids: np.ndarray | None = None,
    catalog_fields: Mapping | None = None,
    text_template: str = "{title}",
) -> Sequences:
    """Build :class:`Sequences` from one row per interaction (file order).

    Interactions are grouped by ``user_codes`` (row ``k`` = user ``users[k]``) and, when
    ``timestamps`` is given, ordered by time within each user; ties keep file order
    (stable sort). The vocabulary holds the items of the interactions and of the
    catalog.
    """
    items, catalog_ids = _unify_ids(items, catalog_ids)
    catalog = None
    pool = items
    if catalog_ids is not None:
        catalog = ItemCatalog(catalog_ids, catalog_fields, text_template)
        pool = np.concatenate([items, catalog.item_ids])
    vocabulary = ItemVocabulary(pool)
    codes = vocabulary.encode(items)
    file_order = np.arange(items.size, dtype=np.int64)
    if timestamps is None:
        order = np.argsort(user_codes, kind="stable")
    else:
        # lexsort: last key is primary; file order breaks ties between equal times
        order = np.lexsort((file_order, timestamps, user_codes))
    offsets = np.zeros(users.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(user_codes, minlength=users.size), out=offsets[1:])
    return Sequences(
        offsets,
        codes[order],
        vocabulary,
        user_ids=users,
        timestamps=None if timestamps is None else timestamps[order],
        catalog=catalog,
    )


def _merging_pair(values: list) -> tuple | None:
    """An integer and a string of ``values`` with the same spelling, or ``None``.

    ``1`` and ``"1"`` would become one id once integers are written as strings.
    """
    spelled = {str(v): v for v in values if not isinstance(v, str)}
    if not spelled:
        return None
    return next(
        ((spelled[v], v) for v in values if isinstance(v, str) and v in spelled), None
    )


def _ids_from_python(values: list, what: str = "item ids") -> np.ndarray:
    """Item or user ids given as Python ints / strings, as an int64 or unicode array.

    Integers (all in int64) stay integers; otherwise every id is written as a string,
    which must not merge two ids: an integer and a string of the same spelling
    (``1`` and ``"1"``) raise, and so does a string with a NUL character (numpy strings
    drop trailing NULs).
    """
    if all(type(v) is int and _INT64_MIN <= v <= _INT64_MAX for v in values):
        return np.asarray(values, dtype=np.int64) if values else np.zeros(0, np.int64)
    pair = _merging_pair(values)
    if pair is not None:
        raise ValueError(
            f"{what} hold the integer {pair[0]!r} and the string {pair[1]!r}, which "
            "would merge into one id; use one type for every id"
        )
    tokens = [str(v) for v in values]
    with_nul = next((t for t in tokens if "\x00" in t), None)
    if with_nul is not None:
        raise ValueError(f"{what} may not contain NUL characters, got {with_nul!r}")
    return np.asarray(tokens, dtype=str)


def _item_text_source(item_text) -> tuple[np.ndarray, dict, str]:
    """Item ids, fields and template of ``item_text`` (catalog, dict or TSV path)."""
    if isinstance(item_text, ItemCatalog):
        return item_text.item_ids, dict(item_text.fields), item_text.text_template
    if isinstance(item_text, Mapping):
        if not item_text:
            raise ValueError("item_text is an empty dict")
        keys = list(item_text.keys())
        for key in keys:
            if isinstance(key, bool) or not isinstance(key, (int, np.integer, str)):
                raise ValueError(
                    f"item_text keys must be item ids (int or str), got {key!r}"
                )
        for key, value in item_text.items():
            if not is_missing_text(value) and not isinstance(value, str):
                raise ValueError(
                    f"item_text values must be strings or missing (None, NaN), got "
                    f"{type(value).__name__} for item {key!r}"
                )
        ids = _ids_from_python(
            [int(k) if isinstance(k, np.integer) else k for k in keys],
            what="item_text keys",
        )
        return ids, {"title": list(item_text.values())}, "{title}"
    if isinstance(item_text, (str, os.PathLike)):
        tokens, texts = _read_item_text_tokens(item_text)
        return tokens, {"title": texts}, "{title}"
    raise TypeError(
        "item_text must be an ItemCatalog, a dict {item: text} or a path to a TSV "
        f"file, got {type(item_text).__name__}"
    )


def _catalog_kwargs(item_text) -> dict:
    if item_text is None:
        return {}
    ids, fields, template = _item_text_source(item_text)
    return {"catalog_ids": ids, "catalog_fields": fields, "text_template": template}


# ------------------------------------------------------------------ item text (TSV)
def _read_item_text_tokens(path) -> tuple[np.ndarray, list[str | None]]:
    text = _read_text(path)
    tokens: list[str] = []
    texts: list[str | None] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise _fail(path, lineno, "expected 'item<TAB>text' but found no tab")
        item, value = line.split("\t", 1)
        item = item.strip()
        if not item:
            raise _fail(path, lineno, "the item id before the tab is empty")
        if item in seen:
            raise _fail(
                path, lineno, f"duplicate item {item!r} (first on line {seen[item]})"
            )
        seen[item] = lineno
        tokens.append(item)
        texts.append(value.strip() or None)
    return np.asarray(tokens, dtype=str), texts


def read_item_text_tsv(path: str | os.PathLike) -> ItemCatalog:
    """Read item text from lines ``item<TAB>text``.

    Parameters
    ----------
    path : str or path-like
        UTF-8 file; blank lines are skipped; the text is everything after the first
        tab (an empty text means the item has no text).

    Returns
    -------
    catalog : ItemCatalog
        One field, ``title``. Item ids follow the shared integer-or-string rule.

    Raises
    ------
    ValueError
        Empty file, a line without a tab, an empty item id or a duplicate item (with
        the line number), or a file that is not UTF-8.
    """
    tokens, texts = _read_item_text_tokens(path)
    ids, _ = _unify_ids(tokens)
    return ItemCatalog(ids, {"title": texts}, "{title}")


# ------------------------------------------------------------------------- tables
def _column(data, name: str) -> np.ndarray:
    values = data[name]
    if getattr(getattr(values, "dtype", None), "tz", None) is not None:
        # pandas timezone-aware datetimes: the same instants as naive UTC datetimes
        values = getattr(values, "dt", values).tz_convert(None)
    to_numpy = getattr(values, "to_numpy", None)
    return np.asarray(to_numpy() if to_numpy is not None else values).reshape(-1)


def _is_missing(value) -> bool:
    """None, NaN, or pandas' NA / NaT (recognised without importing pandas)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (float, np.floating)):
        return value != value
    return isinstance(value, (np.datetime64, np.timedelta64)) and np.isnat(value)


def _item_column(values: np.ndarray, name: str) -> np.ndarray:
    """Item ids of a table column as int64 or unicode (shared rule), or a clear error."""
    kind = values.dtype.kind
    if kind == "u" and values.size and values.max() > _INT64_MAX:
        row = int(np.flatnonzero(values > _INT64_MAX)[0])
        raise ValueError(
            f"column {name!r} row {row}: item id {values[row]} does not fit in int64"
        )
    if kind in "iu":
        return values.astype(np.int64)
    if kind == "b":
        raise ValueError(f"column {name!r} holds booleans, not item ids")
    if kind == "f":
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"column {name!r} has a missing item id at row {bad[0]}")
        if np.any(values != np.round(values)):
            raise ValueError(f"column {name!r} holds non-integral floats, not item ids")
        outside = np.flatnonzero((values >= 2.0**63) | (values < -(2.0**63)))
        if outside.size:  # astype(np.int64) would wrap them
            row = int(outside[0])
            raise ValueError(
                f"column {name!r} row {row}: item id {values[row].item()!r} does not "
                "fit in int64"
            )
        return values.astype(np.int64)
    if kind == "U":
        return _unify_ids(values)[0]
    as_list = values.tolist()
    for row, value in enumerate(as_list):
        if _is_missing(value):
            raise ValueError(f"column {name!r} has a missing item id at row {row}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Integral, str)
        ):
            raise ValueError(
                f"column {name!r} row {row}: item ids must be integers or strings, "
                f"got {value!r}"
            )
    pair = _merging_pair(as_list)
    if pair is not None:
        raise ValueError(
            f"column {name!r} holds the integer item id {pair[0]!r} (row "
            f"{as_list.index(pair[0])}) and the string {pair[1]!r} (row "
            f"{as_list.index(pair[1])}), which would merge into one id; use one type "
            "for every id"
        )
    return _unify_ids(_ids_from_python(as_list, what=f"column {name!r}"))[0]


def _user_codes_any(values: np.ndarray, name: str):
    """First-appearance codes of arbitrary (hashable) user ids (not booleans)."""
    if values.dtype.kind in "iuU":
        return _group_users(values)
    if values.dtype.kind == "b":
        raise ValueError(f"column {name!r} holds booleans, not user ids")
    if values.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(values))
        if bad.size:
            raise ValueError(f"column {name!r} has a missing user id at row {bad[0]}")
        return _group_users(values)
    codes: dict = {}
    as_list = values.tolist()
    for row, value in enumerate(as_list):
        if _is_missing(value):
            raise ValueError(f"column {name!r} has a missing user id at row {row}")
        if isinstance(value, (bool, np.bool_)):  # True would merge with the user 1
            raise ValueError(
                f"column {name!r} row {row}: user ids must not be booleans, got {value!r}"
            )
    user_codes = np.fromiter(
        (codes.setdefault(v, len(codes)) for v in as_list),
        dtype=np.int64,
        count=len(as_list),
    )
    users = list(codes)
    if all(isinstance(u, str) for u in users):
        user_array = np.asarray(users, dtype=str)
    else:
        user_array = np.empty(len(users), dtype=object)
        user_array[:] = users
    return user_codes, user_array


def _time_column(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype.kind == "M":
        missing = np.isnat(values)
        seconds = values.astype("datetime64[ns]").astype(np.int64) / 1e9
        return np.where(missing, np.nan, seconds)
    if values.dtype.kind == "m":
        raise ValueError(f"column {name!r} holds time differences, not timestamps")
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        pass
    out = np.empty(values.size, dtype=np.float64)
    for row, value in enumerate(values.tolist()):
        if _is_missing(value):
            out[row] = np.nan
            continue
        if isinstance(value, datetime.datetime):
            # naive datetimes count as UTC, as datetime64 columns do
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            out[row] = value.timestamp()
            continue
        try:
            out[row] = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"column {name!r} row {row}: timestamp {value!r} is not a number"
            ) from None
    return out


def read_interactions(
    df,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
    item_text=None,
) -> Sequences:
    """Build sequences from a table of interactions, one row per interaction.

    Parameters
    ----------
    df : pandas.DataFrame or dict of str to array-like
        The interactions. pandas is not required: a dict of equally long columns works.
    user_col, item_col : str, default="user_id", "item_id"
        Columns of the user and item ids.
    time_col : str or None, default="timestamp"
        Column of the interaction times: numbers, or datetimes (as seconds since the
        epoch; naive datetimes are read as UTC). Each user's items are
        ordered by time; equal times keep the table's row order (stable sort). With
        ``None`` the row order is the time order.
    item_text : ItemCatalog, dict or path-like, optional
        Item text: a catalog, a dict ``{item: text}`` or a TSV file ``item<TAB>text``.

    Returns
    -------
    sequences : Sequences
        One row per user in order of first appearance, with ``user_ids`` and (when
        ``time_col`` is given) ``timestamps``.

    Raises
    ------
    ValueError
        Missing columns (named), columns of different lengths, an empty table, missing
        user or item ids, boolean user ids, item ids that are not integers or strings
        (or integral floats within ``int64``), an integer and a string item id of the
        same spelling, or a missing (NaN) or infinite timestamp (naming the user).
    """
    if not isinstance(df, Mapping) and not hasattr(df, "columns"):
        raise TypeError(
            f"read_interactions expects a pandas DataFrame or a dict of columns, "
            f"got {type(df).__name__}"
        )
    available = list(df.keys()) if isinstance(df, Mapping) else list(df.columns)
    wanted = [user_col, item_col] + ([time_col] if time_col is not None else [])
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the table has columns {available}")
    users = _column(df, user_col)
    items = _column(df, item_col)
    times = _column(df, time_col) if time_col is not None else None
    sizes = {users.size, items.size} | ({times.size} if times is not None else set())
    if len(sizes) != 1:
        raise ValueError(f"columns {wanted} have different lengths")
    if users.size == 0:
        raise ValueError("the table of interactions is empty")
    user_codes, user_array = _user_codes_any(users, user_col)
    item_ids = _item_column(items, item_col)
    timestamps = None
    if times is not None:
        timestamps = _time_column(times, time_col)
        bad = np.flatnonzero(~np.isfinite(timestamps))
        if bad.size:
            user = user_array[[user_codes[bad[0]]]].tolist()[0]
            raise ValueError(
                f"column {time_col!r} has a missing or infinite timestamp at row "
                f"{bad[0]} (user {user!r}); drop or fill those rows first"
            )
    return _assemble(
        user_codes,
        user_array,
        item_ids,
        timestamps=timestamps,
        **_catalog_kwargs(item_text),
    )


# ------------------------------------------------------------------------ RecBole
def _read_atomic(path) -> tuple[list[str], list[str], list[list[str]], list[int]]:
    """Names, types, rows and line numbers of a RecBole atomic file."""
    text = _read_text(path)
    lines = text.splitlines()
    header = lines[0].split("\t")
    names, types = [], []
    for column in header:
        name, sep, kind = column.strip().partition(":")
        if not sep or not name or not kind:
            raise _fail(
                path,
                1,
                f"header field {column!r} is not 'name:type' (e.g. 'item_id:token')",
            )
        names.append(name)
        types.append(kind)
    rows, linenos = [], []
    width = len(names)
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != width:
            raise _fail(
                path, lineno, f"expected {width} tab-separated fields, found {len(fields)}"
            )
        rows.append(fields)
        linenos.append(lineno)
    if not rows:
        raise ValueError(f"{path}: the file has a header but no rows")
    return names, types, rows, linenos


def _find_column(path, names: list[str], prefix: str, *, required: bool = True):
    for i, name in enumerate(names):
        if name == prefix:
            return i
    for i, name in enumerate(names):
        if name.startswith(prefix):
            return i
    if required:
        raise _fail(path, 1, f"no {prefix!r} column in the header (columns: {names})")
    return None


def _float_column(path, values: list[str], linenos: list[int], name: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=np.float64)
    except ValueError:
        out = None
    if out is not None and np.isfinite(out).all():
        return out
    for value, lineno in zip(values, linenos, strict=True):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not np.isfinite(number):
            raise _fail(path, lineno, f"{name} {value!r} is not a finite number")
    raise AssertionError("unreachable")  # pragma: no cover


def _empty_tokens(path, values: list[str], linenos: list[int], name: str) -> None:
    for value, lineno in zip(values, linenos, strict=True):
        if not value.strip():
            raise _fail(path, lineno, f"empty {name}")


def _read_recbole_columns(inter_path):
    """Users, items and timestamps (or ``None``) of a ``.inter`` file, in file order."""
    names, _, rows, linenos = _read_atomic(inter_path)
    u = _find_column(inter_path, names, "user_id")
    i = _find_column(inter_path, names, "item_id")
    t = _find_column(inter_path, names, "timestamp", required=False)
    columns = list(zip(*rows, strict=True))
    users = [s.strip() for s in columns[u]]
    items = [s.strip() for s in columns[i]]
    _empty_tokens(inter_path, users, linenos, "user id")
    _empty_tokens(inter_path, items, linenos, "item id")
    times = None
    if t is not None:
        times = _float_column(inter_path, list(columns[t]), linenos, "timestamp")
    return np.asarray(users, dtype=str), np.asarray(items, dtype=str), times


def _read_recbole_items(item_path):
    """Item tokens, text fields (all non-id columns) and the first token_seq column."""
    names, types, rows, linenos = _read_atomic(item_path)
    i = _find_column(item_path, names, "item_id")
    columns = list(zip(*rows, strict=True))
    tokens = [s.strip() for s in columns[i]]
    _empty_tokens(item_path, tokens, linenos, "item id")
    seen: dict[str, int] = {}
    for token, lineno in zip(tokens, linenos, strict=True):
        if token in seen:
            raise _fail(
                item_path, lineno, f"duplicate item {token!r} (first on line {seen[token]})"
            )
        seen[token] = lineno
    fields = {
        name: [s.strip() or None for s in columns[k]]
        for k, name in enumerate(names)
        if k != i
    }
    if not fields:
        raise _fail(item_path, 1, "the item file has no text column besides the item id")
    seq_columns = [
        n
        for k, (n, t) in enumerate(zip(names, types, strict=True))
        if k != i and t == "token_seq"
    ]
    default = seq_columns[0] if seq_columns else next(iter(fields))
    return np.asarray(tokens, dtype=str), fields, default


def read_recbole(
    inter_path: str | os.PathLike,
    item_path: str | os.PathLike | None = None,
    *,
    text_template: str | None = None,
) -> Sequences:
    """Read RecBole atomic files (``.inter`` and optionally ``.item``).

    Parameters
    ----------
    inter_path : str or path-like
        Tab-separated file whose first line is the typed header (``user_id:token
        item_id:token rating:float timestamp:float``). The columns named ``user_id``,
        ``item_id`` and ``timestamp`` (or starting with these names) are used; without a
        timestamp column the file order is the time order.
    item_path : str or path-like, optional
        The ``.item`` file. Every column but the item id becomes a catalog field under
        its own name (e.g. ``movie_title``, ``release_year``, ``class``).
    text_template : str, optional
        Template of the item text over those field names, e.g.
        ``"{movie_title} ({release_year})"``. Default: the first ``token_seq`` column.

    Returns
    -------
    sequences : Sequences
        One row per user in order of first appearance; each user's interactions sorted
        by timestamp, ties kept in file order (stable sort). User and item ids follow
        the shared integer-or-string rule.

    Raises
    ------
    ValueError
        An empty file, a malformed header, a row with the wrong number of fields, an
        empty id, a non-numeric timestamp or a duplicate item in the ``.item`` file
        (all with the line number), or a file that is not UTF-8.
    """
    users, items, times = _read_recbole_columns(inter_path)
    user_values, _ = _unify_ids(users)
    user_codes, user_array = _group_users(user_values)
    kwargs = {}
    if item_path is not None:
        tokens, fields, default = _read_recbole_items(item_path)
        template = "{" + default + "}" if text_template is None else text_template
        kwargs = {
            "catalog_ids": tokens,
            "catalog_fields": fields,
            "text_template": template,
        }
    return _assemble(user_codes, user_array, items, timestamps=times, **kwargs)


# --------------------------------------------------------------------- JSON / text
def _json_key_line(text: str, key: str, occurrence: int = 1) -> int | None:
    """Line of the ``occurrence``-th ``"key":`` in JSON ``text`` (best effort)."""
    for spelling in (json.dumps(key, ensure_ascii=False), json.dumps(key)):
        matches = list(re.finditer(re.escape(spelling) + r"\s*:", text))
        if len(matches) >= occurrence:
            return text.count("\n", 0, matches[occurrence - 1].start()) + 1
    return None


def _read_json_object(path) -> tuple[str, list[tuple[str, object]]]:
    text = _read_text(path)
    try:
        pairs = json.loads(text, object_pairs_hook=lambda p: p)
    except json.JSONDecodeError as exc:
        raise _fail(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if not isinstance(pairs, list) or (pairs and not isinstance(pairs[0], tuple)):
        raise _fail(path, 1, "expected a JSON object {user: [items, ...]}")
    return text, pairs


def read_json_sequences(path: str | os.PathLike, *, item_text=None) -> Sequences:
    """Read a JSON object ``{user: [item, item, ...]}`` (each list in time order).

    Parameters
    ----------
    path : str or path-like
        UTF-8 JSON file. Items may be JSON integers or strings.
    item_text : ItemCatalog, dict or path-like, optional
        Item text: a catalog, a dict ``{item: text}`` or a TSV file ``item<TAB>text``.

    Returns
    -------
    sequences : Sequences
        One row per user in file order; ``user_ids`` are the keys (the shared
        integer-or-string rule applies to them too).

    Raises
    ------
    ValueError
        Invalid JSON, a value that is not a non-empty list of ids, a duplicate user (with
        the line number), an empty file, or a file that is not UTF-8.
    """
    text, pairs = _read_json_object(path)
    if not pairs:
        raise _fail(path, 1, "the JSON object holds no users")
    users, flat, lengths, seen = [], [], [], set()
    for user, history in pairs:
        if user in seen:
            raise _fail(path, _json_key_line(text, user, 2), f"duplicate user {user!r}")
        seen.add(user)
        if not isinstance(history, list) or not history:
            raise _fail(
                path,
                _json_key_line(text, user),
                f"user {user!r}: expected a non-empty list of item ids, got "
                f"{json.dumps(history)[:40]}",
            )
        for item in history:
            if type(item) is not int and type(item) is not str:
                raise _fail(
                    path,
                    _json_key_line(text, user),
                    f"user {user!r}: item ids must be integers or strings, got {item!r}",
                )
        users.append(user)
        flat.extend(history)
        lengths.append(len(history))
    pair = _merging_pair(flat)
    if pair is not None:
        ends = np.cumsum(lengths)
        int_user, str_user = (
            users[int(np.searchsorted(ends, flat.index(item), side="right"))]
            for item in pair
        )
        raise _fail(
            path,
            _json_key_line(text, str_user),
            f"item {pair[0]!r} (user {int_user!r}) and item {pair[1]!r} (user "
            f"{str_user!r}) are a JSON integer and a string of the same spelling, "
            "which would merge into one id; use one type for every id",
        )
    return _from_rows(users, flat, lengths, item_text)


def _from_rows(users: list, flat: list, lengths: list[int], item_text) -> Sequences:
    user_values, _ = _unify_ids(_ids_from_python(users, what="user ids"))
    user_codes = np.repeat(np.arange(len(users), dtype=np.int64), lengths)
    items = _ids_from_python(flat)
    return _assemble(user_codes, user_values, items, **_catalog_kwargs(item_text))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def read_text_sequences(path: str | os.PathLike, *, item_text=None) -> Sequences:
    """Read lines ``user item item ...`` (whitespace separated, items in time order).

    Parameters
    ----------
    path : str or path-like
        UTF-8 text file; blank lines are skipped.
    item_text : ItemCatalog, dict or path-like, optional
        Item text: a catalog, a dict ``{item: text}`` or a TSV file ``item<TAB>text``.

    Returns
    -------
    sequences : Sequences
        One row per line, in file order. User and item ids follow the shared
        integer-or-string rule.

    Raises
    ------
    ValueError
        A line with a user but no items or a duplicate user (with the line number), an
        empty file, a file that holds JSON (read it with ``format="json"``), or a
        file that is not UTF-8 text.
    """
    text = _read_text(path)
    if text.lstrip()[:1] in ("{", "[") and _is_json(text):
        raise _fail(
            path,
            text[: len(text) - len(text.lstrip())].count("\n") + 1,
            "this looks like JSON, not lines 'user item item ...'; read it with "
            "format='json' (--format json)",
        )
    users, flat, lengths, seen = [], [], [], {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        user = tokens[0]
        if len(tokens) < 2:
            raise _fail(path, lineno, f"user {user!r} has no items")
        if user in seen:
            raise _fail(
                path, lineno, f"duplicate user {user!r} (first on line {seen[user]})"
            )
        seen[user] = lineno
        users.append(user)
        flat.extend(tokens[1:])
        lengths.append(len(tokens) - 1)
    return _from_rows(users, flat, lengths, item_text)


def read_sequences(
    path: str | os.PathLike, *, format: str = "auto", item_text=None
) -> Sequences:
    """Read sequences from a file, choosing the reader by ``format``.

    Parameters
    ----------
    path : str or path-like
        The interactions file.
    format : {"auto", "recbole", "json", "text"}, default="auto"
        ``"auto"`` picks by extension: ``.inter`` -> RecBole, ``.json`` -> JSON, anything
        else (``.txt``, ``.tsv``, ...) -> text lines ``user item item ...``.
    item_text : ItemCatalog, dict or path-like, optional
        Item text: a catalog, a dict ``{item: text}``, a TSV file ``item<TAB>text`` or,
        for RecBole, a ``.item`` file. For RecBole without ``item_text``, a ``.item``
        file next to ``path`` with the same stem is used when it exists.

    Returns
    -------
    sequences : Sequences

    See Also
    --------
    read_recbole, read_json_sequences, read_text_sequences, read_interactions
    """
    path = Path(path)
    if format == "auto":
        suffix = path.suffix.lower()
        format = {".inter": "recbole", ".json": "json"}.get(suffix, "text")
    if format not in _FORMATS:
        raise ValueError(f"unknown format {format!r}; valid formats: 'auto', {_FORMATS}")
    if format == "recbole":
        item_path = None
        if item_text is None and path.with_suffix(".item").is_file():
            item_path = path.with_suffix(".item")
        elif isinstance(item_text, (str, os.PathLike)) and str(item_text).endswith(".item"):
            item_path, item_text = item_text, None
        seqs = read_recbole(path, item_path)
        if item_text is None:
            return seqs
        users = np.repeat(np.arange(len(seqs), dtype=np.int64), seqs.lengths)
        return _assemble(
            users,
            seqs.user_ids,
            seqs.vocabulary.decode(seqs.codes),
            timestamps=seqs.timestamps,
            **_catalog_kwargs(item_text),
        )
    if format == "json":
        return read_json_sequences(path, item_text=item_text)
    return read_text_sequences(path, item_text=item_text)
