"""Item catalog: text fields per item id, and the template that turns them into text."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence

import numpy as np

from ._vocabulary import ItemVocabulary, normalize_item_ids

__all__ = ["ItemCatalog"]

_FIELD = re.compile(r"{(\w+)}")


def is_missing_text(value) -> bool:
    """Whether a text value stands for "no text": ``None``, NaN, pandas' NA or NaT.

    Tables mark missing text with NaN (a pandas string column) or ``pandas.NA``; they
    must count as missing, not be embedded as the word ``"nan"``. pandas is recognised
    by the value's type, so this never imports it.
    """
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    kind = type(value)
    return kind.__module__.partition(".")[0] == "pandas" and kind.__name__ in (
        "NAType",
        "NaTType",
    )


class ItemCatalog:
    """Text fields of items, keyed by the user's item ids.

    Parameters
    ----------
    item_ids : sequence of int or str
        One id per row. Duplicates are an error.
    fields : mapping of str to sequence of (str or None)
        Column name -> one value per item (``None``, an empty or whitespace-only
        string, NaN, ``pandas.NA`` or ``pandas.NaT`` = missing).
    text_template : str, default="{title}"
        :meth:`str.format` template over the field names giving an item's text,
        e.g. ``"{title} ({year}). Genres: {genres}"``. A field that is missing for an
        item formats as an empty string; an item whose every template field is missing
        has no text (``None``).

    Examples
    --------
    >>> cat = ItemCatalog([1, 2], {"title": ["Toy Story", None]})
    >>> cat.texts([2, 1])
    [None, 'Toy Story']
    """

    def __init__(
        self,
        item_ids: Sequence,
        fields: Mapping[str, Sequence],
        text_template: str = "{title}",
    ):
        ids = normalize_item_ids(item_ids, what="catalog item ids")
        if np.unique(ids).size != ids.size:
            raise ValueError("catalog item ids must be unique")
        if not fields:
            raise ValueError("a catalog needs at least one text field")
        self.item_ids = ids
        self.fields = {}
        for name, values in fields.items():
            values = list(values)
            if len(values) != ids.size:
                raise ValueError(
                    f"catalog field {name!r} has {len(values)} values for {ids.size} items"
                )
            self.fields[name] = [
                None
                if is_missing_text(v) or (isinstance(v, str) and not v.strip())
                else str(v)
                for v in values
            ]
        self.text_template = text_template
        self._check_template(text_template)
        self._index = ItemVocabulary(ids) if ids.size else None
        # row of each vocabulary code, so lookups are vectorised
        self._row_of_code = (
            np.empty(ids.size, dtype=np.int64) if self._index is not None else None
        )
        if self._index is not None:
            self._row_of_code[self._index.encode(ids)] = np.arange(ids.size)

    def _check_template(self, template: str) -> None:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        if not names:
            raise ValueError(f"text_template {template!r} names no field")
        unknown = [n for n in names if n not in self.fields]
        if unknown:
            raise ValueError(
                f"text_template uses unknown field(s) {unknown}; "
                f"the catalog has {sorted(self.fields)}"
            )

    def __len__(self) -> int:
        return int(self.item_ids.size)

    def __repr__(self) -> str:
        return (
            f"ItemCatalog(n_items={len(self)}, fields={sorted(self.fields)}, "
            f"text_template={self.text_template!r})"
        )

    def with_template(self, text_template: str) -> ItemCatalog:
        """The same catalog with another text template.

        Parameters
        ----------
        text_template : str
            :meth:`str.format` template over the catalog's field names (see the class
            docstring); a template naming no field or an unknown one raises
            :class:`ValueError`.

        Returns
        -------
        ItemCatalog
            A new catalog with the same item ids and fields.
        """
        return ItemCatalog(self.item_ids, self.fields, text_template)

    def texts(self, item_ids, text_template: str | None = None) -> list[str | None]:
        """Text of each item id (``None`` if it has no text or is not in the catalog).

        Parameters
        ----------
        item_ids : iterable of int or str
            The item ids, in the order wanted. Ids of the other kind than the
            catalog's (strings for an integer-keyed catalog, say) have no text.
        text_template : str, optional
            Template to use instead of the catalog's ``text_template`` for this call
            (checked in the same way).

        Returns
        -------
        list of (str or None)
            One text per id, with runs of whitespace collapsed to single spaces.
        """
        template = self.text_template if text_template is None else text_template
        self._check_template(template)
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        ids = normalize_item_ids(item_ids, what="item ids")
        if self._index is None or ids.size == 0:
            return [None] * ids.size
        if ids.dtype.kind != self.item_ids.dtype.kind:
            return [None] * ids.size
        present = self._index.contains(ids)
        rows = np.full(ids.size, -1, dtype=np.int64)
        rows[present] = self._row_of_code[self._index.encode(ids[present])]
        out: list[str | None] = []
        for row in rows.tolist():
            if row < 0:
                out.append(None)
                continue
            values = {n: self.fields[n][row] for n in names}
            if all(v is None for v in values.values()):
                out.append(None)
                continue
            text = template.format(**{k: "" if v is None else v for k, v in values.items()})
            out.append(" ".join(text.split()))
        return out

    def texts_for(self, vocabulary: ItemVocabulary, text_template: str | None = None):
        """Text of every vocabulary code, in code order.

        Parameters
        ----------
        vocabulary : ItemVocabulary
            The vocabulary whose item ids (its ``ids``) are looked up.
        text_template : str, optional
            Template to use instead of the catalog's ``text_template``, as in
            :meth:`texts`.

        Returns
        -------
        list of (str or None)
            One text per code, ``None`` where the item has none (see :meth:`texts`).
        """
        return self.texts(vocabulary.ids, text_template)
