"""Item ids as users have them, mapped to a contiguous internal index and back."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

__all__ = ["ItemVocabulary", "normalize_item_ids"]

_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max


def _kind_of(value) -> str:
    """Return ``"int"`` or ``"str"`` for one item id, or raise naming the problem."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"item ids must be integers or strings, got a boolean ({value!r})")
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, str):
        return "str"
    if isinstance(value, numbers.Real):
        raise TypeError(
            f"item ids must be integers or strings, got a float ({value!r}); "
            "convert integral floats with .astype(int) first"
        )
    raise TypeError(f"item ids must be integers or strings, got {type(value).__name__}")


def _check_int64(values: np.ndarray, what: str) -> None:
    """Refuse unsigned ids above the int64 range (converting would wrap them)."""
    if values.dtype.kind == "u" and values.size and values.max() > _INT64_MAX:
        bad = values[values > _INT64_MAX][0].item()
        raise ValueError(
            f"{what} must fit in int64 (from {_INT64_MIN} to {_INT64_MAX}), got {bad}"
        )


def _check_no_nul(values: np.ndarray, what: str) -> None:
    """Refuse strings with a NUL character (numpy strings drop trailing NULs).

    A unicode array cannot hold trailing NULs any more, so only NULs followed by other
    characters are left to find: a zero code point right before a non-zero one.
    """
    if not values.size or values.dtype.itemsize == 0:
        return
    flat = np.ascontiguousarray(values).reshape(-1)
    chars = flat.view(np.uint32).reshape(flat.size, -1) != 0
    inner_nul = (~chars[:, :-1] & chars[:, 1:]).any(axis=1)
    if inner_nul.any():
        bad = flat[np.flatnonzero(inner_nul)[0]].item()
        raise ValueError(f"{what} may not contain NUL characters, got {bad!r}")


