"""CollaborativeEncoder: IADSR Stage 1, the collaborative view of every sequence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._base import unfitted_on_failure
from .._output import FixedOutputMixin
from .._persistence import VersionedPickleMixin
from ..data._sequences import Sequences, as_sequences, row_slice
from ._recommender import SequentialRecommender

__all__ = ["CollaborativeEncoder", "CollaborativeInterests"]


@dataclass
class CollaborativeInterests:
    """Collaborative short- and long-term interests of a batch of sequences.

    Returned by :meth:`CollaborativeEncoder.transform`; each parameter becomes the
    attribute of the same name.

    Parameters
    ----------
    sequences : Sequences
        The encoded histories.
    short_term : ndarray of float32 of shape (n_interactions, hidden_size)
        One state per interaction, aligned with ``sequences.codes``.
    long_term : ndarray of float32 of shape (n_sequences, hidden_size)
        One pooled state per sequence.
    semantic : object or None, default=None
        The upstream step's output, if any.
    encoder : CollaborativeEncoder or None, default=None
        The fitted encoder that produced the states.
    source : object or None, default=None
        What the user passed to the first pipeline step.

    Attributes
    ----------
    sequences : Sequences
        The histories, encoded with the encoder's vocabulary.
    short_term : ndarray of float32 of shape (n_interactions, hidden_size)
        ``short_term[i]`` is the backbone's state at interaction ``i`` (aligned with
        ``sequences.codes``), read from at most ``max_len`` items ending at it.
    long_term : ndarray of float32 of shape (n_sequences, hidden_size)
        Max-pool of each sequence's short-term states over its real positions.
    semantic : object or None
        The upstream step's output (e.g. a ``SemanticInterests``) when the encoder was
        given one, so that a later pipeline step sees both views.
    encoder : CollaborativeEncoder or None
        The fitted encoder that produced these states, so that a later step (the
        ``InterestAligner``) can continue training from its backbone.
    source : object or None
        What the user passed to the first step (a ``Sequences`` or a list of lists), so
        that the last step can answer in the same type.
    """

    sequences: Sequences
    short_term: np.ndarray
    long_term: np.ndarray
    semantic: Any = None
    encoder: Any = field(default=None, repr=False)
    source: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        semantic = None if self.semantic is None else type(self.semantic).__name__
        return (
            f"CollaborativeInterests(n_sequences={len(self)}, "
            f"n_interactions={self.short_term.shape[0]}, "
            f"hidden_size={self.hidden_size}, semantic={semantic})"
        )

    @property
    def hidden_size(self) -> int:
        return int(self.short_term.shape[1])

    def short_term_of(self, row: int) -> np.ndarray:
        """Short-term states of one sequence.

        Parameters
        ----------
        row : int
            Index of the sequence, from ``-len(self)`` to ``len(self) - 1`` (negative
            counts from the end, as in a list).

        Returns
        -------
        ndarray of shape (length, hidden_size)
            One row per position of the sequence, in order (a view, not a copy).
        """
        return self.short_term[row_slice(self.sequences, row)]


def _split_input(X):
    """(sequences-like, upstream object or None) from what a pipeline step receives."""
    if isinstance(X, CollaborativeInterests):
        return X.sequences, X.semantic
    if not isinstance(X, (Sequences, list, tuple, np.ndarray)) and hasattr(X, "sequences"):
        return X.sequences, X
    return X, None


def _source_of(X, upstream):
    """What the user gave the first pipeline step (kept to answer in the same type)."""
    if isinstance(X, CollaborativeInterests):
        return X.source
    return X if upstream is None else getattr(upstream, "source", None)


class CollaborativeEncoder(
    FixedOutputMixin, VersionedPickleMixin, TransformerMixin, BaseEstimator
):
    """Stage 1 of IADSR: per-position (short-term) and pooled (long-term) interests.

    ``fit`` trains a :class:`SequentialRecommender` for next-item prediction (held as
    ``recommender_``); ``transform`` returns its hidden state ``h_j`` at every position
    (the collaborative short-term interest) and their max-pool over the real positions
    of each sequence (the long-term interest ``h^L``).

    The parameters configure that :class:`SequentialRecommender`, with the same
    meanings and defaults; its page describes them in full.

    Parameters
    ----------
    backbone : {"sasrec", "gru4rec", "caser", "fmlprec"}, nn.Module or callable, \
            default="sasrec"
        The sequential model: a built-in name, a module or a factory, as in
        :class:`SequentialRecommender`.
    max_len : int, default=50
        Most recent items a state reads (and the width of training windows).
    hidden_size : int, default=64
        Width of item embeddings and states, so of both interests.
    n_layers : int, optional
        Blocks or recurrent layers of the backbone; ``None`` = its default.
    n_heads : int, optional
        Attention heads (SASRec only); ``None`` = the backbone's default.
    dropout : float, optional
        Dropout rate; ``None`` = the backbone's default.
    backbone_params : dict, optional
        More keyword arguments for the backbone.
    batch_size : int, default=128
        Training windows per step.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    max_epochs : int, default=100
        Upper bound on training epochs.
    patience : int or None, default=10
        Epochs without a better validation NDCG@10 before training stops; ``None``
        trains ``max_epochs``.
    validation : "last_item", float or None, default="last_item"
        Where early stopping gets its validation data when ``fit`` has no
        ``eval_set`` (see :class:`SequentialRecommender`).
    window_stride : int or None, default=None
        Step between the training windows of a sequence longer than ``max_len``;
        ``None`` takes ``max(max_len // 2, 1)``.
    train_positions : {"all", "last"}, default="all"
        Train every position of each history, or only its last item.
    device : {"cpu", "cuda", "cuda:N", "auto"} or torch.device, default="cpu"
        Where to train and compute the states.
    mixed_precision : bool, default=False
        Run forward passes under bf16 autocast.
    random_state : int, RandomState instance or None, default=None
        Seeds weight init, dropout and batch order.
    verbose : int, default=0
        0: silent; 1: a progress bar over epochs; 2: and over the batches of each.

    Attributes
    ----------
    recommender_ : SequentialRecommender
        The fitted next-item model.
    module_ : nn.Module
        Its backbone.
    vocabulary_ : ItemVocabulary
        The catalog.
    item_embeddings_ : ndarray of float32 of shape (n_items, hidden_size)
        Item-ID embeddings ``e_v`` (row = item code; the padding row left out).
    hidden_size_ : int
        Width ``H`` of the interests.

    See Also
    --------
    SequentialRecommender : The model trained here.

    Notes
    -----
    ``X`` may be a :class:`~iadsr_sk.data.Sequences`, a list of item-id lists, or
    any object with a ``sequences`` attribute (e.g. the ``SemanticInterests`` of the
    semantic step of a pipeline), which then travels on as
    :attr:`CollaborativeInterests.semantic`.

    The long-term interest pools **real positions only** (the released code of the
    paper pools padding too; see the method notes). For a history longer than
    ``max_len`` it pools every position, each read from its own ``max_len`` window.

    Examples
    --------
    >>> from iadsr_sk.collaborative import CollaborativeEncoder
    >>> histories = [[1, 2, 3, 4, 5], [2, 3, 4], [5, 4, 3, 2]]
    >>> encoder = CollaborativeEncoder("gru4rec", hidden_size=8, max_epochs=2,
    ...                                random_state=0).fit(histories)
    >>> interests = encoder.transform(histories)
    >>> interests.short_term.shape, interests.long_term.shape
    ((12, 8), (3, 8))
    """

    _transform_returns = "CollaborativeInterests (the sequences with their hidden states)"

    _parameter_constraints: dict = SequentialRecommender._parameter_constraints

    def __init__(
        self,
        backbone="sasrec",
        *,
        max_len: int = 50,
        hidden_size: int = 64,
        n_layers: int | None = None,
        n_heads: int | None = None,
        dropout: float | None = None,
        backbone_params: dict | None = None,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        max_epochs: int = 100,
        patience: int | None = 10,
        validation="last_item",
        window_stride: int | None = None,
        train_positions: str = "all",
        device="cpu",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
    ):
        self.backbone = backbone
        self.max_len = max_len
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.backbone_params = backbone_params
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation = validation
        self.window_stride = window_stride
        self.train_positions = train_positions
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def _make_recommender(self) -> SequentialRecommender:
        return SequentialRecommender(**self.get_params(deep=False))

    @unfitted_on_failure
    def fit(self, X, y=None, *, eval_set=None):
        """Train the backbone for next-item prediction on the histories in ``X``.

        Parameters
        ----------
        X : Sequences, list of item-id lists, or object with ``.sequences``
            Training histories. The catalog is ``X``'s vocabulary (for a list of
            lists, the items it holds).
        y : None
            Ignored.
        eval_set : (inputs, targets), optional
            Validation data for early stopping; see :meth:`SequentialRecommender.fit`.

        Returns
        -------
        self

        Notes
        -----
        A fit that fails or is interrupted (``KeyboardInterrupt``) leaves the encoder
        unfitted, an earlier fit's state included, as ``SequentialRecommender`` does.
        """
        self._validate_params()
        sequences, _ = _split_input(X)
        recommender = self._make_recommender().fit(sequences, eval_set=eval_set)
        return self._set_fitted(recommender)

    @classmethod
    def from_recommender(cls, recommender: SequentialRecommender) -> CollaborativeEncoder:
        """An encoder over an already fitted :class:`SequentialRecommender` (not copied).

        The encoder reads the recommender as it is at each call: refit the
        recommender, and the encoder follows it (its catalog, states and item
        embeddings included).

        Parameters
        ----------
        recommender : SequentialRecommender
            A fitted model; it becomes ``recommender_``, and its parameters the
            encoder's.

        Returns
        -------
        encoder : CollaborativeEncoder
            A fitted encoder.
        """
        if not isinstance(recommender, SequentialRecommender):
            raise TypeError(
                "from_recommender needs a fitted SequentialRecommender (a model with "
                f"hidden states), got {type(recommender).__name__}"
            )
        check_is_fitted(recommender, "module_")
        encoder = cls(**recommender.get_params(deep=False))
        return encoder._set_fitted(recommender)

    def _set_fitted(self, recommender: SequentialRecommender) -> CollaborativeEncoder:
        self.recommender_ = recommender
        return self

    # read from the recommender at every access, so that they can never describe
    # another fit than the one recommender_ holds
    @property
    def vocabulary_(self):
        """The catalog (``recommender_.vocabulary_``)."""
        check_is_fitted(self, "recommender_")
        return self.recommender_.vocabulary_

    @property
    def hidden_size_(self) -> int:
        """Width ``H`` of the interests."""
        check_is_fitted(self, "recommender_")
        return int(self.recommender_.module_.hidden_size)

    @property
    def item_embeddings_(self) -> np.ndarray:
        """Item-ID embeddings ``e_v`` (row = item code; the padding row left out)."""
        check_is_fitted(self, "recommender_")
        weights = self.recommender_.module_.item_embedding.weight.detach()[1:]
        return weights.float().cpu().numpy()

    def transform(self, X) -> CollaborativeInterests:
        """Short-term (per position) and long-term (per sequence) interests.

        Parameters
        ----------
        X : Sequences, list of item-id lists, or object with ``.sequences``
            Histories (non-empty) of items in ``vocabulary_``; unknown items raise
            :class:`KeyError`.

        Returns
        -------
        CollaborativeInterests
        """
        check_is_fitted(self, "recommender_")
        sequences, upstream = _split_input(X)
        seqs = as_sequences(sequences, vocabulary=self.vocabulary_, what="X")
        short_term = self.recommender_._position_states(seqs)
        # rows are non-empty (validated), so reduceat pools exactly each row's positions
        long_term = np.maximum.reduceat(short_term, seqs.offsets[:-1], axis=0)
        return CollaborativeInterests(
            sequences=seqs,
            short_term=short_term,
            long_term=long_term.astype(np.float32, copy=False),
            semantic=upstream,
            encoder=self,
            source=_source_of(X, upstream),
        )

    @property
    def module_(self):
        """The fitted backbone (``recommender_.module_``, not a copy)."""
        check_is_fitted(self, "recommender_")
        return self.recommender_.module_

    # --------------------------------------------------- delegated to the model
    def score_next(self, X) -> np.ndarray:
        """Next-item scores of the fitted recommender (see ``score_next`` there).

        Parameters
        ----------
        X : Sequences, list of item-id lists, or object with ``.sequences``
            Histories of items in ``vocabulary_``.

        Returns
        -------
        scores : ndarray of shape (n_sequences, n_items)
            Columns follow ``vocabulary_.ids``.
        """
        check_is_fitted(self, "recommender_")
        return self.recommender_.score_next(_split_input(X)[0])

    def predict(self, X, k: int = 10) -> np.ndarray:
        """Top-``k`` next items of the fitted recommender.

        Parameters
        ----------
        X : Sequences, list of item-id lists, or object with ``.sequences``
            Histories of items in ``vocabulary_``.
        k : int, default=10
            Items per history, from 1 to the catalog size.

        Returns
        -------
        items : ndarray of shape (n_sequences, k)
            Item ids, best first.
        """
        check_is_fitted(self, "recommender_")
        return self.recommender_.predict(_split_input(X)[0], k=k)

    def score(self, X, y=None) -> float:
        """NDCG@10 of the fitted recommender (each sequence's last item).

        Parameters
        ----------
        X : Sequences, list of item-id lists, or object with ``.sequences``
            Held-out histories of items in ``vocabulary_``; each one's last item is
            predicted from the items before it.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "recommender_")
        return self.recommender_.score(_split_input(X)[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
