"""Writers that save :class:`Sequences` in formats other tools read.

:func:`write_recbole` writes RecBole atomic files, the format :func:`read_recbole`
reads, so that denoised histories can be trained on by any model of RecBole (or read
back here) without loss.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._sequences import Sequences

__all__ = ["write_recbole"]

# every character str.splitlines() breaks a line at: \n and \r end a row, and the
# others are refused in ids by this package's readers and split rows in many other
# tools, so no token may hold one
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# integral timestamps up to 2**53 are written without a decimal part, exactly
_EXACT_INT = 2.0**53


def _check_token(token: str, what: str) -> None:
    """Raise a clear :class:`ValueError` if ``token`` cannot be a RecBole token."""
    if "\t" in token or not _LINE_BREAKS.isdisjoint(token):
        raise ValueError(
            f"{what} {token!r} contains a tab or a line break, which a tab-separated "
            "RecBole file cannot hold; rename it first"
        )
    if "\x00" in token:
        raise ValueError(
            f"{what} {token!r} contains a NUL character, which a text file cannot "
            "hold; rename it first"
        )
    if not token.strip():
        raise ValueError(f"{what} {token!r} is empty or only whitespace")
    if token != token.strip():
        raise ValueError(
            f"{what} {token!r} starts or ends with whitespace, which readers strip; "
            "rename it first"
        )


def _tokens(values, what: str) -> np.ndarray:
    """Ids as the strings written to the file (``42 -> "42"``), each checked."""
    tokens = np.asarray([str(v) for v in np.asarray(values, dtype=object).tolist()])
    for token in np.unique(tokens).tolist():
        _check_token(token, what)
    return tokens.astype(str)


def _field_value(value: str | None) -> str:
    """A catalog value in one cell: runs of whitespace (tabs, line breaks) -> a space."""
    return "" if value is None else " ".join(value.split())


def _format_times(times: np.ndarray) -> list[str]:
    """Timestamps as text that reads back to the same float64 values."""
    exact = (times == np.round(times)) & (np.abs(times) < _EXACT_INT)
    return [
        str(int(t)) if whole else repr(t)
        for t, whole in zip(times.tolist(), exact.tolist(), strict=True)
    ]


def _check_dataset_dir(directory, dataset_name) -> Path:
    """``directory / dataset_name``, created; the errors name what is wrong."""
    if not isinstance(dataset_name, str):
        raise TypeError(f"dataset_name must be a string, got {type(dataset_name).__name__}")
    bad_name = (
        not dataset_name.strip()
        or dataset_name != dataset_name.strip()
        or dataset_name in (".", "..")
        or "/" in dataset_name
        or (os.sep in dataset_name)
        or (os.altsep is not None and os.altsep in dataset_name)
        or "\x00" in dataset_name
        or not _LINE_BREAKS.isdisjoint(dataset_name)
        or "\t" in dataset_name
    )
    if bad_name:
        raise ValueError(
            f"dataset_name {dataset_name!r} must be a plain file name (no path separator, "
            "no surrounding whitespace, no tab or line break), e.g. 'ml-100k-denoised'"
        )
    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(
            f"directory {str(directory)!r} does not exist; create it first (the dataset "
            f"folder {dataset_name!r} is created inside it)"
        )
    if not directory.is_dir():
        raise NotADirectoryError(f"{str(directory)!r} is not a directory")
    folder = directory / dataset_name
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{str(folder)!r} exists and is not a directory")
    folder.mkdir(exist_ok=True)
    return folder


def _as_sequences(seqs) -> Sequences:
    if isinstance(seqs, Sequences):
        return seqs
    if isinstance(seqs, (str, bytes, dict)) or not hasattr(seqs, "__iter__"):
        raise TypeError(
            "seqs must be a Sequences object or a list of item-id lists, "
            f"got {type(seqs).__name__}"
        )
    rows = list(seqs)
    if not rows:
        raise ValueError("no sequences to write (empty input)")
    return Sequences.from_lists(rows, allow_empty=True)


def _item_table(seqs: Sequences) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the ``.item`` file of ``seqs.catalog``."""
    catalog = seqs.catalog
    if (
        catalog.item_ids.size
        and catalog.item_ids.dtype.kind != seqs.vocabulary.ids.dtype.kind
    ):
        catalog_kind = "int" if catalog.item_ids.dtype.kind in "iu" else "str"
        raise ValueError(
            f"the catalog's item ids are {catalog_kind}s but the sequences' are "
            f"{seqs.vocabulary.id_kind}s, so they would not match "
            "once written; pass with_item_text=False or build the catalog with the same ids"
        )
    names = list(catalog.fields)
    for name in names:
        if (
            not name
            or name == "item_id"
            or ":" in name
            or any(c.isspace() for c in name)
            or not name.isprintable()
        ):
            raise ValueError(
                f"catalog field name {name!r} cannot be a RecBole column name (it must be "
                "non-empty, without ':' or whitespace, and not 'item_id')"
            )
    # read_recbole takes the first token_seq column as the item text by default: put
    # the template's field first when the template is just one field
    template_fields = [n for n in names if catalog.text_template == "{" + n + "}"]
    names = template_fields + [n for n in names if n not in template_fields]
    header = ["item_id:token", *(f"{name}:token_seq" for name in names)]
    ids = _tokens(catalog.item_ids, "catalog item id")
    for name in names:
        with_nul = next(
            (i for i, v in enumerate(catalog.fields[name]) if v and "\x00" in v), None
        )
        if with_nul is not None:
            raise ValueError(
                f"catalog field {name!r} of item {catalog.item_ids[with_nul].item()!r} "
                "contains a NUL character, which a text file cannot hold; remove it "
                "first (or pass with_item_text=False)"
            )
    columns = [[_field_value(v) for v in catalog.fields[name]] for name in names]
    rows = [[token, *cells] for token, *cells in zip(ids.tolist(), *columns, strict=True)]
    return header, rows


