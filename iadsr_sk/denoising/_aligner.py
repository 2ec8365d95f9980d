"""InterestAligner: Stage 2 of IADSR (align, score, mask, reconstruct; joint training)."""

from __future__ import annotations

import copy
import logging
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import (
    TorchEstimatorMixin,
    forked_torch_rng,
    length_batches,
    make_adam,
    resolve_device,
    seed_from_random_state,
    unfitted_on_failure,
)
from .._output import FixedOutputMixin
from .._persistence import VersionedPickleMixin
from ..collaborative._recommender import cell_positions, make_windows, window_cells
from ..data._sequences import Sequences, as_sequences
from ..nn._alignment import (
    AlignmentHead,
    gumbel_sigmoid_mask,
    info_nce,
    masked_max_pool,
    noise_scores,
)
from ._denoiser import NoiseScores

__all__ = ["VARIANTS", "InterestAligner"]

logger = logging.getLogger("iadsr_sk")

#: variant -> (noise-score terms, uses semantics, short/long alignment, reconstruction)
VARIANTS = {
    "full": (("long_short", "short_long", "short_short"), True, True, True),
    "collab_only": (("collab_only",), False, False, True),
    "no_long": (("short_short",), True, True, True),
    "no_short": (("long_short", "short_long"), True, True, True),
    "no_align": (("long_short", "short_long", "short_short"), True, False, True),
    "no_rec": (("long_short", "short_long", "short_short"), True, True, False),
}


def _collaborative_part(X):
    """The CollaborativeEncoder's output (or something with the same fields)."""
    encoder = getattr(X, "encoder", None)
    if encoder is None or not hasattr(X, "sequences"):
        raise TypeError(
            "InterestAligner expects the output of CollaborativeEncoder.transform "
            f"(with .sequences, .semantic and .encoder); got {type(X).__name__}. Put it "
            "after a CollaborativeEncoder in a Pipeline."
        )
    return X


def _position_scores(h, h_long, s, s_long, rows, terms, normalized=False):
    """Noise score of each position, paired with its sequence's long-term views.

    h, s: (N, H) per position (``s`` None without semantics); h_long, s_long: (n, H)
    per sequence; rows: (N,) the sequence of each position; ``normalized``: every
    vector has unit length already. Returns (N,).
    """
    return noise_scores(
        h.unsqueeze(1),  # (N, 1, H): one "row" per position (T = 1)
        h_long[rows],  # (N, H)
        None if s is None else s.unsqueeze(1),  # (N, 1, H)
        None if s_long is None else s_long[rows],  # (N, H)
        terms=terms,
        normalized=normalized,
    )[:, 0]


def _semantic_parts(semantic, seqs: Sequences):
    """The semantic view as ``(table, index, long)``, or None without one.

    The short-term vector of interaction ``i`` is ``table[index[i]]`` (``table[i]``
    when ``index`` is None): in item mode the table holds one vector per item and the
    index is the item codes, so no ``n_interactions x dim`` array is built. ``long``
    has one row per sequence. All float32; NaN, inf and a mismatch with ``seqs`` are
    refused.
    """
    if semantic is None:
        return None
    source = getattr(semantic, "_short_term_source", None)
    table, index = source() if callable(source) else (semantic.short_term, None)
    table = np.asarray(table, dtype=np.float32)
    long = np.asarray(semantic.long_term, dtype=np.float32)
    n_vectors = table.shape[0] if index is None else len(index)
    if n_vectors != seqs.n_interactions or long.shape[0] != len(seqs):
        raise ValueError(
            "the semantic view does not match the sequences "
            f"({n_vectors} vectors for {seqs.n_interactions} interactions)"
        )
    if index is not None:
        # only the items these sequences hold: work in proportion to them, not to
        # the catalog (table rows are item vectors, index the item codes)
        used, index = np.unique(np.asarray(index, dtype=np.int64), return_inverse=True)
        table = table[used]
        index = index.reshape(-1)
    if not (np.isfinite(table).all() and np.isfinite(long).all()):
        raise ValueError("the semantic vectors contain NaN or inf")
    # torch shares memory with writable arrays only (a read-only memmap, say, is copied)
    table, long = (a if a.flags.writeable else a.copy() for a in (table, long))
    return table, index, long


