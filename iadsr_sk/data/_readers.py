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

Lines
-----
Only ``"\\n"`` (or ``"\\r\\n"``) ends a line, so that the line numbers of errors are
those of ``sed -n Np``. Other characters that :meth:`str.splitlines` breaks at
(``"\\x85"``, ``"\\u2028"``, ``"\\f"``, ...) stay in their line: part of the text in an
item text, refused (with the line) in ids; a lone ``"\\r"`` is refused everywhere.
Header lines are refused in text sequences and item text files, never read as data.
When item text read from a file has items no interaction has, a warning on the
``"iadsr_sk"`` logger names them (a sign of a header line or of ids that do not match).
"""

from __future__ import annotations

import datetime
import json
import logging
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

logger = logging.getLogger("iadsr_sk")

# characters other than "\n" that str.splitlines() breaks a line at; only "\n" (or
# "\r\n") ends a line here, so that line numbers are those of ``sed -n Np``
_OTHER_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_BREAK_NAMES = {
    "\r": "carriage return",
    "\v": "vertical tab",
    "\f": "form feed",
    "\x1c": "file separator",
    "\x1d": "group separator",
    "\x1e": "record separator",
    "\x85": "next line",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
}
# RecBole's typed header fields ("item_id:token")
_RECBOLE_FIELD = re.compile(r"[^\s:]+:(token|token_seq|float|float_seq)", re.IGNORECASE)
_SEQ_TYPES = ("token_seq", "float_seq")
# first tokens of a header line of a text sequences / item text file
_USER_WORDS = frozenset(
    {"user", "users", "user_id", "userid", "user_ids", "uid", "user_name", "username"}
)
_ITEM_WORDS = frozenset(
    {
        "item",
        "items",
        "item_id",
        "itemid",
        "item_ids",
        "itemids",
        "iid",
        "item_id_list",
        "item_list",
        "item_seq",
        "sequence",
        "seq",
        "history",
    }
)
_ID_WORDS = frozenset(
    {"id", "iid", "item", "item id", "item_id", "itemid", "asin", "movie_id", "movieid"}
)


# --------------------------------------------------------------------------- helpers
def _fail(path, lineno: int | None, problem: str) -> ValueError:
    """A :class:`ValueError` naming the file (and line) of a problem."""
    where = f"{path}" if lineno is None else f"{path}, line {lineno}"
    return ValueError(f"{where}: {problem}")


def _break_name(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X}, {_BREAK_NAMES[char]})"


def _split_lines(path, text: str) -> list[str]:
    """The lines of ``text``, split at ``"\n"`` only, numbered as ``sed -n Np`` does.

    Carriage returns before a newline (``"\r\n"``) are dropped. Any other carriage
    return raises: it would be a line break to some tools and not to others (files with
    old Mac ``"\r"`` line ends are not supported). Other Unicode line breaks
    (``"\x85"``, ``"\u2028"``, ``"\f"``, ...) stay inside their line; each reader
    decides what they mean there.
    """
    if "\r" in text:
        text = re.sub(r"\r+(?=\n|\Z)", "", text)
        pos = text.find("\r")
        if pos >= 0:
            raise _fail(
                path,
                text.count("\n", 0, pos) + 1,
                "the line holds a carriage return ('\\r') that does not end it; lines "
                "must end with '\\n' or '\\r\\n' (old Mac '\\r' line ends are not "
                "supported)",
            )
    return text.split("\n")


def _check_no_breaks(path, lineno: int, value: str, what: str) -> None:
    """Refuse a line-break character (other than ``"\n"``) inside an id."""
    found = _OTHER_BREAKS.search(value)
    if found is not None:
        raise _fail(
            path,
            lineno,
            f"{what} holds the line-break character {_break_name(found.group())}; "
            "only '\\n' ends a line, and ids may not contain line breaks: replace it "
            "with a space (or a newline if a new line was meant)",
        )


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
    catalog_source=None,
) -> Sequences:
    """Build :class:`Sequences` from one row per interaction (file order).

    Interactions are grouped by ``user_codes`` (row ``k`` = user ``users[k]``) and, when
    ``timestamps`` is given, ordered by time within each user; ties keep file order
    (stable sort). The vocabulary holds the items of the interactions and of the
    catalog. With ``catalog_source`` (the item text file), catalog items that no
    interaction has are reported with a warning on the ``"iadsr_sk"`` logger.
    """
    items, catalog_ids = _unify_ids(items, catalog_ids)
    catalog = None
    pool = items
    if catalog_ids is not None and catalog_source is not None:
        _warn_unused_catalog_ids(catalog_source, catalog_ids, items)
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


def _warn_unused_catalog_ids(source, catalog_ids: np.ndarray, items: np.ndarray) -> None:
    """Warn when items of an item text file are in no interaction (a header, wrong ids)."""
    unused = catalog_ids[~np.isin(catalog_ids, items)]
    if not unused.size:
        return
    shown = ", ".join(repr(v) for v in unused[:5].tolist())
    logger.warning(
        "%s: %d of the %d items of the item text are in no interaction (%s%s); check "
        "that the file has no header line and uses the interactions' item ids",
        source,
        unused.size,
        catalog_ids.size,
        shown,
        ", ..." if unused.size > 5 else "",
    )


def _merging_pair(values: list) -> tuple | None:
    """An integer and a string of ``values`` with the same spelling, or ``None``.

    ``1`` and ``"1"`` would become one id once integers are written as strings.
    """
    if not any(isinstance(v, str) for v in values):  # no string: nothing merges
        return None
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
    kwargs = {"catalog_ids": ids, "catalog_fields": fields, "text_template": template}
    if isinstance(item_text, (str, os.PathLike)):
        kwargs["catalog_source"] = item_text
    return kwargs


# ------------------------------------------------------------------ item text (TSV)
def _check_item_text_header(path, lineno: int, item: str) -> None:
    """Refuse a first line of an item text TSV that is a header, not an item."""
    if _RECBOLE_FIELD.fullmatch(item):
        raise _fail(
            path,
            lineno,
            f"the line looks like a RecBole header ({item!r}), not 'item<TAB>text'; "
            "item text files have no header: remove it (a RecBole .item file is read "
            "only together with a RecBole .inter file, e.g. read_recbole(inter, item))",
        )
    if item.lower() in _ID_WORDS:
        raise _fail(
            path,
            lineno,
            f"the line looks like a header (item id {item!r}), not 'item<TAB>text'; "
            "item text files have no header: remove it",
        )


def _read_item_text_tokens(path) -> tuple[np.ndarray, list[str | None]]:
    text = _read_text(path)
    tokens: list[str] = []
    texts: list[str | None] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(_split_lines(path, text), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise _fail(path, lineno, "expected 'item<TAB>text' but found no tab")
        item, value = line.split("\t", 1)
        _check_no_breaks(path, lineno, item, f"the item id {item!r}")
        item = item.strip()
        if not item:
            raise _fail(path, lineno, "the item id before the tab is empty")
        if not tokens:
            _check_item_text_header(path, lineno, item)
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
        Empty file, a line without a tab, an empty item id, an id with a line break
        (other than ``"\\n"``), a duplicate item or a header as the first line
        (``item_id<TAB>title``, RecBole's ``item_id:token ...``), all with the line
        number, or a file that is not UTF-8.
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
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            raise ValueError(
                f"column {name!r} row {bad[0]}: user id {values[bad[0]].item()!r} is "
                "not a number a user can have"
            )
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
    lines = _split_lines(path, text)
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
        if any(c.isspace() or c == ":" for c in kind):
            raise _fail(
                path,
                1,
                f"header field {column!r} is not 'name:type' (e.g. 'item_id:token'); "
                "the fields of a RecBole file are separated by tabs",
            )
        if name in names:
            raise _fail(path, 1, f"the header names the column {name!r} twice")
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


def _find_column(path, names, types, name: str, *, required: bool = True):
    """Index of the column called exactly ``name`` (one value per row), or an error.

    Columns are matched by their exact name: ``item_id_list`` is not ``item_id``.
    A sequence-typed column (``token_seq``, ``float_seq``) is refused, and so is a
    header whose only candidates are sequence columns of RecBole's sequential format
    (``item_id_list:token_seq``) or columns whose names merely start with ``name``.
    """
    expected = (
        "one interaction per row with the columns 'user_id:token', 'item_id:token' "
        "and optionally 'timestamp:float'"
    )
    if name in names:
        i = names.index(name)
        if types[i] in _SEQ_TYPES:
            raise _fail(
                path,
                1,
                f"the column '{name}:{types[i]}' holds a sequence per row; expected "
                f"one value per row ('{name}:token'): {expected}",
            )
        return i
    near = [f"{n}:{t}" for n, t in zip(names, types, strict=True) if n.startswith(name)]
    seq = [c for c in near if c.rpartition(":")[2] in _SEQ_TYPES]
    if seq:
        raise _fail(
            path,
            1,
            f"no {name!r} column, but {seq[0]!r} holds a sequence per row: RecBole's "
            f"sequential layout (a list of items per row) is not supported; expected "
            f"{expected}",
        )
    if near:
        raise _fail(
            path,
            1,
            f"no {name!r} column, but {near[0]!r}: columns are matched by their exact "
            f"name, so rename it to {name!r}"
            + ("" if required else " (or remove it to use the file order as time)"),
        )
    if required:
        raise _fail(
            path,
            1,
            f"no {name!r} column in the header (columns: {names}); expected {expected}",
        )
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


def _no_breaks_in_column(path, values, linenos: list[int], name: str) -> None:
    if _OTHER_BREAKS.search("".join(values)) is None:
        return
    for value, lineno in zip(values, linenos, strict=True):
        _check_no_breaks(path, lineno, value, f"the {name} {value!r}")


def _empty_tokens(path, values: list[str], linenos: list[int], name: str) -> None:
    for value, lineno in zip(values, linenos, strict=True):
        if not value.strip():
            raise _fail(path, lineno, f"empty {name}")


def _read_recbole_columns(inter_path):
    """Users, items and timestamps (or ``None``) of a ``.inter`` file, in file order."""
    names, types, rows, linenos = _read_atomic(inter_path)
    u = _find_column(inter_path, names, types, "user_id")
    i = _find_column(inter_path, names, types, "item_id")
    t = _find_column(inter_path, names, types, "timestamp", required=False)
    columns = list(zip(*rows, strict=True))
    _no_breaks_in_column(inter_path, columns[u], linenos, "user id")
    _no_breaks_in_column(inter_path, columns[i], linenos, "item id")
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
    i = _find_column(item_path, names, types, "item_id")
    columns = list(zip(*rows, strict=True))
    _no_breaks_in_column(item_path, columns[i], linenos, "item id")
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
        item_id:token rating:float timestamp:float``), one interaction per row. The
        columns named exactly ``user_id``, ``item_id`` and ``timestamp`` are used (a
        column such as ``item_id_list`` or ``timestamp_ms`` is not taken for them, and
        is refused when the exact one is missing); without a timestamp column the file
        order is the time order. RecBole's sequential layout (``item_id_list:token_seq``,
        a list of items per row) is not supported.
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
        An empty file, a malformed header (a missing or duplicate column, a sequence
        column such as ``item_id:token_seq`` for the ids), a row with the wrong number
        of fields, an empty id or one with a line break (other than ``"\\n"``), a
        non-numeric timestamp or a duplicate item in the ``.item`` file (all with the
        line number), or a file that is not UTF-8.
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


class _JSONObject:
    """A JSON object as its ``(key, value)`` pairs, in file order (duplicates kept)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, object]]):
        self.pairs = pairs