def _write_table(path: Path, header: list[str], rows) -> None:
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(lines))
        handle.write("\n")


def write_recbole(
    seqs,
    directory: str | os.PathLike,
    dataset_name: str,
    *,
    with_item_text: bool = True,
) -> tuple[Path, Path | None]:
    r"""Write sequences as RecBole atomic files ``<directory>/<name>/<name>.inter|.item``.

    The layout is the one RecBole expects (``data_path=directory``,
    ``dataset=dataset_name``), and :func:`read_recbole` reads it back to the same
    sequences: same users in the same order, same items in the same order, same ids.

    Parameters
    ----------
    seqs : Sequences or list of lists of item ids
        The sequences to write, e.g. the output of a
        :class:`~iadsr_sk.denoising.SequenceDenoiser`. Every sequence needs at least
        one item (a RecBole interaction file cannot hold a user without one).
    directory : str or path-like
        An existing folder. The folder ``dataset_name`` is created inside it if needed;
        files of the same names there are replaced.
    dataset_name : str
        Name of the dataset folder and stem of its files (a plain file name).
    with_item_text : bool, default=True
        Also write the ``.item`` file when ``seqs`` has a catalog with items. When no
        ``.item`` file is written, an old ``<name>.item`` in the dataset folder is
        removed so that the folder describes one dataset.

    Returns
    -------
    inter_path : pathlib.Path
        The ``.inter`` file: header ``user_id:token  item_id:token  timestamp:float``
        (tab-separated), then one row per interaction, user by user, each user's items
        in sequence order.
    item_path : pathlib.Path or None
        The ``.item`` file (``item_id:token`` then one ``token_seq`` column per catalog
        field), or ``None`` when none was written.

    Raises
    ------
    FileNotFoundError
        ``directory`` does not exist.
    ValueError
        No sequences, an empty sequence (its index and user are named), duplicate user
        ids, timestamps that decrease within a sequence (reading back would reorder
        the items), an invalid ``dataset_name``, an id containing a tab or a line
        break, starting or ending with whitespace or empty, a catalog field name that
        cannot be a column name, or catalog ids of another kind (int vs str) than the
        item ids.

    See Also
    --------
    read_recbole : Reads these files back.

    Notes
    -----
    **Timestamps.** The sequences' own timestamps are written when they have them
    (integral values without a decimal part; others exactly, as ``repr`` of the
    float). Without timestamps each user's interactions get ``0, 1, 2, ...``, so that
    sorting by time, as RecBole and :func:`read_recbole` do, keeps the sequence order.

    **Ids.** Users are written as ``str(user_id)`` (the row index when the sequences
    have no user ids), items as ``str(item_id)``. Ids cannot be escaped in RecBole's
    format, so an id with a tab or a line break is rejected rather than altered. On
    reading, the shared rule of the readers applies: ids that are all spelled as
    integers come back as integers (string ids ``"1"``, ``"2"`` become ``1``, ``2``);
    integer ids and other strings come back unchanged.

    **Item text.** Every catalog field becomes a ``token_seq`` column; a cell holds the
    value with each run of whitespace (tabs and line breaks included) replaced by one
    space, which leaves :meth:`ItemCatalog.texts` unchanged; a missing value is an
    empty cell. A one-field template (``"{title}"``) puts that field first, so
    :func:`read_recbole` uses it as the text by default; for a template over several
    fields pass it back: ``read_recbole(..., text_template=seqs.catalog.text_template)``.
    The vocabulary read back holds the items of the interactions and of the catalog.

    Examples
    --------
    >>> import tempfile
    >>> from iadsr_sk.data import Sequences, read_recbole
    >>> seqs = Sequences.from_lists([["a", "b", "c"], ["c", "a"]], user_ids=["u1", "u2"])
    >>> folder = tempfile.TemporaryDirectory()
    >>> inter_path, item_path = write_recbole(seqs, folder.name, "demo")
    >>> for line in inter_path.read_text().splitlines():
    ...     print(line.split("\t"))
    ['user_id:token', 'item_id:token', 'timestamp:float']
    ['u1', 'a', '0']
    ['u1', 'b', '1']
    ['u1', 'c', '2']
    ['u2', 'c', '0']
    ['u2', 'a', '1']
    >>> read_recbole(inter_path).to_lists()
    [['a', 'b', 'c'], ['c', 'a']]
    >>> folder.cleanup()
    """
    seqs = _as_sequences(seqs)
    if len(seqs) == 0 or seqs.n_interactions == 0:
        raise ValueError("no interactions to write (the sequences are empty)")
    lengths = seqs.lengths
    n = len(seqs)
    users = _tokens(np.arange(n) if seqs.user_ids is None else seqs.user_ids, "user id")
    if (lengths == 0).any():
        row = int(np.flatnonzero(lengths == 0)[0])
        raise ValueError(
            f"sequence {row} (user {str(users[row])!r}) is empty: a RecBole interaction "
            "file cannot hold a user without interactions; drop the empty sequences first, "
            "e.g. seqs[seqs.lengths > 0]"
        )
    unique_users, counts = np.unique(users, return_counts=True)
    if (counts > 1).any():
        shown = ", ".join(repr(u) for u in unique_users[counts > 1][:5].tolist())
        raise ValueError(
            f"duplicate user ids ({shown}): their rows would merge into one user when "
            "read back; give every sequence its own user id"
        )
    rows, within = seqs.positions()
    if seqs.timestamps is not None:
        times = seqs.timestamps
        going_back = np.flatnonzero((np.diff(times) < 0) & (within[1:] > 0))
        if going_back.size:
            row = int(rows[going_back[0] + 1])
            raise ValueError(
                f"the timestamps of sequence {row} (user {str(users[row])!r}) decrease at "
                f"position {int(within[going_back[0] + 1])}: sorting by time would "
                "reorder its items; fix the timestamps or drop them "
                "(seqs.with_codes(seqs.offsets, seqs.codes)) to write the sequence order"
            )
        time_cells = _format_times(times)
    else:
        time_cells = [str(w) for w in within.tolist()]
    item_tokens = _tokens(seqs.vocabulary.ids, "item id")
    # an empty catalog would give a .item file of a header alone, which no reader takes
    write_text = (
        with_item_text and seqs.catalog is not None and seqs.catalog.item_ids.size > 0
    )
    item_table = _item_table(seqs) if write_text else None

    folder = _check_dataset_dir(directory, dataset_name)
    inter_path = folder / f"{dataset_name}.inter"
    item_path = folder / f"{dataset_name}.item"
    _write_table(
        inter_path,
        ["user_id:token", "item_id:token", "timestamp:float"],
        zip(
            users[rows].tolist(),
            item_tokens[seqs.codes].tolist(),
            time_cells,
            strict=True,
        ),
    )
    if item_table is None:
        if item_path.is_file():
            item_path.unlink()
        return inter_path, None
    _write_table(item_path, *item_table)
    return inter_path, item_path
