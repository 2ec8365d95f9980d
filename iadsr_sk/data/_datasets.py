"""Where the real datasets live, and loaders for MovieLens 100K and Amazon Beauty."""

from __future__ import annotations

import html
import json
import logging
import os
from pathlib import Path

import numpy as np

from ._readers import (
    _assemble,
    _group_users,
    _read_json_object,
    _read_recbole_columns,
    _read_recbole_items,
    _read_text,
    _unify_ids,
)
from ._sequences import Sequences

__all__ = ["get_data_home", "load_amazon_beauty", "load_dataset", "load_movielens_100k"]

logger = logging.getLogger("iadsr_sk")

_ENV = "IADSR_DATA"
_DATASETS = ("ml-100k", "beauty")


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder holding the datasets (``ml-100k/``, ``amazon-beauty/``).

    Parameters
    ----------
    data_home : str or path-like, optional
        Use this folder. It must exist.

    Returns
    -------
    path : pathlib.Path
        The first of: ``data_home``; the environment variable ``IADSR_DATA``;
        ``<current directory>/../shared/data``; ``<repository root>/../shared/data``
        (the repository root being the folder that holds the ``iadsr_sk`` package).

    Raises
    ------
    FileNotFoundError
        When the folder given explicitly (argument or ``IADSR_DATA``) does not exist, or
        when none of the default locations does. The message lists the locations tried
        and how to set ``IADSR_DATA``.

    Notes
    -----
    An explicit location (the argument, then ``IADSR_DATA``) is never silently
    replaced by a default one: if it is missing, that is an error.
    """
    hint = (
        f"Pass data_home=... or set the environment variable {_ENV} to the folder "
        f"holding ml-100k/ and amazon-beauty/ (e.g. export {_ENV}=/path/to/shared/data)."
    )
    if data_home is not None:
        path = Path(data_home).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"data_home {str(path)!r} is not an existing folder. {hint}"
            )
        return path
    env = os.environ.get(_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{_ENV}={env!r} is not an existing folder. {hint}")
        return path
    repo_root = Path(__file__).resolve().parents[2]
    tried = [Path.cwd() / ".." / "shared" / "data", repo_root / ".." / "shared" / "data"]
    for path in tried:
        if path.is_dir():
            return path.resolve()
    listed = "\n  ".join(str(p) for p in [f"${_ENV} (not set)", *tried])
    raise FileNotFoundError(f"no dataset folder found; tried:\n  {listed}\n{hint}")


def _dataset_file(data_home, *parts: str) -> Path:
    path = get_data_home(data_home).joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file {str(path)!r} not found")
    return path


def load_movielens_100k(
    data_home: str | os.PathLike | None = None,
    *,
    text_template: str = "{title} ({year}). Genres: {genres}",
) -> Sequences:
    """Load MovieLens 100K (RecBole atomic files) as time-ordered sequences.

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``ml-100k/``; see :func:`get_data_home`.
    text_template : str, default="{title} ({year}). Genres: {genres}"
        Item text over the catalog fields ``title``, ``year`` and ``genres``.

    Returns
    -------
    sequences : Sequences
        943 users (rows ordered by user id), 1,682 items, 100,000 interactions. Item
        and user ids are the file's integers; ``timestamps`` are in seconds. Each user's
        interactions are sorted by timestamp; equal timestamps keep the file order
        (stable sort). The catalog's ``genres`` are comma-separated
        (``"Animation, Children's, Comedy"``).

    Notes
    -----
    The file's values are kept as they are, including the placeholder of item 267
    (title and year ``"unkonwn"``, genre ``"unknown"``).

    Examples
    --------
    >>> seqs = load_movielens_100k()  # doctest: +SKIP
    >>> seqs.catalog.texts([1])  # doctest: +SKIP
    ["Toy Story (1995). Genres: Animation, Children's, Comedy"]
    """
    inter_path = _dataset_file(data_home, "ml-100k", "ml-100k.inter")
    item_path = _dataset_file(data_home, "ml-100k", "ml-100k.item")
    users, items, times = _read_recbole_columns(inter_path)
    if times is None:
        raise ValueError(f"{inter_path}: no timestamp column")
    tokens, fields, _ = _read_recbole_items(item_path)
    user_values, _ = _unify_ids(users)
    user_codes, user_array = _group_users(user_values, order="sorted")
    genres = [None if g is None else ", ".join(g.split()) for g in fields["class"]]
    catalog_fields = {
        "title": fields["movie_title"],
        "year": fields["release_year"],
        "genres": genres,
    }
    return _assemble(
        user_codes,
        user_array,
        items,
        timestamps=times,
        catalog_ids=tokens,
        catalog_fields=catalog_fields,
        text_template=text_template,
    )


def load_amazon_beauty(data_home: str | os.PathLike | None = None) -> Sequences:
    """Load Amazon Beauty (5-core, as released with the IADSR paper).

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``amazon-beauty/``; see :func:`get_data_home`.

    Returns
    -------
    sequences : Sequences
        22,363 users (``user_ids`` ``"user0"``, ...), 12,101 items (integer ids
        1..12101), 198,502 interactions, in time order; no timestamps. The catalog has
        one field, ``title``, with HTML entities unescaped.

    Notes
    -----
    Items without a title (7 in the released data, ids 12095..12101) have no text
    (``None``); they are reported with a warning on the ``"iadsr_sk"`` logger.
    The vocabulary holds every item of ``id_map.json``, even one nobody interacted with.
    """
    folder = ("amazon-beauty",)
    seq_path = _dataset_file(data_home, *folder, "sequences.json")
    titles_path = _dataset_file(data_home, *folder, "titles.json")
    map_path = _dataset_file(data_home, *folder, "id_map.json")
    _, pairs = _read_json_object(seq_path)
    users = [user for user, _ in pairs]
    histories = [history for _, history in pairs]
    if not all(isinstance(h, list) for h in histories):
        raise ValueError(f"{seq_path}: every user must map to a list of item ids")
    lengths = np.fromiter(map(len, histories), dtype=np.int64, count=len(histories))
    flat = [item for history in histories for item in history]
    if not all(type(item) is int for item in flat):
        raise ValueError(f"{seq_path}: item ids must be integers")
    items = np.asarray(flat, dtype=np.int64)
    titles = json.loads(_read_text(titles_path))
    id_map = json.loads(_read_text(map_path))
    asins = list(id_map)
    mapped = np.asarray([id_map[a] for a in asins], dtype=np.int64)
    catalog_ids = np.union1d(mapped, items)
    title_of = {
        int(item): html.unescape(titles[asin]) if titles.get(asin) else None
        for asin, item in zip(asins, mapped.tolist(), strict=True)
    }
    catalog_titles = [title_of.get(item) for item in catalog_ids.tolist()]
    missing = [
        i for i, t in zip(catalog_ids.tolist(), catalog_titles, strict=True) if t is None
    ]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        logger.warning(
            "%d items have no title: %s (their text is None)", len(missing), shown
        )
    user_codes = np.repeat(np.arange(len(users), dtype=np.int64), lengths)
    return _assemble(
        user_codes,
        np.asarray(users, dtype=str),
        items,
        catalog_ids=catalog_ids,
        catalog_fields={"title": catalog_titles},
        text_template="{title}",
    )


def load_dataset(name: str, data_home: str | os.PathLike | None = None) -> Sequences:
    """Load a dataset by name: ``"ml-100k"`` or ``"beauty"``.

    Parameters
    ----------
    name : {"ml-100k", "beauty"}
        The dataset.
    data_home : str or path-like, optional
        See :func:`get_data_home`.

    Returns
    -------
    sequences : Sequences
    """
    if name == "ml-100k":
        return load_movielens_100k(data_home)
    if name == "beauty":
        return load_amazon_beauty(data_home)
    raise ValueError(f"unknown dataset {name!r}; valid names: {list(_DATASETS)}")