class InterestAligner(
    TorchEstimatorMixin,
    FixedOutputMixin,
    VersionedPickleMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Align collaborative and semantic interests and learn per-position noise scores.

    Starting from the fitted Stage-1 backbone, trains jointly (all weights default 1):
    ``L = L_next + w_short * InfoNCE(h_j, W1 x^S_j) + w_long * InfoNCE(h^L, W2 x^L)
    + w_rec * MSE(Decoder(m_j * h_j), e_{v_j})``, where
    ``m_j`` is a hard straight-through Gumbel-Sigmoid mask of the noise score
    ``score_j = cos(s^L, h_j) + cos(h^L, s_j) + cos(h_j, s_j)``.
    ``transform`` returns the scores of any sequences (users never seen in ``fit``
    included) as :class:`NoiseScores` for a :class:`SequenceDenoiser`.

    Parameters
    ----------
    variant : {"full", "collab_only", "no_long", "no_short", "no_align", "no_rec"}, \
            default="full"
        ``"full"`` is the method. Ablations: ``"collab_only"`` scores with
        ``cos(h^L, h_j)`` and ignores the semantic view; ``"no_long"`` keeps only
        the short-term term ``cos(h_j, s_j)``; ``"no_short"`` keeps only the two
        long-term terms ``cos(s^L, h_j) + cos(h^L, s_j)``; ``"no_align"`` drops
        both InfoNCE losses; ``"no_rec"`` the reconstruction loss. The training
        losses are the full method's unless named here (``iadsr_sk.denoising.VARIANTS``
        lists each variant's terms and losses).
    temperature : float, default=0.1
        InfoNCE temperature ``tau``.
    gumbel_temperature : float, default=1.0
        Temperature of the Gumbel-Sigmoid mask (also used by the inference rule).
    gumbel_noise : {"gumbel", "logistic"}, default="gumbel"
        One Gumbel sample (the released code) or logistic noise (binary Concrete).
    short_weight, long_weight, reconstruction_weight : float, default=1.0
        Loss weights ``w_short``, ``w_long``, ``w_rec``.
    interest_size : int or None, default=None
        Width ``H`` of the collaborative interests. ``None``: the backbone's hidden
        states are the interests ``h_j`` as they are (width ``d``, 64 by default).
        An int: ``h_j`` is a learned linear projection (no bias) of the hidden state
        to that width, trained with the alignment (the method's description uses
        ``H = 128``); the next-item loss still reads the hidden states themselves.
        The long-term interest ``h^L`` is the max-pool of the projected ``h_j``.
        On Amazon Beauty with injected noise, 128 detected less than ``None`` (see
        the method page of the user guide).
    max_contrast_positions : int, default=4096
        InfoNCE over positions uses at most this many valid positions of a batch
        (sampled), bounding its ``N x N`` similarity matrix. On Amazon Beauty with
        injected noise, 512 detected about as well as the default (ROC-AUC within
        0.005) and saved 10-18% of the alignment's time at the default batch size,
        but its cut removed slightly more genuine cold items.
    n_epochs : int, default=10
        Passes of joint training over the training sequences. Short alignment
        leaves the scores of cold items low (their positions are rarely aligned), so
        the keep rule removes them far more often than warm ones: on MovieLens-100K
        with GRU4Rec, 3 epochs removed 13% of the items and hurt the retrained
        recommender, 10 epochs removed under 1% and did not (see the results page).
    batch_size : int, default=256
        Training windows per step; windows of similar length are batched together.
    learning_rate : float, default=1e-3
        Adam's step size, for the backbone and the alignment head alike.
    max_len : int or None, default=None
        Length of the training windows, at most the encoder's ``max_len``; ``None``
        takes the encoder's. Scores (``transform``) always read the encoder's window.
    device : {"cpu", "cuda", "auto"}, str or torch.device, default="cpu"
        Where to train and score (``"cuda:N"`` also works). ``"auto"`` picks CUDA
        when available.
    mixed_precision : bool, default=False
        bf16 autocast during training (GPU).
    random_state : int, RandomState instance or None, default=None
        Seeds the alignment head's initialisation and the random draws of training
        (dropout, Gumbel noise, sampled contrast positions, batch order); ``None``
        draws a fresh seed. The global RNGs are left untouched.
    verbose : int, default=0
        0: silent; 1: a progress bar over epochs; 2: and over the batches of each.

    Attributes
    ----------
    module_ : torch.nn.Module
        The jointly trained backbone (a copy of the encoder's; the encoder is unchanged).
    head_ : AlignmentHead
        ``project_short`` (W1), ``project_long`` (W2), ``project_collab`` (the
        projection of the hidden states to ``interest_size``; ``None`` without one)
        and ``decoder``.
    vocabulary_ : ItemVocabulary
        The items seen in ``fit``; ``transform`` takes sequences over them only.
    recommender_ : SequentialRecommender
        A copy of the encoder's fitted recommender, trained jointly; its ``module_``
        is ``module_``. ``transform`` reads the position states from it.
    device_ : torch.device
        The resolved device.
    max_len_ : int
        Length of the training windows: ``max_len``, or the encoder's when ``None``.
    semantic_dim_ : int
        Width of the semantic vectors, read from the embedder's output (0 when
        ``X`` had no semantic view, which only ``variant="collab_only"`` allows).
    terms_ : tuple of str
        The noise-score terms of ``variant`` (e.g. ``("long_short", "short_long",
        "short_short")`` for ``"full"``).
    history_ : list of dict
        One dict per epoch: ``epoch``, ``loss`` (mean joint loss ``L`` per training
        window), ``n_positions`` (here the training windows of the epoch),
        ``seconds`` (training pass), and ``positions_per_second`` and
        ``sequences_per_second`` (both training windows per second).
    loss_components_ : dict of str to float
        Mean of each loss per training window, averaged over all epochs: ``loss``
        (the joint loss ``L``), ``next`` (``L_next``), ``short`` and ``long`` (the
        InfoNCE losses, before their weights) and ``rec`` (the reconstruction loss,
        before its weight).
    best_epoch_ : int
        Epoch whose weights were kept (1-based): the last one, as the aligner has no
        validation.
    n_epochs_ : int
        Epochs run.
    n_train_sequences_ : int
        Training windows per epoch, not sequences: a history longer than
        ``max_len_`` gives several windows (one only when the encoder's recommender
        has ``train_positions="last"``), and a history of one item gives none.
    seconds_per_epoch_ : float
        Mean duration of an epoch's training pass.
    train_removed_fraction_ : float
        Share of training positions whose deterministic keep rule says "drop".
    """

    _transform_returns = "NoiseScores (one score per position)"

    _torch_modules = ("head_",)  # recommender_ pickles its own module

    _parameter_constraints: dict = {
        "variant": [StrOptions(set(VARIANTS))],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "gumbel_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "gumbel_noise": [StrOptions({"gumbel", "logistic"})],
        "short_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "long_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "interest_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_contrast_positions": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_len": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        variant: str = "full",
        temperature: float = 0.1,
        gumbel_temperature: float = 1.0,
        gumbel_noise: str = "gumbel",
        short_weight: float = 1.0,
        long_weight: float = 1.0,
        reconstruction_weight: float = 1.0,
        interest_size: int | None = None,
        max_contrast_positions: int = 4096,
        n_epochs: int = 10,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        max_len: int | None = None,
        device: str = "cpu",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
    ):
        self.variant = variant
        self.temperature = temperature
        self.gumbel_temperature = gumbel_temperature
        self.gumbel_noise = gumbel_noise
        self.short_weight = short_weight
        self.long_weight = long_weight
        self.reconstruction_weight = reconstruction_weight
        self.interest_size = interest_size
        self.max_contrast_positions = max_contrast_positions
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_len = max_len
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------------- fit
    @unfitted_on_failure
    def fit(self, X, y=None):
        """Train the alignment jointly with the backbone on ``X``'s sequences.

        Parameters
        ----------
        X : CollaborativeInterests
            The output of ``CollaborativeEncoder.transform`` on the training
            sequences (with its semantic view, except for ``variant="collab_only"``).
        y : None
            Ignored.

        Returns
        -------
        self : InterestAligner

        Notes
        -----
        A fit that fails or is interrupted (``KeyboardInterrupt``) re-raises and
        leaves the aligner unfitted (an earlier fit's state included); the encoder in
        ``X`` is never changed.
        """
        self._validate_params()
        X = _collaborative_part(X)
        terms, uses_semantics, align, reconstruct = VARIANTS[self.variant]
        seqs = X.sequences
        parts = _semantic_parts(getattr(X, "semantic", None), seqs)
        if uses_semantics and parts is None:
            raise ValueError(
                f"variant={self.variant!r} needs the semantic view: put a "
                "SemanticEmbedder before the CollaborativeEncoder"
            )
        encoder = X.encoder
        if getattr(encoder, "recommender_", None) is None:
            raise ValueError("the CollaborativeEncoder in X has not been fitted")
        self.device_ = resolve_device(self.device)
        self.vocabulary_ = seqs.vocabulary
        seed = seed_from_random_state(self.random_state)
        # a private copy of the Stage-1 recommender: joint training changes its weights,
        # never the encoder's
        recommender = copy.deepcopy(encoder.recommender_)
        recommender.device_ = self.device_
        module = recommender.module_.to(self.device_)
        if self.max_len is not None and self.max_len > recommender.max_len:
            raise ValueError(
                f"max_len={self.max_len} is longer than the encoder's window "
                f"({recommender.max_len} items), which its backbone was built for; "
                "use at most that, or None"
            )
        self.max_len_ = int(recommender.max_len if self.max_len is None else self.max_len)
        self.semantic_dim_ = int(parts[0].shape[1]) if parts is not None else 0
        self.terms_ = terms
        # (table, index or None, long) on the device
        semantic = None
        if uses_semantics:
            semantic = tuple(
                None if a is None else torch.as_tensor(a, device=self.device_)
                for a in parts
            )
        stride = max(self.max_len_ // 2, 1)
        train_positions = getattr(recommender, "train_positions", "all")
        starts, sizes, train_from = make_windows(
            seqs.offsets, seqs.lengths, self.max_len_, stride, train_positions
        )
        if starts.size == 0:
            raise ValueError("no training sequence has 2 items or more")
        rows = np.searchsorted(seqs.offsets, starts, side="right") - 1
        # alignment and reconstruction see every position once an epoch, also when
        # only the last position is a next-item target
        align_from = np.zeros_like(train_from) if train_positions == "last" else train_from
        # (n_windows, 5): start, size, first target column, row, first aligned column
        windows = np.stack([starts, sizes, train_from, rows, align_from], axis=1)
        codes = recommender._device_codes(seqs)
        components = {}

        def make_batches(rng):
            return [windows[b] for b in length_batches(sizes, self.batch_size, rng)]

        def batch_loss(batch):
            losses = self._step(
                recommender, codes, batch, semantic, terms, align, reconstruct
            )
            for key, value in losses.items():
                components[key] = components.get(key, 0.0) + float(value.detach()) * len(
                    batch
                )
            return losses["loss"], len(batch)

        with forked_torch_rng(seed, self.device_):
            width = int(module.hidden_size)
            self.head_ = AlignmentHead(
                max(self.semantic_dim_, 1),
                width if self.interest_size is None else int(self.interest_size),
                module.item_embedding.weight.shape[1],
                collab_size=None if self.interest_size is None else width,
            ).to(self.device_)
            self.recommender_ = recommender
            self.module_ = module
            self.optimizer_ = make_adam(
                [*module.parameters(), *self.head_.parameters()],
                self.device_,
                lr=self.learning_rate,
            )
            self._train_loop(
                make_batches=make_batches,
                batch_loss=batch_loss,
                validate=None,
                max_epochs=self.n_epochs,
                patience=None,
                rng=np.random.default_rng(seed),
            )
        self.n_train_sequences_ = len(windows)
        for record in self.history_:
            record["sequences_per_second"] = len(windows) / max(record["seconds"], 1e-9)
        total = len(windows) * len(self.history_)
        self.loss_components_ = {k: v / total for k, v in components.items()}
        # the optimizer is not needed to denoise; dropping it keeps pickles small
        del self.optimizer_
        self.head_.eval()
        scores = self._score(X)
        self.train_removed_fraction_ = float((scores.scores <= 0).mean())
        return self

    def _step(self, recommender, codes, batch, semantic, terms, align, reconstruct):
        module, device = recommender.module_, self.device_
        starts, sizes = batch[:, 0], batch[:, 1]
        items, _, valid = recommender._window_items(codes, starts, sizes)  # (B, T)
        width = items.shape[1]
        # the work below is done on trained cells only, never on padding: positions
        # with a next item inside the window's sequence (next-item loss), and
        # positions aligned and reconstructed (every position once an epoch)
        scored = window_cells(sizes, batch[:, 2], width)  # (N,)
        aligned = window_cells(sizes, batch[:, 4], width)  # (M,)
        states = module(items)  # (B, T, d)
        interests = self.head_.collaborative(states)  # (B, T, H): h_j (states if no H)
        collab_long = masked_max_pool(interests, valid)  # (B, H): h^L
        states = states.reshape(-1, states.shape[-1])  # (B * T, d)
        hidden = interests.reshape(-1, interests.shape[-1])  # (B * T, H)
        targets = recommender._next_items(codes, starts, scored, width)  # (N,)
        loss_next = recommender._next_item_loss(
            states[torch.as_tensor(scored, device=device)], targets
        )
        zero = hidden.new_zeros(())
        loss_short = loss_long = loss_rec = zero
        if not (align or reconstruct):
            return self._losses(loss_next, loss_short, loss_long, loss_rec)
        cells = torch.as_tensor(aligned, device=device)  # (M,)
        h_cells = hidden[cells]  # (M, H)
        cell_rows = torch.as_tensor(aligned // width, device=device)  # (M,)
        s_cells = s_long = None
        if semantic is not None:
            table, index, long = semantic
            positions = torch.as_tensor(
                cell_positions(starts, aligned, width), device=device
            )  # (M,)
            vectors = table[positions if index is None else index[positions]]  # (M, D)
            s_cells = self.head_.project_short(vectors)  # (M, H)
            s_long = self.head_.project_long(
                long[torch.as_tensor(batch[:, 3], device=device)]
            )  # (B, H)
        # each view normalised once, shared by the InfoNCE losses and the score
        h_unit = F.normalize(h_cells, dim=-1)  # (M, H)
        hl_unit = F.normalize(collab_long, dim=-1)  # (B, H)
        s_unit = sl_unit = None
        if s_cells is not None:
            s_unit = F.normalize(s_cells, dim=-1)  # (M, H)
            sl_unit = F.normalize(s_long, dim=-1)  # (B, H)
        if align and s_unit is not None:
            h_pos, s_pos = h_unit, s_unit
            if len(aligned) > self.max_contrast_positions:
                pick = torch.randperm(len(aligned), device=device)[
                    : self.max_contrast_positions
                ]
                h_pos, s_pos = h_pos[pick], s_pos[pick]
            loss_short = info_nce(h_pos, s_pos, self.temperature, normalized=True)
            if collab_long.shape[0] > 1:
                loss_long = info_nce(hl_unit, sl_unit, self.temperature, normalized=True)
        if reconstruct:
            score = _position_scores(
                h_unit, hl_unit, s_unit, sl_unit, cell_rows, terms, normalized=True
            )  # (M,)
            mask = gumbel_sigmoid_mask(
                score,
                temperature=self.gumbel_temperature,
                noise=self.gumbel_noise,
            )  # (M,)
            recon = self.head_.decoder(mask.unsqueeze(-1) * h_cells)  # (M, d)
            target = module.item_embedding(items.reshape(-1)[cells])  # (M, d)
            loss_rec = F.mse_loss(recon, target)
        return self._losses(loss_next, loss_short, loss_long, loss_rec)

    def _losses(self, loss_next, loss_short, loss_long, loss_rec):
        loss = (
            loss_next
            + self.short_weight * loss_short
            + self.long_weight * loss_long
            + self.reconstruction_weight * loss_rec
        )
        return {
            "loss": loss,
            "next": loss_next.detach(),
            "short": loss_short.detach(),
            "long": loss_long.detach(),
            "rec": loss_rec.detach(),
        }

    # ----------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__()
        # module_ is recommender_.module_, which the recommender pickles itself (on
        # the CPU): kept once, so that a GPU-fitted aligner loads on a CPU-only host
        # and the two stay one module after loading
        recommender = state.get("recommender_")
        if recommender is not None and state.get("module_") is recommender.module_:
            state = dict(state, module_=None, _module_of_recommender=True)
        return state

    def __setstate__(self, state):
        state = dict(state)
        if state.pop("_module_of_recommender", False):
            state["module_"] = state["recommender_"].module_
        super().__setstate__(state)

    # ---------------------------------------------------------------- transform
    @torch.inference_mode()
    def _interest_views(self, seqs: Sequences, parts):
        """The four interests the noise score compares, for sequences over the
        fitted vocabulary and their semantic view ``parts`` (``_semantic_parts``, or
        None): ``h`` (N, H) and ``s`` (N, H) per position, ``h_long`` (n, H) and
        ``s_long`` (n, H) per sequence (``s`` and ``s_long`` None without semantic
        vectors), and ``rows`` (N,), the sequence of each position."""
        device = self.device_
        states = self.recommender_._position_states(seqs)  # (N, d)
        h = self.head_.collaborative(torch.as_tensor(states, device=device))  # (N, H)
        # long-term collaborative interest: max over every valid position of the sequence
        h_long = torch.as_tensor(
            np.maximum.reduceat(h.float().cpu().numpy(), seqs.offsets[:-1], axis=0),
            device=device,
        )  # (n, H)
        s = s_long = None
        if parts is not None:
            table, index, long = (
                None if a is None else torch.as_tensor(a, device=device) for a in parts
            )
            # in item mode each item's vector is projected once, then read by code
            s = self.head_.project_short(table)  # (N or n_used_items, H)
            s = s if index is None else s[index]  # (N, H)
            s_long = self.head_.project_long(long)  # (n, H)
        rows = torch.as_tensor(seqs.positions()[0], device=device)  # (N,)
        return h, h_long, s, s_long, rows

    @torch.inference_mode()
    def _score(self, X) -> NoiseScores:
        # the backbone indexes its item embeddings by code: sequences encoded with
        # another vocabulary are re-encoded with the fitted one (unknown items raise
        # KeyError naming them), never read as codes of the wrong items
        seqs = as_sequences(X.sequences, vocabulary=self.vocabulary_, what="X.sequences")
        terms, uses_semantics, _, _ = VARIANTS[self.variant]
        parts = _semantic_parts(getattr(X, "semantic", None), seqs)
        if uses_semantics and parts is None:
            raise ValueError(f"variant={self.variant!r} needs the semantic view")
        if uses_semantics and parts[0].shape[1] != self.semantic_dim_:
            raise ValueError(
                f"semantic vectors have width {parts[0].shape[1]}, but the aligner "
                f"was fitted on width {self.semantic_dim_}"
            )
        if not uses_semantics:
            parts = None
        h, h_long, s, s_long, rows = self._interest_views(seqs, parts)
        if uses_semantics:
            similarity = F.cosine_similarity(h_long, s_long, dim=-1).cpu().numpy()
        else:
            similarity = np.full(len(seqs), np.nan)
        scores = _position_scores(h, h_long, s, s_long, rows, terms)  # (N,)
        return NoiseScores(
            sequences=seqs,
            scores=scores.float().cpu().numpy(),
            user_similarity=similarity,
            temperature=float(self.gumbel_temperature),
            source=getattr(X, "source", None),
        )

    def transform(self, X) -> NoiseScores:
        """Per-position noise scores of ``X``'s sequences (no refit for new users).

        Parameters
        ----------
        X : CollaborativeInterests
            The output of ``CollaborativeEncoder.transform`` on the sequences to
            score (with its semantic view, except for ``variant="collab_only"``).
            Their items must be in ``vocabulary_`` (any subset of it); an unknown
            item raises :class:`KeyError` naming it.

        Returns
        -------
        NoiseScores
            One score per position (low: likely noise), the similarity of each
            user's long-term collaborative and semantic interests, and
            ``gumbel_temperature``, for a :class:`SequenceDenoiser`.
        """
        check_is_fitted(self, "module_")
        return self._score(_collaborative_part(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