def _json_text(value, limit: int = 60) -> str:
    """``value`` (as parsed by :func:`_read_json_object`) written as JSON, shortened."""

    def dump(v) -> str:
        if isinstance(v, _JSONObject):
            inner = ", ".join(
                f"{json.dumps(k, ensure_ascii=False)}: {dump(x)}" for k, x in v.pairs
            )
            return "{" + inner + "}"
        if isinstance(v, list):
            return "[" + ", ".join(dump(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    text = dump(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _json_kind(value) -> str:
    """``value``'s JSON type with the value itself (``'an array ([1, 2])'``)."""
    if value is None:
        return "null"
    if isinstance(value, list):
        kind = "an array"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, bool):
        kind = "a boolean"
    else:
        kind = "a number"
    return f"{kind} ({_json_text(value, 30)})"


def _read_json_object(path) -> tuple[str, list[tuple[str, object]]]:
    """Text and top-level ``(key, value)`` pairs of a JSON object file.

    Nested objects are :class:`_JSONObject` (never lists), so that they are not taken
    for lists of item ids; :func:`_json_text` shows them as JSON.
    """
    text = _read_text(path)
    try:
        value = json.loads(text, object_pairs_hook=_JSONObject)
    except json.JSONDecodeError as exc:
        raise _fail(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if not isinstance(value, _JSONObject):
        start = len(text) - len(text.lstrip())
        raise _fail(
            path,
            text.count("\n", 0, start) + 1,
            f"expected a JSON object {{user: [items, ...]}}, got {_json_kind(value)}",
        )
    return text, value.pairs


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
                f"{_json_text(history)}",
            )
        for item in history:
            if type(item) is not int and type(item) is not str:
                raise _fail(
                    path,
                    _json_key_line(text, user),
                    f"user {user!r}: item ids must be integers or strings, got "
                    f"{_json_text(item)}",
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


def _check_sequences_header(path, lineno: int, tokens: list[str]) -> None:
    """Refuse a first line of a text sequences file that is a header, not a user."""
    typed = next((t for t in tokens if _RECBOLE_FIELD.fullmatch(t)), None)
    if typed is not None:
        raise _fail(
            path,
            lineno,
            f"the line looks like a RecBole header ({typed!r}), not 'user item item "
            "...'; read a RecBole .inter file with format='recbole' (--format "
            "recbole), or remove the header",
        )
    words = [t.lower().lstrip("#") for t in tokens[:2]]
    if words[0] in _USER_WORDS and (len(words) == 1 or words[1] in _ITEM_WORDS):
        raise _fail(
            path,
            lineno,
            f"the line looks like a header ({' '.join(tokens[:2])!r}), not 'user item "
            "item ...'; files of sequences have no header: remove it",
        )


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
        A line with a user but no items, a duplicate user, a line break other than
        ``"\\n"`` inside a line (``"\\f"``, ``"\\x85"``, ``"\\u2028"``, ...) or a
        header as the first line (``user_id item_ids``, RecBole's ``user_id:token
        ...``), all with the line number, an empty file, a file that holds JSON (read
        it with ``format="json"``), or a file that is not UTF-8 text.
    """
    text = _read_text(path)
    if text.lstrip()[:1] in ("{", "[") and _is_json(text):
        raise _fail(
            path,
            text[: len(text) - len(text.lstrip())].count("\n") + 1,
            "this looks like JSON, not lines 'user item item ...'; read it with "
            "format='json' (--format json)",
        )
    lines = _split_lines(path, text)
    joined = "\n".join(lines)  # without the "\r" of "\r\n"
    found = _OTHER_BREAKS.search(joined)
    if found is not None:
        lineno = joined.count("\n", 0, found.start()) + 1
        _check_no_breaks(path, lineno, lines[lineno - 1], "the line")
    users, flat, lengths, seen = [], [], [], {}
    for lineno, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        if not users:
            _check_sequences_header(path, lineno, tokens)
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
    read_recbole : The reader for ``format="recbole"`` (``.inter`` and ``.item``).
    read_json_sequences : The reader for ``format="json"``.
    read_text_sequences : The reader for ``format="text"``.
    read_interactions : Sequences from a table with one row per interaction.
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
