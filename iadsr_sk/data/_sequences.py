"""A compact container of users' time-ordered item histories."""

from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ._catalog import ItemCatalog
from ._vocabulary import ItemVocabulary, normalize_item_ids

__all__ = ["Sequences", "as_sequences"]


def _gather_positions(offsets: np.ndarray, rows: np.ndarray):
    """Flat positions of ``rows`` in a ragged array, and the new offsets (vectorised)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new_offsets = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    total = int(new_offsets[-1])
    positions = np.arange(total, dtype=np.int64) + np.repeat(
        starts - new_offsets[:-1], lengths
    )
    return positions, new_offsets


def row_slice(seqs, row) -> slice:
    """The positions of history ``row`` of ``seqs`` as a slice of its flat arrays.

    ``row`` is a list index: from ``-len(seqs)`` to ``len(seqs) - 1``, negative ones
    counting from the end; others raise :class:`IndexError`, non-integers
    :class:`TypeError`.
    """
    n = len(seqs)
    index = operator.index(row)
    if not -n <= index < n:
        raise IndexError(f"row {row} is out of range for {n} sequences")
    index %= n
    return slice(int(seqs.offsets[index]), int(seqs.offsets[index + 1]))


def _concatenate_id_arrays(rows: list[np.ndarray]) -> np.ndarray:
    """Item ids of rows given as arrays, checked row by row, as one array.

    ``np.concatenate`` alone would promote a boolean row to integers and integer rows
    to strings next to a string row, so each row's kind is checked first.
    """
    rows = [r for r in rows if r.size]  # an empty row's dtype says nothing
    kinds = {r.dtype.kind for r in rows}
    if len(kinds) > 1 or not kinds <= set("iuU"):
        # booleans, floats, objects, uint64 next to int64 (-> float64)...: each row
        # on its own names its problem
        rows = [normalize_item_ids(r) for r in rows]
        kinds = {r.dtype.kind for r in rows}
        if len(kinds) > 1:
            first_int = next(r for r in rows if r.dtype.kind == "i")[0].item()
            first_str = next(r for r in rows if r.dtype.kind == "U")[0].item()
            raise TypeError(
                f"item ids mix integers and strings (e.g. {first_int!r} and "
                f"{first_str!r}); use one type for every id"
            )
    return normalize_item_ids(np.concatenate(rows))


def _check_count(value, name: str, minimum: int, *, or_none: bool = False) -> None:
    """Refuse a count of items that is not an integer >= ``minimum`` (naming ``name``;
    with ``or_none``, the message says that ``None`` is allowed too).

    Floats would be compared as they are (``tail(2.5)`` kept 3 items of some rows) and
    booleans would count as 0 or 1, so neither is taken as a count.
    """
    expected = f"an integer >= {minimum}{' or None' if or_none else ''}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


def _check_readable(X, what: str) -> None:
    """Refuse a table or a one-shot iterator where histories are expected.

    A DataFrame iterates over its column names, and a generator is empty the second
    time it is read (the next step of a pipeline would see nothing). Both are
    recognised without importing pandas.
    """
    if any(cls.__name__ == "DataFrame" for cls in type(X).__mro__):
        library = type(X).__module__.partition(".")[0]
        raise TypeError(
            f"{what} must be a Sequences object or a list of item-id lists, got a "
            f"{library} DataFrame; read interaction tables with read_interactions(df, "
            "user_col=..., item_col=..., time_col=...)"
        )
    if isinstance(X, Iterator):
        raise TypeError(
            f"{what} is a one-shot iterator ({type(X).__name__}): a generator can be "
            "read only once (the next step of a pipeline would see nothing); pass a "
            "list, e.g. list(...)"
        )


class Sequences:
    """Users' item histories in time order, stored as offsets + values arrays.

    Row ``u`` holds the items ``codes[offsets[u]:offsets[u + 1]]`` (internal codes of
    ``vocabulary``). Everything a user reads speaks the user's own item ids: indexing
    one row returns its item ids, :meth:`to_lists` returns lists of item ids.

    Indexing with a slice, an integer array or a boolean mask returns a new
    :class:`Sequences` (so scikit-learn's cross-validation can index it); indexing
    with an integer returns that row's item ids.

    Use :meth:`from_lists` or :func:`as_sequences` to build one from item ids.

    Parameters
    ----------
    offsets : ndarray of int of shape (n_sequences + 1,)
        Start of each row in ``codes``; ``offsets[0] == 0``, non-decreasing.
    codes : ndarray of int of shape (n_interactions,)
        Internal item codes in ``[0, vocabulary.n_items)``.
    vocabulary : ItemVocabulary
        Maps codes to the user's item ids.
    user_ids : array-like of shape (n_sequences,), optional
        The user of each row.
    timestamps : ndarray of float of shape (n_interactions,), optional
        Time of each interaction, non-decreasing within each row.
    catalog : ItemCatalog, optional
        Item text.
    """

    ndim = 1

    def __init__(
        self,
        offsets: np.ndarray,
        codes: np.ndarray,
        vocabulary: ItemVocabulary,
        *,
        user_ids=None,
        timestamps: np.ndarray | None = None,
        catalog: ItemCatalog | None = None,
    ):
        offsets = np.asarray(offsets, dtype=np.int64)
        codes = np.asarray(codes, dtype=np.int64)
        if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0:
            raise ValueError("offsets must be a 1-d array starting at 0")
        if np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        if offsets[-1] != codes.size:
            raise ValueError(
                f"offsets end at {offsets[-1]} but there are {codes.size} item codes"
            )
        if codes.size and (codes.min() < 0 or codes.max() >= vocabulary.n_items):
            raise ValueError(f"item codes must lie in [0, {vocabulary.n_items})")
        self.offsets = offsets
        self.codes = codes
        self.vocabulary = vocabulary
        n = offsets.size - 1
        if user_ids is not None:
            user_ids = np.asarray(user_ids)
            if user_ids.shape != (n,):
                raise ValueError(f"user_ids has shape {user_ids.shape}, expected ({n},)")
        self.user_ids = user_ids
        if timestamps is not None:
            timestamps = np.asarray(timestamps, dtype=np.float64)
            if timestamps.shape != codes.shape:
                raise ValueError("timestamps must have one value per interaction")
            bad = ~np.isfinite(timestamps)
            if bad.any():
                row = int(
                    np.searchsorted(offsets, np.flatnonzero(bad)[0], side="right") - 1
                )
                raise ValueError(f"timestamps contain NaN or inf (first in sequence {row})")
            # histories are in time order: no step back in time within a row (equal
            # times are fine; a new row may start earlier than the last one ended)
            backwards = np.diff(timestamps) < 0
            starts = offsets[1:-1]
            backwards[starts[(starts > 0) & (starts < codes.size)] - 1] = False
            if backwards.any():
                position = int(np.flatnonzero(backwards)[0]) + 1
                row = int(np.searchsorted(offsets, position, side="right") - 1)
                raise ValueError(
                    f"timestamps decrease in sequence {row} at position "
                    f"{position - offsets[row]} ({timestamps[position - 1]} then "
                    f"{timestamps[position]}); each history must be in time order"
                )
        self.timestamps = timestamps
        self.catalog = catalog

    # ------------------------------------------------------------------ building
    @classmethod
    def from_lists(
        cls,
        histories: Iterable[Iterable],
        *,
        vocabulary: ItemVocabulary | None = None,
        user_ids=None,
        timestamps: Iterable[Iterable[float]] | None = None,
        catalog: ItemCatalog | None = None,
        allow_empty: bool = False,
    ) -> Sequences:
        """Build from one list of item ids per user (time order).

        Parameters
        ----------
        histories : iterable of iterables of int or str
            Item ids per user, oldest first.
        vocabulary : ItemVocabulary, optional
            Map ids with an existing vocabulary (unknown ids raise :class:`KeyError`).
            By default a vocabulary of the ids present (plus the catalog's) is built.
        user_ids : array-like of shape (n_sequences,), optional
            The user of each history.
        timestamps : iterable of iterables of float, optional
            Time of each interaction, one list per history with its length; each
            must be non-decreasing.
        catalog : ItemCatalog, optional
            Item text, kept on the result. Without ``vocabulary``, its item ids join
            the built vocabulary when they are of the same kind as the histories'
            (all integers or all strings).
        allow_empty : bool, default=False
            Whether a history may be empty.

        Returns
        -------
        Sequences
            ``histories`` itself when it is already a :class:`Sequences`.
        """
        if isinstance(histories, Sequences):
            return histories
        if isinstance(histories, (str, bytes)) or not isinstance(histories, Iterable):
            raise TypeError(
                "sequences must be a Sequences object or a list of item-id lists, "
                f"got {type(histories).__name__}"
            )
        _check_readable(histories, "sequences")
        rows = []
        for i, row in enumerate(histories):
            if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
                raise TypeError(
                    f"sequence {i} must be a list of item ids, got {type(row).__name__} "
                    f"({row!r:.40}); pass a list of histories, e.g. [[1, 2, 3]] for one "
                    "user"
                )
            if isinstance(row, np.ndarray):
                if row.ndim != 1:
                    # flattening would silently merge or split histories
                    raise ValueError(
                        f"sequence {i} is an array of shape {row.shape}; each history "
                        "must be one-dimensional (a list or 1-d array of item ids)"
                    )
                rows.append(row)
                continue
            if type(row) is not list:
                _check_readable(row, f"sequence {i}")
            rows.append(list(row))
        if not rows:
            raise ValueError("no sequences given (empty input)")
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        if not allow_empty and (lengths == 0).any():
            first = int(np.flatnonzero(lengths == 0)[0])
            raise ValueError(f"sequence {first} is empty; every history needs an item")
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if all(isinstance(r, np.ndarray) for r in rows):
            flat = _concatenate_id_arrays(rows) if offsets[-1] else rows[0]
        else:
            flat = normalize_item_ids([x for r in rows for x in r])
        if vocabulary is None:
            pool = flat
            if catalog is not None and catalog.item_ids.dtype.kind == flat.dtype.kind:
                pool = np.concatenate([flat, catalog.item_ids])
            vocabulary = ItemVocabulary(pool)
        codes = vocabulary.encode(flat)
        ts = None
        if timestamps is not None:
            ts_rows = [np.asarray(t, dtype=np.float64) for t in timestamps]
            if len(ts_rows) != len(rows) or any(
                t.shape != (n,) for t, n in zip(ts_rows, lengths.tolist(), strict=False)
            ):
                raise ValueError("timestamps must have the same shape as the histories")
            ts = np.concatenate(ts_rows) if ts_rows else np.zeros(0)
        return cls(
            offsets, codes, vocabulary, user_ids=user_ids, timestamps=ts, catalog=catalog
        )

    def with_codes(
        self,
        offsets: np.ndarray,
        codes: np.ndarray,
        *,
        timestamps: np.ndarray | None = None,
        user_ids=None,
    ) -> Sequences:
        """A new container with other rows but this one's vocabulary and catalog.

        Parameters
        ----------
        offsets : ndarray of int of shape (n_sequences + 1,)
            Start of each new row in ``codes``, as in the constructor.
        codes : ndarray of int of shape (n_interactions,)
            Internal item codes of this container's vocabulary.
        timestamps : ndarray of float of shape (n_interactions,), optional
            Time of each interaction. Not carried over: without it, the result has no
            timestamps.
        user_ids : array-like of shape (n_sequences,), optional
            The user of each new row. By default this container's ``user_ids`` are
            kept, so the new rows must then be as many as the old ones.

        Returns
        -------
        Sequences
        """
        return Sequences(
            offsets,
            codes,
            self.vocabulary,
            user_ids=self.user_ids if user_ids is None else user_ids,
            timestamps=timestamps,
            catalog=self.catalog,
        )

    # ---------------------------------------------------------------- sizes
    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_items(self) -> int:
        return self.vocabulary.n_items

    @property
    def n_interactions(self) -> int:
        return int(self.codes.size)

    def __repr__(self) -> str:
        return (
            f"Sequences(n_sequences={len(self)}, n_items={self.n_items}, "
            f"n_interactions={self.n_interactions})"
        )

    # ---------------------------------------------------------------- access
    def row_codes(self, i: int) -> np.ndarray:
        """Internal item codes of one row, oldest first.

        Parameters
        ----------
        i : int
            Row index in ``[0, n_sequences)`` (negative indices are not supported).

        Returns
        -------
        ndarray of int64 of shape (length of row ``i``,)
            A view into ``codes``; index the container itself (``seqs[i]``) for
            the row's item ids.
        """
        return self.codes[self.offsets[i] : self.offsets[i + 1]]

    def __getitem__(self, key):
        if isinstance(key, tuple):
            # scikit-learn indexes array-likes as X[key, ...]
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError("Sequences support one index (rows)")
        if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)):
            n = len(self)
            i = int(key) + n if key < 0 else int(key)
            if not 0 <= i < n:
                raise IndexError(f"sequence index {key} out of range for {n} sequences")
            return self.vocabulary.decode(self.row_codes(i))
        return self.take(self._rows(key))

    def _rows(self, key) -> np.ndarray:
        n = len(self)
        if isinstance(key, slice):
            return np.arange(n, dtype=np.int64)[key]
        key = np.asarray(key)
        if key.dtype == bool:
            if key.shape != (n,):
                raise IndexError(f"boolean mask has shape {key.shape}, expected ({n},)")
            return np.flatnonzero(key)
        if key.size == 0:
            return np.zeros(0, dtype=np.int64)
        if key.dtype.kind not in "iu":
            raise IndexError(
                f"cannot index sequences with {key.dtype} values; use integers, a "
                "slice or a boolean mask"
            )
        rows = key.reshape(-1)
        outside = (rows >= n) | (rows < -n)  # checked before int64 can wrap uint64
        if outside.any():
            raise IndexError(
                f"sequence index {rows[outside][0]} out of range for {n} sequences"
            )
        rows = rows.astype(np.int64)
        return np.where(rows < 0, rows + n, rows)

    def take(self, rows) -> Sequences:
        """The sequences at ``rows`` (in that order), as a new container.

        Parameters
        ----------
        rows : array-like of int, slice or array-like of bool of shape (n_sequences,)
            The rows to keep. Integers may repeat and negative ones count from the
            end, as in numpy; a boolean mask needs one value per sequence.

        Returns
        -------
        Sequences
            The selected rows with their user ids and timestamps, and this
            container's vocabulary and catalog.
        """
        rows = self._rows(rows)
        positions, offsets = _gather_positions(self.offsets, rows)
        return Sequences(
            offsets,
            self.codes[positions],
            self.vocabulary,
            user_ids=None if self.user_ids is None else self.user_ids[rows],
            timestamps=None if self.timestamps is None else self.timestamps[positions],
            catalog=self.catalog,
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    def to_lists(self) -> list[list]:
        """Item ids per sequence, as Python lists.

        Returns
        -------
        list of list
            One list per sequence (empty for an empty one), its item ids oldest
            first, as Python scalars.
        """
        ids = self.vocabulary.decode(self.codes).tolist()
        bounds = self.offsets.tolist()
        return [ids[a:b] for a, b in itertools.pairwise(bounds)]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequences):
            return NotImplemented
        return np.array_equal(self.offsets, other.offsets) and np.array_equal(
            self.vocabulary.decode(self.codes), other.vocabulary.decode(other.codes)
        )

    __hash__ = None

    # ------------------------------------------------------------- reshaping
    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Row index and position-within-row of every interaction.

        Returns
        -------
        rows : ndarray of int64 of shape (n_interactions,)
            Index of the sequence each interaction belongs to.
        within : ndarray of int64 of shape (n_interactions,)
            Position of each interaction inside its sequence, 0 for the oldest.
        """
        lengths = self.lengths
        rows = np.repeat(np.arange(len(self), dtype=np.int64), lengths)
        within = np.arange(self.codes.size, dtype=np.int64) - np.repeat(
            self.offsets[:-1], lengths
        )
        return rows, within

    def keep_mask(self, mask: np.ndarray) -> Sequences:
        """Keep the interactions where ``mask`` (one bool per interaction) is true.

        Parameters
        ----------
        mask : array-like of bool of shape (n_interactions,)
            Which interactions to keep, in the order of ``codes``.

        Returns
        -------
        Sequences
            As many rows as before (a row may become empty), with the kept
            interactions' timestamps and the same user ids, vocabulary and catalog.
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.codes.shape:
            raise ValueError("mask needs one value per interaction")
        kept = np.zeros(len(self) + 1, dtype=np.int64)
        rows, _ = self.positions()
        np.cumsum(np.bincount(rows[mask], minlength=len(self)), out=kept[1:])
        return self.with_codes(
            kept,
            self.codes[mask],
            timestamps=None if self.timestamps is None else self.timestamps[mask],
        )

    def head(self, drop_last: int) -> Sequences:
        """Every sequence without its last ``drop_last`` items (short ones become empty).

        Parameters
        ----------
        drop_last : int
            How many of the most recent items to drop from every row; ``>= 0``.

        Returns
        -------
        Sequences
            As many rows as before (see :meth:`keep_mask`).
        """
        _check_count(drop_last, "drop_last", 0)
        _, within = self.positions()
        lengths = np.repeat(self.lengths, self.lengths)
        return self.keep_mask(within < lengths - drop_last)

    def tail(self, max_len: int) -> Sequences:
        """Every sequence truncated to its most recent ``max_len`` items.

        Parameters
        ----------
        max_len : int
            How many of the most recent items to keep in every row; ``>= 1``. Shorter
            rows stay whole.

        Returns
        -------
        Sequences
            As many rows as before (see :meth:`keep_mask`).
        """
        _check_count(max_len, "max_len", 1)
        _, within = self.positions()
        lengths = np.repeat(self.lengths, self.lengths)
        return self.keep_mask(within >= lengths - max_len)

    def last_codes(self) -> np.ndarray:
        """Code of each sequence's last item (every sequence must be non-empty).

        Returns
        -------
        ndarray of int64 of shape (n_sequences,)
            Internal item code of the most recent item of each sequence.
        """
        if (self.lengths == 0).any():
            raise ValueError("an empty sequence has no last item")
        return self.codes[self.offsets[1:] - 1]

    def padded(self, max_len: int, *, side: str = "left", pad_code: int = -1) -> np.ndarray:
        """Dense ``(n_sequences, max_len)`` array of the most recent ``max_len`` codes.

        Parameters
        ----------
        max_len : int
            Number of columns; ``>= 1``. Longer rows keep their most recent
            ``max_len`` items.
        side : {"left", "right"}, default="left"
            Where the padding goes. With ``"left"`` the most recent item of every row
            sits in the last column; with ``"right"`` rows start in column 0.
        pad_code : int, default=-1
            Value of the padding cells.

        Returns
        -------
        ndarray of int64 of shape (n_sequences, max_len)
            Internal item codes, oldest first within each row, and ``pad_code``
            elsewhere.
        """
        _check_count(max_len, "max_len", 1)
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        if isinstance(pad_code, (bool, np.bool_)) or not isinstance(
            pad_code, (int, np.integer)
        ):
            raise TypeError(f"pad_code must be an integer, got {pad_code!r}")
        n = len(self)
        out = np.full((n, max_len), pad_code, dtype=np.int64)
        lengths = self.lengths
        rows, within = self.positions()
        row_len = lengths[rows]
        keep = within >= row_len - max_len
        kept_len = np.minimum(lengths, max_len)[rows[keep]]
        pos_from_end = (row_len - within)[keep]  # 1 = last item
        if side == "left":
            cols = max_len - pos_from_end
        else:
            cols = kept_len - pos_from_end
        out[rows[keep], cols] = self.codes[keep]
        return out


def as_sequences(
    X,
    *,
    vocabulary: ItemVocabulary | None = None,
    catalog: ItemCatalog | None = None,
    allow_empty: bool = False,
    what: str = "X",
) -> Sequences:
    """Accept a :class:`Sequences` or a list of item-id lists; validate it.

    A DataFrame (read it with :func:`~iadsr_sk.data.read_interactions`) and a
    generator or other one-shot iterator (the next reader would find it empty) raise
    :class:`TypeError`.

    With ``vocabulary`` given (a fitted estimator's), a :class:`Sequences` built on
    another vocabulary is re-encoded, and unknown item ids raise :class:`KeyError`.

    Parameters
    ----------
    X : Sequences or list of item-id lists
        The histories, oldest item first. A :class:`Sequences` is returned as it is
        unless it has to be re-encoded.
    vocabulary : ItemVocabulary, optional
        Vocabulary to encode the item ids with. By default a :class:`Sequences` keeps
        its own and lists get one built from their ids (see
        :meth:`Sequences.from_lists`).
    catalog : ItemCatalog, optional
        Item text attached to sequences built from lists (a :class:`Sequences` keeps
        its own catalog).
    allow_empty : bool, default=False
        Whether a history may be empty; if not, an empty one raises
        :class:`ValueError`. Input with no sequence at all always does.
    what : str, default="X"
        Name of the argument, used in error messages.

    Returns
    -------
    Sequences
    """
    if isinstance(X, Sequences):
        seqs = X
        if vocabulary is not None and seqs.vocabulary is not vocabulary:
            if seqs.vocabulary != vocabulary:
                codes = vocabulary.encode(
                    seqs.vocabulary.decode(seqs.codes), what=f"item ids in {what}"
                )
                seqs = Sequences(
                    seqs.offsets,
                    codes,
                    vocabulary,
                    user_ids=seqs.user_ids,
                    timestamps=seqs.timestamps,
                    catalog=seqs.catalog,
                )
    elif hasattr(X, "tocsr") and hasattr(X, "nnz"):  # scipy.sparse, without importing it
        raise TypeError(
            f"{what} is a sparse matrix; sparse input is not supported: pass sequences "
            "as a Sequences object or a list of item-id lists"
        )
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype != object:
        raise TypeError(
            f"{what} is a 2-d array; pass sequences as a Sequences object or a list "
            "of item-id lists (rows of a padded matrix are ambiguous)"
        )
    elif isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype != object:
        raise TypeError(
            f"{what} is a 1-d array of {X.dtype} values, not a list of histories; wrap "
            "one history in a list ([history]) or pass a list of item-id lists"
        )
    elif isinstance(X, Sequence) or isinstance(X, np.ndarray) or hasattr(X, "__iter__"):
        if isinstance(X, (str, bytes, dict)):
            raise TypeError(
                f"{what} must be a Sequences object or a list of item-id lists, "
                f"got {type(X).__name__}"
            )
        _check_readable(X, what)
        seqs = Sequences.from_lists(
            X, vocabulary=vocabulary, catalog=catalog, allow_empty=allow_empty
        )
    else:
        raise TypeError(
            f"{what} must be a Sequences object or a list of item-id lists, "
            f"got {type(X).__name__}"
        )
    if len(seqs) == 0:
        raise ValueError(f"{what} holds no sequences")
    if not allow_empty and (seqs.lengths == 0).any():
        first = int(np.flatnonzero(seqs.lengths == 0)[0])
        raise ValueError(f"sequence {first} of {what} is empty")
    return seqs
