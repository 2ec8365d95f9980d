"""SequentialRecommender: a torch sequential backbone behind a scikit-learn estimator."""

from __future__ import annotations

import copy
import logging
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from .._base import (
    TorchEstimatorMixin,
    forked_torch_rng,
    length_batches,
    make_adam,
    resolve_device,
    seed_from_random_state,
    unfitted_on_failure,
)
from .._recommender import BaseRecommender
from ..data._sequences import Sequences, as_sequences
from ..metrics import _recode_targets
from ..nn import (
    BACKBONES,
    SequentialBackbone,
    call_backbone_factory,
    gather_last,
    make_backbone,
)

__all__ = ["SequentialRecommender"]

logger = logging.getLogger("iadsr_sk")

_REQUIRED = ("score", "item_embedding", "n_items", "hidden_size")


def _one_target_per_input(targets: np.ndarray) -> int:
    """Number of ``eval_set`` targets; raise unless they are 1-d (one per history).

    Item ids are read flat, so ``[[3], [5]]`` would otherwise pass as two targets.
    """
    if targets.ndim != 1:
        raise ValueError(
            f"eval_set targets have shape {targets.shape}, expected one target per "
            "input history (a 1-d list or array)"
        )
    return targets.shape[0]


def training_windows(
    offsets: np.ndarray, lengths: np.ndarray, max_len: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of at most ``max_len`` inputs covering every (prefix -> next item) pair.

    A sequence of ``n`` items gives ``n - 1`` training positions (input ``j`` predicts
    item ``j + 1``). If ``n - 1 <= max_len`` it is one window. Longer sequences get
    windows starting every ``stride`` inputs, the last one aligned with the end of
    the sequence; a window trains only the positions that no earlier window of the
    sequence trained. So every position is trained exactly once per epoch, with the
    ``max_len - stride + 1`` to ``max_len`` items before it as context (all of them
    in the first window).

    Returns
    -------
    starts : ndarray of int
        Flat index (into the codes array) of each window's first input.
    sizes : ndarray of int
        Number of inputs of each window.
    train_from : ndarray of int
        First position (within the window) whose next item is a training target.
    """
    n_inputs = lengths - 1  # positions with a next item
    usable = n_inputs >= 1
    n_inputs, first = n_inputs[usable], offsets[:-1][usable]
    extra = np.maximum(n_inputs - max_len, 0)
    n_windows = 1 + -(-extra // stride)  # ceil division
    row = np.repeat(np.arange(n_inputs.size), n_windows)
    k = np.arange(row.size) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    window_start = np.minimum(k * stride, extra[row])  # within the sequence
    previous_end = np.minimum((k - 1) * stride, extra[row]) + max_len
    train_from = np.where(k == 0, 0, previous_end - window_start)
    sizes = np.minimum(n_inputs[row], max_len)
    return first[row] + window_start, sizes, train_from


def last_position_windows(
    offsets: np.ndarray, lengths: np.ndarray, max_len: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One window per sequence: its last ``max_len`` inputs, trained on the last item.

    The released IADSR scripts train this way (one target per user and epoch).
    Returns ``starts``, ``sizes`` and ``train_from`` as :func:`training_windows`.
    """
    n_inputs = lengths - 1
    usable = n_inputs >= 1
    n_inputs, first = n_inputs[usable], offsets[:-1][usable]
    sizes = np.minimum(n_inputs, max_len)
    return first + n_inputs - sizes, sizes, sizes - 1


def window_cells(sizes: np.ndarray, first: np.ndarray, width: int) -> np.ndarray:
    """Flat indices into a ``(B, width)`` window batch of the cells ``first <= t < size``.

    Found on the host from the window sizes, so selecting them costs no device sync.
    """
    columns = np.arange(width)
    return np.flatnonzero((columns < sizes[:, None]) & (columns >= first[:, None]))


def cell_positions(starts: np.ndarray, cells: np.ndarray, width: int) -> np.ndarray:
    """Flat index into the interactions of each cell of a ``(B, width)`` window batch."""
    return starts[cells // width] + cells % width


def make_windows(
    offsets: np.ndarray,
    lengths: np.ndarray,
    max_len: int,
    stride: int,
    train_positions: str = "all",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training windows for ``train_positions`` ``"all"`` or ``"last"``."""
    if train_positions == "last":
        return last_position_windows(offsets, lengths, max_len)
    return training_windows(offsets, lengths, max_len, stride)


def _ranks(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based full-ranking rank of each target, pessimistic ties (as in metrics)."""
    target = logits.gather(1, targets.view(-1, 1))  # (B, 1)
    return (logits >= target).sum(1) - 1  # (B,)


class SequentialRecommender(TorchEstimatorMixin, BaseRecommender):
    """Next-item recommender on a sequential backbone (SASRec, GRU4Rec, Caser, FMLP-Rec).

    Trained with full-softmax cross-entropy over the whole catalog at every position:
    each prefix of a training window predicts its next item. Adam, early stopping on
    validation NDCG@10 (full ranking) with ``patience``, and the best epoch's weights
    restored. Histories longer than ``max_len`` are cut into overlapping windows so
    that every position is trained (see Notes).

    Parameters
    ----------
    backbone : {"sasrec", "gru4rec", "caser", "fmlprec"}, nn.Module or callable, \
            default="sasrec"
        A built-in backbone (:mod:`iadsr_sk.nn`), a module of your own with the
        :class:`~iadsr_sk.nn.SequentialBackbone` interface (copied at ``fit``; its
        ``n_items`` must match the catalog), or a factory called as
        ``backbone(n_items=..., hidden_size=..., max_len=..., n_layers=..., n_heads=...,
        dropout=..., **backbone_params)`` that returns such a module (a module class
        works). The factory receives the settings among these that it names
        (all of them if it takes ``**kwargs``); ``None`` ones are left out.
    max_len : int, default=50
        Most recent items a state reads (and the width of training windows).
    hidden_size : int, default=64
        Width of item embeddings and states.
    n_layers : int, optional
        Blocks (SASRec, FMLP-Rec: 2) or GRU layers (GRU4Rec: 1); ``None`` = the
        backbone's default. Caser ignores it.
    n_heads : int, optional
        Attention heads of SASRec (default 1); ignored by the others.
    dropout : float, optional
        Dropout rate; ``None`` = the backbone's default (SASRec 0.5, GRU4Rec 0.3,
        Caser 0.4, FMLP-Rec 0.5).
    backbone_params : dict, optional
        More keyword arguments for the backbone (e.g. ``{"window": 5}`` for Caser).
    batch_size : int, default=128
        Training windows per step. Windows of similar length are batched together.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    max_epochs : int, default=100
        Upper bound on training epochs.
    patience : int or None, default=10
        Stop after this many epochs without a better validation NDCG@10; ``None``
        trains ``max_epochs`` and still restores the best epoch.
    validation : "last_item", float or None, default="last_item"
        Where early stopping gets its validation data when ``fit`` has no
        ``eval_set``. ``"last_item"``: the last item of every training sequence with
        at least 3 items is held out (not trained on) and predicted from the rest. A
        float in (0, 1): that share of the sequences (users) is held out whole, each
        predicting its last item from the rest. ``None``: no validation; train
        ``max_epochs`` and keep the last weights.
    window_stride : int or None, default=None
        Step between the training windows of a sequence longer than ``max_len``;
        ``None`` takes ``max(max_len // 2, 1)``.
    train_positions : {"all", "last"}, default="all"
        ``"all"``: every position of every history predicts its next item once per
        epoch. ``"last"``: only the last item of each history is a target, read
        from the ``max_len`` items before it (the released IADSR scripts; far
        fewer targets per epoch).
    device : {"cpu", "cuda", "cuda:N", "auto"} or torch.device, default="cpu"
        Where to train and predict. ``"auto"`` picks CUDA when available.
    mixed_precision : bool, default=False
        Run forward passes under bf16 autocast (GPUs with bf16 support; also CPUs,
        where it pays off only with native bf16 instructions).
    random_state : int, RandomState instance or None, default=None
        Seeds weight init, dropout and batch order. The same integer gives identical
        models on the CPU. The global RNGs are left untouched.
    verbose : int, default=0
        0: silent; 1: a progress bar over epochs; 2: and over the batches of each.

    Attributes
    ----------
    vocabulary_ : ItemVocabulary
        The catalog (``n_items`` items), from the training sequences.
    n_items_ : int
        Number of items in the catalog.
    module_ : nn.Module
        The trained backbone (best epoch), in eval mode, on ``device_``.
    optimizer_ : torch.optim.Adam
        The optimizer (state of the last epoch).
    device_ : torch.device
        The resolved device.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``loss`` (mean cross-entropy per trained
        position), ``n_positions``, ``seconds`` (training pass),
        ``positions_per_second``, and with validation ``valid_ndcg@10``,
        ``valid_hr@10``, ``valid_seconds``.
    best_epoch_ : int
        Epoch whose weights were kept (1-based).
    n_epochs_ : int
        Epochs run.
    n_train_sequences_ : int
        Training windows per epoch.
    n_train_positions_ : int
        Trained positions (prefix -> next item pairs) per epoch.
    seconds_per_epoch_ : float
        Mean duration of an epoch's training pass (validation excluded).
    n_validation_ : int
        Validation histories used for early stopping (0 without).

    See Also
    --------
    CollaborativeEncoder : The per-position states of this model (IADSR Stage 1).
    iadsr_sk.nn.make_backbone : The built-in backbones.

    Notes
    -----
    **Windows.** A sequence of ``n`` items gives ``n - 1`` training positions. Up to
    ``max_len`` inputs make one window; longer sequences are cut into windows of
    ``max_len`` inputs starting every ``window_stride`` items (the last one ending
    with the sequence), and each window trains only the positions not trained by the
    previous one. Every position is thus trained once per epoch with at least
    ``max_len - window_stride + 1`` (and up to ``max_len``) items of context, while
    a history of 10,000 items costs about ``2 x 10,000`` forward positions, not
    ``max_len x 10,000`` as with one sample per prefix.

    **Padding.** Backbones take right-padded inputs and are causal, so padding never
    changes real positions; windows of similar length are batched together so short
    histories are not padded to ``max_len``.

    **Faults.** A fit that stops with an exception re-raises it and leaves the model
    unfitted (an earlier fit's state included): a NaN or infinite loss raises
    :class:`FloatingPointError` naming the epoch and batch, running out of GPU memory
    raises :class:`torch.OutOfMemoryError` suggesting a smaller ``batch_size``, and
    ``KeyboardInterrupt`` propagates as it is.

    **Protocol.** With :func:`~iadsr_sk.data.leave_one_out_split`, fit on
    ``split.train`` with ``eval_set=(split.valid_input, split.valid_target)`` (the
    validation item is then never trained on), and evaluate on ``split.test_input``.

    Examples
    --------
    >>> from iadsr_sk.collaborative import SequentialRecommender
    >>> histories = [[1, 2, 3, 4, 1, 2, 3, 4], [2, 3, 4, 1, 2, 3, 4, 1]] * 8
    >>> model = SequentialRecommender("gru4rec", hidden_size=16, max_epochs=30,
    ...                               validation=None, random_state=0)
    >>> model.fit(histories).predict([[1, 2, 3]], k=1).tolist()
    [[4]]
    """

    _parameter_constraints: dict = {
        "backbone": [StrOptions(set(BACKBONES)), nn.Module, callable],
        "max_len": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(Integral, 1, None, closed="left"), None],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "backbone_params": [dict, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "validation": [
            StrOptions({"last_item"}),
            Interval(Real, 0, 1, closed="neither"),
            None,
        ],
        "window_stride": [Interval(Integral, 1, None, closed="left"), None],
        "train_positions": [StrOptions({"all", "last"})],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: histories scored per forward pass at inference
    inference_batch_size = 512

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

    # ------------------------------------------------------------------ building
    def _build_module(self, n_items: int, generator: torch.Generator) -> nn.Module:
        """The backbone, built on the CPU with weights from ``generator``."""
        settings = dict(
            hidden_size=self.hidden_size,
            max_len=self.max_len,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            dropout=self.dropout,
            **(self.backbone_params or {}),
        )
        if isinstance(self.backbone, str):
            module = make_backbone(self.backbone, n_items, generator=generator, **settings)
        elif isinstance(self.backbone, nn.Module):
            module = copy.deepcopy(self.backbone)
        else:
            module = call_backbone_factory(self.backbone, n_items, **settings)
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"the backbone factory returned {type(module).__name__}, not an nn.Module"
            )
        missing = [name for name in _REQUIRED if not hasattr(module, name)]
        if missing:
            raise TypeError(
                f"backbone {type(module).__name__} lacks {missing}; see "
                "iadsr_sk.nn.SequentialBackbone for the interface"
            )
        if module.n_items != n_items:
            raise ValueError(
                f"the backbone was built for n_items={module.n_items} but the training "
                f"catalog has {n_items} items"
            )
        return module

    def _validation_data(self, seqs: Sequences, eval_set, rng: np.random.Generator):
        """(training sequences, validation inputs or None, validation target codes)."""
        if eval_set is not None:
            if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
                raise ValueError("eval_set must be a pair (inputs, targets)")
            inputs, targets = eval_set
            if isinstance(inputs, Sequences):
                # targets are codes of the inputs' own vocabulary, with evaluate's rules
                n_targets = _one_target_per_input(np.asarray(targets))
                targets = _recode_targets(
                    targets, n_targets, inputs.vocabulary, seqs.vocabulary, what="eval_set "
                )
            else:  # lists of item ids: targets are item ids as well
                targets = np.asarray(list(targets))
                _one_target_per_input(targets)
                targets = seqs.vocabulary.encode(targets, what="eval_set targets")
            inputs = as_sequences(
                inputs, vocabulary=seqs.vocabulary, what="eval_set inputs"
            )
            if targets.shape != (len(inputs),):
                raise ValueError(
                    f"eval_set has {len(inputs)} inputs but {targets.size} targets"
                )
            return seqs, inputs, targets
        if self.validation is None:
            return seqs, None, None
        if self.validation == "last_item":
            held = seqs.lengths >= 3
            if not held.any():
                logger.warning(
                    "no training sequence has 3 items: training without validation"
                )
                return seqs, None, None
            rows, within = seqs.positions()
            is_last = within == seqs.lengths[rows] - 1
            train = seqs.keep_mask(~(is_last & held[rows]))
            held_rows = np.flatnonzero(held)
            return train, seqs.take(held_rows).head(1), seqs.last_codes()[held_rows]
        # a share of the users, held out whole
        candidates = np.flatnonzero(seqs.lengths >= 2)
        n_valid = round(self.validation * len(seqs))
        n_valid = min(max(n_valid, 1), candidates.size)
        if n_valid == 0 or n_valid >= len(seqs):
            logger.warning(
                "too few sequences to hold some out: training without validation"
            )
            return seqs, None, None
        valid_rows = np.sort(rng.choice(candidates, size=n_valid, replace=False))
        keep = np.ones(len(seqs), dtype=bool)
        keep[valid_rows] = False
        held_out = seqs.take(valid_rows)
        return seqs.take(np.flatnonzero(keep)), held_out.head(1), held_out.last_codes()

    # -------------------------------------------------------------------- fit
    @unfitted_on_failure
    def fit(self, X, y=None, *, eval_set=None):
        """Train the backbone on the histories ``X``.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Training histories, oldest item first. The catalog (``vocabulary_``) is
            ``X``'s vocabulary.
        y : None
            Ignored.
        eval_set : (inputs, targets), optional
            Validation data for early stopping, replacing ``validation``: histories
            and each history's next item, as item codes of ``inputs.vocabulary`` when
            ``inputs`` is a :class:`~iadsr_sk.data.Sequences` (e.g.
            ``(split.valid_input, split.valid_target)``), else as item ids.

        Returns
        -------
        self
        """
        self._validate_params()
        seqs = self._validate_fit_input(X)
        self.device_ = resolve_device(self.device)
        seed = seed_from_random_state(self.random_state)
        rng = np.random.default_rng(seed)
        train, valid_inputs, valid_targets = self._validation_data(seqs, eval_set, rng)
        stride = self.window_stride or max(self.max_len // 2, 1)
        starts, sizes, train_from = make_windows(
            train.offsets,
            train.lengths,
            self.max_len,
            min(stride, self.max_len),
            self.train_positions,
        )
        if starts.size == 0:
            raise ValueError(
                "no training sequence has 2 items: a next-item model needs at least one "
                "(item -> next item) pair"
            )
        self.vocabulary_ = seqs.vocabulary
        self.n_items_ = seqs.n_items
        self.n_train_sequences_ = int(starts.size)
        self.n_train_positions_ = int((sizes - train_from).sum())
        self.n_validation_ = 0 if valid_inputs is None else len(valid_inputs)

        with forked_torch_rng(seed, self.device_):
            generator = torch.Generator().manual_seed(seed)
            self.module_ = self._build_module(seqs.n_items, generator).to(self.device_)
            self.optimizer_ = make_adam(
                self.module_.parameters(),
                self.device_,
                lr=self.learning_rate,
                weight_decay=self.weight_decay,
            )
            codes = self._device_codes(train)
            windows = np.stack([starts, sizes, train_from], axis=1)  # (n_windows, 3)

            def make_batches(rng):
                return [
                    windows[rows] for rows in length_batches(sizes, self.batch_size, rng)
                ]

            def batch_loss(batch):
                return self._window_loss(codes, batch)

            validate = None
            if valid_inputs is not None:

                def validate():
                    return self._validation_metrics(valid_inputs, valid_targets)

            self._train_loop(
                make_batches=make_batches,
                batch_loss=batch_loss,
                validate=validate,
                max_epochs=self.max_epochs,
                patience=self.patience,
                rng=rng,
            )
        return self

    # ----------------------------------------------------------- torch plumbing
    def _device_codes(self, seqs: Sequences) -> torch.Tensor:
        """Item indices (code + 1) of all interactions on ``device_``, then a 0 sentinel."""
        codes = np.concatenate([seqs.codes + 1, [0]])
        return torch.as_tensor(codes, dtype=torch.long, device=self.device_)

    def _window_items(self, codes: torch.Tensor, starts, sizes):
        """Right-padded items ``(B, T)`` of windows given by flat start and size.

        ``starts`` and ``sizes`` are numpy arrays. Returns ``items``, the flat index of
        every cell into ``codes`` (the 0 sentinel at padding) and the ``valid`` mask.
        """
        width = int(np.max(sizes))  # from numpy: no device sync
        starts = torch.as_tensor(starts, device=self.device_)
        sizes = torch.as_tensor(sizes, device=self.device_)
        columns = torch.arange(width, device=self.device_)  # (T,)
        valid = columns < sizes[:, None]  # (B, T)
        index = torch.where(valid, starts[:, None] + columns, codes.numel() - 1)  # (B, T)
        return codes[index], index, valid  # (B, T) each

    def _window_loss(self, codes: torch.Tensor, batch: np.ndarray):
        """Mean cross-entropy of the next item at the trained positions of a batch."""
        starts, sizes, train_from = batch[:, 0], batch[:, 1], batch[:, 2]
        items, _, _ = self._window_items(codes, starts, sizes)  # (B, T)
        cells = window_cells(sizes, train_from, items.shape[1])  # (N,) trained cells
        targets = self._next_items(codes, starts, cells, items.shape[1])  # (N,)
        hidden = self.module_(items)  # (B, T, H)
        hidden = hidden.reshape(-1, hidden.shape[-1])
        hidden = hidden[torch.as_tensor(cells, device=self.device_)]  # (N, H)
        return self._next_item_loss(hidden, targets), int(cells.size)

    def _next_items(self, codes: torch.Tensor, starts, cells, width: int):
        """The next item of each cell of a window batch, as a 0-based item code."""
        following = cell_positions(starts, cells, width) + 1  # flat index of targets
        return codes[torch.as_tensor(following, device=self.device_)] - 1

    def _next_item_loss(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean full-softmax cross-entropy of ``targets`` (0-based codes), states (N, H).

        With the backbones' own item table the logits are taken against the whole
        table, padding row included, with a constant bias of ``-inf`` on the padding
        column: the same loss and gradients as the logits of the real items alone, but
        the table's gradient is one matrix product instead of a product copied into a
        zeroed table-sized buffer (a large share of a small batch's step on the CPU).
        """
        module = self.module_
        if getattr(type(module), "item_logits", None) is SequentialBackbone.item_logits:
            weight = module.item_embedding.weight  # (n_items + 1, H), row 0 padding
            padding = torch.zeros(weight.shape[0], device=weight.device, dtype=weight.dtype)
            padding[0] = float("-inf")  # a constant: no gradient is computed for it
            logits = F.linear(hidden, weight, padding)  # (N, n_items + 1)
            return F.cross_entropy(logits.float(), targets + 1)
        return F.cross_entropy(self._item_logits(hidden).float(), targets)

    def _item_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """``(..., H) -> (..., n_items)`` logits of the real items (no padding column)."""
        item_logits = getattr(self.module_, "item_logits", None)
        if item_logits is not None:
            return item_logits(hidden)
        return self.module_.score(hidden)[..., 1:]

    def _last_states_batches(self, seqs: Sequences):
        """Yield (rows, last states (B, H)) over length-sorted batches of ``seqs``."""
        seqs = seqs.tail(self.max_len)
        codes = self._device_codes(seqs)
        lengths = seqs.lengths
        for rows in length_batches(lengths, self.inference_batch_size):
            items, _, _ = self._window_items(codes, seqs.offsets[rows], lengths[rows])
            hidden = self.module_(items)  # (B, T, H)
            sizes = torch.as_tensor(lengths[rows], device=self.device_)
            yield rows, gather_last(hidden, sizes)  # (B, H)

    def _validation_metrics(self, inputs: Sequences, targets: np.ndarray) -> dict:
        ndcg = torch.zeros((), device=self.device_, dtype=torch.float64)
        hits = torch.zeros((), device=self.device_, dtype=torch.float64)
        targets_t = torch.as_tensor(targets, device=self.device_)
        with torch.inference_mode(), self._autocast():
            for rows, last in self._last_states_batches(inputs):
                logits = self._item_logits(last).float()  # (B, n_items)
                ranks = _ranks(
                    logits, targets_t[torch.as_tensor(rows, device=self.device_)]
                )
                top = ranks < 10
                ndcg += torch.where(top, 1.0 / torch.log2(ranks + 2.0), 0.0).sum()
                hits += top.sum()
        n = max(len(inputs), 1)
        return {"valid_ndcg@10": float(ndcg) / n, "valid_hr@10": float(hits) / n}

    # -------------------------------------------------------------- inference
    def _score_codes(self, seqs: Sequences) -> np.ndarray:
        check_is_fitted(self, "module_")
        out = np.empty((len(seqs), self.n_items_), dtype=np.float32)
        self.module_.eval()
        with torch.inference_mode(), self._autocast():
            for rows, last in self._last_states_batches(seqs):
                logits = self._item_logits(last)  # (B, n_items)
                out[rows] = logits.float().cpu().numpy()
        return out

    def _position_states(self, seqs: Sequences) -> np.ndarray:
        """State at every position of ``seqs``, aligned with ``seqs.codes``.

        Position ``j`` of a history reads its ``min(j + 1, max_len)`` most recent
        items (``j`` included): the first ``max_len`` positions of a history come from
        one window, each later position from the window ending at it, so every state
        equals the one :meth:`score_next` would use after that prefix.

        Returns
        -------
        ndarray of float32 of shape (n_interactions, hidden_size)
        """
        check_is_fitted(self, "module_")
        max_len = self.max_len
        lengths, first = seqs.lengths, seqs.offsets[:-1]
        # window 1 of each history: its first min(n, max_len) items, all emitted
        head_sizes = np.minimum(lengths, max_len)
        # then one window per later position, emitting only its last state
        n_late = np.maximum(lengths - max_len, 0)
        late_row = np.repeat(np.arange(len(seqs)), n_late)
        late_end = np.arange(n_late.sum()) - np.repeat(np.cumsum(n_late) - n_late, n_late)
        late_end = first[late_row] + max_len + late_end  # flat index of the position
        starts = np.concatenate([first, late_end - max_len + 1])
        sizes = np.concatenate([head_sizes, np.full(late_end.size, max_len)])
        emit_from = np.concatenate(
            [np.zeros(len(seqs), dtype=np.int64), sizes[len(seqs) :] - 1]
        )
        codes = self._device_codes(seqs)
        out = torch.empty(
            (seqs.n_interactions, self.module_.hidden_size), dtype=torch.float32
        )
        self.module_.eval()
        with torch.inference_mode(), self._autocast():
            for rows in length_batches(sizes, self.inference_batch_size):
                items, index, valid = self._window_items(codes, starts[rows], sizes[rows])
                columns = torch.arange(items.size(1), device=self.device_)
                emit_from_t = torch.as_tensor(emit_from[rows], device=self.device_)
                emit = valid & (columns >= emit_from_t[:, None])  # (B, T)
                hidden = self.module_(items)[emit]  # (N, H)
                out[index[emit].cpu()] = hidden.float().cpu()
        return out.numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