def normalize_item_ids(values, *, what: str = "item ids") -> np.ndarray:
    """Turn item ids into an ``int64`` or unicode numpy array.

    Raises a :class:`TypeError` naming the problem for floats, booleans, ``None``,
    and for a mix of integer and string ids, and a :class:`ValueError` for NaN,
    integers outside ``int64`` and strings with a NUL character (numpy would wrap the
    integers and drop trailing NULs, merging distinct ids).
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        _check_int64(values, what)
        return values.astype(np.int64, copy=False).reshape(-1)
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        _check_no_nul(values, what)
        return values.reshape(-1)
    if isinstance(values, np.ndarray) and values.dtype.kind in "fc":
        if values.size and np.isnan(values).any():
            raise ValueError(f"{what} contain NaN")
        raise TypeError(
            f"{what} must be integers or strings, got floats (dtype {values.dtype}); "
            "convert integral floats with .astype(int) first"
        )
    if isinstance(values, np.ndarray) and values.dtype.kind == "b":
        example = f" ({values.flat[0].item()!r})" if values.size else ""
        raise TypeError(f"{what} must be integers or strings, got a boolean{example}")
    values = list(values) if not isinstance(values, list) else values
    if not values:
        return np.zeros(0, dtype=np.int64)
    kinds = set()
    for value in values:
        if value is None:
            raise TypeError(f"{what} contain None")
        if isinstance(value, float) and value != value:
            raise ValueError(f"{what} contain NaN")
        kinds.add(_kind_of(value))
        if len(kinds) > 1:
            raise TypeError(
                f"{what} mix integers and strings (e.g. {values[0]!r} and {value!r}); "
                "use one type for every id"
            )
    if kinds == {"int"}:
        try:
            return np.asarray(values, dtype=np.int64)
        except OverflowError:
            bad = next(v for v in values if not _INT64_MIN <= v <= _INT64_MAX)
            raise ValueError(
                f"{what} must fit in int64 (from {_INT64_MIN} to {_INT64_MAX}), "
                f"got {int(bad)}"
            ) from None
    bad = next((v for v in values if "\x00" in v), None)
    if bad is not None:
        # numpy strings drop trailing NULs: 'a\x00' would become 'a'
        raise ValueError(f"{what} may not contain NUL characters, got {bad!r}")
    return np.asarray(values, dtype=str)


class ItemVocabulary:
    """A bijection between the user's item ids and codes ``0`` to ``n_items - 1``.

    Codes follow the sorted order of the ids, so two vocabularies built from the same
    set of ids are identical whatever order the ids came in.

    Parameters
    ----------
    item_ids : iterable of int or str
        The distinct item ids. Duplicates are merged. Integers and strings cannot be
        mixed.

    Attributes
    ----------
    ids : ndarray of shape (n_items,)
        The item id of every code (``int64`` or unicode).
    """

    def __init__(self, item_ids: Iterable):
        ids = np.unique(normalize_item_ids(item_ids))
        if ids.size == 0:
            raise ValueError("an item vocabulary needs at least one item id")
        self.ids = ids
        self.ids.setflags(write=False)

    @property
    def n_items(self) -> int:
        return int(self.ids.shape[0])

    def __len__(self) -> int:
        return self.n_items

    @property
    def id_kind(self) -> str:
        return "int" if self.ids.dtype.kind in "iu" else "str"

    def __contains__(self, item_id) -> bool:
        try:
            return bool(self.contains(np.asarray([item_id]))[0])
        except TypeError:
            return False

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, ItemVocabulary)
            and self.ids.dtype.kind == other.ids.dtype.kind
            and np.array_equal(self.ids, other.ids)
        )

    __hash__ = None  # mutable-looking container semantics; compare by value

    def __repr__(self) -> str:
        return f"ItemVocabulary(n_items={self.n_items}, id_kind={self.id_kind!r})"

    def _check_kind(self, ids: np.ndarray, what: str) -> None:
        kind = "int" if ids.dtype.kind in "iu" else "str"
        if ids.size and kind != self.id_kind:
            raise TypeError(
                f"{what} are {kind}s but this vocabulary's item ids are {self.id_kind}s"
            )

    def contains(self, item_ids) -> np.ndarray:
        """Boolean mask: which of ``item_ids`` are in the vocabulary.

        Parameters
        ----------
        item_ids : iterable of int or str
            Item ids to look up, of the same kind (integers or strings) as the
            vocabulary's; a mismatched kind raises :class:`TypeError`.

        Returns
        -------
        ndarray of bool of shape (n_ids,)
            Whether each id (flattened, in order) has a code.
        """
        ids = normalize_item_ids(item_ids)
        self._check_kind(ids, "the item ids")
        pos = np.searchsorted(self.ids, ids)
        pos = np.minimum(pos, self.n_items - 1)
        return self.ids[pos] == ids

    def encode(self, item_ids, *, what: str = "item ids") -> np.ndarray:
        """Codes of ``item_ids``; raise :class:`KeyError` listing unknown ids.

        Parameters
        ----------
        item_ids : iterable of int or str
            Item ids to encode, of the same kind (integers or strings) as the
            vocabulary's; a mismatched kind raises :class:`TypeError`.
        what : str, default="item ids"
            What the ids are, as named in error messages.

        Returns
        -------
        ndarray of int64 of shape (n_ids,)
            The code of each id (flattened, in order).
        """
        ids = normalize_item_ids(item_ids, what=what)
        self._check_kind(ids, what)
        pos = np.searchsorted(self.ids, ids)
        pos = np.minimum(pos, self.n_items - 1)
        found = self.ids[pos] == ids
        if not found.all():
            unknown = np.unique(ids[~found])
            shown = ", ".join(repr(x.item()) for x in unknown[:5])
            more = f" and {unknown.size - 5} more" if unknown.size > 5 else ""
            raise KeyError(
                f"{unknown.size} unknown item id(s) not seen in fit: {shown}{more}"
            )
        return pos.astype(np.int64, copy=False)

    def decode(self, codes) -> np.ndarray:
        """Item ids of ``codes``.

        Parameters
        ----------
        codes : array-like of int
            Codes in ``[0, n_items)``; others raise :class:`IndexError`.

        Returns
        -------
        ndarray
            The item id of each code, with the shape of ``codes`` (``int64`` or
            unicode, as ``ids``).
        """
        codes = np.asarray(codes)
        if codes.size and (codes.min() < 0 or codes.max() >= self.n_items):
            raise IndexError(f"item codes must lie in [0, {self.n_items})")
        return self.ids[codes]
